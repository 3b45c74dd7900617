//! The facts a model is told about GitHub data: totals (appended to the `T` facts), `M`
//! merged pull requests, `V` reviewers and `L` releases. Numbers are spelled out in
//! descriptions; references are rendered from the data ([`super::github_render`]).

use super::github_render::{self, github, hours, pr_ref, release_ref};
use super::prompt::{Fact, spell, spell_count, spelled_change};
use super::render::count;
use crate::backend::sparky::model::{DigestData, DraftKind};

/// How many merged pull requests, reviewers and releases a model is told about at most:
/// a busy month must still fit the default context window.
const MERGED_LIMIT: usize = 10;
const REVIEWER_LIMIT: usize = 5;
const RELEASE_LIMIT: usize = 5;

/// Totals facts: what, as the model reads it, and the reference.
pub(super) fn totals(data: &DigestData) -> Vec<(&'static str, String, String)> {
    let Some(g) = github(data) else {
        return Vec::new();
    };
    let prs = &g.pull_requests;
    let issues = &g.issues;
    let mut facts = vec![
        (
            "the pull requests merged",
            spell(prs.merged),
            count(prs.merged, "pull request merged", "pull requests merged"),
        ),
        (
            "the pull requests opened",
            spell(prs.opened),
            count(prs.opened, "pull request opened", "pull requests opened"),
        ),
    ];
    if prs.closed_unmerged > 0 {
        facts.push((
            "the pull requests closed without merging",
            spell(prs.closed_unmerged),
            count(
                prs.closed_unmerged,
                "pull request closed without merging",
                "pull requests closed without merging",
            ),
        ));
    }
    if let Some(h) = prs.median_hours_to_merge {
        facts.push((
            "the median time from opening to merging a pull request",
            format!("about {}", spell_count(h.round() as u64, "hour", "hours")),
            format!("{} median time to merge", hours(h)),
        ));
    }
    if g.reviews.merged_without_review > 0 {
        facts.push((
            "the pull requests merged without review",
            spell(g.reviews.merged_without_review),
            count(
                g.reviews.merged_without_review,
                "pull request merged without review",
                "pull requests merged without review",
            ),
        ));
    }
    facts.push((
        "the issues opened",
        spell(issues.opened),
        count(issues.opened, "issue opened", "issues opened"),
    ));
    facts.push((
        "the issues closed",
        spell(issues.closed),
        count(issues.closed, "issue closed", "issues closed"),
    ));
    if let Some(t) = &g.trend {
        let (said, reference) = match t.prs_merged_change_pct {
            Some(pct) => (
                format!("{} the previous period", spelled_change(pct)),
                format!(
                    "{} pull requests merged, {} {} in {}",
                    prs.merged,
                    super::render::change(pct),
                    t.previous.prs_merged,
                    t.previous_label
                ),
            ),
            None => (
                "the previous period had none".to_owned(),
                format!("no pull requests merged in {}", t.previous_label),
            ),
        };
        facts.push((
            "pull requests merged compared with the previous period",
            said,
            reference,
        ));
    }
    facts
}

/// `M` merged pull requests (those the digest lists first), `V` reviewers, `L` releases.
pub(super) fn facts(data: &DigestData, kind: DraftKind) -> Vec<Fact> {
    let Some(g) = github(data) else {
        return Vec::new();
    };
    let mut facts = Vec::new();
    let merged = github_render::listed_merged(g, kind);
    for (i, pr) in merged.into_iter().take(MERGED_LIMIT).enumerate() {
        facts.push(Fact {
            id: format!("M{}", i + 1),
            description: format!(
                "a pull request merged in the repository \"{}\": \"{}\", merged after about {}, {}{}",
                pr.repo,
                pr.title,
                spell_count(pr.hours_to_merge.round() as u64, "hour", "hours"),
                match pr.reviewers.len() {
                    0 => "without review".to_owned(),
                    n => format!("reviewed by {}", spell_count(n as u64, "person", "people")),
                },
                if pr.is_bot { ", opened by a bot" } else { "" },
            ),
            reference: pr_ref(pr),
        });
    }
    for (i, r) in g.reviews.reviewers.iter().take(REVIEWER_LIMIT).enumerate() {
        facts.push(Fact {
            id: format!("V{}", i + 1),
            description: format!(
                "a reviewer: reviewed {}",
                spell_count(r.reviewed, "pull request", "pull requests")
            ),
            reference: r.login.clone(),
        });
    }
    for (i, r) in g.releases.iter().take(RELEASE_LIMIT).enumerate() {
        facts.push(Fact {
            id: format!("L{}", i + 1),
            description: format!(
                "a release of the repository \"{}\"{}",
                r.repo,
                if r.prerelease { ", a pre-release" } else { "" }
            ),
            reference: release_ref(r),
        });
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::super::check::check;
    use super::super::prompt::Facts;
    use super::super::render::Prose;
    use super::*;
    use crate::backend::sparky::analyze::analyze;
    use crate::backend::sparky::model::{
        Activity, CommitRecord, Period, PeriodKind, PullRequestRecord, ReleaseRecord, RepoActivity,
    };

    fn data() -> DigestData {
        let at = |s: &str| -> jiff::Timestamp { format!("2026-11-{s}:00Z").parse().unwrap() };
        let commit = CommitRecord {
            login: None,
            repo: "lab/api".into(),
            sha: "ab".repeat(20),
            author: "Ann".into(),
            email: "ann@lab.example".into(),
            time: at("17T10:00"),
            offset_seconds: 0,
            committed: at("17T10:00"),
            subject: "feat: x".into(),
            files_changed: 1,
            insertions: 10,
            deletions: 2,
            is_merge: false,
            is_bot: false,
            paths: Vec::new(),
        };
        let repo = RepoActivity {
            name: "lab/api".into(),
            path: "https://github.com/lab/api".into(),
            commits: vec![commit.clone()],
            pull_requests: vec![PullRequestRecord {
                repo: "lab/api".into(),
                number: 12,
                title: "feat: x".into(),
                author: "ann".into(),
                url: "https://github.com/lab/api/pull/12".into(),
                created: at("16T10:00"),
                merged: Some(at("17T04:30")),
                closed: Some(at("17T04:30")),
                reviewers: vec!["bob".into()],
                additions: 10,
                deletions: 2,
                is_bot: false,
                labels: Vec::new(),
            }],
            issues: Vec::new(),
            releases: vec![ReleaseRecord {
                repo: "lab/api".into(),
                tag: "v1.2.0".into(),
                name: "One two".into(),
                author: "ann".into(),
                url: "https://github.com/lab/api/releases/tag/v1.2.0".into(),
                published: at("18T10:00"),
                prerelease: false,
            }],
            first_commit: None,
            files_unknown: Vec::new(),
        };
        let activity = Activity {
            period: Period {
                kind: PeriodKind::Week,
                since: at("16T00:00"),
                until: at("23T00:00"),
                label: "2026-W47".into(),
                time_zone: "UTC".into(),
            },
            repos: vec![repo],
        };
        DigestData {
            metrics: analyze(&activity, None),
            repos: vec!["lab/api".into()],
            repo_paths: vec!["https://github.com/lab/api".into()],
            commits: vec![commit],
            period: activity.period,
            link: None,
            failures: Vec::new(),
        }
    }

    fn id_of(facts: &Facts, letter: char, reference: &str) -> String {
        (1..=30)
            .map(|i| format!("{letter}{i}"))
            .find(|id| facts.reference(id).is_some_and(|r| r.contains(reference)))
            .unwrap_or_else(|| panic!("no {letter} fact with {reference:?}"))
    }

    #[test]
    fn github_facts_have_ids_and_rendered_references() {
        let facts = Facts::from_data(&data(), DraftKind::Weekly);
        assert_eq!(
            facts.reference("M1"),
            Some("[lab/api#12](https://github.com/lab/api/pull/12) feat: x (ann)")
        );
        assert_eq!(facts.reference("V1"), Some("bob"));
        assert_eq!(
            facts.reference("L1"),
            Some("[lab/api v1.2.0](https://github.com/lab/api/releases/tag/v1.2.0)")
        );
        let merged = id_of(&facts, 'T', "pull request merged");
        assert_eq!(facts.reference(&merged), Some("1 pull request merged"));
        let time = id_of(&facts, 'T', "median time to merge");
        assert_eq!(facts.reference(&time), Some("18.5 h median time to merge"));
    }

    #[test]
    fn the_check_keeps_sentences_whose_numbers_and_links_come_from_github_facts() {
        let facts = Facts::from_data(&data(), DraftKind::Weekly);
        let time = id_of(&facts, 'T', "median time to merge");
        let answer = Prose {
            summary: format!("[M1] landed with [{time}], reviewed by [V1]."),
            highlights: vec!["[L1] shipped.".into()],
            story: Vec::new(),
        };
        let (prose, notes) = check(&answer, &facts, &[]);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            prose.summary,
            "[lab/api#12](https://github.com/lab/api/pull/12) feat: x (ann) landed with 18.5 h \
             median time to merge, reviewed by bob."
        );
        assert_eq!(
            prose.highlights,
            ["[lab/api v1.2.0](https://github.com/lab/api/releases/tag/v1.2.0) shipped."]
        );
    }

    #[test]
    fn local_data_has_no_github_facts() {
        let mut local = data();
        local.metrics.github = None;
        let facts = Facts::from_data(&local, DraftKind::Weekly);
        assert_eq!(facts.reference("M1"), None);
        assert_eq!(facts.reference("V1"), None);
    }
}
