//! The one image every role runs from (server, agents, Sparky), assembled as ko does for
//! Go: a base image's layers, pulled with the OCI distribution protocol, plus one layer
//! holding this very binary, pushed the same way. No Dockerfile and no Docker; the
//! platform is the one the binary runs on, so the image always matches the node.

pub mod assemble;
mod cache;
pub mod lab;
pub mod reference;
pub mod registry;

use std::path::Path;

use bytes::Bytes;
use serde_json::Value;

use self::assemble::{BaseManifest, Descriptor, Platform};
use self::cache::BlobCache;
pub use self::reference::Reference;
pub use self::registry::{Credentials, Registry, RegistryError};

/// An image pushed: its reference (tag and digest) and what the push moved.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub reference: Reference,
    /// Bytes of every blob the image is made of (compressed base layers, the binary's
    /// layer, the config).
    pub size: u64,
    /// Base blobs fetched from the base registry (the rest came from the cache or were
    /// already in the target repository).
    pub pulled: usize,
    /// Blobs uploaded to the target repository.
    pub uploaded: usize,
}

/// An image in a registry and the credentials it wants, if any. As a target, a repository
/// whose tag, when given, replaces the binary's tag.
pub struct Remote {
    pub reference: Reference,
    pub credentials: Option<Credentials>,
}

/// Builds the image of `binary` on `base` for this platform and pushes it to `target`.
/// Base blobs come from `cache_dir` when there, and are only fetched when the target
/// lacks them.
pub async fn build_and_push(
    base: &Remote,
    binary: &Path,
    target: &Remote,
    cache_dir: &Path,
    log: &mut (dyn FnMut(String) + Send),
) -> Result<Pushed, String> {
    let binary_bytes = tokio::fs::read(binary)
        .await
        .map_err(|e| format!("reading the binary {}: {e}", binary.display()))?;
    let tag = match &target.reference.tag {
        Some(tag) => tag.clone(),
        None => assemble::tag_for(&binary_bytes),
    };
    let destination = target.reference.with_tag(&tag);
    let platform = Platform::current();
    let cache = BlobCache::new(cache_dir);
    let mut source = Registry::new(&base.reference, base.credentials.clone());
    let base = &base.reference;
    let (manifest, base_config) = base_image(&mut source, base, &platform, &cache)
        .await
        .map_err(|e| format!("base image {base}: {e}"))?;
    log(format!(
        "base {base} for {platform}: {} layers",
        manifest.layers.len()
    ));

    let layer = assemble::binary_layer(&binary_bytes);
    drop(binary_bytes);
    let layer_descriptor = layer.descriptor();
    let config = assemble::image_config(&base_config, &layer)
        .map_err(|e| format!("base image {base}: {e}"))?;
    let config = Bytes::from(serde_json::to_vec(&config).expect("JSON values serialize"));
    let config_descriptor = Descriptor::of("", &config);
    let mut layers = manifest.layers.clone();
    layers.push(layer_descriptor.clone());
    let image_manifest = Bytes::from(assemble::image_manifest(&config_descriptor, &layers));

    let mut pushed = Pushed {
        reference: destination.clone(),
        size: layers.iter().map(|l| l.size).sum::<u64>() + config_descriptor.size,
        pulled: 0,
        uploaded: 0,
    };
    let mut sink = Registry::new(&destination, target.credentials.clone());
    let to = |e: RegistryError| format!("pushing {destination}: {e}");
    for base_layer in &manifest.layers {
        if sink.has_blob(&base_layer.digest).await.map_err(to)? {
            continue;
        }
        let bytes = match cache.get(&base_layer.digest) {
            Some(bytes) => bytes,
            None => {
                pushed.pulled += 1;
                fetch(&mut source, &cache, &base_layer.digest)
                    .await
                    .map_err(|e| format!("base image {base}: {e}"))?
            }
        };
        sink.push_blob(&base_layer.digest, bytes)
            .await
            .map_err(to)?;
        pushed.uploaded += 1;
    }
    let layer = Bytes::from(layer.blob);
    for (blob, descriptor) in [(layer, &layer_descriptor), (config, &config_descriptor)] {
        if !sink.has_blob(&descriptor.digest).await.map_err(to)? {
            sink.push_blob(&descriptor.digest, blob).await.map_err(to)?;
            pushed.uploaded += 1;
        }
    }
    let digest = sink
        .push_manifest(&tag, assemble::OCI_MANIFEST, image_manifest)
        .await
        .map_err(to)?;
    pushed.reference = destination.with_digest(&digest);
    log(format!(
        "pushed {} ({} MB, {} blobs uploaded, {} pulled from the base registry)",
        pushed.reference,
        pushed.size / 1_000_000,
        pushed.uploaded,
        pushed.pulled
    ));
    Ok(pushed)
}

/// Checks that `reference` can be pulled for this platform: its manifest exists (and an
/// index has an entry for this platform).
pub async fn check_pullable(
    reference: &Reference,
    credentials: Option<Credentials>,
) -> Result<(), String> {
    let mut registry = Registry::new(reference, credentials);
    let manifest = registry
        .manifest(reference.manifest_reference())
        .await
        .map_err(|e| format!("image {reference} cannot be pulled: {e}"))?;
    if assemble::is_index(&manifest.media_type) {
        let index: Value = serde_json::from_slice(&manifest.bytes)
            .map_err(|e| format!("image {reference}: its index is not JSON: {e}"))?;
        assemble::select_platform(&index, &Platform::current())
            .map_err(|e| format!("image {reference} cannot be pulled: {e}"))?;
    }
    Ok(())
}

/// The base's manifest for `platform` and its config.
async fn base_image(
    source: &mut Registry,
    base: &Reference,
    platform: &Platform,
    cache: &BlobCache,
) -> Result<(BaseManifest, Value), String> {
    let mut manifest = source
        .manifest(base.manifest_reference())
        .await
        .map_err(|e| e.to_string())?;
    if assemble::is_index(&manifest.media_type) {
        let index: Value =
            serde_json::from_slice(&manifest.bytes).map_err(|e| format!("index: {e}"))?;
        let chosen = assemble::select_platform(&index, platform)?;
        manifest = source
            .manifest(&chosen.digest)
            .await
            .map_err(|e| e.to_string())?;
    }
    if manifest.media_type != assemble::OCI_MANIFEST
        && manifest.media_type != assemble::DOCKER_MANIFEST
    {
        return Err(format!(
            "unsupported manifest type {:?}",
            manifest.media_type
        ));
    }
    let value: Value =
        serde_json::from_slice(&manifest.bytes).map_err(|e| format!("manifest: {e}"))?;
    let parsed = assemble::parse_manifest(&value)?;
    let config = match cache.get(&parsed.config.digest) {
        Some(bytes) => bytes,
        None => fetch(source, cache, &parsed.config.digest).await?,
    };
    let config: Value = serde_json::from_slice(&config).map_err(|e| format!("config: {e}"))?;
    let built_for = (
        config["os"].as_str().unwrap_or_default(),
        config["architecture"].as_str().unwrap_or_default(),
    );
    if built_for != (platform.os.as_str(), platform.architecture.as_str()) {
        return Err(format!(
            "it is built for {}/{}, this machine is {platform}",
            built_for.0, built_for.1
        ));
    }
    Ok((parsed, config))
}

/// A blob from the registry, kept in the cache.
async fn fetch(source: &mut Registry, cache: &BlobCache, digest: &str) -> Result<Bytes, String> {
    let bytes = source.blob(digest).await.map_err(|e| e.to_string())?;
    cache
        .put(digest, &bytes)
        .map_err(|e| format!("caching blob {digest}: {e}"))?;
    Ok(bytes)
}
