//! The fake API's port-forward: `GET /api/v1/namespaces/NS/pods/NAME/portforward?ports=P`
//! upgraded to a websocket with the `v4.channel.k8s.io` subprotocol, as the API server
//! serves it (the only websocket subprotocol the kubelet's port-forward speaks; kube-rs
//! offers `v5.channel.k8s.io` first and then it).
//!
//! The wire format: every binary message starts with a channel byte. Port `i` of the
//! request has channel `2i` for data and `2i + 1` for errors, and the server's first
//! message on each of those channels is the port as 2 bytes little-endian. Each port's
//! data goes to the address [`FakeCluster::serve_port`] gave for it (a real redis-server,
//! say); a port with none gets an error message, as a port nothing listens on does.
//!
//! A forward stays with the pod object it started on: when that pod is deleted or replaced
//! (a new uid), the websocket is closed, as when a real pod's container stops.
//! Simplification: when one port's upstream connection closes, the whole websocket closes.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::{ApiError, FakeCluster, Key, Reply};

pub const PROTOCOL: &str = "v4.channel.k8s.io";

impl FakeCluster {
    /// Makes `port` of pod `namespace/pod` forward to `to`.
    pub fn serve_port(&self, namespace: &str, pod: &str, port: u16, to: SocketAddr) {
        let key = (namespace.to_string(), pod.to_string(), port);
        self.inner.ports.lock().unwrap().insert(key, to);
    }

    fn port_target(&self, namespace: &str, pod: &str, port: u16) -> Option<SocketAddr> {
        let key = (namespace.to_string(), pod.to_string(), port);
        self.inner.ports.lock().unwrap().get(&key).copied()
    }
}

/// Where each forwarded port of a pod goes: (namespace, pod, port) to an address.
pub type Ports = HashMap<(String, String, u16), SocketAddr>;

pub async fn portforward(
    State(cluster): State<FakeCluster>,
    Path((namespace, name)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    mut request: Request,
) -> Reply {
    let path = request.uri().path().to_string();
    cluster.record(&request.method().clone(), &path)?;
    let key = Key::new("v1", "pods", Some(&namespace), &name);
    let pod = cluster.store().objects.get(&key).cloned();
    let pod = pod.ok_or_else(|| ApiError::not_found(&key))?;
    if pod["status"]["phase"] != "Running" {
        let message = format!("pod {name} is not running and cannot be port-forwarded");
        return Err(ApiError::new(400, message));
    }
    let ports = parse_ports(query.get("ports").map_or("", String::as_str))?;
    let accept = handshake(request.headers())?;
    let uid = pod["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Subscribed before answering, so a pod replaced from now on is noticed.
    let changes = cluster.store().events.subscribe();
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        let forward = Forward {
            cluster,
            key,
            uid,
            ports,
        };
        forward.serve(socket, changes).await;
    });
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept.parse().unwrap());
    headers.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(PROTOCOL),
    );
    Ok(response)
}

fn parse_ports(text: &str) -> Result<Vec<u16>, ApiError> {
    let ports: Result<Vec<u16>, _> = text.split(',').map(str::parse).collect();
    match ports {
        Ok(ports) if !ports.is_empty() && !ports.contains(&0) => Ok(ports),
        _ => Err(ApiError::new(400, format!("invalid ports {text:?}"))),
    }
}

/// Checks the websocket upgrade request; returns the `Sec-WebSocket-Accept` value.
fn handshake(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if !value(header::UPGRADE).is_some_and(|v| v.eq_ignore_ascii_case("websocket")) {
        return Err(ApiError::new(400, "port-forward needs a websocket upgrade"));
    }
    let offered = value(header::SEC_WEBSOCKET_PROTOCOL).unwrap_or_default();
    if !offered.split(',').any(|p| p.trim() == PROTOCOL) {
        let message = format!("no supported subprotocol in {offered:?} (wants {PROTOCOL})");
        return Err(ApiError::new(400, message));
    }
    let key = value(header::SEC_WEBSOCKET_KEY)
        .ok_or_else(|| ApiError::new(400, "missing Sec-WebSocket-Key"))?;
    Ok(derive_accept_key(key.as_bytes()))
}

struct Forward {
    cluster: FakeCluster,
    key: Key,
    uid: String,
    ports: Vec<u16>,
}

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

impl Forward {
    async fn serve(
        self,
        mut socket: Socket,
        mut changes: tokio::sync::broadcast::Receiver<std::sync::Arc<super::Change>>,
    ) {
        let (upstream_tx, mut upstream) = mpsc::unbounded_channel::<(u8, Option<Vec<u8>>)>();
        let mut writers: Vec<Option<OwnedWriteHalf>> = Vec::new();
        for (index, &port) in self.ports.iter().enumerate() {
            let data = channel(index);
            for ch in [data, data + 1] {
                if socket.send(frame(ch, &port.to_le_bytes())).await.is_err() {
                    return;
                }
            }
            match self.connect(port).await {
                Ok(stream) => {
                    let (mut reader, writer) = stream.into_split();
                    writers.push(Some(writer));
                    let upstream_tx = upstream_tx.clone();
                    tokio::spawn(async move {
                        let mut buffer = vec![0; 16 * 1024];
                        while let Ok(n @ 1..) = reader.read(&mut buffer).await {
                            if upstream_tx
                                .send((data, Some(buffer[..n].to_vec())))
                                .is_err()
                            {
                                return;
                            }
                        }
                        let _ = upstream_tx.send((data, None));
                    });
                }
                Err(reason) => {
                    writers.push(None);
                    if socket
                        .send(frame(data + 1, reason.as_bytes()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
        let shutdown = self.cluster.inner.shutdown.clone();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                change = changes.recv() => match change {
                    Ok(change) if self.ends_with(&change) => break,
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        if !self.pod_is_there() {
                            break;
                        }
                    }
                    Err(_) => break,
                },
                Some((ch, bytes)) = upstream.recv() => match bytes {
                    Some(bytes) => {
                        if socket.send(frame(ch, &bytes)).await.is_err() {
                            return;
                        }
                    }
                    None => break,
                },
                message = socket.next() => match message {
                    Some(Ok(Message::Binary(bytes))) if bytes.len() > 1 => {
                        let index = usize::from(bytes[0] / 2);
                        if bytes[0] % 2 == 0
                            && let Some(Some(writer)) = writers.get_mut(index)
                            && writer.write_all(&bytes[1..]).await.is_err()
                        {
                            break;
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                    Some(Ok(_)) => {}
                },
            }
        }
        let _ = socket.close(None).await;
    }

    /// The upstream connection of `port`, or the error the pod's port-forward reports.
    async fn connect(&self, port: u16) -> Result<TcpStream, String> {
        let (namespace, pod) = (self.key.namespace.as_deref().unwrap(), &self.key.name);
        let failed = |reason: &str| {
            format!(
                "error forwarding port {port} to pod {pod}, uid {}: {reason}",
                self.uid
            )
        };
        let to = self
            .cluster
            .port_target(namespace, pod, port)
            .ok_or_else(|| failed("connection refused"))?;
        TcpStream::connect(to)
            .await
            .map_err(|error| failed(&error.to_string()))
    }

    /// Whether `change` deletes the pod or replaces it with another (a new uid).
    fn ends_with(&self, change: &super::Change) -> bool {
        change.key == self.key
            && change
                .new
                .as_ref()
                .is_none_or(|pod| pod["metadata"]["uid"] != self.uid.as_str())
    }

    fn pod_is_there(&self) -> bool {
        let store = self.cluster.store();
        let pod = store.objects.get(&self.key);
        pod.is_some_and(|pod| pod["metadata"]["uid"] == self.uid.as_str())
    }
}

fn channel(port_index: usize) -> u8 {
    u8::try_from(2 * port_index).expect("at most 128 ports")
}

fn frame(channel: u8, payload: &[u8]) -> Message {
    let mut bytes = Vec::with_capacity(payload.len() + 1);
    bytes.push(channel);
    bytes.extend_from_slice(payload);
    Message::binary(bytes)
}
