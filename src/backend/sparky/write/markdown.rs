//! Text taken from commits and forges, made safe to quote in Markdown: HTML in a commit
//! subject (`<script>`) or a link in an author's name (`[x](javascript:…)`) stays text on
//! the docs site, Dev.to and GitHub. Social posts are plain text and quote the data as is.

use std::borrow::Cow;

use crate::backend::sparky::model::{DigestData, DraftKind};

/// Markdown's punctuation that could start a link, emphasis or code span, shown as written
/// behind a backslash.
const BACKSLASHED: [char; 6] = ['\\', '`', '*', '_', '[', ']'];

/// HTML's, as entities: every renderer reads them, HTML-aware or not.
const ENTITIES: [(char, &str); 3] = [('&', "&amp;"), ('<', "&lt;"), ('>', "&gt;")];

/// `text` as Markdown that shows it as written.
pub(crate) fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match ENTITIES.iter().find(|(raw, _)| *raw == c) {
            Some((_, entity)) => out.push_str(entity),
            None if BACKSLASHED.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            None => out.push(c),
        }
    }
    out
}

/// `text` with its code spans kept (a theme's "`ci: pin toolchain` across 3
/// repositories"; inside one, Markdown and HTML are shown as written) and the rest as
/// [`text`]; all of it as [`text`] unless its backticks pair simply.
fn with_code_spans(title: &str) -> String {
    let parts: Vec<&str> = title.split('`').collect();
    if parts.len().is_multiple_of(2) || title.contains("``") {
        return text(title);
    }
    let shown: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(i, part)| match i % 2 {
            0 => text(part),
            _ => (*part).to_owned(),
        })
        .collect();
    shown.join("`")
}

/// Undoes [`text`]: a draft as the checker compares it with the raw data.
pub(crate) fn unescape(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(c) = rest.chars().next() {
        let escaped = rest[c.len_utf8()..].chars().next();
        if let (true, Some(next)) = (c == '\\', escaped.filter(|e| BACKSLASHED.contains(e))) {
            out.push(next);
            rest = &rest[1 + next.len_utf8()..];
        } else if let Some((raw, entity)) = ENTITIES.iter().find(|(_, e)| rest.starts_with(e)) {
            out.push(*raw);
            rest = &rest[entity.len()..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// `data` as a draft of `kind` quotes it: escaped for Markdown, as it is for a social post.
/// Every copy of a text is escaped alike, so texts that were equal still are.
pub(super) fn for_kind(data: &DigestData, kind: DraftKind) -> Cow<'_, DigestData> {
    if kind.post_limit().is_some() {
        return Cow::Borrowed(data);
    }
    let mut data = data.clone();
    // Logins too: a bot's is `dependabot[bot]`.
    let escape = |s: &mut String| *s = text(s);
    for c in &mut data.commits {
        escape(&mut c.subject);
        escape(&mut c.author);
        c.login.iter_mut().for_each(escape);
    }
    let m = &mut data.metrics;
    for n in &mut m.notable {
        escape(&mut n.subject);
        escape(&mut n.author);
    }
    m.contributors.iter_mut().for_each(|c| escape(&mut c.name));
    for t in &mut m.themes {
        t.title = with_code_spans(&t.title);
        t.people.iter_mut().for_each(escape);
    }
    if let Some(g) = &mut m.github {
        for pr in &mut g.pull_requests.merged_list {
            escape(&mut pr.title);
            escape(&mut pr.author);
            pr.reviewers.iter_mut().for_each(escape);
        }
        g.reviews
            .reviewers
            .iter_mut()
            .for_each(|r| escape(&mut r.login));
        // A tag may hold `<` and `>` (git forbids only spaces, `[` and a few others).
        for r in &mut g.releases {
            escape(&mut r.name);
            escape(&mut r.tag);
        }
        for p in &mut g.people {
            escape(&mut p.name);
            p.login.iter_mut().for_each(escape);
        }
    }
    Cow::Owned(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_links_and_emphasis_stay_text() {
        assert_eq!(
            text("<img src=x onerror=alert(1)> & [click](javascript:alert(1)) *a_b* `c` \\"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; \\[click\\](javascript:alert(1)) \
             \\*a\\_b\\* \\`c\\` \\\\"
        );
        assert_eq!(text("feat: plain words (ann)"), "feat: plain words (ann)");
    }

    #[test]
    fn unescaping_gives_back_the_text() {
        for raw in [
            "<script>alert(1)</script>",
            "&lt; is already an entity, \\ a backslash, \\[ an escaped bracket",
            "[click](javascript:alert(1)) by *O_Brien* — ünïcödé `x`",
        ] {
            assert_eq!(unescape(&text(raw)), raw);
        }
        assert_eq!(
            unescape("a \\d path and `abc1234`"),
            "a \\d path and `abc1234`"
        );
    }

    #[test]
    fn code_spans_in_titles_are_kept() {
        assert_eq!(
            with_code_spans("`ci: <pin>` across 3 <repositories>"),
            "`ci: <pin>` across 3 &lt;repositories&gt;"
        );
        assert_eq!(
            with_code_spans("`a` <b>` across"),
            "\\`a\\` &lt;b&gt;\\` across"
        );
        assert_eq!(with_code_spans("``<b>``"), "\\`\\`&lt;b&gt;\\`\\`");
    }
}
