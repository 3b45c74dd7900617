//! The form of a model's answer: a JSON object whose fields depend on the kind. The same
//! field list gives the schema sent with the request, the prompt's description of the
//! answer, the tokens reserved for it, and the reading of the answer into [`Prose`].

use serde_json::{Map, Value, json};

use super::render::{self, Prose};
use crate::backend::sparky::model::DraftKind;

/// How many paragraphs a blog post's story has at most, and how many words each.
const STORY_PARAGRAPHS: usize = 6;
const PARAGRAPH_WORDS: (usize, usize) = (60, 120);
/// About forty words per highlight: one or two sentences.
const HIGHLIGHT_WORDS: usize = 40;
/// A social post's text: one or two short sentences; the renderer builds the post around it.
const POST_WORDS: usize = 40;

/// One field of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// One paragraph: the Summary.
    Summary,
    /// One string per Highlights bullet.
    Highlights,
    /// A blog post's story, one string per paragraph.
    Story,
    /// A social post's text (read into the Summary).
    Post,
}

impl Field {
    fn key(self) -> &'static str {
        match self {
            Field::Summary => "summary",
            Field::Highlights => "highlights",
            Field::Story => "story",
            Field::Post => "post",
        }
    }

    fn schema(self, kind: DraftKind) -> Value {
        let list =
            |most: usize| json!({"type": "array", "items": {"type": "string"}, "maxItems": most});
        match self {
            Field::Summary | Field::Post => json!({"type": "string"}),
            Field::Highlights => list(render::highlight_limit(kind)),
            Field::Story => list(STORY_PARAGRAPHS),
        }
    }

    /// What the prompt asks this field to hold.
    fn instruction(self, kind: DraftKind) -> String {
        match self {
            Field::Summary => {
                let (low, high) = summary_words(kind);
                format!("one paragraph of {low} to {high} words")
            }
            Field::Highlights => format!(
                "a list of at most {} strings, one or two sentences each",
                render::highlight_limit(kind)
            ),
            Field::Story => format!(
                "a list of {} to {STORY_PARAGRAPHS} paragraphs of {} to {} words each, telling \
                 the story of the period in order",
                STORY_PARAGRAPHS - 2,
                PARAGRAPH_WORDS.0,
                PARAGRAPH_WORDS.1
            ),
            Field::Post => {
                // Ids are replaced by longer text, and the post carries a link besides.
                let most = kind.post_limit().map_or(100, |(limit, _)| limit / 3);
                format!(
                    "one or two short sentences for a social network post, at most {most} \
                     characters"
                )
            }
        }
    }

    /// The most words this field is asked for.
    fn words(self, kind: DraftKind) -> usize {
        match self {
            Field::Summary => summary_words(kind).1,
            Field::Highlights => HIGHLIGHT_WORDS * render::highlight_limit(kind),
            Field::Story => PARAGRAPH_WORDS.1 * STORY_PARAGRAPHS,
            Field::Post => POST_WORDS,
        }
    }
}

/// The fields a model writes for `kind`.
fn fields(kind: DraftKind) -> &'static [Field] {
    if kind.post_limit().is_some() {
        &[Field::Post]
    } else if kind == DraftKind::Blog {
        &[Field::Summary, Field::Highlights, Field::Story]
    } else if render::has_highlights(kind) {
        &[Field::Summary, Field::Highlights]
    } else {
        &[Field::Summary]
    }
}

/// How long the model's Summary should be; the renderer writes the rest of the digest.
fn summary_words(kind: DraftKind) -> (usize, usize) {
    match kind {
        DraftKind::Daily => (60, 120),
        DraftKind::Weekly | DraftKind::Digest => (120, 200),
        DraftKind::Monthly | DraftKind::Blog => (200, 350),
        DraftKind::Mastodon | DraftKind::Bluesky | DraftKind::Linkedin | DraftKind::X => (20, 40),
    }
}

/// The JSON schema of the answer for `kind`: every field required, no others (as OpenAI's
/// strict mode wants).
pub(super) fn schema(kind: DraftKind) -> Value {
    let fields = fields(kind);
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| (f.key().to_owned(), f.schema(kind)))
        .collect();
    let required: Vec<&str> = fields.iter().map(|f| f.key()).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// The schema's name, e.g. `weekly_prose`.
pub(super) fn schema_name(kind: DraftKind) -> String {
    format!("{}_prose", kind.as_str())
}

/// The part of the prompt that says what to answer.
pub(super) fn instructions(kind: DraftKind) -> String {
    let mut out = String::from("Answer with one JSON object and nothing else. Its keys:\n");
    for field in fields(kind) {
        out.push_str(&format!(
            "- \"{}\": {}\n",
            field.key(),
            field.instruction(kind)
        ));
    }
    out
}

/// The most words a model is asked for. The renderer writes the rest of the digest, so the
/// kind's whole word bounds do not apply.
pub(super) fn answer_words(kind: DraftKind) -> usize {
    fields(kind).iter().map(|f| f.words(kind)).sum()
}

/// The key of the field read into the Summary: `post` for a social post, else `summary`.
pub(super) fn summary_key(kind: DraftKind) -> &'static str {
    fields(kind)
        .iter()
        .find(|f| matches!(f, Field::Summary | Field::Post))
        .map_or(Field::Summary.key(), |f| f.key())
}

/// The prose as the model wrote it, not yet checked; or why `text` is not a JSON object of
/// the kind's shape. Keys the kind does not ask for are ignored.
pub(super) fn parse(text: &str, kind: DraftKind) -> Result<Prose, String> {
    let value: Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("it is not JSON ({e})"))?;
    let Value::Object(object) = value else {
        return Err("it is not a JSON object".into());
    };
    let string = |key: &str| match object.get(key) {
        Some(Value::String(text)) => Ok(text.clone()),
        _ => Err(format!("it has no string \"{key}\"")),
    };
    let strings = |key: &str| {
        let items = match object.get(key) {
            Some(Value::Array(items)) => items,
            _ => return Err(format!("it has no list \"{key}\"")),
        };
        items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()
            .ok_or_else(|| format!("\"{key}\" holds something other than strings"))
    };
    let mut prose = Prose::default();
    for field in fields(kind) {
        match field {
            Field::Summary | Field::Post => prose.summary = string(field.key())?,
            Field::Highlights => prose.highlights = strings(field.key())?,
            Field::Story => prose.story = strings(field.key())?,
        }
    }
    Ok(prose)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_fields() {
        let keys = |kind| schema(kind)["required"].clone();
        assert_eq!(keys(DraftKind::Daily), json!(["summary"]));
        assert_eq!(keys(DraftKind::Weekly), json!(["summary", "highlights"]));
        assert_eq!(
            keys(DraftKind::Blog),
            json!(["summary", "highlights", "story"])
        );
        for social in [
            DraftKind::Mastodon,
            DraftKind::Bluesky,
            DraftKind::Linkedin,
            DraftKind::X,
        ] {
            assert_eq!(keys(social), json!(["post"]));
        }
        let weekly = schema(DraftKind::Weekly);
        assert_eq!(weekly["additionalProperties"], false);
        assert_eq!(weekly["properties"]["highlights"]["maxItems"], 6);
        assert_eq!(schema_name(DraftKind::Linkedin), "linkedin_prose");
        assert_eq!(summary_key(DraftKind::Monthly), "summary");
        assert_eq!(summary_key(DraftKind::Blog), "summary");
        assert_eq!(summary_key(DraftKind::Mastodon), "post");
    }

    #[test]
    fn answers_of_the_shape_are_read() {
        let weekly = r#" {"summary": "S.", "highlights": ["A.", "B."], "extra": 1} "#;
        let prose = parse(weekly, DraftKind::Weekly).unwrap();
        assert_eq!(prose.summary, "S.");
        assert_eq!(prose.highlights, ["A.", "B."]);
        let post = parse(r#"{"post": "P."}"#, DraftKind::X).unwrap();
        assert_eq!(post.summary, "P.");
        let blog = r#"{"summary": "S.", "highlights": [], "story": ["One.", "Two."]}"#;
        assert_eq!(
            parse(blog, DraftKind::Blog).unwrap().story,
            ["One.", "Two."]
        );
    }

    #[test]
    fn answers_of_another_shape_say_why() {
        let why = |text, kind| parse(text, kind).unwrap_err();
        assert!(why("SUMMARY: hi", DraftKind::Daily).starts_with("it is not JSON"));
        assert_eq!(why("[1]", DraftKind::Daily), "it is not a JSON object");
        assert_eq!(
            why(r#"{"summary": "S."}"#, DraftKind::Weekly),
            "it has no list \"highlights\""
        );
        assert_eq!(
            why(r#"{"summary": "S.", "highlights": [1]}"#, DraftKind::Weekly),
            "\"highlights\" holds something other than strings"
        );
        assert_eq!(
            why(r#"{"summary": "S."}"#, DraftKind::Mastodon),
            "it has no string \"post\""
        );
    }

    #[test]
    fn the_prompt_names_every_key() {
        let text = instructions(DraftKind::Bluesky);
        assert!(
            text.contains("\"post\": one or two short sentences"),
            "{text}"
        );
        assert!(text.contains("at most 100 characters"), "{text}");
        assert_eq!(answer_words(DraftKind::Weekly), 200 + 6 * 40);
        assert_eq!(answer_words(DraftKind::Blog), 350 + 10 * 40 + 6 * 120);
    }
}
