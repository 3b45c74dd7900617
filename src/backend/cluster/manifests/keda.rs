//! KEDA, which starts an agent Job per waiting build (the ScaledJob is in `ci`).

use serde_json::json;

use super::builders::App;
use super::{CHARTS_NAMESPACE, KEDA_NAMESPACE};
use crate::backend::cluster::{Component, Manifest};
use crate::config::Config;

const REPO: &str = "https://kedacore.github.io/charts";

pub(super) fn manifests(config: &Config) -> Vec<Manifest> {
    let app = App {
        component: Component::Keda,
        name: "keda",
        namespace: CHARTS_NAMESPACE,
    };
    vec![app.helm_chart(
        REPO,
        &config.cluster.keda_chart_version,
        KEDA_NAMESPACE,
        &json!({}),
        None,
    )]
}
