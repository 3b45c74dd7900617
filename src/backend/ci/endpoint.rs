//! Which queue the console, `raibid jobs` and `raibid status` reach: the one `ci.redis_url`
//! names; when it is not set, the lab's Redis through a port-forward when the kubeconfig
//! reaches a cluster running it; else the local default.

use crate::backend::cluster::connect::{connect, kubeconfig_path};
use crate::backend::cluster::forward::{ForwardError, QueueForward};
use crate::backend::queue::{Queue, QueueSettings, mask_url};
use crate::config::{CiConfig, Config, LOCAL_REDIS_URL};

pub struct QueueEndpoint {
    url: String,
    shown: String,
    /// Open while the endpoint is in use: the port-forward to the lab's Redis.
    forward: Option<QueueForward>,
    /// Why the lab's queue is not the one used, when `ci.redis_url` is not set.
    no_lab: Option<String>,
}

impl QueueEndpoint {
    /// Fails only when the cluster runs the lab's Redis and it cannot be forwarded to.
    pub async fn find(config: &Config) -> Result<QueueEndpoint, ForwardError> {
        let configured = &config.ci.redis_url;
        if !configured.is_empty() {
            return Ok(QueueEndpoint::at(configured, None));
        }
        Ok(match lab(config).await? {
            Lab::Forwarded(forward) => QueueEndpoint {
                url: forward.url().into(),
                shown: forward.shown().into(),
                forward: Some(forward),
                no_lab: None,
            },
            Lab::Absent(why) => QueueEndpoint::at(LOCAL_REDIS_URL, Some(why)),
        })
    }

    fn at(url: &str, no_lab: Option<String>) -> QueueEndpoint {
        QueueEndpoint {
            url: url.into(),
            shown: mask_url(url),
            forward: None,
            no_lab,
        }
    }

    /// The URL to connect to; it may hold a password: never show it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What to show for this queue: the lab's (`lab (raibid/redis-0 via port-forward)`) or
    /// the URL with its password masked.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The lab's queue, whose agents KEDA scales.
    pub fn is_lab(&self) -> bool {
        self.forward.is_some()
    }

    /// Connects the queue's client; an error says why the lab's queue was not used.
    pub async fn connect(&self, ci: &CiConfig) -> Result<Queue, String> {
        let settings = QueueSettings::from_config(ci);
        Queue::connect(&self.url, &ci.queue_prefix, settings)
            .await
            .map_err(|error| match &self.no_lab {
                Some(why) => format!("{error} (not the lab's queue: {why})"),
                None => error.to_string(),
            })
    }
}

enum Lab {
    Forwarded(QueueForward),
    /// Why no lab's Redis is in reach.
    Absent(String),
}

async fn lab(config: &Config) -> Result<Lab, ForwardError> {
    let Ok(path) = kubeconfig_path(&config.cluster.kubeconfig) else {
        return Ok(Lab::Absent("no kubeconfig".into()));
    };
    let client = match connect(&path).await {
        Ok((client, _)) => client,
        Err(error) => return Ok(Lab::Absent(error.to_string())),
    };
    let namespace = &config.cluster.namespace;
    Ok(match QueueForward::open(client, namespace).await? {
        Some(forward) => Lab::Forwarded(forward),
        None => Lab::Absent(format!("no Redis StatefulSet in namespace {namespace}")),
    })
}
