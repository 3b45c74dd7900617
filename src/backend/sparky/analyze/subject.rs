//! What a commit subject or pull-request title says about the work: its conventional-commit
//! type and scope, the workstream or issue it names, the release it makes, and the form two
//! repositories' copies of one change share.

/// `feat(console)!: text` -> type `feat`, scope `console`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conventional<'a> {
    pub kind: &'a str,
    pub scope: Option<&'a str>,
}

/// Types of the conventional-commit convention and its common relatives.
const TYPES: &[&str] = &[
    "feat", "fix", "docs", "doc", "style", "refactor", "perf", "test", "tests", "build", "ci",
    "chore", "revert", "deps", "release",
];

pub fn conventional(subject: &str) -> Option<Conventional<'_>> {
    let (head, _) = subject.split_once(':')?;
    let head = head.strip_suffix('!').unwrap_or(head);
    let (kind, scope) = match head.split_once('(') {
        Some((kind, rest)) => (kind, Some(rest.strip_suffix(')')?.trim())),
        None => (head, None),
    };
    TYPES.contains(&kind).then_some(Conventional {
        kind,
        scope: scope.filter(|scope| !scope.is_empty()),
    })
}

/// The subject without a squash merge's `(#123)` suffix.
pub fn without_pr_suffix(subject: &str) -> &str {
    let trimmed = subject.trim_end();
    pr_suffix(trimmed).map_or(trimmed, |(rest, _)| rest.trim_end())
}

/// The pull request number a squash merge's subject ends with: `feat: x (#12)`.
pub fn squashed_pull(subject: &str) -> Option<u64> {
    pr_suffix(subject.trim_end()).and_then(|(_, number)| number.parse().ok())
}

/// `(rest, "12")` of a subject ending in `(#12)`.
fn pr_suffix(subject: &str) -> Option<(&str, &str)> {
    subject
        .strip_suffix(')')
        .and_then(|rest| rest.rsplit_once("(#"))
        .filter(|(_, number)| !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
}

/// The form copies of one change share across repositories: lowercase, spaces collapsed,
/// no PR suffix or final full stop. `None` for subjects that say nothing on their own
/// (`wip`, `Initial commit`), which many repositories share by chance.
pub fn shared_form(subject: &str) -> Option<String> {
    let words: Vec<String> = without_pr_suffix(subject)
        .trim_end_matches('.')
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let form = words.join(" ");
    (words.len() >= 2 && !GENERIC.contains(&form.as_str())).then_some(form)
}

const GENERIC: &[&str] = &[
    "initial commit",
    "first commit",
    "initial import",
    "fix typo",
    "fix typos",
    "minor fixes",
    "update readme",
    "update readme.md",
];

/// A workstream or issue reference: a leading `[name]`, `WS3`, a tracker key like
/// `ABC-12`, or `#42` (which only means something inside one repository).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reference {
    Tag(String),
    Workstream(String),
    Ticket(String),
    Issue(u64),
}

/// The first reference `subject` makes, a squash merge's own `(#123)` left aside.
pub fn reference(subject: &str) -> Option<Reference> {
    let subject = without_pr_suffix(subject);
    if let Some(tag) = subject
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .map(|(tag, _)| tag.trim().to_lowercase())
        .filter(|tag| !tag.is_empty() && !matches!(tag.as_str(), "wip" | "draft" | "skip ci"))
    {
        return Some(Reference::Tag(tag));
    }
    subject
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '#'))
        .find_map(token_reference)
}

fn token_reference(token: &str) -> Option<Reference> {
    if let Some(number) = token.strip_prefix('#') {
        return number.parse().ok().map(Reference::Issue);
    }
    let upper = token.to_ascii_uppercase();
    if let Some(number) = upper.strip_prefix("WS") {
        let number = number.strip_prefix('-').unwrap_or(number);
        if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Reference::Workstream(format!("WS{number}")));
        }
    }
    let (project, number) = token.split_once('-')?;
    let is_key = project.len() >= 2
        && project.starts_with(|c: char| c.is_ascii_uppercase())
        && project
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && !NOT_TRACKERS.contains(&project);
    is_key.then(|| Reference::Ticket(token.to_string()))
}

/// Uppercase names with a number that are not tracker keys.
const NOT_TRACKERS: &[&str] = &[
    "UTF", "SHA", "ISO", "RFC", "CVE", "HTTP", "TLS", "X86", "AES",
];

/// Whether the subject makes a release, and the version it names if any: `release: v1.2`,
/// `chore(release): 1.2.0`, `Release 0.3.0`, `Bump version to 1.4`.
pub fn release(subject: &str) -> Option<Option<String>> {
    let lower = subject.to_lowercase();
    let by_convention = conventional(subject)
        .is_some_and(|c| c.kind == "release" || c.scope.is_some_and(|s| s == "release"));
    let rest = conventional(subject).map_or(lower.as_str(), |_| {
        lower.split_once(':').map_or("", |(_, rest)| rest.trim())
    });
    let version = subject
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .find(|word| is_version(word))
        .map(str::to_string);
    let says_release = rest.starts_with("release ")
        || rest.starts_with("bump version")
        || rest.starts_with("prepare release");
    (by_convention || (says_release && version.is_some()) || is_version(subject.trim()))
        .then_some(version)
}

/// `v1.2`, `1.2.3`, `v2.0.0-rc.1`.
fn is_version(word: &str) -> bool {
    let digits = word.strip_prefix('v').unwrap_or(word);
    let core = digits.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_subjects_give_type_and_scope() {
        let parsed = conventional("feat(console)!: palette").unwrap();
        assert_eq!((parsed.kind, parsed.scope), ("feat", Some("console")));
        assert_eq!(conventional("fix: x").unwrap().scope, None);
        assert_eq!(conventional("Note: this is not one"), None);
        assert_eq!(conventional("no colon here"), None);
    }

    #[test]
    fn squash_merges_name_their_pull_request() {
        assert_eq!(squashed_pull("feat: x (#12)"), Some(12));
        assert_eq!(squashed_pull("feat: x (#12) "), Some(12));
        assert_eq!(squashed_pull("feat: x (12)"), None);
        assert_eq!(squashed_pull("feat: x (#)"), None);
        assert_eq!(squashed_pull("Merge pull request #12 from a/b"), None);
    }

    #[test]
    fn shared_forms_ignore_case_suffixes_and_generic_subjects() {
        assert_eq!(
            shared_form("ci: Pin  toolchain. (#42)").as_deref(),
            Some("ci: pin toolchain")
        );
        assert_eq!(shared_form("Initial commit"), None);
        assert_eq!(shared_form("wip"), None);
    }

    #[test]
    fn references_are_tags_workstreams_tickets_and_issues() {
        let cases = [
            ("[infra] pin images", Some(Reference::Tag("infra".into()))),
            (
                "WS3: split the queue",
                Some(Reference::Workstream("WS3".into())),
            ),
            ("ws-4 docs", Some(Reference::Workstream("WS4".into()))),
            (
                "ABC-12 retry uploads",
                Some(Reference::Ticket("ABC-12".into())),
            ),
            ("fix: close #42 for good", Some(Reference::Issue(42))),
            ("feat: parse UTF-8 names (#77)", None),
            ("[WIP] thing", None),
        ];
        for (subject, expected) in cases {
            assert_eq!(reference(subject), expected, "{subject}");
        }
    }

    #[test]
    fn releases_name_their_version() {
        assert_eq!(release("release: v1.2"), Some(Some("v1.2".into())));
        assert_eq!(release("chore(release): 1.2.0"), Some(Some("1.2.0".into())));
        assert_eq!(release("Release 0.3.0"), Some(Some("0.3.0".into())));
        assert_eq!(release("v2.0.0"), Some(Some("v2.0.0".into())));
        assert_eq!(release("chore(release): prepare"), Some(None));
        assert_eq!(release("Release notes for the docs"), None);
        assert_eq!(release("feat: bump to 1.2 api"), None);
    }
}
