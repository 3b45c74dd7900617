//! What a blog post adds to the digest's sections: the story of each active repository,
//! told from the data (its commits, changes, people, pull requests, issues and releases),
//! and the ceiling the whole post is kept under.

use std::cmp::Reverse;

use super::github_render::{self, github, release_ref};
use super::render::{
    self, Prose, commit_ref, count, day_name, is_breaking, lines, local_date, name_list, short_sha,
};
use crate::backend::sparky::analyze::{RepoStats, impact_score};
use crate::backend::sparky::model::{CommitRecord, DigestData, DraftKind};

/// How many commits each repository's story lists, tried in turn until the post is within
/// the kind's word ceiling; a busy period loses listed commits before anything else.
const COMMIT_LISTS: [usize; 6] = [40, 25, 15, 10, 5, 0];

/// How much of the repositories' stories a blog post tells.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stories {
    /// Commits listed in each story.
    pub commits: usize,
    /// Stories told, most active repository first; the others are in the Repositories
    /// section.
    pub repos: usize,
}

/// The blog post's Markdown: the digest's sections, a story per repository, and the
/// data's references, within the ceiling if cutting listed commits, then the stories of
/// the least active repositories, can get it there.
pub(super) fn render(data: &DigestData, prose: &Prose) -> String {
    let ceiling = DraftKind::Blog
        .word_bounds()
        .map_or(usize::MAX, |(_, most)| most);
    let all = data.metrics.repos.len();
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

/// One `###` subsection per active repository, most commits first, up to `stories.repos`
/// of them, each listing up to `stories.commits` of its commits; `None` without commits.
pub(super) fn repository_stories(data: &DigestData, stories: Stories) -> Option<String> {
    let told: Vec<String> = data
        .metrics
        .repos
        .iter()
        .take(stories.repos)
        .map(|repo| {
            format!(
                "### {}\n\n{}",
                repo.name,
                story(data, repo, stories.commits)
            )
        })
        .collect();
    let mut text = told.join("\n\n");
    if stories.repos < data.metrics.repos.len() {
        text.push_str("\n\nThe other repositories' work is in the Repositories section.");
    }
    (!told.is_empty()).then_some(text)
}

fn story(data: &DigestData, repo: &RepoStats, listed: usize) -> String {
    let commits: Vec<&CommitRecord> = data
        .commits
        .iter()
        .filter(|c| c.repo == repo.name)
        .collect();
    let mut paragraphs = vec![commits_paragraph(data, repo, &commits)];
    paragraphs.extend(github_paragraph(data, &repo.name));
    paragraphs.extend(commit_list(data, &commits, listed));
    paragraphs.join("\n\n")
}

/// How much landed, when, by whom, and the repository's largest and breaking changes.
fn commits_paragraph(data: &DigestData, repo: &RepoStats, commits: &[&CommitRecord]) -> String {
    let mut sentences = vec![format!(
        "{} by {} landed in {}, {} lines.",
        count(repo.commits, "commit", "commits"),
        count(repo.contributors, "contributor", "contributors"),
        repo.name,
        lines(repo.insertions, repo.deletions),
    )];
    // Commits are newest first.
    if let (Some(newest), Some(oldest)) = (commits.first(), commits.last()) {
        let first = day_name(&local_date(data, oldest.committed));
        let last = day_name(&local_date(data, newest.committed));
        sentences.push(match (first == last, commits.len()) {
            (true, 1) => format!("It landed on {first}."),
            (true, _) => format!("All of them landed on {first}."),
            (false, _) => format!("The first landed on {first}, the last on {last}."),
        });
    }
    sentences.extend(people_sentence(data, commits));
    let ranked: Vec<_> = data
        .metrics
        .notable
        .iter()
        .filter(|n| n.repo == repo.name)
        .collect();
    if let Some(largest) = ranked.first() {
        sentences.push(format!(
            "Its largest change is {}, {} lines in {}.",
            commit_ref(largest),
            lines(largest.insertions, largest.deletions),
            count(u64::from(largest.files_changed), "file", "files"),
        ));
    }
    let breaking: Vec<String> = ranked
        .iter()
        .skip(1)
        .filter(|n| is_breaking(n))
        .map(|n| commit_ref(n))
        .collect();
    if !breaking.is_empty() {
        sentences.push(format!("Breaking: {}.", name_list(&breaking)));
    }
    sentences.join(" ")
}

/// "ann made 4 of them, carol 2 and bob 1.", or "All by ann."
fn people_sentence(data: &DigestData, commits: &[&CommitRecord]) -> Option<String> {
    let mut people: Vec<(&str, u64)> = Vec::new();
    for c in commits {
        let name = person(data, c);
        match people.iter_mut().find(|(known, _)| *known == name) {
            Some((_, n)) => *n += 1,
            None => people.push((name, 1)),
        }
    }
    people.sort_by_key(|&(name, n)| (Reverse(n), name));
    match people.as_slice() {
        [] => None,
        [(only, _)] => Some(format!("All by {only}.")),
        [(top, n), rest @ ..] => {
            let mut parts = vec![format!("{top} made {n} of them")];
            parts.extend(rest.iter().map(|(name, n)| format!("{name} {n}")));
            Some(format!("{}.", name_list(&parts)))
        }
    }
}

/// A commit's author as the Contributors section names them (people are told apart by
/// email), so one person has one name throughout the post.
fn person<'a>(data: &'a DigestData, c: &'a CommitRecord) -> &'a str {
    data.metrics
        .contributors
        .iter()
        .find(|p| p.email.eq_ignore_ascii_case(&c.email))
        .map_or(c.author.as_str(), |p| p.name.as_str())
}

/// The repository's pull requests, its largest merged one, its issues and releases, when
/// GitHub saw any.
fn github_paragraph(data: &DigestData, repo: &str) -> Option<String> {
    let g = github(data)?;
    let mut sentences = Vec::new();
    let prs = g.pull_requests.per_repo.iter().find(|r| r.repo == repo);
    if let Some(prs) = prs.filter(|p| p.opened + p.merged + p.closed_unmerged > 0) {
        let mut parts = vec![
            format!("{} merged", prs.merged),
            format!("{} opened", prs.opened),
        ];
        if prs.closed_unmerged > 0 {
            parts.push(format!("{} closed without merging", prs.closed_unmerged));
        }
        sentences.push(format!("Pull requests: {}.", name_list(&parts)));
    }
    // The list is largest first: the first of a person's, else a bot's.
    let merged = g
        .pull_requests
        .merged_list
        .iter()
        .filter(|pr| pr.repo == repo);
    if let Some(pr) = merged.min_by_key(|pr| pr.is_bot) {
        sentences.push(format!(
            "Its largest merged pull request is {}.",
            github_render::merged_line(pr)
        ));
    }
    let issues = g.issues.per_repo.iter().find(|r| r.repo == repo);
    if let Some(issues) = issues.filter(|i| i.opened + i.closed > 0) {
        sentences.push(format!(
            "Issues: {} opened and {} closed.",
            issues.opened, issues.closed
        ));
    }
    let released: Vec<String> = g
        .releases
        .iter()
        .filter(|r| r.repo == repo)
        .map(|r| {
            format!(
                "{} {} on {}",
                release_ref(r),
                r.name,
                day_name(&local_date(data, r.published))
            )
        })
        .collect();
    if !released.is_empty() {
        sentences.push(format!("Released: {}.", name_list(&released)));
    }
    (!sentences.is_empty()).then(|| sentences.join(" "))
}

/// Up to `listed` commits, oldest first, with their day; when there are more, the largest
/// by impact score. `None` when none are listed.
fn commit_list(data: &DigestData, commits: &[&CommitRecord], listed: usize) -> Option<String> {
    if listed == 0 || commits.is_empty() {
        return None;
    }
    let mut chosen: Vec<&CommitRecord> = commits.to_vec();
    let every = chosen.len() <= listed;
    if !every {
        chosen.sort_by(|a, b| {
            impact_score(b)
                .total_cmp(&impact_score(a))
                .then_with(|| a.committed.cmp(&b.committed))
                .then_with(|| a.sha.cmp(&b.sha))
        });
        chosen.truncate(listed);
    }
    chosen.sort_by(|a, b| {
        a.committed
            .cmp(&b.committed)
            .then_with(|| a.sha.cmp(&b.sha))
    });
    let intro = match every {
        true => "Its commits, oldest first:",
        false => "Its largest commits, oldest first:",
    };
    let bullets: Vec<String> = chosen
        .iter()
        .map(|c| {
            let mut line = format!(
                "- {}: `{}` {} ({})",
                day_name(&local_date(data, c.committed)),
                short_sha(&c.sha),
                c.subject,
                person(data, c),
            );
            if !c.is_merge {
                line.push_str(&format!(", {} lines", lines(c.insertions, c.deletions)));
            }
            line
        })
        .collect();
    Some(format!("{intro}\n\n{}", bullets.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::sparky::analyze::analyze;
    use crate::backend::sparky::model::{Activity, Period, PeriodKind, RepoActivity};

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
                "## Notable changes",
                "## Per repository",
                "### raibid",
                "## Contributors",
                "## Repositories",
                "## Activity by day"
            ]
        );
        assert!(body.contains("## The story\n\nFirst paragraph.\n\nSecond one.\n\n## Notable"));
        assert!(body.contains(
            "### raibid\n\n1 commit by 1 contributor landed in raibid, +40/−2 lines. It landed \
             on Wed 2026-11-18. All by ann. Its largest change is `abc1234` feat: queue (ann), \
             +40/−2 lines in 2 files.\n\nIts commits, oldest first:\n\n- Wed 2026-11-18: \
             `abc1234` feat: queue (ann), +40/−2 lines\n"
        ));

        let without = render(&data, &Prose::default());
        assert!(!without.contains("The story") && !without.contains("## Summary"));
    }
}
