//! A local stand-in for Dev.to's Forem API v1, answering with Forem's JSON shapes:
//! `POST /api/articles` (201 with the article), `PUT /api/articles/{id}`,
//! `GET /api/articles/me/all` (the user's articles, published or not, newest first,
//! paginated with `per_page` and `page`). A body is `{"article": {...}}`; more than four
//! tags or a missing title is 422 `{"error": ..., "status": 422}`, an unknown id 404.
//!
//! Every request needs the `api-key` header (else 401 `{"error":"unauthorized"}`) and is
//! recorded with its `Accept` header. Switches: [`FakeDevto::rate_limit`] (429 with
//! `Retry-After` for writes, as Forem throttles article creation) and
//! [`FakeDevto::fail_after_accept`] (writes are stored, then answered 500).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::serve::{Listener, Received, Server};

pub const API_KEY: &str = "devto-Api-K3y-f0r-tests-only";
pub const USER: &str = "sparky";

#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub method: String,
    /// The path with the query, e.g. `/api/articles/me/all?per_page=100&page=1`.
    pub path: String,
    pub accept: Option<String>,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FakeArticle {
    pub id: u64,
    pub title: String,
    pub body_markdown: String,
    pub published: bool,
    pub tags: Vec<String>,
    /// As sent; Forem shows the article's own URL when none was.
    pub canonical_url: Option<String>,
}

#[derive(Default)]
struct Inner {
    articles: BTreeMap<u64, FakeArticle>,
    next_id: u64,
    requests: Vec<Recorded>,
    rate_limited: bool,
    fail_after_accept: bool,
}

#[derive(Clone)]
struct Fake {
    url: String,
    inner: Arc<Mutex<Inner>>,
}

pub struct FakeDevto {
    fake: Fake,
    server: Server,
}

impl FakeDevto {
    pub async fn start() -> FakeDevto {
        let listener = Listener::bind();
        let fake = Fake {
            url: listener.url(),
            inner: Arc::new(Mutex::new(Inner {
                next_id: 1_000_001,
                ..Inner::default()
            })),
        };
        let server = listener.serve(Router::new().fallback(handle).with_state(fake.clone()));
        FakeDevto { fake, server }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn rate_limit(&self, on: bool) {
        self.fake.inner.lock().unwrap().rate_limited = on;
    }

    pub fn fail_after_accept(&self, on: bool) {
        self.fake.inner.lock().unwrap().fail_after_accept = on;
    }

    /// An article made elsewhere (by hand, or by an earlier run).
    pub fn add_article(&self, title: &str, canonical_url: Option<&str>) -> u64 {
        let mut inner = self.fake.inner.lock().unwrap();
        let id = inner.next_id;
        inner.next_id += 1;
        inner.articles.insert(
            id,
            FakeArticle {
                id,
                title: title.into(),
                body_markdown: String::new(),
                published: true,
                tags: Vec::new(),
                canonical_url: canonical_url.map(str::to_string),
            },
        );
        id
    }

    pub fn articles(&self) -> Vec<FakeArticle> {
        self.fake
            .inner
            .lock()
            .unwrap()
            .articles
            .values()
            .cloned()
            .collect()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.fake.inner.lock().unwrap().requests.clone()
    }

    /// `POST /api/articles` requests received, refused or not.
    pub fn posts(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count()
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": message, "status": status.as_u16() })),
    )
        .into_response()
}

fn slug(title: &str) -> String {
    let words: Vec<String> = title
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    words.join("-")
}

fn article_url(fake: &Fake, article: &FakeArticle) -> String {
    format!(
        "{}/{USER}/{}-{:x}",
        fake.url,
        slug(&article.title),
        article.id
    )
}

/// The article as `POST`/`PUT` answer it (Forem's `show`).
fn show(fake: &Fake, article: &FakeArticle) -> Value {
    let url = article_url(fake, article);
    json!({
        "type_of": "article",
        "id": article.id,
        "title": article.title,
        "description": "",
        "slug": format!("{}-{:x}", slug(&article.title), article.id),
        "path": format!("/{USER}/{}-{:x}", slug(&article.title), article.id),
        "url": url,
        "canonical_url": article.canonical_url.clone().unwrap_or(url.clone()),
        "published": article.published,
        "published_at": if article.published { json!("2026-11-20T09:30:00Z") } else { Value::Null },
        "tags": article.tags.join(", "),
        "tag_list": article.tags,
        "body_markdown": article.body_markdown,
        "user": { "name": "Sparky", "username": USER },
    })
}

async fn handle(State(fake): State<Fake>, request: Request) -> Response {
    let request = Received::read(request).await;
    let body = &request.body;
    let mut inner = fake.inner.lock().unwrap();
    inner.requests.push(Recorded {
        method: request.method.to_string(),
        path: request.target(),
        accept: request.header("accept"),
        body: body.clone(),
    });
    if request.header("api-key").as_deref() != Some(API_KEY) {
        return error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let writes = request.method != Method::GET;
    if writes && inner.rate_limited {
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit reached, try again in 30 seconds",
        );
        response
            .headers_mut()
            .insert("retry-after", "30".parse().unwrap());
        return response;
    }
    let query = request.query();
    let answer = match (&request.method, request.segments().as_slice()) {
        (&Method::GET, ["api", "articles", "me", "all"]) => {
            let number = |name: &str, default: usize| {
                query
                    .get(name)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(default)
            };
            let (per_page, page) = (number("per_page", 30).clamp(1, 1000), number("page", 1));
            let listed: Vec<Value> = inner
                .articles
                .values()
                .rev()
                .skip(page.saturating_sub(1) * per_page)
                .take(per_page)
                .map(|article| show(&fake, article))
                .collect();
            return (StatusCode::OK, axum::Json(Value::Array(listed))).into_response();
        }
        (&Method::POST, ["api", "articles"]) => {
            let id = inner.next_id;
            let article = match edited(
                body,
                FakeArticle {
                    id,
                    title: String::new(),
                    body_markdown: String::new(),
                    published: false,
                    tags: Vec::new(),
                    canonical_url: None,
                },
            ) {
                Ok(article) => article,
                Err(message) => return error(StatusCode::UNPROCESSABLE_ENTITY, &message),
            };
            inner.next_id += 1;
            inner.articles.insert(id, article.clone());
            (StatusCode::CREATED, show(&fake, &article))
        }
        (&Method::PUT, ["api", "articles", id]) => {
            let Some(current) = id
                .parse::<u64>()
                .ok()
                .and_then(|id| inner.articles.get(&id).cloned())
            else {
                return error(StatusCode::NOT_FOUND, "not found");
            };
            let article = match edited(body, current) {
                Ok(article) => article,
                Err(message) => return error(StatusCode::UNPROCESSABLE_ENTITY, &message),
            };
            inner.articles.insert(article.id, article.clone());
            (StatusCode::OK, show(&fake, &article))
        }
        _ => return error(StatusCode::NOT_FOUND, "not found"),
    };
    if inner.fail_after_accept {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    }
    (answer.0, axum::Json(answer.1)).into_response()
}

/// `article` with the fields of a `{"article": {...}}` body applied, validated as Forem
/// does: the error is the 422's message.
fn edited(body: &Value, mut article: FakeArticle) -> Result<FakeArticle, String> {
    let Some(fields) = body["article"].as_object() else {
        return Err("article param must be a JSON object".into());
    };
    if let Some(title) = fields.get("title").and_then(Value::as_str) {
        article.title = title.into();
    }
    if let Some(markdown) = fields.get("body_markdown").and_then(Value::as_str) {
        article.body_markdown = markdown.into();
    }
    if let Some(published) = fields.get("published").and_then(Value::as_bool) {
        article.published = published;
    }
    if let Some(tags) = fields.get("tags").and_then(Value::as_array) {
        article.tags = tags
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect();
    }
    if let Some(canonical) = fields.get("canonical_url") {
        article.canonical_url = canonical.as_str().map(str::to_string);
    }
    if article.title.trim().is_empty() {
        return Err("Title can't be blank".into());
    }
    if article.tags.len() > 4 {
        return Err("Tag list exceed the maximum of 4 tags".into());
    }
    Ok(article)
}
