//! The read-only account agents clone with: a restricted Gitea user, member of a team that
//! may read the code of every repository of each lab organisation, with one access token
//! scoped `read:repository`. Agents get it as `user:token` in a file (docs/cluster.md).
//!
//! Idempotent: the user, teams and memberships are looked up before anything is made, and
//! a credential that still signs in is kept; otherwise the old token is deleted and a new
//! one made (Gitea shows a token's value only when it creates it).

use super::MirrorError;
use crate::backend::forge::gitea::{Gitea, GiteaAuth};

/// The Gitea user agents clone as.
pub const READER: &str = "raibid-ci";
/// The team, in each organisation, that may read its code.
pub const READER_TEAM: &str = "ci-readers";
const TOKEN_NAME: &str = "raibid-agents";
const TOKEN_SCOPES: [&str; 1] = ["read:repository"];

/// What [`ensure`] did, for the progress log; `credential` is new and must be stored.
#[derive(Default)]
pub struct Ensured {
    pub user_created: bool,
    /// Organisations whose team was created now.
    pub teams_created: Vec<String>,
    /// `user:token`, when the held one was missing or no longer signs in.
    pub credential: Option<String>,
}

/// Makes sure the reader exists, may read `orgs` (created when missing) and has a working
/// credential; `held` is the one stored before. `admin` must be a Gitea admin's Basic
/// credentials: Gitea creates users' tokens for nothing else.
pub async fn ensure(
    admin: &Gitea,
    orgs: &[&str],
    held: Option<&str>,
) -> Result<Ensured, MirrorError> {
    let mut ensured = Ensured::default();
    if !admin.user_exists(READER).await? {
        admin
            .create_user(READER, &format!("{READER}@noreply.localhost"))
            .await?;
        ensured.user_created = true;
    }
    for org in orgs {
        admin.ensure_org(org).await?;
        let teams = admin.org_teams(org).await?;
        let team = match teams.into_iter().find(|team| team.name == READER_TEAM) {
            Some(team) => team,
            None => {
                ensured.teams_created.push((*org).to_string());
                admin
                    .create_read_team(org, READER_TEAM, "Agents clone with this read-only team")
                    .await?
            }
        };
        admin.add_team_member(&team, READER).await?;
    }
    if let Some(held) = held
        && works(admin, held).await?
    {
        return Ok(ensured);
    }
    admin.delete_token(READER, TOKEN_NAME).await?;
    let token = admin
        .create_token(READER, TOKEN_NAME, &TOKEN_SCOPES)
        .await?;
    ensured.credential = Some(format!("{READER}:{token}"));
    Ok(ensured)
}

/// Whether Gitea still accepts the reader's `user:token`.
pub async fn works(admin: &Gitea, credential: &str) -> Result<bool, MirrorError> {
    let Some((user, token)) = credential.trim().split_once(':') else {
        return Ok(false);
    };
    if user != READER {
        return Ok(false);
    }
    let reader = admin.as_user(GiteaAuth::Basic {
        user: user.to_string(),
        password: token.to_string(),
    });
    Ok(reader.accepts_credentials().await?)
}
