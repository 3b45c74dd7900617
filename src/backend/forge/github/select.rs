//! Which repositories are followed: an organisation's, filtered by `github.include`,
//! `github.exclude` and `github.visibility` (archived ones skipped), plus `github.repos`.

use std::collections::HashSet;

use super::RepoInfo;
use crate::config::GithubConfig;

/// Keeps an org's repositories per include/exclude/visibility (archived ones are skipped);
/// single `repos` are always kept. Sorted by `full_name`, each repository once (GitHub's
/// names are case-insensitive). Patterns are unanchored regexes on `owner/name`; one that
/// does not compile matches nothing (the config check reports it before).
pub fn select(repos: Vec<RepoInfo>, config: &GithubConfig) -> Vec<RepoInfo> {
    let filters = Filters::new(config);
    let singles: HashSet<String> = config
        .repos
        .iter()
        .map(|name| name.to_ascii_lowercase())
        .collect();
    let mut kept: Vec<RepoInfo> = repos
        .into_iter()
        .filter(|repo| singles.contains(&repo.full_name.to_ascii_lowercase()) || filters.keep(repo))
        .collect();
    kept.sort_by(|a, b| {
        a.full_name
            .to_ascii_lowercase()
            .cmp(&b.full_name.to_ascii_lowercase())
            .then_with(|| a.full_name.cmp(&b.full_name))
    });
    kept.dedup_by(|a, b| a.full_name.eq_ignore_ascii_case(&b.full_name));
    kept
}

/// The first pattern of `include` or `exclude` that is not a regex: `(key, pattern, why)`.
pub(super) fn bad_pattern(config: &GithubConfig) -> Option<(&'static str, String, String)> {
    [("include", &config.include), ("exclude", &config.exclude)]
        .into_iter()
        .flat_map(|(key, patterns)| patterns.iter().map(move |pattern| (key, pattern)))
        .find_map(|(key, pattern)| {
            regex_lite::Regex::new(pattern)
                .err()
                .map(|error| (key, pattern.clone(), error.to_string()))
        })
}

struct Filters {
    include: Vec<regex_lite::Regex>,
    /// Some include pattern was given, even one that did not compile.
    include_given: bool,
    exclude: Vec<regex_lite::Regex>,
    visibility: Visibility,
}

#[derive(Clone, Copy)]
enum Visibility {
    All,
    Public,
    Private,
}

impl Filters {
    fn new(config: &GithubConfig) -> Filters {
        let compile = |patterns: &[String]| -> Vec<regex_lite::Regex> {
            patterns
                .iter()
                .filter_map(|pattern| match regex_lite::Regex::new(pattern) {
                    Ok(regex) => Some(regex),
                    Err(error) => {
                        tracing::warn!(%pattern, %error, "github: ignoring a pattern that is not a regular expression");
                        None
                    }
                })
                .collect()
        };
        Filters {
            include: compile(&config.include),
            include_given: !config.include.is_empty(),
            exclude: compile(&config.exclude),
            visibility: match config.visibility.as_str() {
                "public" => Visibility::Public,
                "private" => Visibility::Private,
                _ => Visibility::All,
            },
        }
    }

    fn keep(&self, repo: &RepoInfo) -> bool {
        let name = repo.full_name.as_str();
        let visible = match self.visibility {
            Visibility::All => true,
            Visibility::Public => !repo.private,
            Visibility::Private => repo.private,
        };
        let included = !self.include_given || self.include.iter().any(|re| re.is_match(name));
        let excluded = self.exclude.iter().any(|re| re.is_match(name));
        !repo.archived && visible && included && !excluded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(full_name: &str, private: bool, archived: bool) -> RepoInfo {
        let (owner, name) = full_name.split_once('/').unwrap();
        RepoInfo {
            full_name: full_name.into(),
            owner: owner.into(),
            name: name.into(),
            private,
            archived,
            fork: false,
            clone_url: format!("https://github.com/{full_name}.git"),
            html_url: format!("https://github.com/{full_name}"),
            default_branch: "main".into(),
            pushed_at: None,
        }
    }

    fn names(repos: &[RepoInfo]) -> Vec<&str> {
        repos.iter().map(|r| r.full_name.as_str()).collect()
    }

    fn org() -> Vec<RepoInfo> {
        vec![
            repo("acme/web", false, false),
            repo("acme/api", true, false),
            repo("acme/old", false, true),
            repo("acme/svc-billing", true, false),
            repo("acme/svc-auth", false, false),
            repo("acme/sandbox", false, false),
        ]
    }

    #[test]
    fn all_but_archived_by_default_sorted() {
        let config = GithubConfig::default();
        assert_eq!(
            names(&select(org(), &config)),
            [
                "acme/api",
                "acme/sandbox",
                "acme/svc-auth",
                "acme/svc-billing",
                "acme/web"
            ]
        );
    }

    #[test]
    fn include_exclude_and_visibility() {
        let config = GithubConfig {
            include: vec!["^acme/svc-".into(), "/web$".into()],
            exclude: vec!["billing".into()],
            ..GithubConfig::default()
        };
        assert_eq!(
            names(&select(org(), &config)),
            ["acme/svc-auth", "acme/web"]
        );
        let private = GithubConfig {
            visibility: "private".into(),
            ..GithubConfig::default()
        };
        assert_eq!(
            names(&select(org(), &private)),
            ["acme/api", "acme/svc-billing"]
        );
        let public = GithubConfig {
            visibility: "public".into(),
            exclude: vec!["sand".into()],
            ..GithubConfig::default()
        };
        assert_eq!(
            names(&select(org(), &public)),
            ["acme/svc-auth", "acme/web"]
        );
    }

    #[test]
    fn single_repos_are_always_kept_and_each_repo_appears_once() {
        let config = GithubConfig {
            include: vec!["nothing-matches".into()],
            repos: vec!["ACME/old".into(), "other/tool".into()],
            visibility: "private".into(),
            ..GithubConfig::default()
        };
        let mut repos = org();
        repos.push(repo("other/tool", false, false));
        repos.push(repo("other/tool", false, false));
        repos.push(repo("other/unlisted", true, false));
        assert_eq!(names(&select(repos, &config)), ["acme/old", "other/tool"]);
    }

    #[test]
    fn a_broken_pattern_matches_nothing_and_is_reported() {
        let config = GithubConfig {
            include: vec!["(".into()],
            ..GithubConfig::default()
        };
        assert!(select(org(), &config).is_empty());
        let (key, pattern, _) = bad_pattern(&config).unwrap();
        assert_eq!((key, pattern.as_str()), ("include", "("));
        assert!(bad_pattern(&GithubConfig::default()).is_none());
    }
}
