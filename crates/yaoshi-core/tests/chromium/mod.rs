//! Headless Chromium for the report tests (shared by `report_html.rs` and
//! the CLI's `cli_compliance.rs`): finds the binary and runs it on a
//! `file://` URL with a fresh profile directory, no network and a time
//! limit. Chromium is required: without it these tests fail (CI installs
//! the Debian `chromium` package).
#![allow(dead_code)]

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a Chromium run may take.
pub const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);

/// The Chromium binary: `$CHROMIUM`, else the first of `chromium`,
/// `chromium-browser` and `google-chrome` that runs.
pub fn chromium_binary() -> String {
    let candidates: Vec<String> = match std::env::var("CHROMIUM") {
        Ok(b) => vec![b],
        Err(_) => ["chromium", "chromium-browser", "google-chrome"]
            .map(String::from)
            .to_vec(),
    };
    for b in &candidates {
        if Command::new(b)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return b.clone();
        }
    }
    panic!(
        "headless Chromium is required for the report tests and none of {candidates:?} \
         runs (set $CHROMIUM to override); install it with `apt-get install -y chromium` \
         (.ci/run does)"
    );
}

/// Runs headless Chromium with `args` then `url`, stdout to `stdout_to`,
/// killed after [`CHROMIUM_TIMEOUT`]. Returns stdout.
pub fn run_chromium(dir: &Path, args: &[&str], url: &str, stdout_to: &Path) -> String {
    let bin = chromium_binary();
    let profile = dir.join("chromium-profile");
    let stderr_to = stdout_to.with_extension("stderr.txt");
    let mut cmd = Command::new(&bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-sync",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-dev-shm-usage",
        // Nothing resolves: the document must not need the network.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--force-device-scale-factor=1",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(File::create(stdout_to).unwrap())
    .stderr(File::create(&stderr_to).unwrap());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{bin} did not finish within {CHROMIUM_TIMEOUT:?}; stderr in {}",
                stderr_to.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = std::fs::read_to_string(&stderr_to).unwrap_or_default();
    assert!(
        status.success(),
        "{bin} {args:?} failed with {status}:\n{stderr}"
    );
    std::fs::read_to_string(stdout_to).unwrap()
}

/// `chromium --version`, for the test log.
pub fn chromium_version() -> String {
    let out = Command::new(chromium_binary())
        .arg("--version")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
