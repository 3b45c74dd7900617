//! The queue's Lua scripts: each state change and what goes with it, atomically. The
//! scripts are in `lua/`; `common.lua` is prepended to each.

use std::sync::LazyLock;

use redis::Script;

const COMMON: &str = include_str!("lua/common.lua");

pub struct Scripts {
    pub enqueue: Script,
    pub transition: Script,
    pub bury: Script,
    pub heartbeat: Script,
    pub request_cancel: Script,
    pub agent_seen: Script,
    pub agents: Script,
    pub append_log: Script,
}

pub static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    enqueue: with_common(include_str!("lua/enqueue.lua")),
    transition: with_common(include_str!("lua/transition.lua")),
    bury: with_common(include_str!("lua/bury.lua")),
    heartbeat: with_common(include_str!("lua/heartbeat.lua")),
    request_cancel: with_common(include_str!("lua/request_cancel.lua")),
    agent_seen: with_common(include_str!("lua/agent_seen.lua")),
    agents: with_common(include_str!("lua/agents.lua")),
    append_log: with_common(include_str!("lua/append_log.lua")),
});

fn with_common(body: &str) -> Script {
    Script::new(&format!("{COMMON}\n{body}"))
}
