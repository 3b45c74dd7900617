//! Every component's Kubernetes objects, rendered from the config as typed k8s-openapi and
//! `crds` objects and erased to [`Manifest`]s in the order they are applied. Pure: no
//! cluster and no secret values — objects only name the secrets the bootstrap creates.

mod agent_network;
mod builders;
mod ci;
mod flux;
mod gitea;
mod gpu;
mod keda;
mod redis;
mod sparky;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use self::builders::App;
use crate::backend::cluster::{Component, Manifest};
use crate::config::{Config, Secret};

pub use self::ci::{STEP_USER, server_webhook_url};
pub use self::flux::gitops_url_in_cluster;
pub use self::gpu::{DEVICE_PLUGIN, DEVICE_PLUGIN_NAMESPACE, NVIDIA_RUNTIME};
pub use self::redis::{REDIS_PORT, REDIS_SERVICE};
pub use self::sparky::ollama_pull_job_name;

/// Where HelmChart objects live: k3s' helm-controller watches them there.
pub const CHARTS_NAMESPACE: &str = "kube-system";
pub const GITEA_NAMESPACE: &str = "gitea";
pub const FLUX_NAMESPACE: &str = "flux-system";
pub const KEDA_NAMESPACE: &str = "keda";

/// Key `password`, in `cluster.namespace`.
pub const REDIS_SECRET: &str = "redis";
/// Keys `username` and `password`, in [`GITEA_NAMESPACE`].
pub const GITEA_ADMIN_SECRET: &str = "gitea-admin";
/// Keys `username` and `password` Flux clones the gitops repository with, in [`FLUX_NAMESPACE`].
pub const GITOPS_AUTH_SECRET: &str = "gitops-auth";
/// Keys `token`, `gitea-webhook-secret` and `github-webhook-secret`, in `cluster.namespace`.
pub const SERVER_SECRET: &str = "raibid-server";
/// Key `credentials` (`user:token`), the read-only Gitea credential agents clone with, in
/// `cluster.namespace`; made by `raibid up`, never rendered.
pub const GIT_CLONE_SECRET: &str = "raibid-git-clone";
/// The config's API credentials, one key of [`forwarded_credentials`] each when the config
/// sets it, in `cluster.namespace`.
pub const TOKENS_SECRET: &str = "raibid-tokens";
/// The key of `gitea.token` in [`TOKENS_SECRET`], the one token agents get.
pub const GITEA_TOKEN_KEY: &str = "gitea-token";
/// The config's API credentials the pods need: the key in [`TOKENS_SECRET`], the
/// environment variable the pods read it from (the config's default), and the secret.
pub fn forwarded_credentials(config: &Config) -> [(&'static str, &'static str, &Secret); 7] {
    [
        ("github-token", "RAIBID_GITHUB_TOKEN", &config.github.token),
        (GITEA_TOKEN_KEY, "RAIBID_GITEA_TOKEN", &config.gitea.token),
        (
            "publish-token",
            "RAIBID_PUBLISH_TOKEN",
            &config.publish.token,
        ),
        (
            "openai-api-key",
            "RAIBID_OPENAI_API_KEY",
            &config.openai.api_key,
        ),
        (
            "devto-api-key",
            "RAIBID_DEVTO_API_KEY",
            &config.devto.api_key,
        ),
        (
            "mastodon-token",
            "RAIBID_MASTODON_TOKEN",
            &config.mastodon.token,
        ),
        (
            "bluesky-app-password",
            "RAIBID_BLUESKY_APP_PASSWORD",
            &config.bluesky.app_password,
        ),
    ]
}
/// The GitRepository (in [`FLUX_NAMESPACE`]) Flux fetches the gitops repository with.
pub const GITOPS_SOURCE: &str = "raibid-gitops";
/// The Kustomization (in [`FLUX_NAMESPACE`]) applying the gitops repository.
pub const GITOPS_KUSTOMIZATION: &str = "raibid";
pub const GITOPS_BRANCH: &str = "main";

/// The labels every rendered object carries; `component` lets status and `down` find them.
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// Value: `raibid`.
pub const PART_OF_LABEL: &str = "app.kubernetes.io/part-of";

/// The namespaces raibid creates: its own, then Gitea's, Flux's and KEDA's.
pub fn namespaces(config: &Config) -> Vec<String> {
    [
        config.cluster.namespace.as_str(),
        GITEA_NAMESPACE,
        FLUX_NAMESPACE,
        KEDA_NAMESPACE,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// `component`'s objects in the order they are applied; k3s has none (it is installed).
pub fn manifests(component: Component, config: &Config) -> Vec<Manifest> {
    match component {
        Component::K3s => Vec::new(),
        Component::Namespaces => namespace_manifests(config),
        Component::Redis => redis::manifests(config),
        Component::Gitea => gitea::manifests(config),
        Component::Flux => flux::manifests(config),
        Component::Keda => keda::manifests(config),
        Component::Ci => ci::manifests(config),
        Component::Gpu => gpu::manifests(config),
        Component::Sparky => sparky::manifests(config),
    }
}

fn namespace_manifests(config: &Config) -> Vec<Manifest> {
    namespaces(config)
        .iter()
        .map(|name| {
            let app = App {
                component: Component::Namespaces,
                name,
                namespace: name,
            };
            app.manifest(Namespace {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    ..ObjectMeta::default()
                },
                ..Namespace::default()
            })
        })
        .collect()
}
