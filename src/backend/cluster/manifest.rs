//! A rendered object ready to apply: its API identity and its JSON, type-erased so steps
//! can hold Deployments, Secrets and custom resources in one list.

use kube::api::{ApiResource, DynamicObject};
use kube::{Resource, ResourceExt};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub resource: ApiResource,
    pub object: DynamicObject,
}

impl Manifest {
    /// Erases a typed object (k8s-openapi or one of `crds`), keeping `apiVersion` and `kind`.
    pub fn new<K>(object: &K) -> Manifest
    where
        K: Resource<DynamicType = ()> + Serialize,
    {
        let value = serde_json::to_value(object).expect("typed objects serialize to JSON");
        let object = serde_json::from_value(value).expect("every object has metadata");
        Manifest {
            resource: ApiResource::erase::<K>(&()),
            object,
        }
    }

    pub fn kind(&self) -> &str {
        &self.resource.kind
    }

    pub fn name(&self) -> String {
        self.object.name_any()
    }

    pub fn namespace(&self) -> Option<String> {
        self.object.namespace()
    }

    /// `Kind namespace/name`, as users read it in logs.
    pub fn describe(&self) -> String {
        match self.namespace() {
            Some(namespace) => format!("{} {namespace}/{}", self.kind(), self.name()),
            None => format!("{} {}", self.kind(), self.name()),
        }
    }

    /// The file this object is rendered to: `<namespace>.<kind>.<name>.yaml`, unique per object.
    pub fn file_name(&self) -> String {
        let namespace = self.namespace().unwrap_or_else(|| "cluster".into());
        format!(
            "{namespace}.{}.{}.yaml",
            self.kind().to_ascii_lowercase(),
            self.name()
        )
    }

    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(&self.object).expect("JSON objects serialize to YAML")
    }
}

/// Several manifests as one multi-document YAML stream.
pub fn to_yaml_stream(manifests: &[Manifest]) -> String {
    manifests
        .iter()
        .map(|manifest| format!("---\n{}", manifest.to_yaml()))
        .collect()
}
