//! The lab's queue seen from the host: a listener on 127.0.0.1 whose every connection is
//! port-forwarded through the Kubernetes API (kube's websocket port-forward) to the lab's
//! Redis pod, so the queue's client only needs a URL. Each connection looks the pod up
//! again, so a pod that restarted is reached by the next connection.

use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::Api;
use kube::api::ListParams;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::Component;
use super::connect::error_chain;
use super::manifests::{COMPONENT_LABEL, REDIS_PORT, REDIS_SECRET, REDIS_SERVICE};

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("cannot read the lab's Redis in namespace {namespace}: {reason}")]
    Api { namespace: String, reason: String },
    #[error("the lab's Redis secret {namespace}/{REDIS_SECRET} has no `password`")]
    NoPassword { namespace: String },
    #[error("the lab's Redis in namespace {namespace} has no running pod")]
    NoPod { namespace: String },
    #[error("cannot listen on 127.0.0.1 for the port-forward: {0}")]
    Listen(#[source] std::io::Error),
}

/// An open forward. Dropping it closes the listener and every forwarded connection.
pub struct QueueForward {
    url: String,
    shown: String,
    accept: JoinHandle<()>,
}

impl QueueForward {
    /// Opens the forward when `namespace` runs the lab's Redis (its StatefulSet exists),
    /// with the password from the Redis secret; `Ok(None)` when it does not.
    pub async fn open(
        client: kube::Client,
        namespace: &str,
    ) -> Result<Option<QueueForward>, ForwardError> {
        let api_error = |error: kube::Error| ForwardError::Api {
            namespace: namespace.into(),
            reason: error_chain(&error),
        };
        let sets = Api::<StatefulSet>::namespaced(client.clone(), namespace);
        if sets
            .get_opt(REDIS_SERVICE)
            .await
            .map_err(api_error)?
            .is_none()
        {
            return Ok(None);
        }
        let secrets = Api::<Secret>::namespaced(client.clone(), namespace);
        let password = secrets
            .get_opt(REDIS_SECRET)
            .await
            .map_err(api_error)?
            .and_then(|secret| secret.data?.remove("password"))
            .and_then(|bytes| String::from_utf8(bytes.0).ok())
            .filter(|password| !password.is_empty())
            .ok_or_else(|| ForwardError::NoPassword {
                namespace: namespace.into(),
            })?;
        let pods = Api::<Pod>::namespaced(client, namespace);
        let pod = running_pod(&pods)
            .await
            .map_err(api_error)?
            .ok_or_else(|| ForwardError::NoPod {
                namespace: namespace.into(),
            })?;
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(ForwardError::Listen)?;
        let local = listener.local_addr().map_err(ForwardError::Listen)?;
        Ok(Some(QueueForward {
            url: format!("redis://:{}@{local}/0", encode_userinfo(&password)),
            shown: format!("lab ({namespace}/{pod} via port-forward)"),
            accept: tokio::spawn(accept(listener, pods)),
        }))
    }

    /// `redis://:PASSWORD@127.0.0.1:PORT/0`: a secret, never to be shown or logged.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What the views and commands show, e.g. `lab (raibid/redis-0 via port-forward)`.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

impl Drop for QueueForward {
    fn drop(&mut self) {
        // The accept task owns the connections' tasks: aborting it ends them too.
        self.accept.abort();
    }
}

/// The name of a running Redis pod of the lab (the StatefulSet's, normally `redis-0`),
/// preferring one that is ready.
async fn running_pod(pods: &Api<Pod>) -> Result<Option<String>, kube::Error> {
    let selector = format!("{COMPONENT_LABEL}={}", Component::Redis.name());
    let listed = pods.list(&ListParams::default().labels(&selector)).await?;
    let running = listed.items.into_iter().filter(|pod| {
        let status = pod.status.as_ref();
        pod.metadata.deletion_timestamp.is_none()
            && status.and_then(|s| s.phase.as_deref()) == Some("Running")
    });
    let mut running: Vec<Pod> = running.collect();
    running.sort_by_key(|pod| !is_ready(pod));
    Ok(running.into_iter().find_map(|pod| pod.metadata.name))
}

fn is_ready(pod: &Pod) -> bool {
    let conditions = pod.status.as_ref().and_then(|s| s.conditions.as_ref());
    conditions.is_some_and(|all| all.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

async fn accept(listener: TcpListener, pods: Api<Pod>) {
    let mut connections = JoinSet::new();
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                connections.spawn(forward(socket, pods.clone()));
            }
            Err(error) => {
                // Out of file descriptors, say: wait rather than spin.
                tracing::warn!(%error, "port-forward: cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        while connections.try_join_next().is_some() {}
    }
}

async fn forward(socket: TcpStream, pods: Api<Pod>) {
    if let Err(reason) = forward_to_pod(socket, &pods).await {
        tracing::warn!(%reason, "port-forward to the lab's Redis failed");
    }
}

/// Carries one connection to the pod until either side closes it or the pod reports an
/// error on the port (e.g. nothing listens there).
async fn forward_to_pod(mut socket: TcpStream, pods: &Api<Pod>) -> Result<(), String> {
    let port = REDIS_PORT as u16;
    let pod = running_pod(pods)
        .await
        .map_err(|error| error_chain(&error))?
        .ok_or("the lab's Redis has no running pod")?;
    let mut forwarder = pods
        .portforward(&pod, &[port])
        .await
        .map_err(|error| format!("pod {pod}: {}", error_chain(&error)))?;
    let (Some(upstream), Some(failed)) = (forwarder.take_stream(port), forwarder.take_error(port))
    else {
        return Err(format!("pod {pod}: port {port} was not forwarded"));
    };
    let (mut from_client, mut to_client) = socket.split();
    let (mut from_pod, mut to_pod) = tokio::io::split(upstream);
    let result = tokio::select! {
        _ = tokio::io::copy(&mut from_client, &mut to_pod) => Ok(()),
        _ = tokio::io::copy(&mut from_pod, &mut to_client) => Ok(()),
        Some(message) = failed => Err(format!("pod {pod}, port {port}: {message}")),
    };
    forwarder.abort();
    result
}

/// `text` as the userinfo of a URL: everything but unreserved characters percent-encoded
/// (redis-rs decodes it).
fn encode_userinfo(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::encode_userinfo;

    #[test]
    fn passwords_are_encoded_for_a_url() {
        assert_eq!(encode_userinfo("0af3-._~"), "0af3-._~");
        assert_eq!(encode_userinfo("a@b:c/d%"), "a%40b%3Ac%2Fd%25");
    }
}
