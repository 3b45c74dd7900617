//! Secrets the lab needs. They are generated in the cluster on first `up` (or taken from
//! the config where it sets them) and never rendered, committed or overwritten: data
//! written with a password must keep finding it.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{ObjectMeta, Patch, PatchParams, PostParams};

use crate::config::{Config, SecretError};

use super::Component;
use super::manifests::{
    COMPONENT_LABEL, FLUX_NAMESPACE, GITEA_ADMIN_SECRET, GITEA_NAMESPACE, GITOPS_AUTH_SECRET,
    PART_OF_LABEL, REDIS_SECRET, SERVER_SECRET, TOKENS_SECRET, forwarded_credentials,
};
use super::objects::FIELD_MANAGER;

/// Where one key's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Random,
    Value(String),
    /// The value of `key` in another secret, e.g. Flux's copy of the Gitea credentials.
    CopyOf {
        namespace: String,
        name: String,
        key: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    pub component: Component,
    pub namespace: String,
    pub name: String,
    pub keys: Vec<(&'static str, Source)>,
}

/// The secrets `component` needs before its objects can start.
pub fn needed(component: Component, config: &Config) -> Result<Vec<Needed>, SecretError> {
    let cluster = &config.cluster;
    let secret = |namespace: &str, name: &str, keys| Needed {
        component,
        namespace: namespace.into(),
        name: name.into(),
        keys,
    };
    let configured_or_random = |value: Option<String>| value.map_or(Source::Random, Source::Value);
    Ok(match component {
        Component::Redis => vec![secret(
            &cluster.namespace,
            REDIS_SECRET,
            vec![("password", Source::Random)],
        )],
        Component::Gitea => vec![secret(
            GITEA_NAMESPACE,
            GITEA_ADMIN_SECRET,
            vec![
                ("username", Source::Value(cluster.gitea_admin.clone())),
                ("password", Source::Random),
            ],
        )],
        Component::Flux => {
            let copy = |key: &str| Source::CopyOf {
                namespace: GITEA_NAMESPACE.into(),
                name: GITEA_ADMIN_SECRET.into(),
                key: key.into(),
            };
            vec![secret(
                FLUX_NAMESPACE,
                GITOPS_AUTH_SECRET,
                vec![
                    ("username", copy("username")),
                    ("password", copy("password")),
                ],
            )]
        }
        Component::Ci => {
            let server = &config.server;
            vec![secret(
                &cluster.namespace,
                SERVER_SECRET,
                vec![
                    ("token", configured_or_random(server.token.reveal()?)),
                    (
                        "gitea-webhook-secret",
                        configured_or_random(server.gitea_webhook_secret.reveal()?),
                    ),
                    (
                        "github-webhook-secret",
                        configured_or_random(server.github_webhook_secret.reveal()?),
                    ),
                ],
            )]
        }
        Component::K3s
        | Component::Namespaces
        | Component::Keda
        | Component::Gpu
        | Component::Sparky => Vec::new(),
    })
}

/// 256 random bits as hex, from the OS generator (through uuid's v4).
fn random_value() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Creates the secret unless it exists. Returns whether it was created.
pub async fn ensure(client: &kube::Client, needed: &Needed) -> Result<bool, kube::Error> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &needed.namespace);
    if api.get_opt(&needed.name).await?.is_some() {
        return Ok(false);
    }
    let mut data = BTreeMap::new();
    for (key, source) in &needed.keys {
        let value = match source {
            Source::Random => random_value().into_bytes(),
            Source::Value(value) => value.clone().into_bytes(),
            Source::CopyOf {
                namespace,
                name,
                key,
            } => read_key(client, namespace, name, key).await?,
        };
        data.insert((*key).to_string(), ByteString(value));
    }
    let secret = secret(needed.component, &needed.namespace, &needed.name, data);
    match api.create(&PostParams::default(), &secret).await {
        Ok(_) => Ok(true),
        // Created by a concurrent run in between: theirs stands.
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(error) => Err(error),
    }
}

fn secret(
    component: Component,
    namespace: &str,
    name: &str,
    data: BTreeMap<String, ByteString>,
) -> Secret {
    let labels = BTreeMap::from([
        (PART_OF_LABEL.to_string(), "raibid".to_string()),
        (COMPONENT_LABEL.to_string(), component.name().to_string()),
    ]);
    Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(namespace.into()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        data: Some(data),
        ..Secret::default()
    }
}

/// The API credentials the config sets ([`forwarded_credentials`]), for the pods. Unlike
/// generated secrets they follow the config: `up` rewrites them when it changes.
pub fn tokens(config: &Config) -> Result<BTreeMap<String, String>, SecretError> {
    let mut tokens = BTreeMap::new();
    for (key, _, secret) in forwarded_credentials(config) {
        if let Some(value) = secret.reveal()? {
            tokens.insert(key.to_string(), value);
        }
    }
    Ok(tokens)
}

/// Whether [`TOKENS_SECRET`] holds exactly `tokens` (nothing to forward is always so).
pub async fn tokens_in_sync(
    client: &kube::Client,
    namespace: &str,
    tokens: &BTreeMap<String, String>,
) -> Result<bool, kube::Error> {
    if tokens.is_empty() {
        return Ok(true);
    }
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let held = api
        .get_opt(TOKENS_SECRET)
        .await?
        .and_then(|s| s.data)
        .unwrap_or_default();
    Ok(tokens
        .iter()
        .all(|(key, value)| held.get(key).is_some_and(|b| b.0 == value.as_bytes())))
}

/// Writes `tokens` into [`TOKENS_SECRET`] by server-side apply.
pub async fn forward_tokens(
    client: &kube::Client,
    namespace: &str,
    tokens: &BTreeMap<String, String>,
) -> Result<(), kube::Error> {
    write(client, namespace, TOKENS_SECRET, tokens).await
}

/// Writes `values` as the whole of the CI secret `name`, by server-side apply.
pub async fn write(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    values: &BTreeMap<String, String>,
) -> Result<(), kube::Error> {
    let data = values
        .iter()
        .map(|(key, value)| (key.clone(), ByteString(value.clone().into_bytes())))
        .collect();
    let mut secret = secret(Component::Ci, namespace, name, data);
    secret.type_ = Some("Opaque".into());
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch(name, &params, &Patch::Apply(&secret))
        .await
        .map(drop)
}

/// One key of a secret as text; `None` when the secret or the key is missing.
pub async fn read_text(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<Option<String>, kube::Error> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    Ok(api
        .get_opt(name)
        .await?
        .and_then(|secret| secret.data)
        .and_then(|mut data| data.remove(key))
        .and_then(|bytes| String::from_utf8(bytes.0).ok()))
}

/// One key of a secret, as bytes.
pub async fn read_key(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<Vec<u8>, kube::Error> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = api.get(name).await?;
    Ok(secret
        .data
        .and_then(|mut data| data.remove(key))
        .map(|bytes| bytes.0)
        .unwrap_or_default())
}
