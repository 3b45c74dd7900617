//! Contributor profiles across repositories: commits, pull requests and reviews per person.
//!
//! A person is their GitHub login when it is known, else their commit email
//! (case-insensitive). A commit author's login is known from GitHub itself (commits it
//! reported carry it), from a GitHub no-reply address (`123+ann@users.noreply.github.com`),
//! or from a squash merge: a commit whose subject ends in `(#12)` is pull request 12 of
//! its repository, and its author is the pull request's. Every commit by the same email,
//! local ones included, then belongs to that login.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::pulls::reviewers_of;
use super::stats::in_period;
use super::subject::squashed_pull;
use crate::backend::sparky::model::{CommitRecord, Period, PullRequestRecord};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    /// The GitHub login, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// The name on their commits; their login when they made none.
    pub name: String,
    /// The email of their commits; empty when they made none.
    pub email: String,
    pub commits: u64,
    pub insertions: u64,
    pub deletions: u64,
    /// Pull requests they opened in the period.
    pub prs_opened: u64,
    /// Pull requests of theirs merged in the period.
    pub prs_merged: u64,
    /// Pull requests of the period they reviewed.
    pub reviews: u64,
    /// Repositories with a commit, pull request or review of theirs, by name.
    pub repos: Vec<String>,
    pub is_bot: bool,
}

/// Everyone with a commit, a pull request or a review in the period: most commits first,
/// then most pull requests merged, most reviews, by name.
pub(super) fn people(
    period: &Period,
    commits: &[&CommitRecord],
    prs: &[&PullRequestRecord],
) -> Vec<Profile> {
    let logins = logins(commits, prs);
    let mut people: BTreeMap<String, (Profile, BTreeSet<String>)> = BTreeMap::new();
    for c in commits {
        let email = c.email.to_lowercase();
        let login = logins.get(&email);
        let key = match login {
            Some(login) => format!("login:{}", login.to_lowercase()),
            None => format!("email:{email}"),
        };
        let (person, repos) = people.entry(key).or_insert_with(|| {
            let profile = Profile {
                login: login.cloned(),
                name: c.author.clone(),
                email: c.email.clone(),
                ..Profile::default()
            };
            (profile, BTreeSet::new())
        });
        person.commits += 1;
        person.insertions += c.insertions;
        person.deletions += c.deletions;
        person.is_bot |= c.is_bot;
        repos.insert(c.repo.clone());
    }
    for pr in prs {
        let opened = in_period(period, pr.created);
        let merged = pr.merged.is_some_and(|at| in_period(period, at));
        if opened || merged {
            let (person, repos) = entry(&mut people, &pr.author);
            person.prs_opened += u64::from(opened);
            person.prs_merged += u64::from(merged);
            person.is_bot |= pr.is_bot;
            repos.insert(pr.repo.clone());
        }
        for reviewer in reviewers_of(pr) {
            let (person, repos) = entry(&mut people, &reviewer);
            person.reviews += 1;
            repos.insert(pr.repo.clone());
        }
    }
    let mut people: Vec<Profile> = people
        .into_values()
        .map(|(mut person, repos)| {
            person.repos = repos.into_iter().collect();
            person
        })
        .collect();
    people.sort_by(|a, b| {
        b.commits
            .cmp(&a.commits)
            .then_with(|| b.prs_merged.cmp(&a.prs_merged))
            .then_with(|| b.reviews.cmp(&a.reviews))
            .then_with(|| a.name.cmp(&b.name))
    });
    people
}

/// The profile of a GitHub login, made when it is not there yet.
fn entry<'a>(
    people: &'a mut BTreeMap<String, (Profile, BTreeSet<String>)>,
    login: &str,
) -> (&'a mut Profile, &'a mut BTreeSet<String>) {
    let (person, repos) = people
        .entry(format!("login:{}", login.to_lowercase()))
        .or_insert_with(|| {
            let profile = Profile {
                login: Some(login.to_owned()),
                name: login.to_owned(),
                is_bot: login.ends_with("[bot]"),
                ..Profile::default()
            };
            (profile, BTreeSet::new())
        });
    (person, repos)
}

/// Commit emails (lowercase) with the login they belong to: GitHub's own word first,
/// then no-reply addresses, then squash merges.
pub(super) fn logins(
    commits: &[&CommitRecord],
    prs: &[&PullRequestRecord],
) -> BTreeMap<String, String> {
    let mut logins = BTreeMap::new();
    for c in commits.iter().filter(|c| !c.email.is_empty()) {
        if let Some(login) = &c.login {
            logins
                .entry(c.email.to_lowercase())
                .or_insert_with(|| login.clone());
        }
    }
    for c in commits {
        if let Some(login) = noreply_login(&c.email) {
            logins
                .entry(c.email.to_lowercase())
                .or_insert_with(|| login.to_owned());
        }
    }
    for c in commits
        .iter()
        .filter(|c| !c.is_merge && !c.email.is_empty())
    {
        let Some(number) = squashed_pull(&c.subject) else {
            continue;
        };
        let pr = prs
            .iter()
            .find(|pr| pr.number == number && pr.repo == c.repo);
        if let Some(pr) = pr.filter(|pr| !pr.author.is_empty() && pr.author != "ghost") {
            logins
                .entry(c.email.to_lowercase())
                .or_insert_with(|| pr.author.clone());
        }
    }
    logins
}

fn noreply_login(email: &str) -> Option<&str> {
    let (local, domain) = email.rsplit_once('@')?;
    if !domain.eq_ignore_ascii_case("users.noreply.github.com") {
        return None;
    }
    let login = local.split_once('+').map_or(local, |(_, login)| login);
    (!login.is_empty()).then_some(login)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_come_from_noreply_addresses() {
        assert_eq!(
            noreply_login("12345+ann@users.noreply.github.com"),
            Some("ann")
        );
        assert_eq!(noreply_login("bob@users.noreply.github.com"), Some("bob"));
        assert_eq!(noreply_login("bob@example.org"), None);
    }
}
