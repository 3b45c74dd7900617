//! The custom resources raibid renders, as typed structs holding the fields it sets and
//! reads. Field names follow the upstream CRDs (tests validate rendered objects against
//! their schemas); unknown fields in objects read back from a cluster are ignored.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::batch::v1::JobSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::{Deserialize, Serialize};

/// A namespaced custom resource: `apiVersion`, `kind`, metadata, spec and status, plus its
/// `kube::Resource` identity.
macro_rules! custom_resource {
    ($name:ident, $spec:ty, $status:ty, $group:literal, $version:literal, $plural:literal) => {
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            pub api_version: String,
            pub kind: String,
            pub metadata: ObjectMeta,
            pub spec: $spec,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub status: Option<$status>,
        }

        impl $name {
            pub fn new(name: &str, namespace: &str, spec: $spec) -> $name {
                $name {
                    api_version: concat!($group, "/", $version).into(),
                    kind: stringify!($name).into(),
                    metadata: ObjectMeta {
                        name: Some(name.into()),
                        namespace: Some(namespace.into()),
                        ..ObjectMeta::default()
                    },
                    spec,
                    status: None,
                }
            }
        }

        impl Resource for $name {
            type DynamicType = ();
            type Scope = NamespaceResourceScope;

            fn kind(_: &()) -> Cow<'_, str> {
                stringify!($name).into()
            }
            fn group(_: &()) -> Cow<'_, str> {
                $group.into()
            }
            fn version(_: &()) -> Cow<'_, str> {
                $version.into()
            }
            fn plural(_: &()) -> Cow<'_, str> {
                $plural.into()
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

custom_resource!(
    HelmChart,
    HelmChartSpec,
    HelmChartStatus,
    "helm.cattle.io",
    "v1",
    "helmcharts"
);
custom_resource!(
    ScaledJob,
    ScaledJobSpec,
    ConditionsStatus,
    "keda.sh",
    "v1alpha1",
    "scaledjobs"
);
custom_resource!(
    TriggerAuthentication,
    TriggerAuthenticationSpec,
    serde_json::Value,
    "keda.sh",
    "v1alpha1",
    "triggerauthentications"
);
custom_resource!(
    GitRepository,
    GitRepositorySpec,
    GitRepositoryStatus,
    "source.toolkit.fluxcd.io",
    "v1",
    "gitrepositories"
);
custom_resource!(
    Kustomization,
    KustomizationSpec,
    KustomizationStatus,
    "kustomize.toolkit.fluxcd.io",
    "v1",
    "kustomizations"
);

/// A status condition as KEDA, Flux and helm-controller write it (only type and status
/// are always present).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionsStatus {
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// k3s' helm-controller installs `chart` from `repo` by running a helm-install Job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartSpec {
    pub chart: String,
    pub repo: String,
    pub version: String,
    pub target_namespace: String,
    pub create_namespace: bool,
    /// The chart's values as a YAML document.
    pub values_content: String,
    /// How long helm may take, e.g. `10m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartStatus {
    /// The helm-install (or helm-delete) Job the controller runs for the chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaledJobSpec {
    pub job_target_ref: JobSpec,
    pub polling_interval: i32,
    pub max_replica_count: i32,
    pub successful_jobs_history_limit: i32,
    pub failed_jobs_history_limit: i32,
    pub scaling_strategy: ScalingStrategy,
    pub triggers: Vec<ScaleTrigger>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingStrategy {
    /// `default`, `custom` or `accurate`.
    pub strategy: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleTrigger {
    #[serde(rename = "type")]
    pub type_: String,
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_ref: Option<LocalRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LocalRef {
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerAuthenticationSpec {
    pub secret_target_ref: Vec<SecretTargetRef>,
}

/// Fills a trigger `parameter` from `key` of secret `name`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SecretTargetRef {
    pub parameter: String,
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositorySpec {
    pub url: String,
    pub interval: String,
    #[serde(rename = "ref")]
    pub reference: GitRepositoryRef,
    /// Basic-auth `username`/`password` for the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GitRepositoryRef {
    pub branch: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryStatus {
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// `main@sha1:<commit>`.
    pub revision: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KustomizationSpec {
    pub interval: String,
    pub path: String,
    pub prune: bool,
    pub source_ref: SourceRef,
    /// Wait for the applied objects to become ready before reporting Ready.
    pub wait: bool,
    pub timeout: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceRef {
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KustomizationStatus {
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// `main@sha1:<commit>` of the last revision applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<String>,
}
