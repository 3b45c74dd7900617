//! What a blog post adds to the digest's sections: its ceiling. The stories of the busiest
//! repositories ([`super::narrative`]) list fewer commits, then fewer stories are told,
//! until the post is within the kind's word ceiling.

use super::narrative::Stories;
use super::render::{self, Prose};
use crate::backend::sparky::model::{DigestData, DraftKind};

/// How many commits each repository's story lists, tried in turn until the post is within
/// the kind's word ceiling; a busy period loses listed commits before anything else.
const COMMIT_LISTS: [usize; 9] = [200, 100, 60, 40, 25, 15, 10, 5, 0];

/// The blog post's Markdown: the digest's sections, a story per repository, and the
/// data's references, within the ceiling if cutting listed commits, then the stories of
/// the least active repositories, can get it there.
pub(super) fn render(data: &DigestData, prose: &Prose) -> String {
    let ceiling = DraftKind::Blog
        .word_bounds()
        .map_or(usize::MAX, |(_, most)| most);
    let all = Stories::of(data, DraftKind::Blog).told(data);
    let fewer_commits = COMMIT_LISTS.map(|commits| Stories {
        commits,
        repos: all,
    });
    let fewer_repos = std::iter::successors(Some(all / 2), |n| (*n > 1).then_some(n / 2))
        .filter(|&repos| repos > 0)
        .map(|repos| Stories { commits: 0, repos });
    let mut text = String::new();
    for stories in fewer_commits.into_iter().chain(fewer_repos) {
        text = render::markdown(data, DraftKind::Blog, prose, stories);
        if render::word_count(&text) <= ceiling {
            break;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::sparky::analyze::analyze;
    use crate::backend::sparky::model::{Activity, CommitRecord, Period, PeriodKind, RepoActivity};

    fn one_commit_week() -> DigestData {
        let at: jiff::Timestamp = "2026-11-18T10:00:00Z".parse().expect("time");
        let commit = CommitRecord {
            repo: "raibid".into(),
            sha: "abc1234def5678abc1234def5678abc1234def56".into(),
            author: "ann".into(),
            email: "ann@lab.example".into(),
            time: at,
            offset_seconds: 0,
            committed: at,
            subject: "feat: queue".into(),
            files_changed: 2,
            insertions: 40,
            deletions: 2,
            is_merge: false,
            is_bot: false,
            login: None,
            paths: Vec::new(),
        };
        let activity = Activity {
            period: Period {
                kind: PeriodKind::Week,
                since: "2026-11-16T00:00:00Z".parse().expect("since"),
                until: "2026-11-23T00:00:00Z".parse().expect("until"),
                label: "2026-W47".into(),
                time_zone: "UTC".into(),
            },
            repos: vec![RepoActivity {
                name: "raibid".into(),
                path: "/src/raibid".into(),
                commits: vec![commit.clone()],
                ..RepoActivity::default()
            }],
        };
        DigestData {
            metrics: analyze(&activity, None),
            period: activity.period,
            repos: vec!["raibid".into()],
            repo_paths: vec!["/src/raibid".into()],
            commits: vec![commit],
            link: None,
            failures: Vec::new(),
        }
    }

    fn headings(body: &str) -> Vec<&str> {
        body.lines().filter(|l| l.starts_with('#')).collect()
    }

    #[test]
    fn a_models_story_follows_the_highlights() {
        let data = one_commit_week();
        let prose = Prose {
            summary: "One commit.".into(),
            highlights: vec!["The queue.".into()],
            story: vec!["First paragraph.".into(), " ".into(), "Second one.".into()],
        };
        let body = render(&data, &prose);
        assert_eq!(
            headings(&body),
            [
                "## Summary",
                "## Highlights",
                "## The story",
                "## Per repository",
                "### raibid",
                "## In figures",
                "## Notable changes",
                "## Activity by day"
            ]
        );
        assert!(body.contains("## The story\n\nFirst paragraph.\n\nSecond one.\n\n## Per"));
        assert!(body.contains(
            "### raibid\n\nWork here landed on Wed 2026-11-18.\n\n\
             - Wed 2026-11-18: `abc1234` feat: queue, +40/−2 lines\n"
        ));
        assert!(
            body.contains("## Notable changes\n\nEvery ranked change is told above."),
            "the story's commit is not listed again: {body}"
        );

        let without = render(&data, &Prose::default());
        assert!(!without.contains("The story") && !without.contains("## Summary"));
    }
}
