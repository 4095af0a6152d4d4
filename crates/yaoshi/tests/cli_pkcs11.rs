//! A real `yaoshi server` sealed by a PKCS#11 token (SoftHSM2, a fresh token
//! directory per test): `yaoshi operator init` initialises with the device
//! and no shares, the node unseals itself at every start and decrypts what
//! it encrypted before; an operator's seal holds until restart; a second
//! node on the same store unseals itself once the first initialises; starts
//! with a wrong key label, a wrong PIN or a mismatched store exit non-zero
//! naming the problem; the PIN never appears in any output.

#[path = "compat/server.rs"]
mod server;

use serde_json::Value;
use server::{Server, free_port, run_bounded};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use yaoshi_hsm::testing::SoftHsm;
use yaoshi_store::testing::PgCluster;

const TOKEN: &str = "yaoshi-seal";
const KEY_LABEL: &str = "yaoshi-root-wrap";
/// Distinctive, so a leak into any output is found by a plain search.
const PIN: &str = "pin-7f3a9c21e5";
const SO_PIN: &str = "so-pin-0b44d2";
const WRONG_PIN: &str = "wrong-pin-93ab1";
/// Longest wait for a node to unseal itself.
const UNSEAL_LIMIT: Duration = Duration::from_secs(15);

/// A SoftHSM2 directory with one initialised token, and a store.
struct Setup {
    hsm: SoftHsm,
    dir: tempfile::TempDir,
    storage: String,
}

impl Setup {
    fn new() -> Setup {
        let hsm = SoftHsm::create().unwrap_or_else(|e| panic!("{e}"));
        hsm.init_token(TOKEN, PIN, SO_PIN)
            .unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap();
        let storage = format!("sqlite://{}", dir.path().join("yaoshi.db").display());
        Setup { hsm, dir, storage }
    }

    /// A settings file on `port` with `[seal.pkcs11]` (no PIN in it).
    fn config(&self, name: &str, port: u16, storage: &str, key_label: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        let text = format!(
            "listen = \"127.0.0.1:{port}\"\nstorage = {storage:?}\n\n[seal.pkcs11]\n\
             module_path = {:?}\ntoken_label = {TOKEN:?}\nkey_label = {key_label:?}\n",
            self.hsm.module().display().to_string()
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    fn env<'a>(&self, conf: &'a str, pin: &'a str) -> [(&'static str, &'a str); 2] {
        [("SOFTHSM2_CONF", conf), ("YAOSHI_PKCS11_PIN", pin)]
    }

    fn conf(&self) -> String {
        self.hsm.conf().display().to_string()
    }

    /// A node with the seal on a fresh port.
    fn start(&self, name: &str) -> Server {
        self.start_on(name, &self.storage)
    }

    /// A node with the seal on a fresh port and another store.
    fn start_on(&self, name: &str, storage: &str) -> Server {
        let port = free_port();
        let config = self.config(name, port, storage, KEY_LABEL);
        Server::start_yaoshi_config_file(&config, port, &self.env(&self.conf(), PIN))
    }

    /// `yaoshi server --config FILE` that is expected to stop by itself:
    /// (exited successfully, everything it printed).
    fn start_failing(&self, config: &Path, pin: &str) -> (bool, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_yaoshi"));
        cmd.arg("server")
            .arg("--config")
            .arg(config)
            .envs(self.env(&self.conf(), pin));
        run_bounded(cmd, server::STARTUP_LIMIT)
    }
}

/// One test at a time: each starts servers on ports `free_port` picks, and
/// two tests running at once could be handed the same one (a node that
/// cannot bind exits, and the other test's node answers in its place).
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn yaoshi(server: &Server, token: Option<&str>, args: &[&str]) -> Output {
    server::yaoshi_cli(&server.addr, token.unwrap_or(""), args)
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// `sys/seal-status` as `yaoshi operator status --json` shows it.
fn seal_status(server: &Server) -> Value {
    let out = yaoshi(server, None, &["operator", "status", "--json"]);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// `yaoshi operator init --json` on a device-sealed node: no shares.
fn init(server: &Server) -> String {
    let out = yaoshi(server, None, &["operator", "init", "--json"]);
    let init: Value = serde_json::from_str(&stdout(&out)).expect("JSON output");
    assert_eq!(init["keys"], Value::Array(vec![]), "{init}");
    assert_eq!(init["keys_base64"], Value::Array(vec![]), "{init}");
    let text = yaoshi(server, None, &["operator", "init"]);
    assert_eq!(text.status.code(), Some(2), "a second init is a 400");
    init["root_token"].as_str().expect("root token").to_string()
}

/// Creates the SM4 key `kept` and returns the ciphertext of `plaintext`.
fn kept_ciphertext(server: &Server, root: &str, plaintext: &str) -> String {
    stdout(&yaoshi(
        server,
        Some(root),
        &["key", "create", "kept", "--type", "sm4-gcm96"],
    ));
    let ct = stdout(&yaoshi(server, Some(root), &["encrypt", "kept", plaintext]));
    ct.trim().to_string()
}

fn assert_unsealed_by_device(server: &Server) {
    let status = seal_status(server);
    assert_eq!(status["initialized"], Value::Bool(true), "{status}");
    assert_eq!(status["sealed"], Value::Bool(false), "{status}");
    assert_eq!(status["type"], "pkcs11", "{status}");
}

fn assert_no_pin(output: &str) {
    for pin in [PIN, SO_PIN, WRONG_PIN] {
        assert!(!output.contains(pin), "a PIN leaked into:\n{output}");
    }
}

#[test]
fn pkcs11_sealed_server_unseals_itself_at_every_start() {
    let _serial = serial();
    let setup = Setup::new();
    let srv = setup.start("node.toml");
    let before = seal_status(&srv);
    assert_eq!(
        (&before["initialized"], &before["sealed"], &before["type"]),
        (
            &Value::Bool(false),
            &Value::Bool(true),
            &Value::from("pkcs11")
        ),
        "{before}"
    );

    let root = init(&srv);
    assert_unsealed_by_device(&srv);
    assert_eq!(
        yaoshi(&srv, None, &["operator", "status"]).status.code(),
        Some(0)
    );
    let ct = kept_ciphertext(&srv, &root, "still here");
    assert!(ct.starts_with("vault:v1:"), "{ct}");
    let mut logs = srv.stop();

    // Restarted: unsealed before it answers, with nobody entering anything.
    let srv = setup.start("node.toml");
    assert_unsealed_by_device(&srv);
    let pt = yaoshi(&srv, Some(&root), &["decrypt", "kept", &ct]);
    assert_eq!(stdout(&pt), "still here");

    // An operator's seal holds: the node does not unseal itself again...
    stdout(&yaoshi(&srv, Some(&root), &["operator", "seal"]));
    std::thread::sleep(Duration::from_millis(2500));
    let status = seal_status(&srv);
    assert_eq!(status["sealed"], Value::Bool(true), "{status}");
    let refused = yaoshi(&srv, Some(&root), &["decrypt", "kept", &ct]);
    assert_eq!(refused.status.code(), Some(1), "503 while sealed");
    logs.push_str(&srv.stop());

    // ... until the process restarts.
    let srv = setup.start("node.toml");
    assert_unsealed_by_device(&srv);
    logs.push_str(&srv.stop());

    assert!(
        logs.contains("unsealed with the PKCS#11 seal"),
        "the unseals are logged:\n{logs}"
    );
    assert_no_pin(&logs);
}

#[test]
fn second_node_unseals_itself_when_another_node_initialises() {
    let _serial = serial();
    let setup = Setup::new();
    // Two nodes share a store only on PostgreSQL (an SQLite file belongs to
    // one server process).
    let cluster = PgCluster::start().expect("a private PostgreSQL cluster starts");
    let shared = cluster.create_database("two_nodes").unwrap();
    let first = setup.start_on("first.toml", &shared);
    let second = setup.start_on("second.toml", &shared);
    assert_eq!(seal_status(&second)["sealed"], Value::Bool(true));

    let root = init(&first);
    stdout(&yaoshi(&first, Some(&root), &["key", "create", "shared"]));
    let ct = stdout(&yaoshi(
        &first,
        Some(&root),
        &["encrypt", "shared", "hello"],
    ));

    let started = Instant::now();
    loop {
        let status = seal_status(&second);
        if status["sealed"] == Value::Bool(false) {
            assert_eq!(status["type"], "pkcs11", "{status}");
            break;
        }
        assert!(
            started.elapsed() < UNSEAL_LIMIT,
            "the second node did not unseal itself within {UNSEAL_LIMIT:?}: {status}\n{}",
            second.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let pt = yaoshi(&second, Some(&root), &["decrypt", "shared", ct.trim()]);
    assert_eq!(stdout(&pt), "hello");
    let mut logs = first.stop();
    logs.push_str(&second.stop());
    assert_no_pin(&logs);
}

#[test]
fn pkcs11_start_failures_name_the_problem_and_never_the_pin() {
    let _serial = serial();
    let setup = Setup::new();
    let srv = setup.start("node.toml");
    init(&srv);
    let mut logs = srv.stop();

    // No such key on the token: named, with the token.
    let wrong_key = setup.config("wrong-key.toml", free_port(), &setup.storage, "no-such-key");
    let (ok, out) = setup.start_failing(&wrong_key, PIN);
    assert!(!ok, "a start with a wrong key label must fail:\n{out}");
    assert!(
        out.contains("no AES secret key labelled \"no-such-key\"") && out.contains(TOKEN),
        "{out}"
    );
    logs.push_str(&out);

    // The token refuses the PIN: said so, the PIN itself not shown.
    let right = setup.config("right.toml", free_port(), &setup.storage, KEY_LABEL);
    let (ok, out) = setup.start_failing(&right, WRONG_PIN);
    assert!(!ok, "a start with a wrong PIN must fail:\n{out}");
    assert!(
        out.contains("incorrect user PIN") && out.contains(TOKEN),
        "{out}"
    );
    logs.push_str(&out);

    // The device-sealed store on a node without the device.
    let mut plain = Command::new(env!("CARGO_BIN_EXE_yaoshi"));
    plain
        .args(["server", "--listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--storage", &setup.storage]);
    let (ok, out) = run_bounded(plain, server::STARTUP_LIMIT);
    assert!(
        !ok,
        "a node without the device must refuse the store:\n{out}"
    );
    assert!(out.contains("sealed by a pkcs11 device"), "{out}");

    // A Shamir store on a node configured with the device.
    let shamir_storage = format!("sqlite://{}", setup.dir.path().join("shamir.db").display());
    let shamir = Server::start_yaoshi_stored(&shamir_storage);
    stdout(&yaoshi(
        &shamir,
        None,
        &["operator", "init", "--shares", "1", "--threshold", "1"],
    ));
    drop(shamir);
    let mismatched = setup.config("mismatch.toml", free_port(), &shamir_storage, KEY_LABEL);
    let (ok, out) = setup.start_failing(&mismatched, PIN);
    assert!(!ok, "a device node must refuse a Shamir store:\n{out}");
    assert!(out.contains("initialised with a shamir seal"), "{out}");
    logs.push_str(&out);

    assert_no_pin(&logs);
}

#[test]
fn a_device_sealed_backup_restores_into_a_fresh_store_and_unseals_itself() {
    let _serial = serial();
    let setup = Setup::new();
    let srv = setup.start("node.toml");
    let root = init(&srv);
    let ct = kept_ciphertext(&srv, &root, "from the backup");
    let file = setup.dir.path().join("hsm.backup");
    let file = file.to_str().unwrap();
    stdout(&yaoshi(
        &srv,
        Some(&root),
        &["operator", "backup", "--out", file],
    ));
    let mut logs = srv.stop();

    // A node with the same HSM on a fresh store: the restore is staged, and
    // the node unseals itself with the device, which applies it.
    let fresh = format!(
        "sqlite://{}",
        setup.dir.path().join("restored.db").display()
    );
    let port = free_port();
    let config = setup.config("restored.toml", port, &fresh, KEY_LABEL);
    let conf = setup.conf();
    let restored = Server::start_yaoshi_config_file(&config, port, &setup.env(&conf, PIN));
    assert_eq!(seal_status(&restored)["initialized"], Value::Bool(false));
    stdout(&yaoshi(&restored, None, &["operator", "restore", file]));
    let started = Instant::now();
    while seal_status(&restored)["sealed"] != Value::Bool(false) {
        assert!(
            started.elapsed() < UNSEAL_LIMIT,
            "the restored node did not unseal itself:\n{}",
            restored.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_unsealed_by_device(&restored);
    let pt = yaoshi(&restored, Some(&root), &["decrypt", "kept", &ct]);
    assert_eq!(stdout(&pt), "from the backup");
    stdout(&yaoshi(
        &restored,
        Some(&root),
        &["audit", "verify", "--online"],
    ));
    logs.push_str(&restored.stop());
    assert_no_pin(&logs);
}
