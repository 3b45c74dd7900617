//! What an agent pod may reach: DNS, the queue's Redis, Gitea's web port and the internet
//! on ports 80 and 443 (forges and package registries), outside the cluster's own address
//! ranges. Nothing may connect to an agent. The server, Ollama, KEDA, the Kubernetes API
//! and every other pod are out of reach of the builds an agent runs.

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::builders::{App, NAME_LABEL};
use super::gitea::GITEA_HTTP_PORT;
use super::redis::{REDIS_PORT, REDIS_SERVICE};
use super::{CHARTS_NAMESPACE, GITEA_NAMESPACE};
use crate::backend::cluster::Manifest;
use crate::config::Config;

/// The label Kubernetes gives every namespace, its name.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The agents' NetworkPolicy, named after them and selecting their pods.
pub(super) fn policy(agent: &App, config: &Config) -> Manifest {
    let redis = NetworkPolicyPeer {
        pod_selector: Some(labels(NAME_LABEL, REDIS_SERVICE)),
        ..NetworkPolicyPeer::default()
    };
    // Gitea's chart labels its pods with the release name, `gitea`.
    let gitea = in_namespace(GITEA_NAMESPACE, labels(NAME_LABEL, "gitea"));
    // k3s' CoreDNS, in kube-system like the chart's jobs.
    let dns = in_namespace(CHARTS_NAMESPACE, labels("k8s-app", "kube-dns"));
    let internet = NetworkPolicyPeer {
        ip_block: Some(IPBlock {
            cidr: "0.0.0.0/0".into(),
            except: Some(config.cluster.agent_blocked_cidrs.clone()),
        }),
        ..NetworkPolicyPeer::default()
    };
    agent.manifest(NetworkPolicy {
        metadata: agent.meta(agent.name),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(agent.selector()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: None,
            egress: Some(vec![
                allow(dns, &[("UDP", 53), ("TCP", 53)]),
                allow(redis, &[("TCP", REDIS_PORT)]),
                allow(gitea, &[("TCP", i32::from(GITEA_HTTP_PORT))]),
                allow(internet, &[("TCP", 80), ("TCP", 443)]),
            ]),
        }),
    })
}

fn labels(key: &str, value: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some([(key.to_owned(), value.to_owned())].into()),
        match_expressions: None,
    }
}

fn in_namespace(namespace: &str, pods: LabelSelector) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(labels(NAMESPACE_NAME_LABEL, namespace)),
        pod_selector: Some(pods),
        ip_block: None,
    }
}

fn allow(peer: NetworkPolicyPeer, ports: &[(&str, i32)]) -> NetworkPolicyEgressRule {
    NetworkPolicyEgressRule {
        to: Some(vec![peer]),
        ports: Some(
            ports
                .iter()
                .map(|(protocol, port)| NetworkPolicyPort {
                    protocol: Some((*protocol).to_owned()),
                    port: Some(IntOrString::Int(*port)),
                    end_port: None,
                })
                .collect(),
        ),
    }
}
