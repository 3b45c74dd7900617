//! Checks that a value is one the program can use, beyond its type.

use super::{ClusterConfig, Config, ServerConfig};
use crate::app::theme::Themes;
use crate::backend::ci::sandbox::{SandboxMode, StepUser};
use crate::backend::queue::mask_url;
use crate::backend::sparky::channels::ChannelName;
use crate::backend::sparky::delivery::{configured_channels, suitability};
use crate::backend::sparky::model::DraftKind;
use crate::backend::sparky::schedule::Cadence;

/// The first value that cannot be used: its dotted key and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub key: &'static str,
    pub message: String,
}

pub(crate) fn validate(config: &Config, themes: &Themes) -> Result<(), Problem> {
    let problem = |key, message: String| Err(Problem { key, message });
    if themes.get(&config.ui.theme).is_none() {
        return problem(
            "ui.theme",
            format!(
                "unknown theme `{}`; available: {} (or add {0}.toml to the themes dir)",
                config.ui.theme,
                themes.names().join(", ")
            ),
        );
    }
    if !(1..=240).contains(&config.ui.max_fps) {
        return problem(
            "ui.max_fps",
            format!("{} is not in 1..=240", config.ui.max_fps),
        );
    }
    let choices: [(&'static str, &str, &[&str]); 7] = [
        ("log.format", &config.log.format, &["text", "json"]),
        (
            "mastodon.visibility",
            &config.mastodon.visibility,
            &["public", "unlisted", "private", "direct"],
        ),
        (
            "sparky.source",
            &config.sparky.source,
            &["local", "github", "both"],
        ),
        (
            "github.visibility",
            &config.github.visibility,
            &["all", "public", "private"],
        ),
        (
            "sparky.writer",
            &config.sparky.writer,
            &["auto", "ollama", "openai", "builtin"],
        ),
        (
            "sparky.empty_period",
            &config.sparky.empty_period,
            &["one-line", "none"],
        ),
        (
            "sparky.startup_digest",
            &config.sparky.startup_digest,
            &["day", "week", "month", "off"],
        ),
    ];
    for (key, value, allowed) in choices {
        if !allowed.contains(&value) {
            return problem(
                key,
                format!("`{value}` is not one of {}", allowed.join(", ")),
            );
        }
    }
    let zone = &config.sparky.time_zone;
    if !zone.is_empty() && jiff::tz::TimeZone::get(zone).is_err() {
        return problem(
            "sparky.time_zone",
            format!("unknown time zone `{zone}`; use an IANA name such as Europe/Berlin"),
        );
    }
    if let Err(why) = check_http_url(&config.ollama.url) {
        return problem("ollama.url", format!("`{}` {why}", config.ollama.url));
    }
    if config.ollama.num_ctx < 512 {
        return problem(
            "ollama.num_ctx",
            format!("{} is below 512", config.ollama.num_ctx),
        );
    }
    validate_ci(config)
        .and_then(|()| validate_server(&config.server))
        .and_then(|()| validate_cluster(&config.cluster))
        .and_then(|()| validate_image(config))
        .and_then(|()| validate_github(config))
        .and_then(|()| validate_publishing(config))
        .map_err(|(key, message)| Problem { key, message })
}

/// Image references: a typo would only show when k3s fails to pull.
fn validate_image(config: &Config) -> Result<(), (&'static str, String)> {
    use crate::backend::image::Reference;
    if !config.cluster.image.is_empty() {
        Reference::parse(&config.cluster.image).map_err(|why| ("cluster.image", why))?;
    }
    Reference::parse(&config.image.base).map_err(|why| ("image.base", why))?;
    if config.image.restart_command.trim().is_empty() {
        return Err((
            "image.restart_command",
            "is empty; k3s reads registries_file only when it starts".into(),
        ));
    }
    Ok(())
}

/// Gitea releases before this one let webhooks and migrations reach hosts their
/// allow-lists forbid (CVE-2026-22874; before 1.26.2 also CVE-2026-27771, anyone pulling
/// private container images).
pub const GITEA_MIN_VERSION: [u64; 3] = [1, 26, 3];
/// Gitea charts before this one run `environment-to-ini` in their init container, which
/// Gitea 1.26 removed: Gitea never starts.
pub const GITEA_MIN_CHART_VERSION: [u64; 3] = [12, 6, 0];

/// `1.26.2` (an optional `v` and `-rootless` style suffix allowed) as numbers.
pub fn parse_version(text: &str) -> Option<[u64; 3]> {
    let core = text.trim_start_matches('v').split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|part| part.parse::<u64>().ok());
    let version = [
        parts.next()??,
        parts.next()??,
        parts.next().unwrap_or(Some(0))?,
    ];
    parts.next().is_none().then_some(version)
}

/// The cluster keys: a wrong value here would only show as a failed rollout.
fn validate_cluster(cluster: &ClusterConfig) -> Result<(), (&'static str, String)> {
    check_minimum(
        "cluster.gitea_version",
        &cluster.gitea_version,
        GITEA_MIN_VERSION,
        "which fixes webhooks and migrations reaching hosts outside their allow-lists (CVE-2026-22874)",
    )?;
    check_minimum(
        "cluster.gitea_chart_version",
        &cluster.gitea_chart_version,
        GITEA_MIN_CHART_VERSION,
        "the first chart for Gitea 1.26 (older ones run environment-to-ini, which 1.26 removed, and Gitea never starts)",
    )?;
    for (key, value) in [
        ("cluster.flux_chart_version", &cluster.flux_chart_version),
        ("cluster.keda_chart_version", &cluster.keda_chart_version),
        (
            "cluster.device_plugin_chart_version",
            &cluster.device_plugin_chart_version,
        ),
    ] {
        if parse_version(value).is_none() {
            return Err((key, format!("`{value}` is not a version such as 1.2.3")));
        }
    }
    if !is_dns_label(&cluster.namespace) {
        return Err((
            "cluster.namespace",
            format!(
                "`{}` is not a DNS label (lowercase letters, digits and '-', at most 63)",
                cluster.namespace
            ),
        ));
    }
    if !is_dns_label(&cluster.gitops_repo) {
        return Err(("cluster.gitops_repo", "must be a DNS label".into()));
    }
    let quantities = [
        ("cluster.redis_storage", &cluster.redis_storage),
        ("cluster.gitea_storage", &cluster.gitea_storage),
        ("cluster.cargo_cache_storage", &cluster.cargo_cache_storage),
        ("cluster.ollama_storage", &cluster.ollama_storage),
        ("cluster.agent_cpu_request", &cluster.agent_cpu_request),
        (
            "cluster.agent_memory_request",
            &cluster.agent_memory_request,
        ),
        ("cluster.agent_cpu_limit", &cluster.agent_cpu_limit),
        ("cluster.agent_memory_limit", &cluster.agent_memory_limit),
    ];
    for (key, value) in quantities {
        if !is_quantity(value) {
            return Err((
                key,
                format!("`{value}` is not a Kubernetes quantity such as 500m, 2 or 8Gi"),
            ));
        }
    }
    let schedules = [
        ("cluster.daily_schedule", &cluster.daily_schedule),
        ("cluster.weekly_schedule", &cluster.weekly_schedule),
        ("cluster.monthly_schedule", &cluster.monthly_schedule),
    ];
    for (key, value) in schedules {
        if value.split_whitespace().count() != 5 {
            return Err((key, format!("`{value}` is not a five-field cron schedule")));
        }
    }
    if cluster.agent_max_replicas == 0 {
        return Err(("cluster.agent_max_replicas", "must be at least 1".into()));
    }
    if cluster.agent_polling_secs == 0 {
        return Err(("cluster.agent_polling_secs", "must be at least 1".into()));
    }
    if let Some(bad) = cluster
        .agent_blocked_cidrs
        .iter()
        .find(|c| !is_ipv4_cidr(c))
    {
        return Err((
            "cluster.agent_blocked_cidrs",
            format!("`{bad}` is not an IPv4 address range such as 10.42.0.0/16"),
        ));
    }
    if !(30000..=32767).contains(&cluster.gitea_node_port) {
        return Err((
            "cluster.gitea_node_port",
            format!(
                "{} is outside the node port range 30000-32767",
                cluster.gitea_node_port
            ),
        ));
    }
    Ok(())
}

/// `value` of `key` parses as a version no older than `minimum`; `why` says what that one fixed.
fn check_minimum(
    key: &'static str,
    value: &str,
    minimum: [u64; 3],
    why: &str,
) -> Result<(), (&'static str, String)> {
    let [major, minor, patch] = minimum;
    match parse_version(value) {
        Some(version) if version >= minimum => Ok(()),
        Some(_) => Err((
            key,
            format!("{value} is older than {major}.{minor}.{patch}, {why}"),
        )),
        None => Err((
            key,
            format!("`{value}` is not a version such as {major}.{minor}.{patch}"),
        )),
    }
}

/// The GitHub and mirror keys: patterns must compile, names must be `owner/name`.
fn validate_github(config: &Config) -> Result<(), (&'static str, String)> {
    let github = &config.github;
    for (key, patterns) in [
        ("github.include", &github.include),
        ("github.exclude", &github.exclude),
    ] {
        for pattern in patterns {
            if let Err(error) = regex_lite::Regex::new(pattern) {
                return Err((
                    key,
                    format!("`{pattern}` is not a regular expression: {error}"),
                ));
            }
        }
    }
    if let Some(repo) = github.repos.iter().find(|r| {
        r.split_once('/')
            .is_none_or(|(owner, name)| owner.is_empty() || name.is_empty() || name.contains('/'))
    }) {
        return Err(("github.repos", format!("`{repo}` is not owner/name")));
    }
    if !(1..=32).contains(&github.concurrency) {
        return Err((
            "github.concurrency",
            format!("{} is not in 1..=32", github.concurrency),
        ));
    }
    if let Err(why) = check_http_url(&github.api_url) {
        return Err(("github.api_url", format!("`{}` {why}", github.api_url)));
    }
    let mirror = &config.mirror;
    if mirror.gitea_org.is_empty() || mirror.gitea_org.contains(['/', ' ']) {
        return Err(("mirror.gitea_org", "must be one organisation name".into()));
    }
    if mirror.stale_hours == 0 {
        return Err(("mirror.stale_hours", "must be at least 1".into()));
    }
    if mirror.register_webhooks {
        check_http_url(&mirror.webhook_url).map_err(|why| {
            (
                "mirror.webhook_url",
                format!(
                    "`{}` {why} (needed by mirror.register_webhooks)",
                    mirror.webhook_url
                ),
            )
        })?;
    }
    let hook = &mirror.gitea_webhook_url;
    if !hook.is_empty() {
        check_http_url(hook)
            .map_err(|why| ("mirror.gitea_webhook_url", format!("`{hook}` {why}")))?;
    }
    Ok(())
}

/// Kinds, channels and the peers' URLs of writing and publishing.
fn validate_publishing(config: &Config) -> Result<(), (&'static str, String)> {
    let unknown_kind = |name: &str| {
        let kinds: Vec<&str> = DraftKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown kind `{name}`; kinds: {}", kinds.join(", "))
    };
    let schedule = &config.schedule;
    for (key, kinds) in [
        ("schedule.daily", &schedule.daily),
        ("schedule.weekly", &schedule.weekly),
        ("schedule.monthly", &schedule.monthly),
        ("publish.auto", &config.publish.auto),
    ] {
        if let Some(name) = kinds.iter().find(|k| DraftKind::parse(k).is_none()) {
            return Err((key, unknown_kind(name)));
        }
    }
    for (key, cadence) in [
        ("schedule.daily", Cadence::Daily),
        ("schedule.weekly", Cadence::Weekly),
        ("schedule.monthly", Cadence::Monthly),
    ] {
        let digest = cadence.digest_kind();
        let other = cadence
            .kinds(config)
            .into_iter()
            .find(|k| k.is_digest() && *k != digest);
        if let Some(other) = other {
            return Err((
                key,
                format!(
                    "`{}` is another period's digest; a {} run writes `{}`, posts and blog posts",
                    other.as_str(),
                    cadence.as_str(),
                    digest.as_str()
                ),
            ));
        }
    }
    let without_channels = config
        .publish
        .auto
        .iter()
        .filter_map(|k| DraftKind::parse(k))
        .find(|&k| configured_channels(config, k).is_empty());
    if let Some(kind) = without_channels {
        return Err((
            "publish.auto",
            format!(
                "`{}` drafts have no channel (publish.channels.{0}): nothing could publish them",
                kind.as_str()
            ),
        ));
    }
    for (kind, channels) in &config.publish.channels {
        let Some(kind) = DraftKind::parse(kind) else {
            return Err(("publish.channels", unknown_kind(kind)));
        };
        for name in channels {
            let Some(channel) = ChannelName::parse(name) else {
                let names: Vec<&str> = ChannelName::ALL.iter().map(|c| c.as_str()).collect();
                return Err((
                    "publish.channels",
                    format!(
                        "{}: unknown channel `{name}`; channels: {}",
                        kind.as_str(),
                        names.join(", ")
                    ),
                ));
            };
            if let Err(why) = suitability(channel, kind) {
                return Err((
                    "publish.channels",
                    format!(
                        "{}: {name} does not take {} drafts: {why}",
                        kind.as_str(),
                        kind.as_str()
                    ),
                ));
            }
        }
    }
    if !(1..=10).contains(&config.sparky.attempts) {
        return Err((
            "sparky.attempts",
            format!("{} is not in 1..=10", config.sparky.attempts),
        ));
    }
    let repo = &config.publish.github_repo;
    if !repo.is_empty()
        && repo
            .split_once('/')
            .is_none_or(|(owner, name)| owner.is_empty() || name.is_empty() || name.contains('/'))
    {
        return Err(("publish.github_repo", format!("`{repo}` is not owner/name")));
    }
    if config.devto.tags.len() > 4 {
        return Err((
            "devto.tags",
            format!("{} tags; Dev.to takes at most 4", config.devto.tags.len()),
        ));
    }
    if config.openai.context_tokens < 512 {
        return Err((
            "openai.context_tokens",
            format!("{} is below 512", config.openai.context_tokens),
        ));
    }
    let urls = [
        ("openai.url", &config.openai.url, true),
        ("devto.url", &config.devto.url, true),
        ("bluesky.url", &config.bluesky.url, true),
        ("mastodon.url", &config.mastodon.url, false),
        ("publish.site_url", &config.publish.site_url, false),
    ];
    for (key, url, required) in urls {
        if required || !url.is_empty() {
            check_http_url(url).map_err(|why| (key, format!("`{url}` {why}")))?;
        }
    }
    Ok(())
}

/// `a.b.c.d/n`, the form a NetworkPolicy's `ipBlock` takes.
fn is_ipv4_cidr(text: &str) -> bool {
    text.split_once('/').is_some_and(|(address, bits)| {
        address.parse::<std::net::Ipv4Addr>().is_ok() && bits.parse::<u8>().is_ok_and(|n| n <= 32)
    })
}

fn is_dns_label(text: &str) -> bool {
    (1..=63).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

/// A number with an optional decimal or binary suffix (the common forms of resource.Quantity).
fn is_quantity(text: &str) -> bool {
    const SUFFIXES: [&str; 13] = [
        "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "m", "k", "M", "G", "T", "P", "E",
    ];
    let number = SUFFIXES
        .iter()
        .find_map(|suffix| text.strip_suffix(suffix))
        .unwrap_or(text);
    !number.is_empty() && number.parse::<f64>().is_ok_and(|n| n >= 0.0)
}

/// The CI keys: a wrong value here would only show when an agent or the server starts.
fn validate_ci(config: &Config) -> Result<(), (&'static str, String)> {
    let ci = &config.ci;
    let url = &ci.redis_url;
    if !url.is_empty()
        && !["redis://", "rediss://", "unix://"]
            .iter()
            .any(|s| url.starts_with(s))
    {
        return Err((
            "ci.redis_url",
            format!(
                "`{}` is not a redis://, rediss:// or unix:// URL",
                mask_url(url)
            ),
        ));
    }
    if ci.queue_prefix.is_empty() || ci.queue_prefix.contains(char::is_whitespace) {
        return Err(("ci.queue_prefix", "must be a non-empty word".into()));
    }
    if ci.heartbeat_secs == 0 || ci.reclaim_after_secs < 2 * ci.heartbeat_secs {
        return Err((
            "ci.reclaim_after_secs",
            format!(
                "{} must be at least twice ci.heartbeat_secs ({}), or live jobs get taken over",
                ci.reclaim_after_secs, ci.heartbeat_secs
            ),
        ));
    }
    if ci.max_deliveries == 0 {
        return Err(("ci.max_deliveries", "must be at least 1".into()));
    }
    if ci.log_lines == 0 {
        return Err(("ci.log_lines", "must be at least 1".into()));
    }
    if ci.log_line_bytes < 64 {
        return Err((
            "ci.log_line_bytes",
            format!("{} is less than 64", ci.log_line_bytes),
        ));
    }
    if ci.retention_secs == 0 {
        return Err(("ci.retention_secs", "must be at least 1".into()));
    }
    for (repo, path) in &ci.local_repos {
        if !crate::backend::ci::server::push::is_full_name(repo) {
            return Err(("ci.local_repos", format!("{repo:?} is not owner/name")));
        }
        if !path.is_absolute() {
            return Err((
                "ci.local_repos",
                format!("{repo}: {} is not an absolute path", path.display()),
            ));
        }
    }
    if ci.steps.is_empty() || ci.steps.iter().any(|s| s.trim().is_empty()) {
        return Err(("ci.steps", "needs at least one non-empty command".into()));
    }
    if SandboxMode::parse(&ci.sandbox).is_none() {
        return Err((
            "ci.sandbox",
            format!("`{}` is not auto, bwrap or off", ci.sandbox),
        ));
    }
    StepUser::parse(&ci.step_user).map_err(|why| ("ci.step_user", why))?;
    if ci.agents > 64 {
        return Err(("ci.agents", format!("{} is more than 64", ci.agents)));
    }
    if config
        .server
        .listen
        .parse::<std::net::SocketAddr>()
        .is_err()
    {
        return Err((
            "server.listen",
            format!(
                "`{}` is not an address such as 127.0.0.1:8080",
                config.server.listen
            ),
        ));
    }
    let gitea = &config.gitea.url;
    if !gitea.is_empty() {
        check_http_url(gitea).map_err(|why| ("gitea.url", format!("`{gitea}` {why}")))?;
    }
    let public = &config.gitea.public_url;
    if !public.is_empty() {
        check_http_url(public).map_err(|why| ("gitea.public_url", format!("`{public}` {why}")))?;
    }
    if !ci.clone_credentials_file.as_os_str().is_empty() && gitea.is_empty() {
        return Err((
            "ci.clone_credentials_file",
            "needs gitea.url: the credential is sent to Gitea only".into(),
        ));
    }
    Ok(())
}

/// The server's bounds: a zero would close every connection or refuse every request.
fn validate_server(server: &ServerConfig) -> Result<(), (&'static str, String)> {
    let bounds = [
        ("server.header_timeout_secs", server.header_timeout_secs),
        ("server.request_timeout_secs", server.request_timeout_secs),
        ("server.max_connections", server.max_connections as u64),
        ("server.max_log_streams", server.max_log_streams as u64),
    ];
    match bounds.into_iter().find(|(_, value)| *value == 0) {
        Some((key, _)) => Err((key, "must be at least 1".into())),
        None => Ok(()),
    }
}

/// `http://` or `https://`, a host and an optional numeric port.
fn check_http_url(url: &str) -> Result<(), &'static str> {
    let lower = url.to_ascii_lowercase();
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme))
        .ok_or("is not an http:// or https:// URL")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host_port)| host_port);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or("has an unclosed `[` in its host")?;
            (host, after.strip_prefix(':'))
        }
        None => match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err("has no host");
    }
    if port.is_some_and(|port| port.parse::<u16>().is_err()) {
        return Err("has a port that is not a number up to 65535");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls_need_scheme_and_host() {
        for good in [
            "http://127.0.0.1:11434",
            "https://ollama.lab/api",
            "http://[::1]:11434/",
            "HTTP://user@host",
        ] {
            assert_eq!(check_http_url(good), Ok(()), "{good}");
        }
        for bad in [
            "127.0.0.1:11434",
            "ftp://host",
            "http://",
            "http://:80",
            "http://h:99999",
            "http://[::1",
        ] {
            assert!(check_http_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn gitea_pins_older_than_their_fixes_are_refused_with_the_reason() {
        let themes = Themes::builtin();
        let refused = |edit: fn(&mut ClusterConfig)| {
            let mut config = Config::default();
            edit(&mut config.cluster);
            validate(&config, &themes).unwrap_err()
        };
        let problem = refused(|c| c.gitea_version = "1.26.2".into());
        assert_eq!(problem.key, "cluster.gitea_version");
        assert!(problem.message.contains("older than 1.26.3"), "{problem:?}");
        assert!(problem.message.contains("CVE-2026-22874"), "{problem:?}");
        let problem = refused(|c| c.gitea_chart_version = "12.5.3".into());
        assert_eq!(problem.key, "cluster.gitea_chart_version");
        assert!(
            problem.message.contains("environment-to-ini"),
            "{problem:?}"
        );
        let problem = refused(|c| c.gitea_chart_version = "latest".into());
        assert!(problem.message.contains("not a version"), "{problem:?}");
        let problem = refused(|c| c.device_plugin_chart_version = "v0.x".into());
        assert_eq!(problem.key, "cluster.device_plugin_chart_version");
    }

    #[test]
    fn server_bounds_are_at_least_one() {
        let themes = Themes::builtin();
        type Breaker = fn(&mut ServerConfig);
        let cases: [(&str, Breaker); 4] = [
            ("server.header_timeout_secs", |s| s.header_timeout_secs = 0),
            ("server.request_timeout_secs", |s| {
                s.request_timeout_secs = 0
            }),
            ("server.max_connections", |s| s.max_connections = 0),
            ("server.max_log_streams", |s| s.max_log_streams = 0),
        ];
        for (key, break_it) in cases {
            let mut config = Config::default();
            break_it(&mut config.server);
            assert_eq!(validate(&config, &themes).map_err(|p| p.key), Err(key));
        }
        let mut config = Config::default();
        config.server.shutdown_grace_secs = 0;
        assert_eq!(validate(&config, &themes), Ok(()), "no grace is allowed");
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(validate(&Config::default(), &Themes::builtin()), Ok(()));
    }

    #[test]
    fn each_rule_names_its_key() {
        let themes = Themes::builtin();
        type Breaker = fn(&mut Config);
        let cases: [(&str, Breaker); 23] = [
            ("ui.theme", |c| c.ui.theme = "neon".into()),
            ("log.format", |c| c.log.format = "xml".into()),
            ("ui.max_fps", |c| c.ui.max_fps = 0),
            ("sparky.writer", |c| c.sparky.writer = "gpt".into()),
            ("sparky.empty_period", |c| {
                c.sparky.empty_period = "filler".into()
            }),
            ("sparky.startup_digest", |c| {
                c.sparky.startup_digest = "year".into()
            }),
            ("sparky.time_zone", |c| {
                c.sparky.time_zone = "Mars/Olympus".into()
            }),
            ("ollama.url", |c| c.ollama.url = "localhost".into()),
            ("ollama.num_ctx", |c| c.ollama.num_ctx = 511),
            ("ci.redis_url", |c| c.ci.redis_url = "localhost:6379".into()),
            ("ci.queue_prefix", |c| c.ci.queue_prefix = "a b".into()),
            ("ci.reclaim_after_secs", |c| c.ci.reclaim_after_secs = 9),
            ("ci.max_deliveries", |c| c.ci.max_deliveries = 0),
            ("ci.steps", |c| c.ci.steps = vec![" ".into()]),
            ("ci.agents", |c| c.ci.agents = 65),
            ("ci.sandbox", |c| c.ci.sandbox = "on".into()),
            ("ci.step_user", |c| c.ci.step_user = "builder".into()),
            ("server.listen", |c| c.server.listen = "8080".into()),
            ("gitea.url", |c| c.gitea.url = "gitea.lab".into()),
            ("gitea.public_url", |c| {
                c.gitea.public_url = "127.0.0.1:30300".into()
            }),
            ("mirror.gitea_webhook_url", |c| {
                c.mirror.gitea_webhook_url = "raibid:8080/webhooks/gitea".into();
            }),
            ("ci.clone_credentials_file", |c| {
                c.ci.clone_credentials_file = "/run/credentials".into();
            }),
            ("cluster.agent_blocked_cidrs", |c| {
                c.cluster.agent_blocked_cidrs = vec!["10.42.0.0".into()];
            }),
        ];
        for (key, break_it) in cases {
            let mut config = Config::default();
            break_it(&mut config);
            assert_eq!(validate(&config, &themes).map_err(|p| p.key), Err(key));
        }
        let mut config = Config::default();
        config.sparky.time_zone = "Europe/Berlin".into();
        config.ui.max_fps = 240;
        config.ollama.num_ctx = 512;
        assert_eq!(validate(&config, &themes), Ok(()));
    }

    #[test]
    fn the_queues_retention_and_local_repositories_are_checked() {
        let themes = Themes::builtin();
        type Breaker = fn(&mut Config);
        let cases: [(&str, Breaker); 5] = [
            ("ci.log_lines", |c| c.ci.log_lines = 0),
            ("ci.log_line_bytes", |c| c.ci.log_line_bytes = 63),
            ("ci.retention_secs", |c| c.ci.retention_secs = 0),
            ("ci.local_repos", |c| {
                c.ci.local_repos = [("fixture".into(), "/srv/git/fixture".into())].into();
            }),
            ("ci.local_repos", |c| {
                c.ci.local_repos = [("lab/fixture".into(), "fixture".into())].into();
            }),
        ];
        for (key, break_it) in cases {
            let mut config = Config::default();
            break_it(&mut config);
            assert_eq!(validate(&config, &themes).map_err(|p| p.key), Err(key));
        }
        let mut config = Config::default();
        config.ci.local_repos = [("lab/fixture".into(), "/srv/git/fixture".into())].into();
        config.ci.replay_window_secs = 0;
        assert_eq!(validate(&config, &themes), Ok(()));
    }
}
