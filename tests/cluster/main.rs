//! The lab on Kubernetes: rendered manifests, `raibid up`, `status`, `down` and `doctor`
//! against the fake Kubernetes API and Gitea, the image path, and the port-forward.
//!
//! One test binary per part of raibid; each file below is one module.

mod cluster_cli;
mod cluster_lab;
mod cluster_manifests;
mod doctor;
mod forward;
mod image_lab;
mod kube_fake;
