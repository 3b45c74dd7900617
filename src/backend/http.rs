//! HTTP helpers every client shares: how a transport error and a refusal read in a
//! message. Depends on nothing else of raibid.

/// Characters of an error body kept in a message.
const BODY_CHARS: usize = 200;

/// A transport error without the URL's query (nothing secret is in our URLs, but keep
/// the messages short) and with its cause.
pub fn describe(error: &reqwest::Error) -> String {
    let mut message = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The status of a refusal and its `message` (Gitea and GitHub both answer
/// `{"message": …}`), or the start of the body when it has none.
pub async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|value| value["message"].as_str().map(str::to_string))
        .unwrap_or(body);
    (status, message.trim().chars().take(BODY_CHARS).collect())
}
