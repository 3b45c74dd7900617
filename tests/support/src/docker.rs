//! Docker for the tests that run containers, and their Debian base image. dockerd is
//! started when `docker info` fails (scripts/test starts it too); the base is built with
//! debootstrap once per machine (cached in /var/cache/raibid-test: nothing can be pulled
//! from outside), imported into Docker and copied to a test registry with skopeo.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::registry::OciRegistry;

const CACHE: &str = "/var/cache/raibid-test";
/// Docker's name of the imported base.
const BASE: &str = "raibid-test/debian:bookworm";

/// Starts dockerd in the background unless one answers; one test at a time decides.
const START_DOCKERD: &str = r#"
set -e
docker info >/dev/null 2>&1 && exit 0
mkdir -p "$CACHE"
exec 9>"$CACHE/dockerd.lock"
flock 9
docker info >/dev/null 2>&1 && exit 0
# Without the lock's descriptor: dockerd outlives the test and would hold it for good.
nohup dockerd >"$CACHE/dockerd.log" 2>&1 9>&- &
for _ in $(seq 60); do docker info >/dev/null 2>&1 && exit 0; sleep 1; done
echo "dockerd did not answer within 60 s; see $CACHE/dockerd.log" >&2
exit 1
"#;

/// Runs a shell script with `CACHE` set; panics with its output when it fails.
fn script(script: &str) {
    let output = Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("CACHE", CACHE)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
}

/// Runs `docker args`, returning its output whatever the exit.
pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("docker is installed (scripts/test installs docker.io)")
}

/// Runs `docker args`, which must succeed; its stdout, trimmed.
pub fn docker_ok(args: &[&str]) -> String {
    let output = docker(args);
    assert!(
        output.status.success(),
        "docker {args:?}: {}",
        text(&output)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn ensure_dockerd() {
    script(START_DOCKERD);
}

/// The Debian base (minbase with ca-certificates and git) in `registry` as
/// `debian:bookworm`, as Docker's own format (what `docker push` would store).
pub fn push_base(registry: &OciRegistry) -> String {
    let build = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/test-base.sh");
    script(&format!("sh '{build}'"));
    if !docker(&["image", "inspect", BASE]).status.success() {
        let archive = format!("{CACHE}/bookworm-minbase.tar");
        docker_ok(&["import", &archive, BASE]);
    }
    let reference = format!("{}/debian:bookworm", registry.host());
    let output = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false"])
        .arg(format!("docker-daemon:{BASE}"))
        .arg(format!("docker://{reference}"))
        .output()
        .expect("skopeo is installed (scripts/test installs it)");
    assert!(output.status.success(), "skopeo copy: {}", text(&output));
    reference
}

/// A container removed (with its logs) when dropped.
pub struct Container(pub String);

impl Container {
    /// Waits for the container to exit; its exit code.
    pub fn wait(&self, timeout: Duration) -> i32 {
        let deadline = Instant::now() + timeout;
        loop {
            let state = docker_ok(&[
                "inspect",
                "-f",
                "{{.State.Running}} {{.State.ExitCode}}",
                &self.0,
            ]);
            if let Some(code) = state.strip_prefix("false ") {
                return code.parse().unwrap();
            }
            assert!(Instant::now() < deadline, "container {} still runs", self.0);
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// What the container wrote to stdout and stderr.
    pub fn logs(&self) -> String {
        text(&docker(&["logs", &self.0]))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.0]);
    }
}
