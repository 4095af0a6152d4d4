//! Shared by `tests/compat.rs` and `tests/compat_vaultrs.rs` (included with
//! `#[path]`): starts the server the compatibility suites talk to.
//!
//! Which server is chosen by environment variables:
//! * `YAOSHI_COMPAT_TARGET=yaoshi` (default): the `yaoshi` binary of this
//!   package, `yaoshi server --dev --listen 127.0.0.1:<free port>
//!   --dev-root-token <random>`.
//! * `YAOSHI_COMPAT_TARGET=openbao`: a real `bao server -dev` (OpenBao CLI on
//!   PATH), the reference the suites were validated against. Use it to check
//!   that a suite encodes real Vault behaviour.
//! * `YAOSHI_COMPAT_ADDR` + `YAOSHI_COMPAT_TOKEN`: use an already running
//!   server instead of starting one (the flavor still follows the target).
//!
//! The child is killed on drop; its output goes to a temporary log file that
//! `log()` returns for failure messages.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest wait for `GET /v1/sys/health` to answer 200.
pub const STARTUP_LIMIT: Duration = Duration::from_secs(20);

/// A running (or external) server.
pub struct Server {
    pub addr: String,
    pub token: String,
    /// "yaoshi" or "openbao": passed to the suites as `--flavor`.
    pub flavor: &'static str,
    child: Option<Child>,
    log: Option<PathBuf>,
}

/// The flavor picked by `YAOSHI_COMPAT_TARGET`.
pub fn target() -> &'static str {
    match std::env::var("YAOSHI_COMPAT_TARGET").as_deref() {
        Ok("openbao") | Ok("bao") => "openbao",
        Ok("yaoshi") | Err(_) | Ok("") => "yaoshi",
        Ok(other) => panic!("YAOSHI_COMPAT_TARGET={other}: expected yaoshi or openbao"),
    }
}

/// Variables the `yaoshi` CLI reads; tests clear them so the host
/// environment cannot leak in.
pub const CLI_ENV_VARS: [&str; 6] = [
    "YAOSHI_ADDR",
    "VAULT_ADDR",
    "BAO_ADDR",
    "YAOSHI_TOKEN",
    "VAULT_TOKEN",
    "BAO_TOKEN",
];

/// Health that answers 200 whether or not the server is initialised or sealed.
const READY_ANY_STATE: &str = "/v1/sys/health?uninitcode=200&sealedcode=200";

/// A token nobody can guess in a test run (no RNG crate needed).
pub fn random_token() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::from("tok-");
    for i in 0..2u64 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos(),
        );
        h.write_u32(std::process::id());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .unwrap()
        .port()
}

/// Status code of a plain HTTP/1.1 GET on a loopback `http://` address, or None.
pub fn http_status(addr: &str, path: &str) -> Option<u16> {
    let hostport = addr.strip_prefix("http://")?.trim_end_matches('/');
    let sock = hostport.parse().ok()?;
    let mut s = TcpStream::connect_timeout(&sock, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let head = String::from_utf8_lossy(&buf);
    head.split_whitespace().nth(1)?.parse().ok()
}

/// Plain HTTP/1.1 request with a JSON body and the token header; returns (status, body).
pub fn http_json(addr: &str, token: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let hostport = addr
        .strip_prefix("http://")
        .expect("http:// address")
        .trim_end_matches('/');
    let mut s = TcpStream::connect(hostport).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nX-Vault-Token: {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read response");
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

impl Server {
    /// Starts the server chosen by the environment (see the module docs).
    pub fn start() -> Server {
        let flavor = target();
        if let (Ok(addr), Ok(token)) = (
            std::env::var("YAOSHI_COMPAT_ADDR"),
            std::env::var("YAOSHI_COMPAT_TOKEN"),
        ) {
            return Server {
                addr,
                token,
                flavor,
                child: None,
                log: None,
            };
        }
        match flavor {
            "openbao" => Self::start_openbao(),
            _ => Self::start_yaoshi(),
        }
    }

    /// `yaoshi server --dev` on a free loopback port.
    pub fn start_yaoshi() -> Server {
        Self::start_yaoshi_with(&[], &[])
    }

    /// The yaoshi dev server with extra flags and environment variables.
    pub fn start_yaoshi_with(extra_args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_yaoshi"));
        let port = free_port();
        let token = random_token();
        cmd.args(["server", "--dev", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--dev-root-token", &token])
            .args(extra_args)
            .envs(env.iter().copied());
        Self::spawn(cmd, "yaoshi", port, token)
    }

    /// The OpenBao reference: `bao server -dev` on a free loopback port.
    pub fn start_openbao() -> Server {
        let mut cmd = Command::new("bao");
        let port = free_port();
        let token = random_token();
        cmd.args(["server", "-dev"])
            .arg(format!("-dev-root-token-id={token}"))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"));
        for (k, _) in std::env::vars() {
            if k.starts_with("BAO_") || k.starts_with("VAULT_") {
                cmd.env_remove(k);
            }
        }
        Self::spawn(cmd, "openbao", port, token)
    }

    /// A stored (non-dev) yaoshi server on `storage`; it answers while
    /// uninitialised or sealed, and has no token until `sys/init`.
    pub fn start_yaoshi_stored(storage: &str) -> Server {
        Self::start_yaoshi_stored_with(storage, &[])
    }

    /// The stored server with extra flags (a profile, residency, ...).
    pub fn start_yaoshi_stored_with(storage: &str, extra_args: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_yaoshi"));
        let port = free_port();
        cmd.args(["server", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--storage", storage])
            .args(extra_args);
        Self::spawn_until(cmd, "yaoshi", port, String::new(), READY_ANY_STATE)
    }

    /// `yaoshi server --config FILE` with extra environment variables; the
    /// file must listen on `127.0.0.1:<port>`. Answers while uninitialised
    /// or sealed.
    pub fn start_yaoshi_config_file(config: &Path, port: u16, env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_yaoshi"));
        cmd.arg("server")
            .arg("--config")
            .arg(config)
            .envs(env.iter().copied());
        Self::spawn_until(cmd, "yaoshi", port, String::new(), READY_ANY_STATE)
    }

    /// Stops the server with SIGTERM (a graceful shutdown; SIGKILL after
    /// `STARTUP_LIMIT`) and returns everything it printed.
    pub fn stop(mut self) -> String {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let started = Instant::now();
            while child.try_wait().ok().flatten().is_none() {
                if started.elapsed() > STARTUP_LIMIT {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        self.log()
    }

    /// A yaoshi server that takes every setting from a TOML file written
    /// into `dir`: `listen = "127.0.0.1:<free port>"` followed by
    /// `settings` (top-level keys first, then tables such as `[ha]`). Like
    /// the stored server, it answers while uninitialised or sealed.
    pub fn start_yaoshi_config(settings: &str, dir: &std::path::Path) -> Server {
        let port = free_port();
        let file = dir.join(format!("yaoshi-{port}.toml"));
        std::fs::write(&file, format!("listen = \"127.0.0.1:{port}\"\n{settings}"))
            .expect("write the settings file");
        Self::start_yaoshi_config_file(&file, port, &[])
    }

    /// Kills the server process at once (SIGKILL on Unix: no shutdown
    /// work runs) and reaps it; the log stays readable.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("kill the server process");
            c.wait().expect("reap the server process");
        }
    }

    fn spawn(cmd: Command, flavor: &'static str, port: u16, token: String) -> Server {
        Self::spawn_until(cmd, flavor, port, token, "/v1/sys/health")
    }

    /// Starts `cmd` and waits until `ready` (a health path) answers 200.
    fn spawn_until(
        mut cmd: Command,
        flavor: &'static str,
        port: u16,
        token: String,
        ready: &str,
    ) -> Server {
        let log = std::env::temp_dir().join(format!("yaoshi-compat-{flavor}-{port}.log"));
        let f = std::fs::File::create(&log).expect("create log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the {flavor} server ({cmd:?}): {e}"));
        let mut srv = Server {
            addr: format!("http://127.0.0.1:{port}"),
            token,
            flavor,
            child: Some(child),
            log: Some(log),
        };
        let started = Instant::now();
        loop {
            if http_status(&srv.addr, ready) == Some(200) {
                return srv;
            }
            if let Some(st) = srv.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "the {flavor} server exited early ({st}); log:\n{}",
                    srv.log()
                );
            }
            if started.elapsed() > STARTUP_LIMIT {
                panic!(
                    "the {flavor} server did not answer 200 on /v1/sys/health within {STARTUP_LIMIT:?}; log:\n{}",
                    srv.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the server printed so far (empty for an external server).
    pub fn log(&self) -> String {
        self.log
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(p) = self.log.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Runs the `yaoshi` CLI against `addr` with `token` (none when empty),
/// the host's CLI environment cleared.
pub fn yaoshi_cli(addr: &str, token: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yaoshi"));
    for var in CLI_ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.env("YAOSHI_ADDR", addr).args(args).stdin(Stdio::null());
    if !token.is_empty() {
        cmd.env("YAOSHI_TOKEN", token);
    }
    cmd.output().expect("yaoshi runs")
}

/// Runs `program args…` with a time limit; returns (success, combined output).
pub fn run_bounded(mut cmd: Command, limit: Duration) -> (bool, String) {
    let out = std::env::temp_dir().join(format!("yaoshi-compat-run-{}.log", random_token()));
    let f = std::fs::File::create(&out).unwrap();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(f.try_clone().unwrap())
        .stderr(f)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut text = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    match status {
        Some(st) => (st.success(), text),
        None => {
            text.push_str(&format!("\n[killed after {limit:?}]"));
            (false, text)
        }
    }
}
