//! What the local fake servers share: each binds a free local port, serves its axum
//! router there until its handle is dropped, and reads the requests it is sent.

use std::collections::BTreeMap;
use std::future::Future;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, Uri};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// A free local port, bound but not served yet: a fake whose answers name its own
/// address builds its state from [`Listener::url`] before it starts serving.
pub struct Listener {
    listener: std::net::TcpListener,
    url: String,
}

/// A fake server at work; dropping it shuts the server down.
pub struct Server {
    url: String,
    shutdown: CancellationToken,
}

impl Listener {
    pub fn bind() -> Listener {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free local port");
        // Tokio takes over the socket, and polls it without blocking.
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let address = listener.local_addr().expect("the listener's address");
        Listener {
            listener,
            url: format!("http://{address}"),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Serves `app` on the calling test's tokio runtime.
    pub fn serve(self, app: Router) -> Server {
        let (server, serving) = self.into_server(app);
        tokio::spawn(serving);
        server
    }

    /// Serves `app` on a thread of its own, with its own runtime: usable from any test,
    /// with a runtime or without, and from benches.
    pub fn serve_on_thread(self, name: &str, app: Router) -> Server {
        let (server, serving) = self.into_server(app);
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the fake server")
                    .block_on(serving);
            })
            .expect("a thread for the fake server");
        server
    }

    /// The server's handle, and the work of serving `app` until the handle is dropped.
    fn into_server(self, app: Router) -> (Server, impl Future<Output = ()> + Send + 'static) {
        let shutdown = CancellationToken::new();
        let stopped = shutdown.clone().cancelled_owned();
        let listener = self.listener;
        let serving = async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await
                .expect("the fake server to serve until dropped");
        };
        let server = Server {
            url: self.url,
            shutdown,
        };
        (server, serving)
    }
}

impl Server {
    pub fn url(&self) -> String {
        self.url.clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A request as a fake reads it: its head, and its body as JSON.
pub struct Received {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    /// `null` when the body is empty or not JSON.
    pub body: Value,
}

impl Received {
    pub async fn read(request: Request) -> Received {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, 16 << 20)
            .await
            .unwrap_or_default();
        Received {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// The header's value, when it is there and is text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The path with the query, e.g. `/api/articles/me/all?per_page=100&page=1`.
    pub fn target(&self) -> String {
        self.uri
            .path_and_query()
            .map_or_else(|| self.uri.path().to_string(), |p| p.to_string())
    }

    /// The query's `name=value` pairs, as sent.
    pub fn query(&self) -> BTreeMap<String, String> {
        self.uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The path's segments: `/api/v1/statuses` is `["api", "v1", "statuses"]`.
    pub fn segments(&self) -> Vec<&str> {
        self.uri.path().trim_start_matches('/').split('/').collect()
    }
}
