//! The image's parts as plain data: the base's manifest for this platform, one layer holding
//! the binary, the base's config with that layer and the entrypoint, and the manifest.
//! Everything is deterministic, so one binary on one base always gives one digest.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// Where the binary lives in the image, and the entrypoint.
pub const BINARY_PATH: &str = "/usr/local/bin/raibid";

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A content descriptor: what a manifest says about a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

impl Descriptor {
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: digest(bytes),
            size: bytes.len() as u64,
        }
    }

    fn parse(value: &Value) -> Result<Descriptor, String> {
        let text = |key: &str| {
            value[key]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("a descriptor without {key}"))
        };
        Ok(Descriptor {
            media_type: text("mediaType")?,
            digest: text("digest")?,
            size: value["size"].as_u64().ok_or("a descriptor without size")?,
        })
    }

    fn to_json(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
    }
}

/// The OCI platform this process runs on, e.g. `linux/arm64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
}

impl Platform {
    pub fn current() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: std::env::consts::OS.to_string(),
            architecture: architecture.to_string(),
        }
    }

    fn matches(&self, value: &Value) -> bool {
        value["os"] == self.os.as_str() && value["architecture"] == self.architecture.as_str()
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)
    }
}

pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_LIST
}

/// The manifest of an index (or Docker manifest list) for `platform`; an index without
/// one names the platforms it has.
pub fn select_platform(index: &Value, platform: &Platform) -> Result<Descriptor, String> {
    let manifests = index["manifests"]
        .as_array()
        .ok_or("the index lists no manifests")?;
    if let Some(found) = manifests.iter().find(|m| platform.matches(&m["platform"])) {
        return Descriptor::parse(found);
    }
    let offered: Vec<String> = manifests
        .iter()
        .filter_map(|m| {
            let os = m["platform"]["os"].as_str()?;
            let architecture = m["platform"]["architecture"].as_str()?;
            (os != "unknown").then(|| format!("{os}/{architecture}"))
        })
        .collect();
    Err(format!(
        "no image for {platform} (it has {})",
        if offered.is_empty() {
            "none".to_string()
        } else {
            offered.join(", ")
        }
    ))
}

/// A base image manifest read: its config and layers, with Docker's media types turned
/// into their OCI twins (the bytes are the same) so that one OCI manifest can list them.
#[derive(Debug, Clone)]
pub struct BaseManifest {
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

pub fn parse_manifest(manifest: &Value) -> Result<BaseManifest, String> {
    let config = Descriptor::parse(&manifest["config"]).map_err(|e| format!("config: {e}"))?;
    let layers = manifest["layers"]
        .as_array()
        .ok_or("a manifest without layers")?
        .iter()
        .map(|layer| {
            Descriptor::parse(layer).map(|mut layer| {
                layer.media_type = oci_layer_type(&layer.media_type).to_string();
                layer
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(BaseManifest { config, layers })
}

fn oci_layer_type(media_type: &str) -> &str {
    match media_type {
        "application/vnd.docker.image.rootfs.diff.tar.gzip" => {
            "application/vnd.oci.image.layer.v1.tar+gzip"
        }
        "application/vnd.docker.image.rootfs.diff.tar" => OCI_LAYER,
        other => other,
    }
}

/// The binary's layer as pushed: its tar gzip-compressed (the fast level: a binary shrinks
/// to about a quarter either way), and the tar's digest, which the config lists.
pub struct Layer {
    pub blob: Vec<u8>,
    pub diff_id: String,
}

impl Layer {
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::of(OCI_LAYER_GZIP, &self.blob)
    }
}

pub fn binary_layer(binary: &[u8]) -> Layer {
    use std::io::Write as _;
    let tar = binary_tar(binary);
    // No name and time 0 in the gzip header: the same binary gives the same blob.
    let mut gzip = flate2::GzBuilder::new().mtime(0).write(
        Vec::with_capacity(tar.len() / 3),
        flate2::Compression::fast(),
    );
    gzip.write_all(&tar).expect("writing to memory");
    Layer {
        blob: gzip.finish().expect("writing to memory"),
        diff_id: digest(&tar),
    }
}

/// A tar archive holding only the binary at [`BINARY_PATH`] (root-owned, 0755, time 0).
/// Parent directories are left out: the base has them, and an entry would override theirs.
fn binary_tar(binary: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    let path = BINARY_PATH.trim_start_matches('/');
    header[..path.len()].copy_from_slice(path.as_bytes());
    let octal = |field: &mut [u8], value: u64| {
        let text = format!("{value:0width$o}\0", width = field.len() - 1);
        field.copy_from_slice(text.as_bytes());
    };
    octal(&mut header[100..108], 0o755);
    octal(&mut header[108..116], 0);
    octal(&mut header[116..124], 0);
    octal(&mut header[124..136], binary.len() as u64);
    octal(&mut header[136..148], 0);
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].fill(b' ');
    let checksum: u64 = header.iter().map(|&b| u64::from(b)).sum();
    octal(&mut header[148..155], checksum);
    header[155] = b' ';
    let padding = (512 - binary.len() % 512) % 512;
    let mut tar = Vec::with_capacity(512 + binary.len() + padding + 1024);
    tar.extend_from_slice(&header);
    tar.extend_from_slice(binary);
    tar.resize(tar.len() + padding + 1024, 0);
    tar
}

/// The base's config with the binary's layer on top and `raibid` as the entrypoint (the
/// base's command is dropped: it would become raibid's arguments).
pub fn image_config(base: &Value, layer: &Layer) -> Result<Value, String> {
    let mut config = base.clone();
    config["rootfs"]["diff_ids"]
        .as_array_mut()
        .ok_or("the base config has no rootfs.diff_ids")?
        .push(json!(layer.diff_id));
    if !config["config"].is_object() {
        config["config"] = json!({});
    }
    config["config"]["Entrypoint"] = json!([BINARY_PATH]);
    config["config"]["Cmd"] = Value::Null;
    if let Some(history) = config["history"].as_array_mut() {
        history.push(json!({"created_by": "raibid image build", "comment": "the raibid binary"}));
    }
    Ok(config)
}

/// The OCI manifest of `config` and `layers`.
pub fn image_manifest(config: &Descriptor, layers: &[Descriptor]) -> Vec<u8> {
    let config = Descriptor {
        media_type: OCI_CONFIG.to_string(),
        ..config.clone()
    };
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.to_json(),
        "layers": layers.iter().map(Descriptor::to_json).collect::<Vec<_>>(),
    });
    serde_json::to_vec(&manifest).expect("JSON values serialize")
}

/// The tag an image of `binary` gets: the version and the binary's hash, so a new binary
/// is a new tag.
pub fn tag_for(binary: &[u8]) -> String {
    let hash = hex::encode(Sha256::digest(binary));
    format!("{}-{}", env!("CARGO_PKG_VERSION"), &hash[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Value {
        json!({"mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": "sha256:aa", "size": 10,
             "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": OCI_MANIFEST, "digest": "sha256:bb", "size": 11,
             "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"mediaType": OCI_MANIFEST, "digest": "sha256:cc", "size": 12,
             "platform": {"os": "unknown", "architecture": "unknown"}},
        ]})
    }

    #[test]
    fn the_index_entry_for_this_platform_is_chosen() {
        let arm = Platform {
            os: "linux".into(),
            architecture: "arm64".into(),
        };
        assert_eq!(select_platform(&index(), &arm).unwrap().digest, "sha256:bb");
        let riscv = Platform {
            os: "linux".into(),
            architecture: "riscv64".into(),
        };
        let error = select_platform(&index(), &riscv).unwrap_err();
        assert_eq!(
            error,
            "no image for linux/riscv64 (it has linux/amd64, linux/arm64)"
        );
    }

    #[test]
    fn the_binary_layer_is_a_tar_that_tar_reads() {
        let binary = b"#!/bin/sh\necho hi\n".repeat(100);
        let layer = binary_layer(&binary);
        assert_eq!(layer.diff_id, digest(&binary_tar(&binary)));
        assert_eq!(binary_tar(&binary).len() % 512, 0);
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("layer.tar.gz");
        std::fs::write(&archive, &layer.blob).unwrap();
        let listing = std::process::Command::new("tar")
            .args(["-tzvf"])
            .arg(&archive)
            .output()
            .unwrap();
        assert!(listing.status.success(), "{listing:?}");
        let listing = String::from_utf8(listing.stdout).unwrap();
        assert!(listing.starts_with("-rwxr-xr-x 0/0"), "{listing}");
        assert!(listing.contains("usr/local/bin/raibid"), "{listing}");
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let status = std::process::Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .arg("-C")
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(
            std::fs::read(out.join("usr/local/bin/raibid")).unwrap(),
            binary
        );
        assert_eq!(
            binary_layer(&binary).blob,
            layer.blob,
            "the same binary, the same bytes"
        );
    }

    #[test]
    fn the_config_gains_the_layer_and_the_entrypoint() {
        let base = json!({"architecture": "arm64", "os": "linux",
            "config": {"Env": ["PATH=/usr/bin"], "Cmd": ["bash"]},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:base"]},
            "history": [{"created_by": "debootstrap"}]});
        let layer = binary_layer(b"binary");
        let config = image_config(&base, &layer).unwrap();
        assert_eq!(config["rootfs"]["diff_ids"][1], layer.diff_id.as_str());
        assert_ne!(layer.diff_id, layer.descriptor().digest);
        assert_eq!(config["config"]["Entrypoint"][0], BINARY_PATH);
        assert_eq!(config["config"]["Cmd"], Value::Null);
        assert_eq!(config["config"]["Env"][0], "PATH=/usr/bin");
        assert_eq!(config["history"].as_array().unwrap().len(), 2);
        assert!(image_config(&json!({}), &layer).is_err());
    }

    #[test]
    fn docker_layers_are_listed_with_their_oci_types() {
        let manifest = json!({"mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": "sha256:c", "size": 3},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": "sha256:l", "size": 5}]});
        let base = parse_manifest(&manifest).unwrap();
        assert_eq!(
            base.layers[0].media_type,
            "application/vnd.oci.image.layer.v1.tar+gzip"
        );
        let bytes = image_manifest(&base.config, &base.layers);
        let written: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(written["config"]["mediaType"], OCI_CONFIG);
        assert_eq!(written["config"]["digest"], "sha256:c");
        assert_eq!(written["layers"][0]["size"], 5);
    }
}
