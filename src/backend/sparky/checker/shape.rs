//! Rules on the draft as a whole: its length, its sections, and stock filler.

use super::{Finding, Rule};
use crate::backend::sparky::model::{DigestData, DraftKind};

/// Length within the kind's bounds: a post's limit in its network's unit; a long text's
/// upper bound in words (a quiet period makes a short text honestly).
pub(super) fn length(body: &str, kind: DraftKind) -> Option<Finding> {
    if let Some((limit, unit)) = kind.post_limit() {
        let length = unit.measure(body.trim());
        return (length > limit).then(|| {
            whole_draft(
                Rule::Length,
                format!("{length} {}", unit.as_str()),
                format!(
                    "{length} {}, more than a {} post takes ({limit})",
                    unit.as_str(),
                    kind.as_str()
                ),
            )
        });
    }
    let (low, high) = kind.word_bounds()?;
    let words = body.split_whitespace().count();
    (words > high).then(|| {
        whole_draft(
            Rule::Length,
            format!("{words} words"),
            format!(
                "{words} words, more than a {} may have ({low}-{high})",
                kind.as_str()
            ),
        )
    })
}

/// Digests need Summary and, with commits, Notable changes; a blog post Summary and,
/// with commits, Highlights and Notable changes; a social post has no headings. A digest
/// of a period without commits may be its one sentence, with no headings at all.
pub(super) fn sections(body: &str, kind: DraftKind, data: &DigestData) -> Vec<Finding> {
    let headings: Vec<(usize, &str)> = body
        .lines()
        .enumerate()
        .filter_map(|(i, line)| heading(line).map(|h| (i + 1, h)))
        .collect();
    let has_commits = data.metrics.totals.commits > 0;
    let required: &[&str] = match kind {
        _ if kind.post_limit().is_some() => {
            return headings
                .into_iter()
                .map(|(line, text)| Finding {
                    rule: Rule::Section,
                    line,
                    excerpt: text.to_owned(),
                    message: format!("a {} post has no headings", kind.as_str()),
                })
                .collect();
        }
        DraftKind::Blog if has_commits => &["Summary", "Highlights", "Notable changes"],

        _ if has_commits => &["Summary", "Notable changes"],
        _ if headings.is_empty() => &[],
        _ => &["Summary"],
    };
    required
        .iter()
        .filter(|name| {
            !headings.iter().any(|(_, h)| {
                h.strip_prefix("## ")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case(name))
            })
        })
        .map(|name| {
            whole_draft(
                Rule::Section,
                format!("## {name}"),
                format!("no `## {name}` section, which a {} needs", kind.as_str()),
            )
        })
        .collect()
}

/// A Markdown ATX heading (`## Summary`), trimmed.
fn heading(line: &str) -> Option<&str> {
    let line = line.trim();
    let text = line.trim_start_matches('#');
    let level = line.len() - text.len();
    ((1..=6).contains(&level) && (text.is_empty() || text.starts_with([' ', '\t']))).then_some(line)
}

/// One word of the text, where it is, and whether only whitespace separates it from the
/// word before.
struct Word<'a> {
    lower: String,
    line: usize,
    text: &'a str,
    after_space: bool,
}

fn words(lines: &[String]) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    // The text since the last word: only whitespace means the words belong together.
    let mut gap_is_space = true;
    for (i, line) in lines.iter().enumerate() {
        let mut rest = line.as_str();
        while let Some(start) = rest.find(char::is_alphanumeric) {
            gap_is_space &= rest[..start].chars().all(char::is_whitespace);
            let len = rest[start..]
                .find(|c: char| !c.is_alphanumeric())
                .unwrap_or(rest.len() - start);
            let text = &rest[start..start + len];
            out.push(Word {
                lower: text.to_lowercase(),
                line: i + 1,
                text,
                after_space: gap_is_space,
            });
            gap_is_space = true;
            rest = &rest[start + len..];
        }
        gap_is_space &= rest.chars().all(char::is_whitespace);
    }
    out
}

/// Stock filler phrases, any case, as whole words (a phrase may wrap across lines).
/// `lines` are the body's lines with the data's own text blanked: a commit subject that
/// happens to say "stay tuned" is the data's, not the writer's.
pub(super) fn filler(lines: &[String], phrases: &[String]) -> Vec<Finding> {
    let words = words(lines);
    let mut out = Vec::new();
    for phrase in phrases {
        let wanted: Vec<String> = phrase
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if wanted.is_empty() {
            continue;
        }
        for start in 0..words.len() {
            let Some(run) = words.get(start..start + wanted.len()) else {
                break;
            };
            let matched = run.iter().zip(&wanted).all(|(w, p)| &w.lower == p)
                && run.iter().skip(1).all(|w| w.after_space);
            if matched {
                let excerpt: Vec<&str> = run.iter().map(|w| w.text).collect();
                out.push(Finding {
                    rule: Rule::Filler,
                    line: run[0].line,
                    excerpt: excerpt.join(" "),
                    message: format!(
                        "\"{}\" is stock filler: say what happened instead",
                        phrase.trim()
                    ),
                });
            }
        }
    }
    out
}

fn whole_draft(rule: Rule, excerpt: String, message: String) -> Finding {
    Finding {
        rule,
        line: 0,
        excerpt,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn filler_is_found_as_whole_words_across_lines() {
        let phrases = ["significant progress".to_owned(), "great job".to_owned()];
        let found = filler(
            &lines("We made Significant\nprogress. Greatjob, great-job."),
            &phrases,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].line, found[0].excerpt.as_str()),
            (1, "Significant progress")
        );
        assert!(filler(&lines("- great\n- job"), &phrases).is_empty());
    }

    #[test]
    fn headings_are_atx_only() {
        assert_eq!(heading("## Summary "), Some("## Summary"));
        assert_eq!(heading("#rust is fun"), None);
        assert_eq!(heading("#12 landed"), None);
    }
}
