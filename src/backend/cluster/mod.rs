//! The cluster: k3s, Redis, Gitea, Flux, KEDA, the raibid server and agents, Sparky and
//! Ollama. `manifests` renders typed objects from the config (pure); `lab` checks, applies
//! and waits, step by step, with kube-rs (`objects`); `status` reads what runs.

pub mod actor;
pub mod component;
pub mod connect;
pub mod crds;
pub mod doctor;
pub mod forward;
pub mod gitops;
mod gpu;
pub mod k3s;
pub mod lab;
pub mod manifest;
pub mod manifests;
mod objects;
mod quantity;
pub mod readiness;
pub mod report;
mod secrets;
mod status;
mod user_kubeconfig;

pub use component::Component;
pub use lab::{Lab, StepFailed};
pub use manifest::Manifest;
