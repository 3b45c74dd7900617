//! What the mirrors and the lab ask of Gitea: the organisation, its repositories, pull
//! mirrors (`POST /api/v1/repos/migrate` with `mirror: true`), `mirror-sync` and delete;
//! the organisation's push webhook; and the read-only account agents clone with (a user,
//! a team, an access token).

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::{Gitea, GiteaError, json};

/// Gitea clones the repository before it answers a migration.
const MIGRATE_TIMEOUT: Duration = Duration::from_secs(600);
/// Gitea's default `MAX_RESPONSE_ITEMS`.
pub const PAGE_SIZE: usize = 50;

/// A repository as Gitea lists it (the fields the mirrors read).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GiteaRepo {
    pub name: String,
    pub full_name: String,
    pub mirror: bool,
    /// Where a migrated repository came from; empty for others.
    pub original_url: String,
    /// Gitea's time of the last mirror update: RFC 3339, `0001-01-01T00:00:00Z` for never.
    #[serde(deserialize_with = "nullable")]
    pub mirror_updated: String,
    #[serde(deserialize_with = "nullable")]
    pub mirror_interval: String,
    pub html_url: String,
    pub private: bool,
}

fn nullable<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

impl GiteaRepo {
    /// The last sync, if there was one (Gitea's zero time means none).
    pub fn last_sync(&self) -> Option<jiff::Timestamp> {
        let at: jiff::Timestamp = self.mirror_updated.parse().ok()?;
        (at > jiff::Timestamp::UNIX_EPOCH).then_some(at)
    }
}

/// Gitea's `MigrateRepoOptions` for a pull mirror of a GitHub repository. Not `Debug`: it
/// carries the GitHub token.
#[derive(Serialize)]
pub struct Migrate<'a> {
    pub clone_addr: &'a str,
    pub repo_name: &'a str,
    pub repo_owner: &'a str,
    pub service: &'static str,
    pub auth_token: &'a str,
    pub mirror: bool,
    pub mirror_interval: &'a str,
    pub private: bool,
    pub description: String,
    pub wiki: bool,
    pub issues: bool,
    pub labels: bool,
    pub milestones: bool,
    pub pull_requests: bool,
    pub releases: bool,
    pub lfs: bool,
}

/// A webhook as Gitea lists it (`api.Hook`); Gitea never shows its secret.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct GiteaHook {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    /// `url`, `content_type` (and `http_method`).
    pub config: BTreeMap<String, String>,
    pub events: Vec<String>,
    pub active: bool,
}

impl GiteaHook {
    pub fn url(&self) -> &str {
        self.config.get("url").map_or("", String::as_str)
    }
}

/// Gitea's `CreateHookOption`, also sent as `EditHookOption` (which ignores `type`). Not
/// `Debug`: it carries the secret.
#[derive(Serialize)]
pub struct HookOption<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub config: BTreeMap<&'static str, &'a str>,
    pub events: Vec<&'a str>,
    pub branch_filter: &'a str,
    pub active: bool,
}

/// A team as Gitea lists it (the fields raibid reads).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct GiteaTeam {
    pub id: i64,
    pub name: String,
    pub permission: String,
}

impl Gitea {
    /// The organisation exists afterwards: looked up, and created (public; each mirror
    /// keeps its GitHub repository's visibility) when missing.
    pub async fn ensure_org(&self, org: &str) -> Result<bool, GiteaError> {
        let action = format!("look up Gitea organisation {org}");
        let url = self.url(&["orgs", org]);
        let response = self
            .send(&action, || self.request(Method::GET, url.clone()), true)
            .await?;
        match response.status() {
            status if status.is_success() => return Ok(false),
            StatusCode::NOT_FOUND => {}
            _ => return Err(self.refused(&action, response).await),
        }
        let action = format!("create Gitea organisation {org}");
        let url = self.url(&["orgs"]);
        let body = serde_json::json!({
            "username": org,
            "visibility": "public",
            "description": "Mirrors of GitHub repositories, kept by raibid",
        });
        let response = self
            .send(
                &action,
                || self.request(Method::POST, url.clone()).json(&body),
                false,
            )
            .await?;
        if response.status().is_success() {
            Ok(true)
        } else {
            Err(self.refused(&action, response).await)
        }
    }

    /// Creates a private repository of the signed-in user with a first commit on
    /// `branch`; `false` when it exists already. Never retried: a rerun finds it (409).
    pub async fn create_user_repo(
        &self,
        name: &str,
        branch: &str,
        description: &str,
    ) -> Result<bool, GiteaError> {
        let action = format!("create repository {name}");
        let url = self.url(&["user", "repos"]);
        let body = serde_json::json!({
            "name": name,
            "private": true,
            "auto_init": true,
            "default_branch": branch,
            "description": description,
        });
        let response = self
            .send(
                &action,
                || self.request(Method::POST, url.clone()).json(&body),
                false,
            )
            .await?;
        match response.status() {
            StatusCode::CONFLICT => Ok(false),
            status if status.is_success() => Ok(true),
            _ => Err(self.refused(&action, response).await),
        }
    }

    /// Every repository of `org`, page by page; none when the organisation does not exist.
    pub async fn org_repos(&self, org: &str) -> Result<Vec<GiteaRepo>, GiteaError> {
        let action = format!("list the repositories of Gitea organisation {org}");
        Ok(self
            .pages(&action, &["orgs", org, "repos"])
            .await?
            .unwrap_or_default())
    }

    /// Every item of a paginated list; `None` when its owner does not exist (404).
    async fn pages<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        segments: &[&str],
    ) -> Result<Option<Vec<T>>, GiteaError> {
        let mut items = Vec::new();
        for page in 1.. {
            let mut url = self.url(segments);
            url.query_pairs_mut()
                .append_pair("page", &page.to_string())
                .append_pair("limit", &PAGE_SIZE.to_string());
            let response = self
                .send(action, || self.request(Method::GET, url.clone()), true)
                .await?;
            match response.status() {
                status if status.is_success() => {}
                StatusCode::NOT_FOUND if page == 1 => return Ok(None),
                _ => return Err(self.refused(action, response).await),
            }
            let total = response
                .headers()
                .get("x-total-count")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<usize>().ok());
            let batch: Vec<T> = json(action, response).await?;
            let count = batch.len();
            items.extend(batch);
            let done = match total {
                Some(total) => items.len() >= total,
                // Without a total, a short page is the last (a server whose own maximum is
                // below PAGE_SIZE sends X-Total-Count, as Gitea does).
                None => count < PAGE_SIZE,
            };
            if count == 0 || done {
                break;
            }
        }
        Ok(Some(items))
    }

    /// One repository, or `None` when Gitea has none by that name.
    pub async fn repo(&self, owner: &str, name: &str) -> Result<Option<GiteaRepo>, GiteaError> {
        let action = format!("look up Gitea repository {owner}/{name}");
        let url = self.url(&["repos", owner, name]);
        let response = self
            .send(&action, || self.request(Method::GET, url.clone()), true)
            .await?;
        match response.status() {
            status if status.is_success() => json(&action, response).await.map(Some),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self.refused(&action, response).await),
        }
    }

    /// Creates a pull mirror. Never retried: a migration that timed out may still finish,
    /// and the next plan then finds it (a second attempt would get 409).
    pub async fn migrate(&self, migrate: &Migrate<'_>) -> Result<GiteaRepo, GiteaError> {
        let action = format!(
            "create mirror {}/{} of {}",
            migrate.repo_owner, migrate.repo_name, migrate.clone_addr
        );
        let url = self.url(&["repos", "migrate"]);
        let response = self
            .send(
                &action,
                || {
                    self.request(Method::POST, url.clone())
                        .timeout(MIGRATE_TIMEOUT)
                        .json(migrate)
                },
                false,
            )
            .await?;
        if response.status().is_success() {
            json(&action, response).await
        } else {
            Err(self.refused(&action, response).await)
        }
    }

    /// Asks Gitea to pull the mirror now (it queues the pull and answers at once).
    pub async fn mirror_sync(&self, owner: &str, name: &str) -> Result<(), GiteaError> {
        let action = format!("sync mirror {owner}/{name}");
        let url = self.url(&["repos", owner, name, "mirror-sync"]);
        let response = self
            .send(&action, || self.request(Method::POST, url.clone()), true)
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(self.refused(&action, response).await)
        }
    }

    /// Deletes a repository; one that is already gone counts as deleted.
    pub async fn delete(&self, owner: &str, name: &str) -> Result<(), GiteaError> {
        let action = format!("delete mirror {owner}/{name}");
        let url = self.url(&["repos", owner, name]);
        let response = self
            .send(&action, || self.request(Method::DELETE, url.clone()), true)
            .await?;
        match response.status() {
            status if status.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Ok(()),
            _ => Err(self.refused(&action, response).await),
        }
    }

    /// The organisation's webhooks; none when it does not exist.
    pub async fn org_hooks(&self, org: &str) -> Result<Vec<GiteaHook>, GiteaError> {
        let action = format!("list the webhooks of Gitea organisation {org}");
        Ok(self
            .pages(&action, &["orgs", org, "hooks"])
            .await?
            .unwrap_or_default())
    }

    /// Adds a webhook to the organisation. Never retried: a retry could add it twice.
    pub async fn create_org_hook(
        &self,
        org: &str,
        hook: &HookOption<'_>,
    ) -> Result<GiteaHook, GiteaError> {
        let action = format!("add a webhook to Gitea organisation {org}");
        let url = self.url(&["orgs", org, "hooks"]);
        let build = || self.request(Method::POST, url.clone()).json(hook);
        self.expect_json(&action, build, false).await
    }

    /// Rewrites one of the organisation's webhooks (idempotent, so retried).
    pub async fn edit_org_hook(
        &self,
        org: &str,
        id: i64,
        hook: &HookOption<'_>,
    ) -> Result<GiteaHook, GiteaError> {
        let action = format!("update webhook {id} of Gitea organisation {org}");
        let url = self.url(&["orgs", org, "hooks", &id.to_string()]);
        let build = || self.request(Method::PATCH, url.clone()).json(hook);
        self.expect_json(&action, build, true).await
    }

    /// Whether the user exists.
    pub async fn user_exists(&self, user: &str) -> Result<bool, GiteaError> {
        let action = format!("look up Gitea user {user}");
        let url = self.url(&["users", user]);
        let response = self
            .send(&action, || self.request(Method::GET, url.clone()), true)
            .await?;
        match response.status() {
            status if status.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.refused(&action, response).await),
        }
    }

    /// Creates a restricted, private user that signs in with no password of its own (a
    /// random one nobody keeps): it only ever uses access tokens. Needs an admin.
    pub async fn create_user(&self, user: &str, email: &str) -> Result<(), GiteaError> {
        let action = format!("create Gitea user {user}");
        let url = self.url(&["admin", "users"]);
        let password = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let body = serde_json::json!({
            "username": user,
            "email": email,
            "password": password,
            "must_change_password": false,
            "send_notify": false,
            "restricted": true,
            "visibility": "private",
        });
        let build = || self.request(Method::POST, url.clone()).json(&body);
        self.expect_success(&action, build, false).await
    }

    /// The organisation's teams.
    pub async fn org_teams(&self, org: &str) -> Result<Vec<GiteaTeam>, GiteaError> {
        let action = format!("list the teams of Gitea organisation {org}");
        Ok(self
            .pages(&action, &["orgs", org, "teams"])
            .await?
            .unwrap_or_default())
    }

    /// Creates a team that may read the code of every repository of the organisation.
    pub async fn create_read_team(
        &self,
        org: &str,
        name: &str,
        description: &str,
    ) -> Result<GiteaTeam, GiteaError> {
        let action = format!("create team {name} in Gitea organisation {org}");
        let url = self.url(&["orgs", org, "teams"]);
        let body = serde_json::json!({
            "name": name,
            "description": description,
            "permission": "read",
            "includes_all_repositories": true,
            "can_create_org_repo": false,
            "units": ["repo.code"],
            "units_map": { "repo.code": "read" },
        });
        let build = || self.request(Method::POST, url.clone()).json(&body);
        self.expect_json(&action, build, false).await
    }

    /// Makes `user` a member of the team (a member already is one).
    pub async fn add_team_member(&self, team: &GiteaTeam, user: &str) -> Result<(), GiteaError> {
        let action = format!("add {user} to Gitea team {}", team.name);
        let url = self.url(&["teams", &team.id.to_string(), "members", user]);
        let build = || self.request(Method::PUT, url.clone());
        self.expect_success(&action, build, true).await
    }

    /// Deletes `user`'s access token `name`; one that does not exist counts as deleted.
    pub async fn delete_token(&self, user: &str, name: &str) -> Result<(), GiteaError> {
        let action = format!("delete access token {name} of Gitea user {user}");
        let url = self.url(&["users", user, "tokens", name]);
        let response = self
            .send(&action, || self.request(Method::DELETE, url.clone()), true)
            .await?;
        match response.status() {
            status if status.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Ok(()),
            _ => Err(self.refused(&action, response).await),
        }
    }

    /// Creates an access token for `user` with `scopes`; returns its value, which Gitea
    /// shows this once. Needs Basic auth (the user's or an admin's).
    pub async fn create_token(
        &self,
        user: &str,
        name: &str,
        scopes: &[&str],
    ) -> Result<String, GiteaError> {
        #[derive(Deserialize)]
        struct AccessToken {
            sha1: String,
        }
        let action = format!("create access token {name} for Gitea user {user}");
        let url = self.url(&["users", user, "tokens"]);
        let body = serde_json::json!({ "name": name, "scopes": scopes });
        let build = || self.request(Method::POST, url.clone()).json(&body);
        let token: AccessToken = self.expect_json(&action, build, false).await?;
        Ok(token.sha1)
    }

    /// Whether Gitea accepts these credentials for reading repositories (a search, which
    /// a token scoped `read:repository` may do; Gitea answers 401 to a revoked one).
    pub async fn accepts_credentials(&self) -> Result<bool, GiteaError> {
        let action = "search Gitea's repositories";
        let mut url = self.url(&["repos", "search"]);
        url.query_pairs_mut().append_pair("limit", "1");
        let response = self
            .send(action, || self.request(Method::GET, url.clone()), true)
            .await?;
        match response.status() {
            status if status.is_success() => Ok(true),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Ok(false),
            _ => Err(self.refused(action, response).await),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_mirror_times_are_no_sync() {
        let mut repo = GiteaRepo {
            mirror_updated: "0001-01-01T00:00:00Z".into(),
            ..GiteaRepo::default()
        };
        assert_eq!(repo.last_sync(), None);
        repo.mirror_updated = "2026-11-20T10:00:00+01:00".into();
        assert_eq!(
            repo.last_sync(),
            Some("2026-11-20T09:00:00Z".parse().unwrap())
        );
        let listed: GiteaRepo = serde_json::from_str(
            r#"{"name":"a","full_name":"m/a","mirror":true,"mirror_updated":null,"extra":1}"#,
        )
        .unwrap();
        assert_eq!(listed.last_sync(), None);
    }
}
