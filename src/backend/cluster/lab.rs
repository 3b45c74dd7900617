//! The lab on a cluster: `up` brings components up step by step (check, apply, wait),
//! `down` removes them in reverse, `status` reads what runs. Components the console applies
//! itself use server-side apply; the raibid workloads go through the gitops repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use sha2::{Digest, Sha256};

use crate::backend::forge::gitea::{Gitea, GiteaAuth};
use crate::backend::image::{self, Credentials};
use crate::backend::mirror::push_hook::{self, PushHook};
use crate::backend::mirror::reader;
use crate::config::Config;

use super::connect::{ConnectError, connect, kubeconfig_path};
use super::crds::{GitRepository, Kustomization};
use super::gitops::{Drift, Gitops, GitopsError};
use super::manifests::{
    self, FLUX_NAMESPACE, GIT_CLONE_SECRET, GITEA_ADMIN_SECRET, GITEA_NAMESPACE,
    GITOPS_KUSTOMIZATION, GITOPS_SOURCE, SERVER_SECRET, TOKENS_SECRET,
};
use super::objects::{Failure, Objects, to_value};
use super::readiness::{Readiness, applied_revision};
use super::report::{Outcome, Progress, Reporter};
use super::{Component, Manifest, gpu, secrets};

/// Annotation holding a hash of the rendered object: a changed config shows as a mismatch.
pub const RENDERED_HASH: &str = "raibid.dev/rendered-hash";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", .component.title())]
pub struct StepFailed {
    pub component: Component,
    pub reason: String,
}

#[derive(Clone)]
pub struct Lab {
    objects: Objects,
    server: String,
    /// The config, with `cluster.image` as the manifests name it (see `image::lab`).
    config: Config,
    /// `cluster.image` is empty: the lab runs this binary's image, pushed by `up`.
    own_image: bool,
    data_dir: PathBuf,
    /// Held while git works in the gitops work tree.
    work_tree: Arc<Mutex<()>>,
}

/// Every component's objects in apply order, stamped with their hash; what `--render` writes.
pub fn rendered(component: Component, config: &Config) -> Vec<Manifest> {
    manifests::manifests(component, config)
        .into_iter()
        .map(stamp)
        .collect()
}

/// Adds the hash annotation, and keeps Flux from pruning volumes that hold data.
fn stamp(mut manifest: Manifest) -> Manifest {
    let json = to_value(&manifest.object).to_string();
    let hash = hex::encode(&Sha256::digest(json.as_bytes())[..8]);
    let is_claim = manifest.kind() == "PersistentVolumeClaim";
    let annotations = manifest.object.metadata.annotations.get_or_insert_default();
    annotations.insert(RENDERED_HASH.into(), hash);
    if is_claim {
        annotations.insert(
            "kustomize.toolkit.fluxcd.io/prune".into(),
            "disabled".into(),
        );
    }
    manifest
}

/// Gitea as the host reaches it: `gitea.url`, else its node port on 127.0.0.1.
pub fn gitea_url(config: &Config) -> String {
    match config.gitea.url.as_str() {
        "" => format!("http://127.0.0.1:{}", config.cluster.gitea_node_port),
        url => url.to_string(),
    }
}

/// The gitops file set of a component: file name -> YAML.
fn files(manifests: &[Manifest]) -> BTreeMap<String, String> {
    manifests
        .iter()
        .map(|manifest| (manifest.file_name(), manifest.to_yaml()))
        .collect()
}

impl Lab {
    pub async fn connect(config: &Config, data_dir: &Path) -> Result<Lab, ConnectError> {
        let path = kubeconfig_path(&config.cluster.kubeconfig)
            .map_err(|tried| ConnectError::Missing { tried })?;
        let (client, server) = connect(&path).await?;
        let mut rendering = config.clone();
        rendering.cluster.image = image::lab::rendered_image(config, data_dir);
        Ok(Lab {
            objects: Objects {
                client,
                wait_timeout: Duration::from_secs(config.cluster.wait_timeout_secs),
            },
            server,
            config: rendering,
            own_image: config.cluster.image.is_empty(),
            data_dir: data_dir.to_path_buf(),
            work_tree: Arc::default(),
        })
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    pub fn client(&self) -> &kube::Client {
        &self.objects.client
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Brings up `components` in order: check, apply when needed (always when `force`),
    /// wait. Stops at the first failure.
    pub async fn up(
        &self,
        components: &[Component],
        force: bool,
        progress: &Reporter,
    ) -> Result<(), StepFailed> {
        self.run(components, Run::Up { force }, progress).await
    }

    /// Removes `components` in reverse order; keeps data volumes unless `purge`.
    pub async fn down(
        &self,
        components: &[Component],
        purge: bool,
        progress: &Reporter,
    ) -> Result<(), StepFailed> {
        self.run(components, Run::Down { purge }, progress).await
    }

    async fn run(
        &self,
        components: &[Component],
        run: Run,
        progress: &Reporter,
    ) -> Result<(), StepFailed> {
        let mut order = components.to_vec();
        order.sort();
        order.dedup();
        if matches!(run, Run::Down { .. }) {
            order.reverse();
        }
        let mut with_image: Option<Lab> = None;
        for component in order {
            let _ = progress.send(Progress::Started(component));
            let result = match run {
                Run::Up { force } if component.runs_raibid_image() => {
                    // Made pullable before any pod waits on it: a bad image fails at once.
                    let lab = match with_image.take() {
                        Some(lab) => Ok(lab),
                        None => self.with_pullable_image(component, progress).await,
                    };
                    match lab {
                        Ok(lab) => {
                            let result = Step::new(&lab, component, progress).up(force).await;
                            with_image = Some(lab);
                            result
                        }
                        Err(reason) => Err(reason),
                    }
                }
                Run::Up { force } => Step::new(self, component, progress).up(force).await,
                Run::Down { purge } => Step::new(self, component, progress).down(purge).await,
            };
            match result {
                Ok(outcome) => {
                    let _ = progress.send(Progress::Finished(component, outcome));
                }
                Err(reason) => {
                    let _ = progress.send(Progress::Failed(component, reason.clone()));
                    return Err(StepFailed { component, reason });
                }
            }
        }
        Ok(())
    }

    /// What `up` would do for `component`, found without changing anything.
    pub async fn plan(&self, component: Component) -> String {
        if component == Component::K3s {
            return format!("in place: {} answers", self.server);
        }
        let (sink, mut said) = tokio::sync::mpsc::unbounded_channel();
        let manifests = rendered(component, &self.config);
        let verb = if component.via_gitops() {
            "commit"
        } else {
            "apply"
        };
        let found = Step::new(self, component, &sink).in_place(&manifests).await;
        let mut why = Vec::new();
        while let Ok(Progress::Log(_, line)) = said.try_recv() {
            why.push(line);
        }
        match found {
            Ok(true) => "in place: nothing to do".into(),
            Ok(false) => format!(
                "would {verb} {} objects ({})",
                manifests.len(),
                why.join("; ")
            ),
            Err(error) => format!(
                "would {verb} {} objects (check failed: {error})",
                manifests.len()
            ),
        }
    }

    /// The lab whose manifests name an image k3s can pull: the configured one, checked,
    /// or this binary's, pushed to Gitea's registry (see `image::lab`).
    async fn with_pullable_image(
        &self,
        component: Component,
        progress: &Reporter,
    ) -> Result<Lab, Failure> {
        let mut wanted = self.config.clone();
        if self.own_image {
            wanted.cluster.image.clear();
        }
        let admin = self.gitea_admin_credentials().await?;
        let mut log = |line: String| {
            let _ = progress.send(Progress::Log(component, line));
        };
        let image = image::lab::ensure(&wanted, admin, self.client(), &self.data_dir, &mut log)
            .await
            .map_err(|e| format!("image: {e}"))?;
        let mut lab = self.clone();
        lab.config.cluster.image = image;
        Ok(lab)
    }

    /// The gitops repository, reached on Gitea's node port (or `gitea.url`) with the
    /// generated admin credentials.
    pub async fn gitops(&self) -> Result<Gitops, Failure> {
        let cluster = &self.config.cluster;
        let password = self.gitea_admin_password().await?;
        Ok(Gitops::new(
            &gitea_url(&self.config),
            &cluster.gitea_admin,
            &cluster.gitops_repo,
            &password,
            &self.data_dir.join("gitops"),
        ))
    }

    async fn gitea_admin_password(&self) -> Result<String, Failure> {
        let password = secrets::read_key(
            &self.objects.client,
            GITEA_NAMESPACE,
            GITEA_ADMIN_SECRET,
            "password",
        )
        .await
        .map_err(|e| format!("reading secret {GITEA_NAMESPACE}/{GITEA_ADMIN_SECRET}: {e}"))?;
        String::from_utf8(password).map_err(|_| {
            format!("secret {GITEA_NAMESPACE}/{GITEA_ADMIN_SECRET} holds no text password")
        })
    }

    /// Gitea's API as its admin.
    async fn gitea_admin(&self) -> Result<Gitea, Failure> {
        let auth = GiteaAuth::Basic {
            user: self.config.cluster.gitea_admin.clone(),
            password: self.gitea_admin_password().await?,
        };
        Gitea::with_auth(&gitea_url(&self.config), auth).map_err(|e| e.to_string())
    }

    /// Gitea's push webhook on the mirrors organisation: to the in-cluster server, signed
    /// with the secret `up` generated for it.
    pub async fn push_hook(&self) -> Result<PushHook, Failure> {
        let namespace = &self.config.cluster.namespace;
        let key = "gitea-webhook-secret";
        let secret = secrets::read_text(self.client(), namespace, SERVER_SECRET, key)
            .await
            .map_err(|e| format!("reading secret {namespace}/{SERVER_SECRET}: {e}"))?
            .filter(|secret| !secret.is_empty())
            .ok_or_else(|| {
                format!(
                    "secret {namespace}/{SERVER_SECRET} has no {key}: run `raibid up --only ci`"
                )
            })?;
        let url = manifests::server_webhook_url(&self.config);
        Ok(PushHook::new(&url, secret))
    }

    /// Gitea's admin, with the generated password from its secret.
    async fn gitea_admin_credentials(&self) -> Result<Credentials, Failure> {
        Ok(Credentials {
            username: self.config.cluster.gitea_admin.clone(),
            password: self.gitea_admin_password().await?,
        })
    }

    /// How the component's folder in the gitops repository differs from the config.
    pub(super) async fn drift(&self, component: Component) -> Result<Drift, Failure> {
        let gitops = self.gitops().await?;
        let wanted = files(&rendered(component, &self.config));
        let folder = component.name().to_string();
        self.in_work_tree(gitops, move |gitops| gitops.drift(&folder, &wanted))
            .await
    }

    /// Runs blocking git work on the gitops work tree off the async threads, one piece at
    /// a time: status reads and runs share the tree.
    async fn in_work_tree<T: Send + 'static>(
        &self,
        gitops: Gitops,
        work: impl FnOnce(&Gitops) -> Result<T, GitopsError> + Send + 'static,
    ) -> Result<T, Failure> {
        let lock = Arc::clone(&self.work_tree);
        tokio::task::spawn_blocking(move || {
            let _alone = lock.lock().unwrap_or_else(PoisonError::into_inner);
            work(&gitops)
        })
        .await
        .map_err(|e| format!("gitops task: {e}"))?
        .map_err(|e| e.to_string())
    }

    pub(super) fn objects(&self) -> &Objects {
        &self.objects
    }
}

#[derive(Clone, Copy)]
enum Run {
    Up { force: bool },
    Down { purge: bool },
}

/// One component's run, logging as it goes.
struct Step<'a> {
    lab: &'a Lab,
    component: Component,
    progress: &'a Reporter,
    objects: Objects,
}

impl<'a> Step<'a> {
    fn new(lab: &'a Lab, component: Component, progress: &'a Reporter) -> Step<'a> {
        let mut objects = lab.objects.clone();
        if component == Component::Gpu {
            objects.wait_timeout = objects.wait_timeout.min(gpu::PLUGIN_TIMEOUT);
        }
        Step {
            lab,
            component,
            progress,
            objects,
        }
    }

    fn log(&self, line: impl Into<String>) {
        let _ = self
            .progress
            .send(Progress::Log(self.component, line.into()));
    }

    fn logger(&self) -> impl FnMut(String) + Send + 'a {
        let progress = self.progress.clone();
        let component = self.component;
        move |line| {
            let _ = progress.send(Progress::Log(component, line));
        }
    }

    fn objects(&self) -> &Objects {
        &self.objects
    }

    async fn up(&mut self, force: bool) -> Result<Outcome, Failure> {
        let config = &self.lab.config;
        if self.component == Component::K3s {
            return self.nodes_ready().await;
        }
        let manifests = rendered(self.component, config);
        if self.component == Component::Sparky {
            gpu::preflight(self.lab.client(), config.cluster.ollama_gpus).await?;
        }
        if !force && self.in_place(&manifests).await? {
            self.log("in place: nothing to do");
            return Ok(Outcome::AlreadyDone);
        }
        for needed in secrets::needed(self.component, config).map_err(|e| e.to_string())? {
            let created = secrets::ensure(self.lab.client(), &needed)
                .await
                .map_err(|e| format!("secret {}/{}: {e}", needed.namespace, needed.name))?;
            if created {
                self.log(format!(
                    "generated secret {}/{}",
                    needed.namespace, needed.name
                ));
            }
        }
        if self.component == Component::Ci {
            self.forward_tokens().await?;
            self.wire_gitea().await?;
        }
        if self.component == Component::Flux {
            let gitops = self.lab.gitops().await?;
            gitops
                .ensure_repository()
                .await
                .map_err(|e| e.to_string())?;
            self.log(format!(
                "gitops repository {}/{} ready",
                gitops.owner, gitops.name
            ));
        }
        if self.component.via_gitops() {
            self.commit(&manifests).await?;
        } else {
            self.apply(&manifests).await?;
        }
        let wanted = config.cluster.ollama_gpus;
        if self.component == Component::Gpu && wanted > 0 {
            let gpus =
                gpu::await_advertised(self.lab.client(), wanted, self.objects.wait_timeout).await?;
            self.log(format!("a node advertises {gpus} nvidia.com/gpu"));
        }
        Ok(Outcome::Applied)
    }

    /// Copies the API tokens the config sets into the cluster for the pods; only their
    /// names reach the log.
    async fn forward_tokens(&self) -> Result<(), Failure> {
        let namespace = &self.lab.config.cluster.namespace;
        let tokens = secrets::tokens(&self.lab.config).map_err(|e| e.to_string())?;
        if secrets::tokens_in_sync(self.lab.client(), namespace, &tokens)
            .await
            .map_err(|e| format!("reading secret {namespace}/{TOKENS_SECRET}: {e}"))?
        {
            return Ok(());
        }
        secrets::forward_tokens(self.lab.client(), namespace, &tokens)
            .await
            .map_err(|e| format!("writing secret {namespace}/{TOKENS_SECRET}: {e}"))?;
        let names: Vec<&str> = tokens.keys().map(String::as_str).collect();
        self.log(format!(
            "forwarded {} into secret {namespace}/{TOKENS_SECRET}",
            names.join(", ")
        ));
        Ok(())
    }

    /// The read-only credential agents clone with (before the agents: their pods mount
    /// it), then Gitea's push webhook on the mirrors organisation.
    async fn wire_gitea(&self) -> Result<(), Failure> {
        let config = &self.lab.config;
        let (namespace, org) = (&config.cluster.namespace, &config.mirror.gitea_org);
        let admin = self.lab.gitea_admin().await?;
        let held = self.held_clone_credential().await?;
        let ensured = reader::ensure(&admin, &[org.as_str()], held.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        if ensured.user_created {
            self.log(format!("created Gitea user {}", reader::READER));
        }
        for org in &ensured.teams_created {
            self.log(format!(
                "created read-only team {org}/{}",
                reader::READER_TEAM
            ));
        }
        if let Some(credential) = ensured.credential {
            let values = BTreeMap::from([("credentials".to_string(), credential)]);
            secrets::write(self.lab.client(), namespace, GIT_CLONE_SECRET, &values)
                .await
                .map_err(|e| format!("writing secret {namespace}/{GIT_CLONE_SECRET}: {e}"))?;
            self.log(format!(
                "stored a new read-only clone token of {} in secret {namespace}/{GIT_CLONE_SECRET}",
                reader::READER
            ));
        }
        let hook = self.lab.push_hook().await?;
        let change = push_hook::ensure(&admin, org, &hook)
            .await
            .map_err(|e| e.to_string())?;
        let done = match change {
            push_hook::HookChange::Created => "created",
            push_hook::HookChange::Updated => "updated",
            push_hook::HookChange::Kept => "in place",
        };
        self.log(format!(
            "Gitea push webhook on {org} -> {}: {done}",
            hook.url
        ));
        Ok(())
    }

    async fn held_clone_credential(&self) -> Result<Option<String>, Failure> {
        let namespace = &self.lab.config.cluster.namespace;
        secrets::read_text(
            self.lab.client(),
            namespace,
            GIT_CLONE_SECRET,
            "credentials",
        )
        .await
        .map_err(|e| format!("reading secret {namespace}/{GIT_CLONE_SECRET}: {e}"))
    }

    /// Whether the clone credential works and the push webhook is as `wire_gitea` leaves
    /// it (its secret aside: Gitea never shows it).
    async fn gitea_wired(&self) -> Result<bool, Failure> {
        let config = &self.lab.config;
        let admin = self.lab.gitea_admin().await?;
        let credential_works = match self.held_clone_credential().await? {
            Some(credential) => reader::works(&admin, &credential)
                .await
                .map_err(|e| e.to_string())?,
            None => false,
        };
        if !credential_works {
            self.log("the agents' clone credential is missing or refused");
            return Ok(false);
        }
        let url = manifests::server_webhook_url(config);
        let org = &config.mirror.gitea_org;
        if !push_hook::in_place(&admin, org, &url)
            .await
            .map_err(|e| e.to_string())?
        {
            self.log(format!("Gitea push webhook on {org} -> {url} is missing"));
            return Ok(false);
        }
        Ok(true)
    }

    /// The API answered when the lab connected; a node must be Ready for anything to run.
    async fn nodes_ready(&self) -> Result<Outcome, Failure> {
        let nodes = super::status::nodes(self.lab.client()).await?;
        let ready = nodes.iter().filter(|node| node.ready).count();
        self.log(format!(
            "{} answers; {ready}/{} nodes ready",
            self.lab.server,
            nodes.len()
        ));
        if ready == 0 {
            return Err("no node is Ready".into());
        }
        Ok(Outcome::AlreadyDone)
    }

    /// Every object present with the rendered hash and ready (and, for gitops components,
    /// committed and applied by Flux).
    async fn in_place(&self, manifests: &[Manifest]) -> Result<bool, Failure> {
        if self.component == Component::Ci {
            let namespace = &self.lab.config.cluster.namespace;
            let tokens = secrets::tokens(&self.lab.config).map_err(|e| e.to_string())?;
            let in_sync = secrets::tokens_in_sync(self.lab.client(), namespace, &tokens)
                .await
                .map_err(|e| format!("reading secret {namespace}/{TOKENS_SECRET}: {e}"))?;
            if !in_sync {
                self.log(format!(
                    "the config's API tokens differ from secret {namespace}/{TOKENS_SECRET}"
                ));
                return Ok(false);
            }
            if !self.gitea_wired().await? {
                return Ok(false);
            }
        }
        if self.component.via_gitops() {
            let drift = self.lab.drift(self.component).await?;
            if !drift.is_empty() {
                self.log(drift.summary());
                return Ok(false);
            }
        }
        for manifest in manifests {
            let Some(object) = self.objects().get(manifest).await? else {
                return Ok(false);
            };
            let hash = object
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(RENDERED_HASH));
            if hash
                != manifest
                    .object
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(RENDERED_HASH))
            {
                self.log(format!("{} differs from the config", manifest.describe()));
                return Ok(false);
            }
            if let Readiness::Waiting(why) | Readiness::Failed(why) =
                self.objects().readiness(manifest).await?
            {
                self.log(format!("{}: {why}", manifest.describe()));
                return Ok(false);
            }
        }
        if self.component == Component::Gpu {
            let nodes = super::status::nodes(self.lab.client()).await?;
            if let Some(why) = gpu::shortage(self.lab.config.cluster.ollama_gpus, &nodes) {
                self.log(why);
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Server-side applies each object in order; a HelmChart is awaited before the next
    /// object (it may bring the CRDs those use), the rest after all are applied.
    async fn apply(&self, manifests: &[Manifest]) -> Result<(), Failure> {
        let mut log = self.logger();
        for manifest in manifests {
            self.objects().apply(manifest).await?;
            self.log(format!("applied {}", manifest.describe()));
            if manifest.kind() == "HelmChart" {
                self.objects().wait_ready(manifest, &mut log).await?;
            }
        }
        for manifest in manifests.iter().filter(|m| m.kind() != "HelmChart") {
            self.objects().wait_ready(manifest, &mut log).await?;
            self.log(format!("ready: {}", manifest.describe()));
        }
        Ok(())
    }

    /// Commits the component's folder to the gitops repository, asks Flux to reconcile
    /// now, waits until it applied that commit, then for each object.
    async fn commit(&self, manifests: &[Manifest]) -> Result<(), Failure> {
        let head = self.publish(files(manifests), "up").await?;
        self.await_flux(&head).await?;
        let mut log = self.logger();
        for manifest in manifests {
            self.objects().wait_ready(manifest, &mut log).await?;
            self.log(format!("ready: {}", manifest.describe()));
        }
        Ok(())
    }

    async fn publish(
        &self,
        files: BTreeMap<String, String>,
        verb: &str,
    ) -> Result<String, Failure> {
        let gitops = self.lab.gitops().await?;
        let folder = self.component.name().to_string();
        let message = format!("raibid {verb}: {}", self.component.name());
        let url = gitops.clone_url();
        let head = self
            .lab
            .in_work_tree(gitops, move |gitops| {
                gitops.write(&folder, &files, &message)
            })
            .await?;
        self.log(format!("committed {} to {url}", short(&head)));
        Ok(head)
    }

    /// Requests a reconcile of the source and the Kustomization, then waits until the
    /// Kustomization applied `head` and is Ready.
    async fn await_flux(&self, head: &str) -> Result<(), Failure> {
        let client = self.lab.client();
        let now = jiff::Timestamp::now().to_string();
        let annotate = serde_json::json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": now}}});
        let source: Api<GitRepository> = Api::namespaced(client.clone(), FLUX_NAMESPACE);
        let kustomizations: Api<Kustomization> = Api::namespaced(client.clone(), FLUX_NAMESPACE);
        for result in [
            source
                .patch(
                    GITOPS_SOURCE,
                    &PatchParams::default(),
                    &Patch::Merge(&annotate),
                )
                .await
                .map(drop),
            kustomizations
                .patch(
                    GITOPS_KUSTOMIZATION,
                    &PatchParams::default(),
                    &Patch::Merge(&annotate),
                )
                .await
                .map(drop),
        ] {
            result.map_err(|e| format!("asking Flux to reconcile: {e}"))?;
        }
        let resource = ApiResource::erase::<Kustomization>(&());
        let manifest = Manifest {
            resource,
            object: DynamicObject::new(
                GITOPS_KUSTOMIZATION,
                &ApiResource::erase::<Kustomization>(&()),
            )
            .within(FLUX_NAMESPACE),
        };
        let commit = head.to_string();
        let mut log = self.logger();
        self.objects()
            .wait_until(&manifest, &mut log, move |object| {
                let Some(object) = object else {
                    return Readiness::Failed(
                        "the Flux Kustomization is missing: run `raibid up` for flux".into(),
                    );
                };
                let value = to_value(object);
                let applied = applied_revision(&value).is_some_and(|r| r.ends_with(&commit));
                match super::readiness::readiness("Kustomization", &value) {
                    Readiness::Ready if applied => Readiness::Ready,
                    Readiness::Failed(why) => Readiness::Failed(why),
                    Readiness::Ready => Readiness::Waiting(format!("applying {}", short(&commit))),
                    Readiness::Waiting(why) => Readiness::Waiting(why),
                }
            })
            .await?;
        self.log(format!("Flux applied {}", short(head)));
        Ok(())
    }

    async fn down(&mut self, purge: bool) -> Result<Outcome, Failure> {
        let config = &self.lab.config;
        match self.component {
            Component::K3s => {
                self.log("k3s stays installed; /usr/local/bin/k3s-uninstall.sh removes it");
                return Ok(Outcome::AlreadyDone);
            }
            Component::Namespaces if !purge => {
                self.log("namespaces kept: they hold the data volumes and secrets (--purge removes them)");
                return Ok(Outcome::AlreadyDone);
            }
            _ => {}
        }
        let manifests = rendered(self.component, config);
        if self.component.via_gitops() {
            self.uncommit().await?;
        }
        for manifest in manifests.iter().rev() {
            if manifest.kind() == "PersistentVolumeClaim" && !purge {
                self.log(format!("kept {} (--purge removes it)", manifest.describe()));
                continue;
            }
            self.objects().delete(manifest).await?;
            self.log(format!("removed {}", manifest.describe()));
        }
        if purge {
            for needed in secrets::needed(self.component, config).map_err(|e| e.to_string())? {
                self.objects()
                    .delete_secret(&needed.namespace, &needed.name)
                    .await?;
                self.log(format!(
                    "removed secret {}/{}",
                    needed.namespace, needed.name
                ));
            }
            if self.component == Component::Ci {
                let namespace = &config.cluster.namespace;
                for name in [TOKENS_SECRET, GIT_CLONE_SECRET] {
                    self.objects().delete_secret(namespace, name).await?;
                }
            }
            self.objects().delete_claims(self.component, config).await?;
        }
        Ok(Outcome::Removed)
    }

    /// Removes the component's folder from the gitops repository, so Flux neither
    /// re-creates its objects nor keeps them; skipped when Flux is gone already.
    async fn uncommit(&self) -> Result<(), Failure> {
        let gitops = match self.lab.gitops().await {
            Ok(gitops) => gitops,
            Err(why) => {
                self.log(format!(
                    "gitops repository unreachable, removing objects directly ({why})"
                ));
                return Ok(());
            }
        };
        let folder = self.component.name().to_string();
        let url = gitops.clone_url();
        let head = self
            .lab
            .in_work_tree(gitops, move |gitops| {
                gitops.write(&folder, &BTreeMap::new(), "raibid down")
            })
            .await?;
        self.log(format!(
            "removed {}/ from {url} at {}",
            self.component.name(),
            short(&head)
        ));
        Ok(())
    }
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}
