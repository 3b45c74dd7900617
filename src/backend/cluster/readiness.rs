//! Whether an object read from the cluster is ready, by kind: pure functions the waits and
//! the status read share.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use serde_json::Value;

use super::crds::{Condition, ConditionsStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Not yet, and what is awaited.
    Waiting(String),
    /// It will not get there by waiting; the reason.
    Failed(String),
}

impl Readiness {
    pub fn is_settled(&self) -> bool {
        !matches!(self, Readiness::Waiting(_))
    }
}

/// The readiness of `object` of `kind`. Kinds without a notion of readiness (Service,
/// ConfigMap, CronJob, ...) are ready once they exist; so is a PVC, which may stay Pending
/// until a pod uses it.
pub fn readiness(kind: &str, object: &Value) -> Readiness {
    match kind {
        "Deployment" => typed(object, deployment),
        "StatefulSet" => typed(object, stateful_set),
        "DaemonSet" => typed(object, daemon_set),
        "Job" => typed(object, job),
        "GitRepository" | "Kustomization" | "ScaledJob" => typed(object, ready_condition),
        _ => Readiness::Ready,
    }
}

fn typed<T: serde::de::DeserializeOwned>(object: &Value, check: fn(&T) -> Readiness) -> Readiness {
    match serde_json::from_value(object.clone()) {
        Ok(typed) => check(&typed),
        Err(error) => Readiness::Failed(format!("unexpected object: {error}")),
    }
}

fn generation_seen(generation: Option<i64>, observed: Option<i64>) -> bool {
    observed.unwrap_or(0) >= generation.unwrap_or(0)
}

fn deployment(deployment: &Deployment) -> Readiness {
    let wanted = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let Some(status) = &deployment.status else {
        return Readiness::Waiting(format!("0/{wanted} available"));
    };
    let conditions = status.conditions.as_deref().unwrap_or_default();
    if let Some(stuck) = conditions.iter().find(|c| {
        c.type_ == "Progressing"
            && c.status == "False"
            && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    }) {
        return Readiness::Failed(stuck.message.clone().unwrap_or_default());
    }
    let available = status.available_replicas.unwrap_or(0);
    let updated = status.updated_replicas.unwrap_or(0);
    if generation_seen(deployment.metadata.generation, status.observed_generation)
        && updated >= wanted
        && available >= wanted
    {
        Readiness::Ready
    } else {
        Readiness::Waiting(format!("{available}/{wanted} available"))
    }
}

fn stateful_set(set: &StatefulSet) -> Readiness {
    let wanted = set.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let status = set.status.as_ref();
    let ready = status.and_then(|s| s.ready_replicas).unwrap_or(0);
    let observed = status.and_then(|s| s.observed_generation);
    if generation_seen(set.metadata.generation, observed) && ready >= wanted {
        Readiness::Ready
    } else {
        Readiness::Waiting(format!("{ready}/{wanted} ready"))
    }
}

/// Every node it is scheduled on runs an updated, ready pod.
fn daemon_set(set: &DaemonSet) -> Readiness {
    let Some(status) = &set.status else {
        return Readiness::Waiting("not scheduled yet".into());
    };
    let wanted = status.desired_number_scheduled;
    let ready = status.number_ready;
    let updated = status.updated_number_scheduled.unwrap_or(0);
    if generation_seen(set.metadata.generation, status.observed_generation)
        && ready >= wanted
        && updated >= wanted
    {
        Readiness::Ready
    } else {
        Readiness::Waiting(format!("{ready}/{wanted} ready"))
    }
}

fn job(job: &Job) -> Readiness {
    let status = job.status.clone().unwrap_or_default();
    let conditions = status.conditions.unwrap_or_default();
    let holds = |kind: &str| {
        conditions
            .iter()
            .find(|c| c.type_ == kind && c.status == "True")
    };
    if holds("Complete").is_some() {
        return Readiness::Ready;
    }
    if let Some(failed) = holds("Failed") {
        let why = failed.message.clone().or(failed.reason.clone());
        return Readiness::Failed(why.unwrap_or_else(|| "the job failed".into()));
    }
    match status.failed.unwrap_or(0) {
        0 => Readiness::Waiting("running".into()),
        failures => Readiness::Waiting(format!("running, {failures} failed attempts")),
    }
}

/// KEDA and Flux objects: the `Ready` condition, and Flux's `Stalled` as a failure.
fn ready_condition(object: &ObjectWithConditions) -> Readiness {
    let conditions = object
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    let find = |kind: &str| conditions.iter().find(|c| c.type_ == kind);
    if let Some(stalled) = find("Stalled").filter(|c| c.status == "True") {
        return Readiness::Failed(describe(stalled));
    }
    match find("Ready") {
        Some(ready) if ready.status == "True" => Readiness::Ready,
        Some(ready) => Readiness::Waiting(describe(ready)),
        None => Readiness::Waiting("not reconciled yet".into()),
    }
}

fn describe(condition: &Condition) -> String {
    condition
        .message
        .clone()
        .or(condition.reason.clone())
        .unwrap_or_else(|| format!("{} is {}", condition.type_, condition.status))
}

#[derive(serde::Deserialize)]
struct ObjectWithConditions {
    status: Option<ConditionsStatus>,
}

/// The revision (`main@sha1:<commit>`) a Flux Kustomization last applied.
pub fn applied_revision(kustomization: &Value) -> Option<&str> {
    kustomization
        .pointer("/status/lastAppliedRevision")
        .and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_waits_for_the_observed_generation() {
        let stale = json!({
            "metadata": {"name": "x", "generation": 2},
            "spec": {"replicas": 1, "selector": {}, "template": {}},
            "status": {"observedGeneration": 1, "availableReplicas": 1, "updatedReplicas": 1}
        });
        assert_eq!(
            readiness("Deployment", &stale),
            Readiness::Waiting("1/1 available".into())
        );
        let mut fresh = stale.clone();
        fresh["status"]["observedGeneration"] = json!(2);
        assert_eq!(readiness("Deployment", &fresh), Readiness::Ready);
    }

    #[test]
    fn failed_job_and_stalled_flux_object_fail() {
        let job = json!({"metadata": {}, "status": {"conditions": [
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
             "message": "Job has reached the specified backoff limit"}]}});
        assert_eq!(
            readiness("Job", &job),
            Readiness::Failed("Job has reached the specified backoff limit".into())
        );
        let stalled = json!({"metadata": {}, "spec": {}, "status": {"conditions": [
            {"type": "Ready", "status": "False", "message": "kustomize build failed"},
            {"type": "Stalled", "status": "True", "message": "kustomize build failed"}]}});
        assert_eq!(
            readiness("Kustomization", &stalled),
            Readiness::Failed("kustomize build failed".into())
        );
    }

    #[test]
    fn daemon_set_waits_for_every_scheduled_pod() {
        let mut set = json!({
            "metadata": {"name": "x", "generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 1, "numberReady": 0,
                       "currentNumberScheduled": 1, "numberMisscheduled": 0,
                       "updatedNumberScheduled": 1}
        });
        assert_eq!(
            readiness("DaemonSet", &set),
            Readiness::Waiting("0/1 ready".into())
        );
        set["status"]["numberReady"] = json!(1);
        assert_eq!(readiness("DaemonSet", &set), Readiness::Ready);
    }

    #[test]
    fn kinds_without_readiness_are_ready_once_present() {
        assert_eq!(readiness("Service", &json!({})), Readiness::Ready);
    }
}
