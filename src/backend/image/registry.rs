//! A small OCI distribution client: manifests and blobs in and out of one repository, over
//! plain HTTP for loopback registries, with Basic or Bearer-token auth (Docker Hub and
//! Gitea answer 401 with a `WWW-Authenticate` challenge naming a token endpoint).

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};

use super::assemble::{DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, digest};
use super::reference::Reference;

/// A user name and password for a registry; the password never reaches a message.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.username)
    }
}

/// Why a registry did not do what was asked; every variant names the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("registry {registry} unreachable: {reason}")]
    Unreachable { registry: String, reason: String },
    #[error("registry {registry}: {what}: {status}{detail}")]
    Refused {
        registry: String,
        what: String,
        status: StatusCode,
        detail: String,
    },
    #[error("registry {registry}: {what}: {reason}")]
    Invalid {
        registry: String,
        what: String,
        reason: String,
    },
}

impl RegistryError {
    /// The registry answered 404 (an absent manifest or blob).
    pub fn is_not_found(&self) -> bool {
        matches!(self, RegistryError::Refused { status, .. } if *status == StatusCode::NOT_FOUND)
    }
}

/// A manifest as served: its media type, bytes and digest.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub media_type: String,
    pub bytes: Bytes,
    pub digest: String,
}

/// One repository of one registry.
pub struct Registry {
    http: reqwest::Client,
    api: String,
    registry: String,
    repository: String,
    credentials: Option<Credentials>,
    /// The `Authorization` header value that the last challenge asked for.
    authorization: Option<String>,
}

impl Registry {
    pub fn new(reference: &Reference, credentials: Option<Credentials>) -> Registry {
        Registry {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .expect("the HTTP client builds"),
            api: reference.api_url(),
            registry: reference.registry.clone(),
            repository: reference.repository.clone(),
            credentials,
            authorization: None,
        }
    }

    /// The manifest (or index) named by `reference` (a tag or a digest).
    pub async fn manifest(&mut self, reference: &str) -> Result<Manifest, RegistryError> {
        let what = format!("manifest {}:{reference}", self.repository);
        let url = format!("{}/v2/{}/manifests/{reference}", self.api, self.repository);
        let accept = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST].join(", ");
        let response = self
            .send(&what, |http| http.get(&url).header(ACCEPT, accept.as_str()))
            .await?;
        let media_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = self.body(&what, response).await?;
        let digest = digest(&bytes);
        if reference.starts_with("sha256:") && reference != digest {
            return Err(self.invalid(&what, format!("served content with digest {digest}")));
        }
        Ok(Manifest {
            media_type,
            bytes,
            digest,
        })
    }

    /// A blob, checked against its digest.
    pub async fn blob(&mut self, digest_wanted: &str) -> Result<Bytes, RegistryError> {
        let what = format!("blob {digest_wanted}");
        let url = format!("{}/v2/{}/blobs/{digest_wanted}", self.api, self.repository);
        let response = self.send(&what, |http| http.get(&url)).await?;
        let bytes = self.body(&what, response).await?;
        let found = digest(&bytes);
        if found != digest_wanted {
            return Err(self.invalid(&what, format!("served content with digest {found}")));
        }
        Ok(bytes)
    }

    /// Whether the repository holds blob `digest`.
    pub async fn has_blob(&mut self, blob_digest: &str) -> Result<bool, RegistryError> {
        let what = format!("blob {blob_digest}");
        let url = format!("{}/v2/{}/blobs/{blob_digest}", self.api, self.repository);
        match self.send(&what, |http| http.head(&url)).await {
            Ok(_) => Ok(true),
            Err(error) if error.is_not_found() => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Uploads `bytes` as blob `digest`, in one request after the upload is started.
    pub async fn push_blob(
        &mut self,
        blob_digest: &str,
        bytes: Bytes,
    ) -> Result<(), RegistryError> {
        let what = format!("blob {blob_digest}");
        let start = format!("{}/v2/{}/blobs/uploads/", self.api, self.repository);
        let response = self.send(&what, |http| http.post(&start)).await?;
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                self.invalid(&what, "the upload was started without a Location".into())
            })?;
        let location = if location.starts_with('/') {
            format!("{}{location}", self.api)
        } else {
            location.to_string()
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let upload = format!("{location}{separator}digest={blob_digest}");
        self.send(&what, |http| {
            http.put(&upload)
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(bytes.clone())
        })
        .await?;
        Ok(())
    }

    /// Stores `bytes` as the manifest tagged `tag`; returns the digest the registry gives it.
    pub async fn push_manifest(
        &mut self,
        tag: &str,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<String, RegistryError> {
        let what = format!("manifest {}:{tag}", self.repository);
        let url = format!("{}/v2/{}/manifests/{tag}", self.api, self.repository);
        self.send(&what, |http| {
            http.put(&url)
                .header(CONTENT_TYPE, media_type)
                .body(bytes.clone())
        })
        .await?;
        Ok(digest(&bytes))
    }

    /// Sends the request `build` makes; on a 401 answers the challenge once and sends it
    /// again. Anything but a 2xx is an error naming `what` and the registry's reason.
    async fn send(
        &mut self,
        what: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, RegistryError> {
        let mut answered = false;
        loop {
            let mut request = build(&self.http);
            if let Some(authorization) = &self.authorization {
                request = request.header(AUTHORIZATION, authorization);
            }
            let response = request.send().await.map_err(|e| self.unreachable(&e))?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !answered {
                let challenge = response
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                if let Some(challenge) = challenge {
                    answered = true;
                    self.authorization = Some(self.answer(what, &challenge).await?);
                    continue;
                }
            }
            if status.is_success() {
                return Ok(response);
            }
            let body = response.text().await.unwrap_or_default();
            return Err(self.refused(what, status, &body));
        }
    }

    /// The `Authorization` value a challenge asks for: Basic with the credentials, or a
    /// Bearer token fetched from the challenge's realm (with the credentials, when any).
    async fn answer(&self, what: &str, challenge: &str) -> Result<String, RegistryError> {
        let basic = self.credentials.as_ref().map(|c| {
            use base64::Engine as _;
            let pair = format!("{}:{}", c.username, c.password);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        match Challenge::parse(challenge) {
            Some(Challenge::Basic) => {
                basic.ok_or_else(|| self.refused(what, StatusCode::UNAUTHORIZED, ""))
            }
            Some(Challenge::Bearer { realm, params }) => {
                let mut request = self.http.request(Method::GET, &realm).query(&params);
                if let Some(basic) = &basic {
                    request = request.header(AUTHORIZATION, basic);
                }
                let what = format!("token for {what}");
                let response = request.send().await.map_err(|e| self.unreachable(&e))?;
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                if !status.is_success() {
                    return Err(self.refused(&what, status, &body));
                }
                let answer: serde_json::Value = serde_json::from_str(&body)
                    .map_err(|e| self.invalid(&what, format!("not JSON: {e}")))?;
                let token = answer["token"]
                    .as_str()
                    .or(answer["access_token"].as_str())
                    .ok_or_else(|| self.invalid(&what, "the answer holds no token".into()))?;
                Ok(format!("Bearer {token}"))
            }
            None => Err(self.invalid(what, format!("unknown auth challenge {challenge:?}"))),
        }
    }

    async fn body(&self, what: &str, response: Response) -> Result<Bytes, RegistryError> {
        response
            .bytes()
            .await
            .map_err(|e| self.invalid(what, format!("reading the answer: {}", chain(&e))))
    }

    /// An answer other than 2xx: the registry's own error code, and for a 401 whom it refused.
    fn refused(&self, what: &str, status: StatusCode, body: &str) -> RegistryError {
        let mut detail = error_detail(body);
        if status == StatusCode::UNAUTHORIZED {
            match &self.credentials {
                None => detail.push_str(" (no credentials were given)"),
                Some(credentials) => {
                    detail.push_str(&format!(" (as user {})", credentials.username))
                }
            }
        }
        RegistryError::Refused {
            registry: self.registry.clone(),
            what: what.to_string(),
            status,
            detail,
        }
    }

    fn unreachable(&self, error: &reqwest::Error) -> RegistryError {
        RegistryError::Unreachable {
            registry: self.registry.clone(),
            reason: chain(error),
        }
    }

    fn invalid(&self, what: &str, reason: String) -> RegistryError {
        RegistryError::Invalid {
            registry: self.registry.clone(),
            what: what.to_string(),
            reason,
        }
    }
}

/// An error with its causes, `a: b: c`: reqwest's own message says only "error sending
/// request"; the cause says "Connection refused".
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// ` MANIFEST_UNKNOWN: manifest unknown` from the distribution spec's error body.
fn error_detail(body: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return String::new();
    };
    let Some(first) = value["errors"].get(0) else {
        return String::new();
    };
    format!(
        " {}: {}",
        first["code"].as_str().unwrap_or("UNKNOWN"),
        first["message"].as_str().unwrap_or_default()
    )
}

#[derive(Debug, PartialEq, Eq)]
enum Challenge {
    Basic,
    Bearer {
        realm: String,
        params: Vec<(String, String)>,
    },
}

impl Challenge {
    /// `Basic realm="x"` or `Bearer realm="https://…/token",service="…",scope="…"`.
    fn parse(header: &str) -> Option<Challenge> {
        let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Challenge::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let mut realm = None;
        let mut params = Vec::new();
        let mut rest = rest.trim();
        while !rest.is_empty() {
            let (key, value) = rest.split_once('=')?;
            let key = key.trim().trim_start_matches(',').trim().to_string();
            let value = value.trim_start();
            let (value, after) = match value.strip_prefix('"') {
                Some(quoted) => {
                    let end = quoted.find('"')?;
                    (&quoted[..end], &quoted[end + 1..])
                }
                None => value.split_at(value.find(',').unwrap_or(value.len())),
            };
            if key == "realm" {
                realm = Some(value.to_string());
            } else {
                params.push((key, value.to_string()));
            }
            rest = after.trim_start_matches(',').trim();
        }
        Some(Challenge::Bearer {
            realm: realm?,
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_as_docker_hub_and_gitea_send_them() {
        let hub = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/rust:pull""#;
        assert_eq!(
            Challenge::parse(hub),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                params: vec![
                    ("service".into(), "registry.docker.io".into()),
                    ("scope".into(), "repository:library/rust:pull".into()),
                ],
            })
        );
        let gitea = r#"Bearer realm="http://127.0.0.1:30300/v2/token",service="container_registry",scope="*""#;
        assert!(matches!(
            Challenge::parse(gitea),
            Some(Challenge::Bearer { realm, .. }) if realm == "http://127.0.0.1:30300/v2/token"
        ));
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(Challenge::parse("Negotiate"), None);
    }

    #[test]
    fn error_bodies_give_their_code() {
        let body =
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#;
        assert_eq!(error_detail(body), " MANIFEST_UNKNOWN: manifest unknown");
        assert_eq!(error_detail("<html>"), "");
    }

    #[test]
    fn credentials_never_show_their_password() {
        let credentials = Credentials {
            username: "raibid".into(),
            password: "hunter2".into(),
        };
        assert_eq!(format!("{credentials:?}"), "Credentials(raibid, ***)");
    }
}
