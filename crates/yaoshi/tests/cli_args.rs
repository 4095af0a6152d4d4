//! Command-line behaviour that needs no server: help texts, usage errors
//! (exit 2), environment fallback of the address, and a clear exit-1 error
//! when nothing listens at the address.

#[path = "compat/server.rs"]
mod server;

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};

/// The binary with a clean environment and closed stdin.
fn yaoshi() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yaoshi"));
    for v in server::CLI_ENV_VARS {
        cmd.env_remove(v);
    }
    cmd.stdin(Stdio::null());
    cmd
}

fn run(args: &[&str]) -> Output {
    yaoshi().args(args).output().expect("run yaoshi")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A loopback address on which nothing listens.
fn closed_addr() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn help_of_every_command() {
    let commands: &[&[&str]] = &[
        &[],
        &["server"],
        &["operator"],
        &["operator", "init"],
        &["operator", "unseal"],
        &["operator", "seal"],
        &["operator", "status"],
        &["key"],
        &["key", "create"],
        &["key", "list"],
        &["key", "show"],
        &["key", "rotate"],
        &["key", "config"],
        &["key", "delete"],
        &["encrypt"],
        &["decrypt"],
        &["sign"],
        &["verify"],
        &["datakey"],
        &["hmac"],
        &["principal"],
        &["principal", "create"],
        &["principal", "list"],
        &["principal", "revoke"],
        &["bench"],
        &["bench", "crypto"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let out = run(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(stdout.contains("Usage: yaoshi"), "{args:?}: {stdout}");
        // The global options show on every command.
        assert!(stdout.contains("--addr"), "{args:?} lacks --addr");
        assert!(stdout.contains("--json"), "{args:?} lacks --json");
    }
    let server = text(&run(&["server", "--help"]).stdout);
    assert!(server.contains("--config FILE takes every setting"));
    let key = text(&run(&["encrypt", "--help"]).stdout);
    assert!(key.contains("--mount"));
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let cases: &[&[&str]] = &[
        &["nonsense"],
        &["key", "create"],
        &["key", "config", "k"],
        &["key", "config", "k", "--deletion-allowed", "maybe"],
        &["verify", "k", "data"],
        &["datakey", "k", "--bits", "100"],
        &["principal", "create", "app"],
        &[
            "principal",
            "create",
            "app",
            "--role",
            "app",
            "--grant",
            "no-ops",
        ],
        &["operator", "init", "--shares", "0"],
        &["operator", "unseal", "KEY", "--reset"],
        &["encrypt", "k", "data", "--file", "x"],
        &["server"],
        &["server", "--config", "f.toml", "--dev"],
        &[
            "server",
            "--storage",
            "sqlite::memory:",
            "--tls-cert",
            "c.pem",
        ],
        &[
            "server",
            "--storage",
            "sqlite::memory:",
            "--dev-root-token",
            "t",
        ],
        &["bench", "crypto", "--seconds", "99"],
    ];
    for args in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains("error"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn local_checks_exit_2_before_any_request() {
    let addr = closed_addr();
    // threshold > shares is refused before connecting.
    let out = run(&[
        "operator",
        "init",
        "--shares",
        "2",
        "--threshold",
        "3",
        "--addr",
        &addr,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--threshold"));
    // An address without a scheme.
    let out = run(&["key", "list", "--addr", "127.0.0.1:8200"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("http://"));
    // A missing input file.
    let out = run(&[
        "encrypt",
        "k",
        "@/nonexistent/yaoshi-input",
        "--addr",
        &addr,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/yaoshi-input"));
    // A CA file that is not PEM.
    let out = run(&[
        "key",
        "list",
        "--addr",
        &addr,
        "--ca-cert",
        "/nonexistent/ca.pem",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn connection_refused_is_clear_and_exits_1() {
    let addr = closed_addr();
    let out = run(&[
        "key",
        "list",
        "--addr",
        &addr,
        "--token",
        "s3cr3t-token-value",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("error: cannot connect to "), "{stderr}");
    assert!(stderr.contains(&addr), "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(
        !stderr.contains("s3cr3t-token-value"),
        "token leaked: {stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn address_comes_from_the_environment_in_order() {
    let yaoshi_addr = closed_addr();
    let vault_addr = closed_addr();
    let bao_addr = closed_addr();
    let status = |envs: &[(&str, &str)], flag: Option<&str>| {
        let mut cmd = yaoshi();
        cmd.args(["operator", "status"]);
        if let Some(f) = flag {
            cmd.args(["--addr", f]);
        }
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run yaoshi");
        assert_eq!(out.status.code(), Some(1));
        text(&out.stderr)
    };
    let all = [
        ("YAOSHI_ADDR", yaoshi_addr.as_str()),
        ("VAULT_ADDR", vault_addr.as_str()),
        ("BAO_ADDR", bao_addr.as_str()),
    ];
    let flag = closed_addr();
    assert!(status(&all, Some(&flag)).contains(&flag));
    assert!(status(&all, None).contains(&yaoshi_addr));
    assert!(status(&all[1..], None).contains(&vault_addr));
    assert!(status(&all[2..], None).contains(&bao_addr));
}

#[test]
fn stdin_input_is_read_before_connecting() {
    // Data piped on stdin is read, then the connection fails (exit 1, not a
    // usage error): the piped path works without a terminal.
    let addr = closed_addr();
    let mut child = yaoshi()
        .args(["encrypt", "k", "--addr", &addr])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"piped secret")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("cannot connect"), "{stderr}");
    assert!(!stderr.contains("piped secret"));
}
