//! Small builders shared by every component, so that labels, secret references, volumes
//! and charts are spelled one way only.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    HTTPGetAction, KeyToPath, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimVolumeSource, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    SecretKeySelector, SecretVolumeSource, Service, ServicePort, ServiceSpec, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::Resource;
use serde::Serialize;

use super::{COMPONENT_LABEL, PART_OF_LABEL};
use crate::backend::cluster::crds::{HelmChart, HelmChartSpec};
use crate::backend::cluster::{Component, Manifest};
use crate::config::ClusterConfig;

pub(super) const NAME_LABEL: &str = "app.kubernetes.io/name";
const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
const RAIBID: &str = "raibid";

/// One application of a component (its objects share the `name` label) in one namespace.
#[derive(Debug, Clone, Copy)]
pub(super) struct App<'a> {
    pub component: Component,
    pub name: &'a str,
    pub namespace: &'a str,
}

impl App<'_> {
    /// The four labels of every object and pod: `component` lets status and `down` find them.
    pub fn labels(&self) -> BTreeMap<String, String> {
        [
            (PART_OF_LABEL, RAIBID),
            (MANAGED_BY_LABEL, RAIBID),
            (COMPONENT_LABEL, self.component.name()),
            (NAME_LABEL, self.name),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
    }

    /// The app's pods by its name label alone: selectors cannot change later.
    fn selector_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(NAME_LABEL.to_owned(), self.name.to_owned())])
    }

    pub fn selector(&self) -> LabelSelector {
        LabelSelector {
            match_labels: Some(self.selector_labels()),
            match_expressions: None,
        }
    }

    /// Name and namespace of an object of the app (labels are added by [`App::manifest`]).
    pub fn meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(self.namespace.to_owned()),
            ..ObjectMeta::default()
        }
    }

    /// Labels `object` as the app's and erases its type.
    pub fn manifest<K>(&self, mut object: K) -> Manifest
    where
        K: Resource<DynamicType = ()> + Serialize,
    {
        object.meta_mut().labels = Some(self.labels());
        Manifest::new(&object)
    }

    /// Pods carry the object labels too, so that status finds them by component.
    pub fn pod_template(&self, spec: PodSpec) -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(self.labels()),
                ..ObjectMeta::default()
            }),
            spec: Some(spec),
        }
    }

    /// A Service named after the app, forwarding `port` to the same port of its pods.
    pub fn service(&self, port_name: &str, port: i32) -> Manifest {
        self.manifest(Service {
            metadata: self.meta(self.name),
            spec: Some(ServiceSpec {
                selector: Some(self.selector_labels()),
                ports: Some(vec![ServicePort {
                    name: Some(port_name.to_owned()),
                    port,
                    target_port: Some(IntOrString::Int(port)),
                    ..ServicePort::default()
                }]),
                ..ServiceSpec::default()
            }),
            status: None,
        })
    }

    /// One replica of `pod`, named after the app; `strategy` is `RollingUpdate` or
    /// `Recreate` (for pods holding a ReadWriteOnce volume or a GPU).
    pub fn deployment(&self, pod: PodSpec, strategy: &str) -> Manifest {
        self.manifest(Deployment {
            metadata: self.meta(self.name),
            spec: Some(DeploymentSpec {
                replicas: Some(1),
                selector: self.selector(),
                strategy: Some(DeploymentStrategy {
                    type_: Some(strategy.to_owned()),
                    ..DeploymentStrategy::default()
                }),
                template: self.pod_template(pod),
                ..DeploymentSpec::default()
            }),
            status: None,
        })
    }

    /// A PersistentVolumeClaim `name` of the app.
    pub fn pvc(&self, name: &str, cluster: &ClusterConfig, size: &str) -> Manifest {
        self.manifest(PersistentVolumeClaim {
            metadata: self.meta(name),
            spec: Some(pvc_spec(cluster, size)),
            status: None,
        })
    }

    /// A HelmChart for k3s' helm-controller installing chart `self.name` from `repo` into
    /// `target_namespace` (the HelmChart itself lives in the app's namespace).
    pub fn helm_chart(
        &self,
        repo: &str,
        version: &str,
        target_namespace: &str,
        values: &serde_json::Value,
        timeout: Option<&str>,
    ) -> Manifest {
        let spec = HelmChartSpec {
            chart: self.name.to_owned(),
            repo: repo.to_owned(),
            version: version.to_owned(),
            target_namespace: target_namespace.to_owned(),
            create_namespace: true,
            values_content: serde_saphyr::to_string(values).expect("JSON values serialize to YAML"),
            timeout: timeout.map(str::to_owned),
        };
        self.manifest(HelmChart::new(self.name, self.namespace, spec))
    }
}

/// `<service>.<namespace>.svc.cluster.local`: how pods reach a Service in any namespace.
pub(super) fn service_host(service: &str, namespace: &str) -> String {
    format!("{service}.{namespace}.svc.cluster.local")
}

/// A container `name` running `image`; callers fill in the rest. A digest or a version tag
/// names fixed content, so a node pulls it once (and a lab without internet keeps
/// starting pods); only `latest` or no tag is asked for again at every start.
pub(super) fn container(name: &str, image: &str) -> Container {
    let last = image.rsplit('/').next().unwrap_or(image);
    let fixed = last.contains('@') || last.split_once(':').is_some_and(|(_, tag)| tag != "latest");
    Container {
        name: name.to_owned(),
        image: Some(image.to_owned()),
        image_pull_policy: Some(if fixed { "IfNotPresent" } else { "Always" }.to_owned()),
        ..Container::default()
    }
}

pub(super) fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        value_from: None,
    }
}

/// An environment variable read from `key` of secret `secret`, so manifests never hold values.
pub(super) fn env_from_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    secret_env(name, secret, key, None)
}

/// The same for a key that may be missing: the variable is then unset.
pub(super) fn optional_env_from_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    secret_env(name, secret, key, Some(true))
}

fn secret_env(name: &str, secret: &str, key: &str, optional: Option<bool>) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.to_owned(),
                key: key.to_owned(),
                optional,
            }),
            ..EnvVarSource::default()
        }),
    }
}

/// `None` for no pairs, so that empty requests or limits are left out.
fn quantities(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, Quantity>> {
    (!pairs.is_empty()).then(|| {
        pairs
            .iter()
            .map(|(resource, amount)| ((*resource).to_owned(), Quantity((*amount).to_owned())))
            .collect()
    })
}

pub(super) fn resources(
    requests: &[(&str, &str)],
    limits: &[(&str, &str)],
) -> ResourceRequirements {
    ResourceRequirements {
        requests: quantities(requests),
        limits: quantities(limits),
        claims: None,
    }
}

/// ReadWriteOnce (the lab is one node) of `size`, in `storage_class` when one is set, else
/// the cluster's default class.
pub(super) fn pvc_spec(cluster: &ClusterConfig, size: &str) -> PersistentVolumeClaimSpec {
    PersistentVolumeClaimSpec {
        access_modes: Some(vec!["ReadWriteOnce".to_owned()]),
        resources: Some(VolumeResourceRequirements {
            requests: quantities(&[("storage", size)]),
            limits: None,
        }),
        storage_class_name: (!cluster.storage_class.is_empty())
            .then(|| cluster.storage_class.clone()),
        ..PersistentVolumeClaimSpec::default()
    }
}

pub(super) fn pvc_volume(name: &str, claim: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: claim.to_owned(),
            read_only: None,
        }),
        ..Volume::default()
    }
}

pub(super) fn config_map_volume(name: &str, config_map: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map.to_owned(),
            ..ConfigMapVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// A Secret's keys as files readable by their owner only (mode 0400).
pub(super) fn secret_volume(name: &str, secret: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            default_mode: Some(0o400),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    }
}

/// One key of a Secret as a file readable by its owner only; the Secret or the key may be
/// missing, and the file with it.
pub(super) fn optional_secret_key_volume(name: &str, secret: &str, key: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            default_mode: Some(0o400),
            items: Some(vec![KeyToPath {
                key: key.to_owned(),
                path: key.to_owned(),
                mode: None,
            }]),
            optional: Some(true),
        }),
        ..Volume::default()
    }
}

pub(super) fn empty_dir_volume(name: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    }
}

pub(super) fn mount(volume: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: volume.to_owned(),
        mount_path: path.to_owned(),
        ..VolumeMount::default()
    }
}

pub(super) fn container_port(name: &str, port: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_owned()),
        container_port: port,
        ..ContainerPort::default()
    }
}

pub(super) fn http_probe(path: &str, port: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::Int(port),
            ..HTTPGetAction::default()
        }),
        ..Probe::default()
    }
}
