//! Reading, applying, deleting and awaiting rendered objects with kube-rs: server-side
//! apply as field manager `raibid`, readiness from watchers.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::runtime::watcher::watch_object;
use serde_json::Value;
use tokio_stream::StreamExt;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Secret};

use crate::config::Config;

use super::crds::HelmChart;
use super::manifests::{self, CHARTS_NAMESPACE, COMPONENT_LABEL};
use super::readiness::{Readiness, readiness};
use super::{Component, Manifest};

pub const FIELD_MANAGER: &str = "raibid";

/// The kube client and how long a wait may take.
#[derive(Clone)]
pub struct Objects {
    pub client: kube::Client,
    pub wait_timeout: Duration,
}

/// Why an operation on the cluster failed, in words for the step's log.
pub type Failure = String;

fn api(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    match namespace {
        Some(namespace) => Api::namespaced_with(client.clone(), namespace, resource),
        None => Api::all_with(client.clone(), resource),
    }
}

fn describe_error(what: &str, error: &kube::Error) -> Failure {
    match error {
        kube::Error::Api(status) => format!("{what}: {} ({})", status.message, status.code),
        other => format!("{what}: {}", super::connect::error_chain(other)),
    }
}

impl Objects {
    fn api_for(&self, manifest: &Manifest) -> Api<DynamicObject> {
        api(
            &self.client,
            &manifest.resource,
            manifest.namespace().as_deref(),
        )
    }

    /// The object as the cluster has it, or `None`.
    pub async fn get(&self, manifest: &Manifest) -> Result<Option<DynamicObject>, Failure> {
        self.api_for(manifest)
            .get_opt(&manifest.name())
            .await
            .map_err(|e| describe_error(&format!("reading {}", manifest.describe()), &e))
    }

    pub async fn apply(&self, manifest: &Manifest) -> Result<(), Failure> {
        let params = PatchParams::apply(FIELD_MANAGER).force();
        self.api_for(manifest)
            .patch(&manifest.name(), &params, &Patch::Apply(&manifest.object))
            .await
            .map(drop)
            .map_err(|e| describe_error(&format!("applying {}", manifest.describe()), &e))
    }

    /// Deletes the object (children in the background) and waits until it is gone.
    pub async fn delete(&self, manifest: &Manifest) -> Result<(), Failure> {
        let api = self.api_for(manifest);
        let name = manifest.name();
        match api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => return Ok(()),
            Err(e) => {
                return Err(describe_error(
                    &format!("deleting {}", manifest.describe()),
                    &e,
                ));
            }
        }
        let gone = self
            .watch_until(
                api,
                &name,
                &manifest.describe(),
                |object| match object {
                    None => Readiness::Ready,
                    Some(_) => Readiness::Waiting("being deleted".into()),
                },
                &mut |_| {},
            )
            .await?;
        match gone {
            Readiness::Ready => Ok(()),
            other => Err(format!("{}: {other:?}", manifest.describe())),
        }
    }

    /// Readiness right now. A HelmChart is ready once its helm-install Job completed and
    /// the workloads in its target namespace are ready (it has no Ready condition).
    pub async fn readiness(&self, manifest: &Manifest) -> Result<Readiness, Failure> {
        if manifest.kind() == "HelmChart" {
            return self.chart_readiness(manifest).await;
        }
        self.plain_readiness(manifest).await
    }

    async fn plain_readiness(&self, manifest: &Manifest) -> Result<Readiness, Failure> {
        Ok(match self.get(manifest).await? {
            None => Readiness::Waiting("not created".into()),
            Some(object) => readiness(manifest.kind(), &to_value(&object)),
        })
    }

    /// Waits, watching, until the object is ready or failed, logging each new reason.
    pub async fn wait_ready(
        &self,
        manifest: &Manifest,
        log: &mut (dyn FnMut(String) + Send),
    ) -> Result<(), Failure> {
        if manifest.kind() == "HelmChart" {
            return match self.wait_chart(manifest, log).await? {
                Readiness::Ready => Ok(()),
                Readiness::Failed(why) | Readiness::Waiting(why) => {
                    Err(format!("{}: {why}", manifest.describe()))
                }
            };
        }
        self.wait_plain(manifest, log).await
    }

    async fn wait_plain(
        &self,
        manifest: &Manifest,
        log: &mut (dyn FnMut(String) + Send),
    ) -> Result<(), Failure> {
        let kind = manifest.kind().to_string();
        self.wait_until(manifest, log, |object| match object {
            None => Readiness::Waiting("not created".into()),
            Some(object) => readiness(&kind, &to_value(object)),
        })
        .await
    }

    /// Waits, watching, until `judge` finds the object (or its absence) ready; a failed or
    /// timed-out verdict is the error.
    pub async fn wait_until(
        &self,
        manifest: &Manifest,
        log: &mut (dyn FnMut(String) + Send),
        judge: impl Fn(Option<&DynamicObject>) -> Readiness,
    ) -> Result<(), Failure> {
        let verdict = self
            .watch_until(
                self.api_for(manifest),
                &manifest.name(),
                &manifest.describe(),
                judge,
                log,
            )
            .await?;
        match verdict {
            Readiness::Ready => Ok(()),
            Readiness::Failed(why) | Readiness::Waiting(why) => {
                Err(format!("{}: {why}", manifest.describe()))
            }
        }
    }

    pub async fn delete_secret(&self, namespace: &str, name: &str) -> Result<(), Failure> {
        let secret = Manifest {
            resource: ApiResource::erase::<Secret>(&()),
            object: DynamicObject::new(name, &ApiResource::erase::<Secret>(&())).within(namespace),
        };
        self.delete(&secret).await
    }

    /// Deletes the component's volume claims, including those a StatefulSet's template made.
    pub async fn delete_claims(
        &self,
        component: Component,
        config: &Config,
    ) -> Result<(), Failure> {
        let resource = ApiResource::erase::<PersistentVolumeClaim>(&());
        let selector = format!("{COMPONENT_LABEL}={}", component.name());
        for namespace in manifests::namespaces(config) {
            let claims = api(&self.client, &resource, Some(&namespace));
            let list = claims
                .list(&ListParams::default().labels(&selector))
                .await
                .map_err(|e| {
                    describe_error(&format!("listing volume claims in {namespace}"), &e)
                })?;
            for object in list.items {
                self.delete(&Manifest {
                    resource: resource.clone(),
                    object,
                })
                .await?;
            }
        }
        Ok(())
    }

    /// Watches one object until `judge` says it is settled, or the wait times out.
    async fn watch_until(
        &self,
        api: Api<DynamicObject>,
        name: &str,
        what: &str,
        judge: impl Fn(Option<&DynamicObject>) -> Readiness,
        log: &mut (dyn FnMut(String) + Send),
    ) -> Result<Readiness, Failure> {
        let mut stream = std::pin::pin!(watch_object(api, name));
        let mut last = None;
        let watching = async {
            while let Some(event) = stream.next().await {
                let object = event
                    .map_err(|e| format!("watching {what}: {}", super::connect::error_chain(&e)))?;
                let verdict = judge(object.as_ref());
                if verdict.is_settled() {
                    return Ok(verdict);
                }
                if last.as_ref() != Some(&verdict) {
                    if let Readiness::Waiting(why) = &verdict {
                        log(format!("{what}: {why}"));
                    }
                    last = Some(verdict);
                }
            }
            Err(format!("watching {what}: the watch ended"))
        };
        tokio::time::timeout(self.wait_timeout, watching)
            .await
            .unwrap_or_else(|_| {
                let why = match last {
                    Some(Readiness::Waiting(why)) => why,
                    _ => "no change".into(),
                };
                Err(format!(
                    "{what}: not ready after {} s ({why})",
                    self.wait_timeout.as_secs()
                ))
            })
    }

    fn chart_job(&self, chart: &Manifest) -> (Api<DynamicObject>, String) {
        let jobs = ApiResource::erase::<k8s_openapi::api::batch::v1::Job>(&());
        let name = format!("helm-install-{}", chart.name());
        (api(&self.client, &jobs, Some(CHARTS_NAMESPACE)), name)
    }

    fn target_namespace(chart: &Manifest) -> Result<String, Failure> {
        let value = to_value(&chart.object);
        serde_json::from_value::<HelmChart>(value)
            .map(|chart| chart.spec.target_namespace)
            .map_err(|e| format!("{}: {e}", chart.describe()))
    }

    async fn chart_readiness(&self, chart: &Manifest) -> Result<Readiness, Failure> {
        if self.get(chart).await?.is_none() {
            return Ok(Readiness::Waiting("not created".into()));
        }
        let (jobs, name) = self.chart_job(chart);
        let job = jobs
            .get_opt(&name)
            .await
            .map_err(|e| describe_error(&format!("reading Job {name}"), &e))?;
        let installed = match job {
            None => Readiness::Waiting(format!("{name} not started")),
            Some(job) => readiness("Job", &to_value(&job)),
        };
        if installed != Readiness::Ready {
            return Ok(installed);
        }
        let workloads = self.workloads(&Self::target_namespace(chart)?).await?;
        if workloads.is_empty() {
            return Ok(Readiness::Waiting("no workloads yet".into()));
        }
        for workload in &workloads {
            let verdict = self.plain_readiness(workload).await?;
            if verdict != Readiness::Ready {
                return Ok(prefixed(workload, verdict));
            }
        }
        Ok(Readiness::Ready)
    }

    async fn wait_chart(
        &self,
        chart: &Manifest,
        log: &mut (dyn FnMut(String) + Send),
    ) -> Result<Readiness, Failure> {
        let (jobs, name) = self.chart_job(chart);
        let what = format!("Job {CHARTS_NAMESPACE}/{name}");
        let installed = self
            .watch_until(
                jobs,
                &name,
                &what,
                |job| match job {
                    None => Readiness::Waiting("helm-install not started".into()),
                    Some(job) => readiness("Job", &to_value(job)),
                },
                log,
            )
            .await?;
        if installed != Readiness::Ready {
            return Ok(installed);
        }
        let namespace = Self::target_namespace(chart)?;
        // The chart's workloads appear while helm installs them; the Job completes after.
        let workloads = self.workloads(&namespace).await?;
        if workloads.is_empty() {
            return Ok(Readiness::Failed(format!(
                "the chart installed no Deployment, StatefulSet or DaemonSet in {namespace}"
            )));
        }
        for workload in &workloads {
            self.wait_plain(workload, log).await?;
        }
        Ok(Readiness::Ready)
    }

    /// The Deployments, StatefulSets and DaemonSets in `namespace`, as manifests to await.
    async fn workloads(&self, namespace: &str) -> Result<Vec<Manifest>, Failure> {
        let mut found = Vec::new();
        for resource in [
            ApiResource::erase::<Deployment>(&()),
            ApiResource::erase::<StatefulSet>(&()),
            ApiResource::erase::<DaemonSet>(&()),
        ] {
            let list = api(&self.client, &resource, Some(namespace))
                .list(&ListParams::default())
                .await
                .map_err(|e| {
                    describe_error(&format!("listing {}s in {namespace}", resource.kind), &e)
                })?;
            found.extend(list.items.into_iter().map(|object| Manifest {
                resource: resource.clone(),
                object,
            }));
        }
        Ok(found)
    }
}

fn prefixed(manifest: &Manifest, verdict: Readiness) -> Readiness {
    match verdict {
        Readiness::Waiting(why) => Readiness::Waiting(format!("{}: {why}", manifest.describe())),
        Readiness::Failed(why) => Readiness::Failed(format!("{}: {why}", manifest.describe())),
        Readiness::Ready => Readiness::Ready,
    }
}

pub fn to_value(object: &DynamicObject) -> Value {
    serde_json::to_value(object).expect("objects serialize to JSON")
}
