//! The forges: the GitHub client, Gitea commit statuses, and mirroring GitHub into Gitea.
//!
//! One test binary per part of raibid; each file below is one module.

mod gitea_status;
mod github_client;
mod mirror;
