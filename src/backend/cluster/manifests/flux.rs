//! Flux: its source and kustomize controllers (the chart's others are not used), and the
//! GitRepository + Kustomization that apply the gitops repository hosted in Gitea.

use serde_json::json;

use super::builders::{App, service_host};
use super::gitea::{GITEA_HTTP_PORT, GITEA_HTTP_SERVICE};
use super::{
    CHARTS_NAMESPACE, FLUX_NAMESPACE, GITEA_NAMESPACE, GITOPS_AUTH_SECRET, GITOPS_BRANCH,
    GITOPS_KUSTOMIZATION, GITOPS_SOURCE,
};
use crate::backend::cluster::crds::{
    GitRepository, GitRepositoryRef, GitRepositorySpec, Kustomization, KustomizationSpec, LocalRef,
    SourceRef,
};
use crate::backend::cluster::{Component, Manifest};
use crate::config::Config;

const REPO: &str = "https://fluxcd-community.github.io/helm-charts";

/// Gitea as pods reach it: its in-cluster Service.
pub fn gitea_url_in_cluster() -> String {
    format!(
        "http://{}:{GITEA_HTTP_PORT}",
        service_host(GITEA_HTTP_SERVICE, GITEA_NAMESPACE)
    )
}

/// The gitops repository as Flux clones it, through Gitea's in-cluster Service.
pub fn gitops_url_in_cluster(config: &Config) -> String {
    format!(
        "{}/{}/{}.git",
        gitea_url_in_cluster(),
        config.cluster.gitea_admin,
        config.cluster.gitops_repo
    )
}

/// The HelmChart first: it brings the CRDs the two others need.
pub(super) fn manifests(config: &Config) -> Vec<Manifest> {
    let chart = App {
        component: Component::Flux,
        name: "flux2",
        namespace: CHARTS_NAMESPACE,
    };
    let gitops = App {
        component: Component::Flux,
        name: "gitops",
        namespace: FLUX_NAMESPACE,
    };
    let unused = json!({ "create": false });
    let values = json!({
        "helmController": unused,
        "imageAutomationController": unused,
        "imageReflectionController": unused,
        "notificationController": unused,
    });
    let source = GitRepositorySpec {
        url: gitops_url_in_cluster(config),
        interval: "1m".into(),
        reference: GitRepositoryRef {
            branch: GITOPS_BRANCH.into(),
        },
        secret_ref: Some(LocalRef {
            name: GITOPS_AUTH_SECRET.into(),
        }),
    };
    let kustomization = KustomizationSpec {
        interval: "5m".into(),
        path: "./".into(),
        prune: true,
        source_ref: SourceRef {
            kind: "GitRepository".into(),
            name: GITOPS_SOURCE.into(),
        },
        wait: true,
        timeout: "10m".into(),
    };
    vec![
        chart.helm_chart(
            REPO,
            &config.cluster.flux_chart_version,
            FLUX_NAMESPACE,
            &values,
            None,
        ),
        gitops.manifest(GitRepository::new(GITOPS_SOURCE, FLUX_NAMESPACE, source)),
        gitops.manifest(Kustomization::new(
            GITOPS_KUSTOMIZATION,
            FLUX_NAMESPACE,
            kustomization,
        )),
    ]
}
