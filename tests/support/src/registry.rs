//! A real OCI registry for a test: Debian's `docker-registry` (the CNCF distribution
//! registry) on a free port with filesystem storage in a temp dir, stopped on drop. With a
//! token realm it answers as Gitea's registry does: 401 with a Bearer challenge naming the
//! realm (distribution's `silly` auth, which then takes any token; the fake Gitea's
//! `/v2/token` hands tokens out only for the admin's credentials).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub struct OciRegistry {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl OciRegistry {
    /// A registry anyone may push to and pull from.
    pub fn start() -> OciRegistry {
        OciRegistry::spawn(None)
    }

    /// A registry that wants a Bearer token from `realm` (a URL) for every request.
    pub fn with_token_realm(realm: &str) -> OciRegistry {
        OciRegistry::spawn(Some(realm))
    }

    fn spawn(realm: Option<&str>) -> OciRegistry {
        let dir = tempfile::tempdir().unwrap();
        let port = free_node_port();
        let auth = realm
            .map(|realm| {
                format!("auth:\n  silly:\n    realm: {realm}\n    service: container_registry\n")
            })
            .unwrap_or_default();
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n{auth}\
             http:\n  addr: 127.0.0.1:{port}\n  secret: raibid-test\n",
            dir.path().join("data").display()
        );
        let file = dir.path().join("config.yml");
        std::fs::write(&file, config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry is installed (scripts/test installs it)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        OciRegistry {
            child,
            port,
            _dir: dir,
        }
    }

    /// `127.0.0.1:<port>`, as image references name it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Pushes an image without layers whose config is `config` as `repository:tag`, with
    /// the distribution API itself; returns the manifest's digest.
    pub async fn seed(&self, repository: &str, tag: &str, config: &Value) -> String {
        let http = reqwest::Client::new();
        let api = format!("http://{}/v2/{repository}", self.host());
        // The silly auth takes any token.
        let token = "Bearer seed";
        let config = serde_json::to_vec(config).unwrap();
        let config_digest = digest(&config);
        let started = http
            .post(format!("{api}/blobs/uploads/"))
            .header("authorization", token)
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), 202, "{}", started.text().await.unwrap());
        let location = started.headers()["location"].to_str().unwrap().to_string();
        let location = match location.starts_with('/') {
            true => format!("http://{}{location}", self.host()),
            false => location,
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        let upload = http
            .put(format!("{location}{separator}digest={config_digest}"))
            .header("authorization", token)
            .header("content-type", "application/octet-stream")
            .body(config.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(upload.status(), 201, "{}", upload.text().await.unwrap());
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config_digest, "size": config.len()},
            "layers": [],
        }))
        .unwrap();
        let put = http
            .put(format!("{api}/manifests/{tag}"))
            .header("authorization", token)
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .body(manifest.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201, "{}", put.text().await.unwrap());
        digest(&manifest)
    }

    /// The manifest stored as `repository:reference`, or `None`.
    pub async fn manifest(&self, repository: &str, reference: &str) -> Option<Value> {
        let response = reqwest::Client::new()
            .get(format!(
                "http://{}/v2/{repository}/manifests/{reference}",
                self.host()
            ))
            .header("authorization", "Bearer look")
            .header("accept", "application/vnd.oci.image.manifest.v1+json")
            .send()
            .await
            .unwrap();
        if response.status() != 200 {
            return None;
        }
        Some(response.json().await.unwrap())
    }
}

/// A free port in Kubernetes' node port range (30000-32767), where Gitea's registry is.
fn free_node_port() -> u16 {
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        ^ std::process::id();
    (0..2768)
        .map(|step| 30000 + ((start + step) % 2768) as u16)
        .find(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free node port")
}

/// A base config for this machine's platform: what a layerless base needs to be built on.
pub fn base_config() -> Value {
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    json!({"architecture": architecture, "os": "linux",
           "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
           "rootfs": {"type": "layers", "diff_ids": []}})
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl Drop for OciRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
