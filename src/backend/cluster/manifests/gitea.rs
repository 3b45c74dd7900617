//! Gitea: git hosting, webhooks to the raibid server, and the container registry, from the
//! upstream chart with SQLite and no database or cache sub-charts (one node, one user).

use serde_json::json;

use super::builders::App;
use super::{CHARTS_NAMESPACE, GITEA_ADMIN_SECRET, GITEA_NAMESPACE};
use crate::backend::cluster::{Component, Manifest};
use crate::config::Config;

const REPO: &str = "https://dl.gitea.com/charts/";
/// The chart names its web Service `<release>-http`.
pub(super) const GITEA_HTTP_SERVICE: &str = "gitea-http";
pub(super) const GITEA_HTTP_PORT: u16 = 3000;

pub(super) fn manifests(config: &Config) -> Vec<Manifest> {
    let app = App {
        component: Component::Gitea,
        name: "gitea",
        namespace: CHARTS_NAMESPACE,
    };
    let cluster = &config.cluster;
    vec![app.helm_chart(
        REPO,
        &cluster.gitea_chart_version,
        GITEA_NAMESPACE,
        &values(config),
        Some("15m"),
    )]
}

/// The base of the URLs Gitea writes (clone URLs in webhooks included): its node port on
/// the host.
pub(super) fn root_url(config: &Config) -> String {
    format!("http://127.0.0.1:{}", config.cluster.gitea_node_port)
}

fn values(config: &Config) -> serde_json::Value {
    let cluster = &config.cluster;
    let mut persistence = json!({ "enabled": true, "size": cluster.gitea_storage });
    if !cluster.storage_class.is_empty() {
        persistence["storageClass"] = json!(cluster.storage_class);
    }
    json!({
        "image": { "tag": cluster.gitea_version, "rootless": true },
        // One ReadWriteOnce volume and a local queue database: no surge pod beside the old.
        "strategy": { "type": "Recreate" },
        "gitea": {
            "admin": { "existingSecret": GITEA_ADMIN_SECRET },
            "config": {
                "server": { "ROOT_URL": format!("{}/", root_url(config)) },
                "database": { "DB_TYPE": "sqlite3" },
                // Packages include the OCI container registry the lab's images go to.
                "packages": { "ENABLED": true },
                // Webhooks go to the raibid server inside the cluster (a private address).
                "webhook": { "ALLOWED_HOST_LIST": "private,loopback" },
                "migrations": { "ALLOW_LOCALNETWORKS": true },
                "service": { "DISABLE_REGISTRATION": true },
            },
        },
        "service": {
            "http": {
                "type": "NodePort",
                "port": GITEA_HTTP_PORT,
                "nodePort": cluster.gitea_node_port,
                // The chart's default is a headless Service, which cannot be a NodePort.
                "clusterIP": "",
            },
        },
        "persistence": persistence,
        "postgresql-ha": { "enabled": false },
        "postgresql": { "enabled": false },
        "valkey-cluster": { "enabled": false },
        "valkey": { "enabled": false },
    })
}
