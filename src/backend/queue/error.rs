use super::contract::JobState;

/// Why a queue operation failed. Each says which operation or key; none carries a password.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The Redis URL is malformed or the server cannot be reached.
    #[error("cannot connect to the queue's Redis at {url}: {source}")]
    Connect {
        /// The URL with its password masked.
        url: String,
        source: redis::RedisError,
    },
    #[error("queue {op} failed: {source}")]
    Redis {
        op: &'static str,
        source: redis::RedisError,
    },
    /// A value in Redis does not match the contract (docs/queue.md).
    #[error("{key}: cannot decode: {reason}")]
    Decode { key: String, reason: String },
    #[error("cannot encode {what} as JSON: {source}")]
    Encode {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("no job {id:?}")]
    NotFound { id: String },
    /// Retrying a job that has not ended, or finishing one with a state that is not final.
    #[error("job {id:?} is {}, not in a final state", state.as_str())]
    NotFinal { id: String, state: JobState },
    /// A stream position given by a caller (e.g. the SSE `Last-Event-ID`) is not an entry id.
    #[error("{id:?} is not a stream entry id (expected MILLISECONDS-SEQUENCE)")]
    BadEntryId { id: String },
}

/// The URL as it may be shown: a password in it becomes `***`.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
    let masked = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        "***".to_string()
    };
    format!("{scheme}://{masked}@{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::mask_url;

    #[test]
    fn masks_passwords_only() {
        assert_eq!(
            mask_url("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
        assert_eq!(
            mask_url("redis://:s3cret@redis:6379/1"),
            "redis://:***@redis:6379/1"
        );
        assert_eq!(
            mask_url("redis://ci:s3cret@redis/0"),
            "redis://ci:***@redis/0"
        );
        assert_eq!(mask_url("redis://s3cret@redis"), "redis://***@redis");
    }
}
