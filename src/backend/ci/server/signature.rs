//! Constant-time checks of what callers present: webhook signatures (HMAC-SHA256 of the
//! raw body) and the API's bearer token. Every comparison goes through hmac's
//! `verify_slice`, so the time taken says nothing about how much of a guess was right.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a webhook's signature was refused. The messages name the header, never a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing {header} header")]
    Missing { header: &'static str },
    #[error("{header} header is not {expected}")]
    Malformed {
        header: &'static str,
        expected: &'static str,
    },
    #[error("{header} does not match the body")]
    Mismatch { header: &'static str },
}

pub const GITEA_SIGNATURE: &str = "X-Gitea-Signature";
pub const GITHUB_SIGNATURE: &str = "X-Hub-Signature-256";

/// Gitea: `X-Gitea-Signature` is the bare hex HMAC-SHA256 of the raw body.
pub fn verify_gitea(secret: &str, body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header_value = header.ok_or(SignatureError::Missing {
        header: GITEA_SIGNATURE,
    })?;
    verify_hex(
        secret,
        body,
        header_value,
        GITEA_SIGNATURE,
        "hex HMAC-SHA256",
    )
}

/// GitHub: `X-Hub-Signature-256` is `sha256=` followed by the hex HMAC-SHA256 of the raw body.
pub fn verify_github(
    secret: &str,
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let expected = "sha256=<hex HMAC-SHA256>";
    let header_value = header.ok_or(SignatureError::Missing {
        header: GITHUB_SIGNATURE,
    })?;
    let hex_mac = header_value
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed {
            header: GITHUB_SIGNATURE,
            expected,
        })?;
    verify_hex(secret, body, hex_mac, GITHUB_SIGNATURE, expected)
}

fn verify_hex(
    secret: &str,
    body: &[u8],
    hex_mac: &str,
    header: &'static str,
    expected: &'static str,
) -> Result<(), SignatureError> {
    let presented =
        hex::decode(hex_mac.trim()).map_err(|_| SignatureError::Malformed { header, expected })?;
    let mut mac = keyed(secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&presented)
        .map_err(|_| SignatureError::Mismatch { header })
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// The API token, kept only as a MAC under a key drawn at start. A presented token is
/// MACed the same way and compared in constant time, so neither its length nor its
/// content shows in the timing, and the token itself is not kept in memory.
#[derive(Clone)]
pub struct TokenCheck {
    key: [u8; 32],
    expected: Vec<u8>,
}

impl TokenCheck {
    pub fn new(token: &str) -> TokenCheck {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        let mut mac = keyed(&key);
        mac.update(token.as_bytes());
        let expected = mac.finalize().into_bytes().to_vec();
        TokenCheck { key, expected }
    }

    pub fn matches(&self, presented: &str) -> bool {
        let mut mac = keyed(&self.key);
        mac.update(presented.as_bytes());
        mac.verify_slice(&self.expected).is_ok()
    }
}

impl std::fmt::Debug for TokenCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCheck(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"ref":"refs/heads/main"}"#;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = keyed(secret.as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn gitea_accepts_its_own_signature_and_refuses_others() {
        let signature = sign("s3cret", BODY);
        assert_eq!(verify_gitea("s3cret", BODY, Some(&signature)), Ok(()));
        assert_eq!(
            verify_gitea("other", BODY, Some(&signature)),
            Err(SignatureError::Mismatch {
                header: GITEA_SIGNATURE
            })
        );
        assert_eq!(
            verify_gitea("s3cret", b"{}", Some(&signature)),
            Err(SignatureError::Mismatch {
                header: GITEA_SIGNATURE
            })
        );
        assert!(matches!(
            verify_gitea("s3cret", BODY, Some("not hex")),
            Err(SignatureError::Malformed { .. })
        ));
        assert_eq!(
            verify_gitea("s3cret", BODY, None),
            Err(SignatureError::Missing {
                header: GITEA_SIGNATURE
            })
        );
    }

    #[test]
    fn github_needs_the_sha256_prefix() {
        let signature = sign("s3cret", BODY);
        let header = format!("sha256={signature}");
        assert_eq!(verify_github("s3cret", BODY, Some(&header)), Ok(()));
        assert!(matches!(
            verify_github("s3cret", BODY, Some(&signature)),
            Err(SignatureError::Malformed { .. })
        ));
        assert!(matches!(
            verify_github("s3cret", BODY, Some(&format!("sha1={signature}"))),
            Err(SignatureError::Malformed { .. })
        ));
    }

    #[test]
    fn a_truncated_signature_is_refused() {
        let signature = sign("s3cret", BODY);
        assert!(verify_gitea("s3cret", BODY, Some(&signature[..32])).is_err());
        assert!(verify_gitea("s3cret", BODY, Some("")).is_err());
    }

    #[test]
    fn token_check_matches_only_the_token() {
        let check = TokenCheck::new("t0ken");
        assert!(check.matches("t0ken"));
        assert!(!check.matches("t0ke"));
        assert!(!check.matches("t0ken "));
        assert!(!check.matches(""));
        assert!(!format!("{check:?}").contains("t0ken"));
    }
}
