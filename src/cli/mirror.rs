//! `raibid mirror plan|sync|list`: the GitHub repositories `[github]` selects, mirrored
//! into Gitea's `mirror.gitea_org` (docs/mirror.md).

use serde::Serialize;

use super::output::print_json;
use super::{Context, Failure, MirrorCommand, Output};
use crate::backend::cluster::Lab;
use crate::backend::cluster::connect::kubeconfig_path;
use crate::backend::mirror::push_hook::{HookChange, PushHook};
use crate::backend::mirror::{Applied, GiteaMirrors, MirrorError, Mirrors, Plan};

pub async fn run(context: &Context, command: MirrorCommand) -> Result<(), Failure> {
    match command {
        MirrorCommand::Plan { output } => {
            let mirrors = full(context)?;
            let plan = mirrors.plan().await.map_err(failure)?;
            output.print(&plan, |plan| print_plan(plan, mirrors.gitea().org()))
        }
        MirrorCommand::Sync {
            repo: Some(repo),
            output,
            ..
        } => {
            // Only the hooks need GitHub; without them Gitea alone syncs the mirror.
            let synced = if context.config.mirror.register_webhooks {
                full(context)?.sync_repo(&repo).await
            } else {
                gitea_only(context)?.sync_repo(&repo).await
            }
            .map_err(failure)?;
            output.print(&synced, |synced| {
                println!("sync requested  {} (from {})", synced.gitea, synced.github);
                match synced.hook_registered {
                    Some(true) => println!("hook registered {}", synced.github),
                    Some(false) => println!("hook present    {}", synced.github),
                    None => {}
                }
            })
        }
        MirrorCommand::Sync {
            repo: None,
            prune,
            output,
        } => {
            let mut mirrors = full(context)?;
            if let Some(hook) = push_hook(context).await? {
                mirrors = mirrors.with_push_hook(hook);
            }
            let plan = mirrors.plan().await.map_err(failure)?;
            match mirrors.apply(&plan, prune).await {
                Ok(applied) => report_applied(output, &applied, &plan, prune),
                Err(error) => {
                    if let MirrorError::Partial { applied, .. } = &error {
                        report_applied(output, applied, &plan, prune)?;
                    }
                    Err(failure(error))
                }
            }
        }
        MirrorCommand::List { output } => {
            let list = gitea_only(context)?
                .list(jiff::Timestamp::now())
                .await
                .map_err(failure)?;
            if output.json {
                return print_json(&list);
            }
            for mirror in &list {
                let last = mirror.last_sync.map_or_else(
                    || "never".to_string(),
                    |at| at.strftime("%Y-%m-%d %H:%M:%SZ").to_string(),
                );
                let stale = if mirror.stale { "  stale" } else { "" };
                println!("{:<32}  {:<32}  {last}{stale}", mirror.gitea, mirror.github);
            }
            let stale = list.iter().filter(|mirror| mirror.stale).count();
            println!(
                "{} mirror(s), {stale} stale (no sync for over {} h)",
                list.len(),
                context.config.mirror.stale_hours
            );
            Ok(())
        }
    }
}

/// Gitea and GitHub (and with `mirror.register_webhooks` the hooks' keys): for `plan`,
/// `sync` and `sync REPO` with hooks.
fn full(context: &Context) -> Result<Mirrors, Failure> {
    Mirrors::from_config(&context.config, &context.paths.data_dir).map_err(failure)
}

/// Gitea's push webhook for `sync`: at `mirror.gitea_webhook_url` with
/// `server.gitea_webhook_secret`; when that is empty, at the lab's in-cluster server with
/// the secret `raibid up` generated; without a cluster none, which stderr says.
async fn push_hook(context: &Context) -> Result<Option<PushHook>, Failure> {
    let config = &context.config;
    let url = config.mirror.gitea_webhook_url.trim();
    if !url.is_empty() {
        let secret = config
            .server
            .gitea_webhook_secret
            .reveal()
            .map_err(|error| Failure::bad_input(format!("server.gitea_webhook_secret: {error}")))?
            .ok_or_else(|| {
                Failure::bad_input(
                    "config key `server.gitea_webhook_secret` is not set (needed by \
                     mirror.gitea_webhook_url: Gitea signs the pushes with it)",
                )
            })?;
        return Ok(Some(PushHook::new(url, secret)));
    }
    let skipped = |why: String| {
        eprintln!(
            "Gitea push webhook not registered: {why}; set mirror.gitea_webhook_url and \
             server.gitea_webhook_secret to point it at a raibid server"
        );
        Ok(None)
    };
    if kubeconfig_path(&config.cluster.kubeconfig).is_err() {
        return skipped("no cluster found".into());
    }
    let lab = match Lab::connect(config, &context.paths.data_dir).await {
        Ok(lab) => lab,
        Err(error) => return skipped(error.to_string()),
    };
    match lab.push_hook().await {
        Ok(hook) => Ok(Some(hook)),
        Err(why) => skipped(why),
    }
}

/// Gitea alone (`gitea.url`, `gitea.token`): for `list` and `sync REPO` without hooks.
fn gitea_only(context: &Context) -> Result<GiteaMirrors, Failure> {
    GiteaMirrors::from_config(&context.config).map_err(failure)
}

/// The config or the input is wrong: exit 2; a service failed: exit 1.
fn failure(error: MirrorError) -> Failure {
    if error.is_bad_input() {
        Failure::bad_input(error)
    } else {
        Failure::failed(error)
    }
}

fn print_plan(plan: &Plan, org: &str) {
    for repo in &plan.create {
        println!("create  {}  -> {org}/{}", repo.full_name, repo.name);
    }
    for mirror in &plan.remove {
        println!("remove  {mirror}");
    }
    for repo in &plan.keep {
        println!("keep    {repo}");
    }
    println!(
        "{} to create, {} to remove (with sync --prune), {} kept",
        plan.create.len(),
        plan.remove.len(),
        plan.keep.len()
    );
}

/// What `sync` changed, with what it left: `sync --json` prints the changes and the
/// names kept and left unmatched.
fn report_applied(
    output: Output,
    applied: &Applied,
    plan: &Plan,
    prune: bool,
) -> Result<(), Failure> {
    #[derive(Serialize)]
    struct Report<'a> {
        #[serde(flatten)]
        applied: &'a Applied,
        kept: &'a [String],
        unmatched: &'a [String],
    }
    let unmatched: &[String] = if prune { &[] } else { &plan.remove };
    let report = Report {
        applied,
        kept: &plan.keep,
        unmatched,
    };
    output.print(&report, |_| print_applied(applied, plan, prune))
}

fn print_applied(applied: &Applied, plan: &Plan, prune: bool) {
    for mirror in &applied.created {
        println!("created  {mirror}");
    }
    for mirror in &applied.removed {
        println!("removed  {mirror}");
    }
    for repo in &applied.hooks_registered {
        println!("hook     {repo}");
    }
    match applied.gitea_hook {
        Some(HookChange::Created) => println!("gitea hook created"),
        Some(HookChange::Updated) => println!("gitea hook updated"),
        Some(HookChange::Kept) => println!("gitea hook in place"),
        None => {}
    }
    let left = if prune || plan.remove.is_empty() {
        String::new()
    } else {
        format!(
            "; {} unmatched mirror(s) left (sync --prune removes them)",
            plan.remove.len()
        )
    };
    println!(
        "{} created, {} removed, {} kept{left}",
        applied.created.len(),
        applied.removed.len(),
        plan.keep.len()
    );
}
