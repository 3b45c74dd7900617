//! Plain data shared by Sparky's stages: collect -> analyze -> write -> store -> publish.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One commit as `git log --numstat` would count it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRecord {
    /// Repository name (the folder name of its work tree).
    pub repo: String,
    /// Full hex object id.
    pub sha: String,
    /// Author name and email after the repository's mailmap.
    pub author: String,
    pub email: String,
    /// Author time; `offset_seconds` is the author's UTC offset at that time.
    pub time: Timestamp,
    pub offset_seconds: i32,
    /// Committer time: what `git log --since/--until` filter on.
    pub committed: Timestamp,
    pub subject: String,
    pub files_changed: u32,
    pub insertions: u64,
    pub deletions: u64,
    /// Merges count as commits, but their lines are not counted again.
    pub is_merge: bool,
    pub is_bot: bool,
    /// The paths `git log --numstat` lists, a rename by its destination; empty for GitHub
    /// commits and merges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// The author's GitHub login, when GitHub reported the commit and knows the author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
}

/// A named calendar period, or a custom range. `since` inclusive, `until` exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub kind: PeriodKind,
    pub since: Timestamp,
    pub until: Timestamp,
    /// `2026-11-21`, `2026-W47`, `2026-11`, or `2026-11-01..2026-11-09` for custom.
    pub label: String,
    /// IANA name of the time zone the calendar period was cut in.
    pub time_zone: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Day,
    Week,
    Month,
    Custom,
}

/// Everything collected for one period, per repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub period: Period,
    pub repos: Vec<RepoActivity>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoActivity {
    /// `owner/name` for GitHub repositories, the folder name for local ones.
    pub name: String,
    /// The local path, or the repository's web URL.
    pub path: String,
    /// Newest first.
    pub commits: Vec<CommitRecord>,
    /// Pull requests opened, merged or closed in the period (GitHub only).
    #[serde(default)]
    pub pull_requests: Vec<PullRequestRecord>,
    /// Issues opened or closed in the period, pull requests excluded (GitHub only).
    #[serde(default)]
    pub issues: Vec<IssueRecord>,
    /// Releases published in the period (GitHub only).
    #[serde(default)]
    pub releases: Vec<ReleaseRecord>,
    /// Committer time of the repository's first commit, when the history reaches it (not
    /// through a shallow boundary): created in the period when it falls inside it, not yet
    /// existing when it falls after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_commit: Option<Timestamp>,
    /// Commits (shas) whose changed-file count is unknown: GitHub gave none
    /// (`changedFilesIfAvailable` null, as for very large commits). Their `files_changed`
    /// is 0 and not a count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files_unknown: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestRecord {
    pub repo: String,
    pub number: u64,
    pub title: String,
    /// GitHub login.
    pub author: String,
    pub url: String,
    pub created: Timestamp,
    pub merged: Option<Timestamp>,
    /// When it was closed, merged or not.
    pub closed: Option<Timestamp>,
    /// Logins that submitted a review, each once, the author excluded.
    pub reviewers: Vec<String>,
    pub additions: u64,
    pub deletions: u64,
    pub is_bot: bool,
    /// Label names, as GitHub spells them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRecord {
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub author: String,
    pub url: String,
    pub created: Timestamp,
    pub closed: Option<Timestamp>,
    pub is_bot: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRecord {
    pub repo: String,
    pub tag: String,
    pub name: String,
    pub author: String,
    pub url: String,
    pub published: Timestamp,
    pub prerelease: bool,
}

/// What a person decided about a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DraftState {
    Draft,
    Approved,
    Published,
    Rejected,
}

impl DraftState {
    pub fn as_str(self) -> &'static str {
        match self {
            DraftState::Draft => "draft",
            DraftState::Approved => "approved",
            DraftState::Published => "published",
            DraftState::Rejected => "rejected",
        }
    }
}

/// The kind of text a draft is: a digest of a period, a blog post, or a social post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DraftKind {
    Daily,
    Weekly,
    Monthly,
    /// A digest of a `--since/--until` range.
    Digest,
    /// A long-form post about a period (1500-2500 words).
    Blog,
    Mastodon,
    Bluesky,
    Linkedin,
    X,
}

/// How a social network counts a post's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthUnit {
    /// Unicode scalar values, as LinkedIn counts them.
    Chars,
    /// Unicode scalar values with every link counted as 23, as Mastodon counts them.
    CharsLinksAs23,
    /// Extended grapheme clusters, as Bluesky counts them.
    Graphemes,
    /// X's weighted count: Latin-script and common punctuation 1, every other character
    /// (CJK, emoji sequences) 2, every link 23.
    Weighted,
}

/// What a link counts for on Mastodon and X, whatever its length.
const LINK_LENGTH: usize = 23;

impl LengthUnit {
    pub fn measure(self, text: &str) -> usize {
        use unicode_segmentation::UnicodeSegmentation;
        match self {
            LengthUnit::Chars => text.chars().count(),
            LengthUnit::Graphemes => text.graphemes(true).count(),
            LengthUnit::CharsLinksAs23 => with_links_as_23(text, |rest| rest.chars().count()),
            LengthUnit::Weighted => with_links_as_23(text, |rest| {
                rest.graphemes(true)
                    .map(|g| {
                        let mut chars = g.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) if is_light(c) => 1,
                            _ => 2,
                        }
                    })
                    .sum()
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LengthUnit::Chars | LengthUnit::CharsLinksAs23 => "chars",
            LengthUnit::Graphemes => "graphemes",
            LengthUnit::Weighted => "weighted chars",
        }
    }
}

/// `count` of the text outside links, plus 23 per `http://` or `https://` link.
fn with_links_as_23(text: &str, count: impl Fn(&str) -> usize) -> usize {
    let mut total = 0;
    let mut rest = text;
    while let Some(start) = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        total += count(&rest[..start]) + LINK_LENGTH;
        let link = &rest[start..];
        rest = &link[link.find(char::is_whitespace).unwrap_or(link.len())..];
    }
    total + count(rest)
}

/// Characters X counts once: the ranges of twitter-text's default configuration.
fn is_light(c: char) -> bool {
    matches!(u32::from(c), 0..=4351 | 8192..=8205 | 8208..=8223 | 8242..=8247)
}

impl DraftKind {
    pub const ALL: [DraftKind; 9] = [
        DraftKind::Daily,
        DraftKind::Weekly,
        DraftKind::Monthly,
        DraftKind::Digest,
        DraftKind::Blog,
        DraftKind::Mastodon,
        DraftKind::Bluesky,
        DraftKind::Linkedin,
        DraftKind::X,
    ];

    pub fn for_period(kind: PeriodKind) -> Self {
        match kind {
            PeriodKind::Day => DraftKind::Daily,
            PeriodKind::Week => DraftKind::Weekly,
            PeriodKind::Month => DraftKind::Monthly,
            PeriodKind::Custom => DraftKind::Digest,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DraftKind::Daily => "daily",
            DraftKind::Weekly => "weekly",
            DraftKind::Monthly => "monthly",
            DraftKind::Digest => "digest",
            DraftKind::Blog => "blog",
            DraftKind::Mastodon => "mastodon",
            DraftKind::Bluesky => "bluesky",
            DraftKind::Linkedin => "linkedin",
            DraftKind::X => "x",
        }
    }

    pub fn parse(name: &str) -> Option<DraftKind> {
        DraftKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// A digest of a period (daily, weekly, monthly or a range), as opposed to a post.
    pub fn is_digest(self) -> bool {
        matches!(
            self,
            DraftKind::Daily | DraftKind::Weekly | DraftKind::Monthly | DraftKind::Digest
        )
    }

    /// The longest post a social network takes, and how it counts; `None` for long texts.
    pub fn post_limit(self) -> Option<(usize, LengthUnit)> {
        match self {
            DraftKind::Mastodon => Some((500, LengthUnit::CharsLinksAs23)),
            DraftKind::Bluesky => Some((300, LengthUnit::Graphemes)),
            DraftKind::Linkedin => Some((1300, LengthUnit::Chars)),
            DraftKind::X => Some((280, LengthUnit::Weighted)),
            _ => None,
        }
    }

    /// Length in words for a period with enough activity to fill it; social posts are
    /// bounded by [`DraftKind::post_limit`] instead.
    pub fn word_bounds(self) -> Option<(usize, usize)> {
        match self {
            DraftKind::Daily => Some((200, 300)),
            DraftKind::Weekly => Some((800, 1200)),
            DraftKind::Monthly => Some((2000, 3000)),
            DraftKind::Digest => Some((200, 1200)),
            DraftKind::Blog => Some((1500, 2500)),
            DraftKind::Mastodon | DraftKind::Bluesky | DraftKind::Linkedin | DraftKind::X => None,
        }
    }
}

/// The front matter of a draft's Markdown file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontMatter {
    pub title: String,
    /// The day the draft is dated (the period's first day), `YYYY-MM-DD`.
    pub date: String,
    /// The period label, see [`Period::label`].
    pub period: String,
    pub kind: DraftKind,
    pub state: DraftState,
    /// `builtin`, `ollama` or `openai`.
    pub writer: String,
    /// The model that wrote the prose, when a model did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// What a draft was written from: stored beside it as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestData {
    pub period: Period,
    /// Every repository collected, active or not, by name.
    pub repos: Vec<String>,
    /// Their paths, in the same order: regenerating a draft collects them again.
    pub repo_paths: Vec<String>,
    pub metrics: super::analyze::Metrics,
    /// Every commit of the period, newest first.
    pub commits: Vec<CommitRecord>,
    /// Local repositories that could not be read, wholly (left out) or in part (kept with
    /// what was read); GitHub's are in `metrics.github.failures`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<super::analyze::SourceFailure>,
    /// What a social post links to: the period's post on the docs site, when
    /// `publish.site_url` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_network_counts_its_own_way() {
        let link = "https://docs.example.org/blog/2026/11/week-2026-47";
        let post = format!("Week 47: 12 commits 🚀 {link}");
        assert_eq!(LengthUnit::Chars.measure(&post), 22 + link.len());
        assert_eq!(LengthUnit::CharsLinksAs23.measure(&post), 22 + 23);
        assert_eq!(
            LengthUnit::Weighted.measure(&post),
            21 + 2 + 23,
            "an emoji counts 2"
        );
        assert_eq!(LengthUnit::Weighted.measure("日本"), 4);
        assert_eq!(LengthUnit::Graphemes.measure("Zoe\u{308} 👍🏽"), 5);
        assert_eq!(
            LengthUnit::CharsLinksAs23.measure("see http://a.b and https://c.d."),
            4 + 23 + 5 + 23
        );
    }
}
