//! A social post: one plain-text post within its network's limit, measured in the
//! network's unit (Bluesky counts graphemes).
//!
//! The post is the writer's sentences, the key numbers of the data, the link to the
//! period's post and a few hashtags, in that order. Whole parts are left out until it fits:
//! hashtags first, then extra numbers, further sentences, the key number and last the link;
//! only a first sentence too long on its own is cut, after a word and with an ellipsis.

use unicode_segmentation::UnicodeSegmentation;

use super::github_render::github;
use super::render::{Prose, change, count, lines, number, totals_phrase};
use crate::backend::sparky::model::{DigestData, LengthUnit};

/// Hashtags named after the busiest repositories; `#devlog` comes after them.
const REPO_HASHTAGS: usize = 3;
const ELLIPSIS: &str = "…";

/// The post for `data`, from `prose.summary`, at most `limit` long in `unit`.
pub(super) fn render(
    data: &DigestData,
    prose: &Prose,
    (limit, unit): (usize, LengthUnit),
) -> String {
    let summary = plain_text(&prose.summary);
    // A number the sentences already state is not repeated.
    let numbers: Vec<String> = key_numbers(data)
        .into_iter()
        .filter(|n| !summary.contains(n.as_str()))
        .collect();
    let mut sentences = sentences(&summary).into_iter();
    let mut post = Post::default();
    let fits = |post: &Post| unit.measure(&post.text()) <= limit;

    post.link = data.link.clone();
    post.sentences.extend(sentences.next());
    if !fits(&post) {
        post.fit_first_sentence(limit, unit);
    }
    let mut numbers = numbers.into_iter();
    if let Some(key) = numbers.next() {
        post.try_add(&fits, |p| p.numbers.push(key), |p| p.numbers.pop());
    }
    for sentence in sentences {
        let added = post.try_add(&fits, |p| p.sentences.push(sentence), |p| p.sentences.pop());
        if !added {
            // Sentences build on each other: none after one left out.
            break;
        }
    }
    for number in numbers {
        post.try_add(&fits, |p| p.numbers.push(number), |p| p.numbers.pop());
    }
    for tag in hashtags(data) {
        post.try_add(&fits, |p| p.hashtags.push(tag), |p| p.hashtags.pop());
    }
    post.text()
}

/// The parts of a post, each left out whole when it does not fit.
#[derive(Debug, Default)]
struct Post {
    sentences: Vec<String>,
    numbers: Vec<String>,
    link: Option<String>,
    hashtags: Vec<String>,
}

impl Post {
    fn text(&self) -> String {
        let blocks = [
            self.sentences.join(" "),
            self.numbers.join(" · "),
            self.link.clone().unwrap_or_default(),
            self.hashtags.join(" "),
        ];
        let kept: Vec<String> = blocks.into_iter().filter(|b| !b.is_empty()).collect();
        kept.join("\n\n")
    }

    /// Applies `add`; undoes it with `undo` when the post no longer fits.
    fn try_add<T>(
        &mut self,
        fits: &impl Fn(&Post) -> bool,
        add: impl FnOnce(&mut Post),
        undo: impl FnOnce(&mut Post) -> T,
    ) -> bool {
        add(self);
        let fitted = fits(self);
        if !fitted {
            undo(self);
        }
        fitted
    }

    /// Makes a post of at most its first sentence and the link fit: the sentence cut after
    /// a word beside the link, or, when not even its first word fits there, the link left
    /// out.
    fn fit_first_sentence(&mut self, limit: usize, unit: LengthUnit) {
        let first = self.sentences.pop().unwrap_or_default();
        // The link and the blank line before it.
        let link = self.link.as_ref().map_or(0, |l| unit.measure(l) + 2);
        let first_word = first.split(' ').next().unwrap_or_default();
        let room = match limit.checked_sub(link) {
            Some(room)
                if !first.is_empty()
                    && unit.measure(first_word) + unit.measure(ELLIPSIS) <= room =>
            {
                room
            }
            _ => {
                self.link = None;
                limit
            }
        };
        if !first.is_empty() {
            self.sentences.push(shorten(&first, room, unit));
        }
    }
}

/// `text` when it measures at most `max`; else cut after a whole word so that it and an
/// ellipsis do, or after whole graphemes when not even the first word fits.
fn shorten(text: &str, max: usize, unit: LengthUnit) -> String {
    if unit.measure(text) <= max {
        return text.to_owned();
    }
    let Some(room) = max.checked_sub(unit.measure(ELLIPSIS)) else {
        return String::new();
    };
    let mut kept = String::new();
    for word in text.split(' ') {
        let longer = match kept.is_empty() {
            true => word.to_owned(),
            false => format!("{kept} {word}"),
        };
        if unit.measure(&longer) > room {
            break;
        }
        kept = longer;
    }
    if kept.is_empty() {
        for grapheme in text.graphemes(true) {
            if unit.measure(&kept) + unit.measure(grapheme) > room {
                break;
            }
            kept.push_str(grapheme);
        }
    }
    let kept = kept.trim_end_matches([',', ';', ':', ' ']);
    format!("{kept}{ELLIPSIS}")
}

/// The figures a post may state, most telling first: totals, lines, pull requests merged,
/// issues closed, releases, the trend of commits.
fn key_numbers(data: &DigestData) -> Vec<String> {
    let m = &data.metrics;
    let t = &m.totals;
    let mut out = Vec::new();
    if t.commits > 0 {
        out.push(totals_phrase(m));
        out.push(format!("{} lines", lines(t.insertions, t.deletions)));
    }
    if let Some(g) = github(data) {
        if g.pull_requests.merged > 0 {
            out.push(count(
                g.pull_requests.merged,
                "pull request merged",
                "pull requests merged",
            ));
        }
        if g.issues.closed > 0 {
            out.push(count(g.issues.closed, "issue closed", "issues closed"));
        }
        out.extend(
            g.releases
                .iter()
                .map(|r| format!("{} {} released", r.repo, r.tag)),
        );
    }
    if let Some(trend) = &m.trend
        && let Some(pct) = trend.commits_change_pct
    {
        out.push(format!(
            "commits {} {} in {}",
            change(pct),
            number(trend.previous.commits),
            trend.previous_label
        ));
    }
    out
}

/// `#name` for each of the busiest repositories (the part after `owner/`, letters, digits
/// and underscores only), then `#devlog`.
fn hashtags(data: &DigestData) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for repo in &data.metrics.repos {
        let name = repo.name.rsplit('/').next().unwrap_or(&repo.name);
        let tag: String = name
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let tag = format!("#{tag}");
        // A hashtag of digits alone is not one.
        if name.chars().any(char::is_alphabetic) && !tags.contains(&tag) {
            tags.push(tag);
        }
        if tags.len() == REPO_HASHTAGS {
            break;
        }
    }
    tags.push("#devlog".into());
    tags
}

/// Markdown as plain text: links become their text, code spans and emphasis lose their
/// marks, lines join.
fn plain_text(markdown: &str) -> String {
    let mut out = String::new();
    let mut rest = markdown;
    while let Some(open) = rest.find('[') {
        let link = rest[open..].find("](").and_then(|middle| {
            let target = open + middle + 2;
            let close = rest[target..].find(')')?;
            Some((open + 1..open + middle, target + close + 1))
        });
        match link {
            Some((text, end)) => {
                out.push_str(&rest[..open]);
                out.push_str(&rest[text]);
                rest = &rest[end..];
            }
            None => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    let out = out.replace('`', "").replace("**", "");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Sentences end in `.`, `!` or `?` before a space.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut previous = None;
    for (i, c) in text.char_indices() {
        if c == ' ' && matches!(previous, Some('.' | '!' | '?')) {
            out.push(text[start..i].to_owned());
            start = i + 1;
        }
        previous = Some(c);
    }
    out.push(text[start..].to_owned());
    out.retain(|s| !s.trim().is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_is_cut_after_a_word_within_the_limit() {
        let text = "Ann merged the queue contract, the runner and the docs.";
        assert_eq!(shorten(text, 100, LengthUnit::Chars), text);
        assert_eq!(
            shorten(text, 30, LengthUnit::Chars),
            "Ann merged the queue…"
        );
        // A first word longer than the room is cut between graphemes.
        let cut = shorten("Zoe\u{308}Zoe\u{308}Zoe\u{308}", 4, LengthUnit::Graphemes);
        assert_eq!(cut, "Zoe\u{308}…");
        assert_eq!(shorten("word", 0, LengthUnit::Chars), "");
    }

    #[test]
    fn markdown_becomes_plain_sentences() {
        let text = plain_text(
            "Merged [lab/api#12](https://github.com/lab/api/pull/12) and `abc1234` feat!: x.\n\
             **Two** [brackets] stay.",
        );
        assert_eq!(
            text,
            "Merged lab/api#12 and abc1234 feat!: x. Two [brackets] stay."
        );
        assert_eq!(
            sentences(&text),
            [
                "Merged lab/api#12 and abc1234 feat!: x.",
                "Two [brackets] stay."
            ]
        );
    }
}
