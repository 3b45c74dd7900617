//! Keeping a digest under its kind's word ceiling: a busy period's longest lists (a
//! theme's or a repository's commits, the appendix's lists) are cut from the end (the
//! least ranked entries go first) and end in `- …`. Prose, the trend and
//! short lists are never cut, and nothing is invented: only whole bullets are dropped.

use super::render::word_count;

/// Lists are cut down to this many bullets at most.
const KEPT_AT_LEAST: usize = 3;
const ELLIPSIS: &str = "- …";

/// `markdown` with its longest bullet lists cut until it has at most `max_words` words,
/// or as close as cutting lists can come.
pub(super) fn fit(markdown: String, max_words: usize) -> String {
    if word_count(&markdown) <= max_words {
        return markdown;
    }
    let mut sections: Vec<Vec<String>> = split(&markdown);
    // Kept up to date as bullets go: recounting the whole text per bullet is quadratic,
    // and a long range's appendix has a bullet per day.
    let mut total = words(&sections);
    let mut cuttable: Vec<usize> = sections.iter().map(|lines| bullets(lines)).collect();
    let mut cut = vec![false; sections.len()];
    while total > max_words {
        let longest = cuttable
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, i))
            .filter(|&(n, _)| n > KEPT_AT_LEAST)
            .max();
        let Some((_, at)) = longest else {
            break;
        };
        let Some(last) = sections[at]
            .iter()
            .rposition(|l| l.starts_with("- ") && l != ELLIPSIS)
        else {
            break;
        };
        total -= word_count(&sections[at].remove(last));
        cuttable[at] -= 1;
        if !cut[at] {
            sections[at].insert(last, ELLIPSIS.to_owned());
            total += word_count(ELLIPSIS);
            cut[at] = true;
        }
    }
    let mut out = sections.concat().join("\n");
    out.push('\n');
    out
}

/// The lines of each `## ` section or `### ` subsection (a theme's or a repository's
/// commits are a list of their own; the text before the first heading is one too).
fn split(markdown: &str) -> Vec<Vec<String>> {
    let mut sections: Vec<Vec<String>> = vec![Vec::new()];
    for line in markdown.trim_end().lines() {
        if line.starts_with("## ") || line.starts_with("### ") {
            sections.push(Vec::new());
        }
        if let Some(section) = sections.last_mut() {
            section.push(line.to_owned());
        }
    }
    sections
}

/// Bullets that can be cut; the Summary, Highlights and Trend are never cut.
fn bullets(lines: &[String]) -> usize {
    let protected = lines.first().is_some_and(|h| {
        matches!(
            h.as_str(),
            "## Summary" | "## Highlights" | "## Trend" | "## Not collected"
        )
    });
    if protected {
        return 0;
    }
    lines
        .iter()
        .filter(|l| l.starts_with("- ") && *l != ELLIPSIS)
        .count()
}

fn words(sections: &[Vec<String>]) -> usize {
    sections.iter().flatten().map(|l| word_count(l)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_list_loses_its_last_bullets_first() {
        let people: Vec<String> = (1..=8)
            .map(|i| format!("- person {i} wrote words"))
            .collect();
        let markdown = format!(
            "## Summary\n\nBusy.\n\n## Contributors\n\n{}\n\n## Repositories\n\n- a one\n- b two\n",
            people.join("\n")
        );
        let fitted = fit(markdown.clone(), 30);
        assert!(word_count(&fitted) <= 30, "{fitted}");
        assert!(fitted.contains("- person 1 wrote words\n"), "{fitted}");
        assert!(!fitted.contains("person 8"), "{fitted}");
        assert!(fitted.contains("- …\n"), "{fitted}");
        assert!(
            fitted.contains("- b two"),
            "short lists stay whole: {fitted}"
        );
        assert_eq!(fit(markdown.clone(), 500), markdown, "nothing to cut");
    }

    #[test]
    fn each_subsection_is_a_list_of_its_own() {
        let commits = |n: usize| -> String {
            (1..=n)
                .map(|i| format!("- commit {i} of it\n"))
                .collect::<String>()
        };
        let markdown = format!(
            "## Themes\n\n### One\n\nTold.\n\n{}\n### Two\n\nTold.\n\n{}",
            commits(8),
            commits(4)
        );
        let fitted = fit(markdown, 40);
        assert!(
            fitted.contains("### Two\n\nTold.\n\n- commit 1 of it\n- commit 2"),
            "{fitted}"
        );
        assert!(
            !fitted.contains("commit 8"),
            "the longer list is cut first: {fitted}"
        );
    }

    #[test]
    fn prose_is_never_cut() {
        let markdown = "## Summary\n\n- one two three\n- four five six\n- seven\n- eight\n";
        assert_eq!(fit(markdown.into(), 3), markdown);
    }
}
