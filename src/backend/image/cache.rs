//! Base image blobs on disk, by digest, so a rebuild does not pull them again.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::assemble::digest;

pub struct BlobCache {
    dir: PathBuf,
}

impl BlobCache {
    pub fn new(dir: &Path) -> BlobCache {
        BlobCache {
            dir: dir.to_path_buf(),
        }
    }

    fn path(&self, blob_digest: &str) -> PathBuf {
        self.dir.join(blob_digest.replace(':', "-"))
    }

    /// The blob when cached and intact (a damaged file is ignored and fetched again).
    pub fn get(&self, blob_digest: &str) -> Option<Bytes> {
        let bytes = std::fs::read(self.path(blob_digest)).ok()?;
        (digest(&bytes) == blob_digest).then(|| Bytes::from(bytes))
    }

    /// Stores a blob already checked against its digest: written whole, then renamed.
    pub fn put(&self, blob_digest: &str, bytes: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(blob_digest);
        let partial = path.with_extension("partial");
        std::fs::write(&partial, bytes)?;
        std::fs::rename(&partial, &path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_come_back_only_when_intact() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::new(&dir.path().join("blobs"));
        let blob = b"layer bytes";
        let id = digest(blob);
        assert!(cache.get(&id).is_none());
        cache.put(&id, blob).unwrap();
        assert_eq!(cache.get(&id).unwrap().as_ref(), blob);
        std::fs::write(cache.path(&id), b"damaged").unwrap();
        assert!(cache.get(&id).is_none());
    }
}
