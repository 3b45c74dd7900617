//! The gitops repository in Gitea that Flux applies: created through the forge's Gitea
//! client, written with git (one folder per component, one file per object), compared for drift.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::backend::forge::gitea::{Gitea, GiteaAuth, GiteaError};
use crate::backend::git::{Git, GitError};

use super::manifests::GITOPS_BRANCH;

#[derive(Debug, thiserror::Error)]
pub enum GitopsError {
    #[error("Gitea at {url}: {reason}")]
    Gitea { url: String, reason: String },
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("gitops work tree {}: {source}", .path.display())]
    Files {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The repository `owner/name` on the Gitea at `base_url`, and the local work tree the
/// console writes it from.
pub struct Gitops {
    pub base_url: String,
    pub owner: String,
    pub name: String,
    password: String,
    work_tree: PathBuf,
}

/// How a component's folder in the repository differs from what the config renders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    pub changed: Vec<String>,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }

    pub fn summary(&self) -> String {
        let parts = [
            ("changed", self.changed.len()),
            ("missing", self.missing.len()),
            ("not rendered", self.extra.len()),
        ];
        let parts: Vec<String> = parts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(what, n)| format!("{n} {what}"))
            .collect();
        format!("gitops drift: {}", parts.join(", "))
    }
}

impl Gitops {
    pub fn new(
        base_url: &str,
        owner: &str,
        name: &str,
        password: &str,
        work_tree: &Path,
    ) -> Gitops {
        Gitops {
            base_url: base_url.trim_end_matches('/').to_string(),
            owner: owner.to_string(),
            name: name.to_string(),
            password: password.to_string(),
            work_tree: work_tree.to_path_buf(),
        }
    }

    pub fn clone_url(&self) -> String {
        format!("{}/{}/{}.git", self.base_url, self.owner, self.name)
    }

    /// Creates the private repository (with a first commit on the branch Flux follows);
    /// one that exists already is fine.
    pub async fn ensure_repository(&self) -> Result<(), GitopsError> {
        let failed = |error: GiteaError| GitopsError::Gitea {
            url: self.base_url.clone(),
            reason: error.to_string(),
        };
        let auth = GiteaAuth::Basic {
            user: self.owner.clone(),
            password: self.password.clone(),
        };
        let gitea = Gitea::with_auth(&self.base_url, auth).map_err(failed)?;
        gitea
            .create_user_repo(
                &self.name,
                GITOPS_BRANCH,
                "Manifests Flux applies to the raibid lab (written by raibid up)",
            )
            .await
            .map_err(failed)?;
        Ok(())
    }

    fn git(&self) -> Git {
        Git::new(&self.work_tree).with_basic_auth(&self.owner, &self.password)
    }

    /// Brings the work tree to the remote branch's tip, cloning it the first time.
    fn sync(&self) -> Result<Git, GitopsError> {
        let git = self.git();
        if !self.work_tree.join(".git").exists() {
            let parent = self.work_tree.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(parent).map_err(|source| GitopsError::Files {
                path: parent.into(),
                source,
            })?;
            let target = self.work_tree.to_string_lossy();
            git.in_dir(parent)
                .run(&["clone", "--quiet", &self.clone_url(), &target])?;
        }
        let remote = format!("origin/{GITOPS_BRANCH}");
        git.run(&["fetch", "--quiet", "origin"])?;
        git.run(&["checkout", "--quiet", "-B", GITOPS_BRANCH, &remote])?;
        git.run(&["reset", "--quiet", "--hard", &remote])?;
        git.run(&["clean", "--quiet", "-fdx"])?;
        Ok(git)
    }

    /// Makes `folder` hold exactly `files` (name -> content), commits and pushes when that
    /// changes anything, and returns the branch's commit.
    pub fn write(
        &self,
        folder: &str,
        files: &BTreeMap<String, String>,
        message: &str,
    ) -> Result<String, GitopsError> {
        let git = self.sync()?;
        let dir = self.work_tree.join(folder);
        let io = |source| GitopsError::Files {
            path: dir.clone(),
            source,
        };
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io)?;
        }
        if !files.is_empty() {
            std::fs::create_dir_all(&dir).map_err(io)?;
        }
        for (name, content) in files {
            std::fs::write(dir.join(name), content).map_err(io)?;
        }
        git.run(&["add", "--all", "--", folder])?;
        if git.check(&["diff", "--cached", "--quiet"])? {
            return self.head(&git);
        }
        git.commit(message, &[])?;
        let refspec = format!("HEAD:refs/heads/{GITOPS_BRANCH}");
        git.run(&["push", "--quiet", "origin", &refspec])?;
        self.head(&git)
    }

    /// How `folder` on the remote branch differs from `files`.
    pub fn drift(
        &self,
        folder: &str,
        files: &BTreeMap<String, String>,
    ) -> Result<Drift, GitopsError> {
        self.sync()?;
        let dir = self.work_tree.join(folder);
        let mut drift = Drift::default();
        let mut present = BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                present.insert(
                    name,
                    std::fs::read_to_string(entry.path()).unwrap_or_default(),
                );
            }
        }
        for (name, content) in files {
            match present.remove(name) {
                None => drift.missing.push(name.clone()),
                Some(committed) if &committed != content => drift.changed.push(name.clone()),
                Some(_) => {}
            }
        }
        drift.extra = present.into_keys().collect();
        Ok(drift)
    }

    fn head(&self, git: &Git) -> Result<String, GitopsError> {
        Ok(git.resolve("HEAD")?.unwrap_or_default())
    }
}
