//! Image references as Docker spells them: `[registry/]repository[:tag][@digest]`.

use std::fmt;

/// Docker Hub's name in references, and the host its API answers on.
const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`.
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:<hex>`.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses a reference; a first part without a dot, a colon or `localhost` is a Docker
    /// Hub repository (`rust` is `docker.io/library/rust`).
    pub fn parse(text: &str) -> Result<Reference, String> {
        let invalid = |why: &str| format!("image reference {text:?}: {why}");
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                let hex = digest
                    .strip_prefix("sha256:")
                    .ok_or_else(|| invalid("the digest must be sha256:<64 hex digits>"))?;
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid("the digest must be sha256:<64 hex digits>"));
                }
                (rest, Some(digest.to_string()))
            }
            None => (text, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), path)
            }
            _ => (DOCKER_HUB.to_string(), rest),
        };
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => (repository, Some(tag.to_string())),
            _ => (path, None),
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_string()
        };
        let valid_part = |part: &str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        };
        if !repository.split('/').all(valid_part) {
            return Err(invalid(
                "the repository must be lowercase letters, digits, '.', '_', '-' and '/'",
            ));
        }
        if tag.as_deref().is_some_and(|tag| {
            tag.is_empty()
                || tag.len() > 128
                || !tag
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        }) {
            return Err(invalid("the tag must be letters, digits, '.', '_' and '-'"));
        }
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The same repository at `tag`, without a digest.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }

    /// The same reference pinned to `digest`.
    pub fn with_digest(&self, digest: &str) -> Reference {
        Reference {
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }

    /// What the manifest is asked for by: the digest, else the tag, else `latest`.
    pub fn manifest_reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The registry API's base URL: plain HTTP for loopback registries (as Docker and
    /// containerd allow), HTTPS otherwise.
    pub fn api_url(&self) -> String {
        let host = if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        };
        let scheme = if is_loopback(host) { "http" } else { "https" };
        format!("{scheme}://{host}")
    }
}

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.split(':').next().unwrap_or(host),
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn docker_hub_names_get_their_registry_and_library() {
        let reference = Reference::parse("rust:1-trixie").unwrap();
        assert_eq!(reference.registry, "docker.io");
        assert_eq!(reference.repository, "library/rust");
        assert_eq!(reference.tag.as_deref(), Some("1-trixie"));
        assert_eq!(reference.api_url(), "https://registry-1.docker.io");
        assert_eq!(reference.to_string(), "docker.io/library/rust:1-trixie");
    }

    #[test]
    fn registries_with_ports_and_digests() {
        let text = format!("127.0.0.1:30300/raibid/raibid:0.1.0-abc@{DIGEST}");
        let reference = Reference::parse(&text).unwrap();
        assert_eq!(reference.registry, "127.0.0.1:30300");
        assert_eq!(reference.repository, "raibid/raibid");
        assert_eq!(reference.tag.as_deref(), Some("0.1.0-abc"));
        assert_eq!(reference.manifest_reference(), DIGEST);
        assert_eq!(reference.api_url(), "http://127.0.0.1:30300");
        assert_eq!(reference.to_string(), text);
        let untagged = Reference::parse("localhost:5000/debian").unwrap();
        assert_eq!(untagged.manifest_reference(), "latest");
        assert_eq!(untagged.api_url(), "http://localhost:5000");
        assert_eq!(
            Reference::parse("ghcr.io/raibid-labs/raibid")
                .unwrap()
                .api_url(),
            "https://ghcr.io"
        );
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        for (text, why) in [
            ("Rust:1", "repository must be lowercase"),
            ("rust@sha256:123", "digest must be sha256"),
            ("rust:", "the tag must be"),
            ("127.0.0.1:5000//x", "repository must be"),
        ] {
            let error = Reference::parse(text).unwrap_err();
            assert!(error.contains(why) && error.contains(text), "{error}");
        }
    }
}
