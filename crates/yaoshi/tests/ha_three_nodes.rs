//! Three `yaoshi server` processes on one PostgreSQL database (issue #6).
//!
//! * `failover_under_load_loses_no_acknowledged_request`: a private
//!   PostgreSQL primary and a streaming replica (`pg_basebackup -R`); three
//!   nodes on the multi-host URL (primary first, `target_session_attrs=
//!   read-write`), initialised once and each unsealed with the share. Client
//!   threads encrypt against all three round-robin on three keys while one
//!   thread rotates the keys through varying nodes. Mid-load the lease
//!   holder is SIGKILLed (a survivor must take the lease within the ttl
//!   plus a margin); later the primary is stopped and the replica promoted.
//!   Afterwards: every acknowledged (200) encrypt decrypts on a survivor to
//!   its plaintext; every acknowledged rotation's version exists and no two
//!   acknowledged rotations of a key report the same version; every
//!   acknowledged request has exactly one audit record (by request id) with
//!   the answering node, key and version; the stored log verifies online and
//!   an export verifies offline (`yaoshi audit verify`); survivors serve and
//!   are healthy on the new primary. A request that was not acknowledged
//!   must have failed cleanly: a 4xx/5xx (only once the database failover
//!   began), or no answer from the killed node after its kill.
//! * `changes_on_one_node_apply_at_once_on_the_others`: a rotation on any
//!   node is used by the very next encrypt on each other node; a raised
//!   `min_decryption_version` and a deletion through one node are enforced
//!   by the others on their next request.
//! * `bench_nodes_runs_one_to_three_nodes`: a short `yaoshi bench nodes`
//!   against a private cluster reports figures for 1, 2 and 3 nodes with no
//!   failed request and drops its scratch database.
//!
//! Needs the PostgreSQL server binaries (see `yaoshi_store::testing`); only
//! 127.0.0.1; every wait is bounded. The tests run one at a time (they each
//! start a cluster and several processes on what may be a small machine).

#[path = "compat/server.rs"]
mod server;

use base64::Engine;
use serde_json::{Value, json};
use server::Server;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use yaoshi_store::testing::PgCluster;

/// Scheduler lease ttl of every node (short, so takeover is quick).
const TTL_SECS: u64 = 3;
/// Longest any single request may take, failover or not.
const REQUEST_LIMIT: Duration = Duration::from_secs(20);
/// Longest wait for leadership or for service to resume.
const WAIT: Duration = Duration::from_secs(30);
/// The keys the load uses (one per symmetric algorithm family).
const KEYS: [(&str, &str); 3] = [
    ("k-sm4", "sm4-gcm96"),
    ("k-aes", "aes256-gcm96"),
    ("k-chacha", "chacha20-poly1305"),
];
/// Encrypting client threads.
const ENCRYPT_THREADS: usize = 4;

/// One test at a time.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// An HTTP answer: status and parsed JSON body (`Null` when empty).
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    body: Value,
    text: String,
}

impl Reply {
    fn data(&self) -> &Value {
        &self.body["data"]
    }

    fn request_id(&self) -> String {
        self.body["request_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no request id in {}", self.text))
            .to_string()
    }
}

/// An error and its sources, for failure messages.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// A blocking JSON client with one token.
#[derive(Clone)]
struct Client {
    http: reqwest::blocking::Client,
    token: String,
}

impl Client {
    fn new(token: &str) -> Self {
        let http = reqwest::blocking::Client::builder()
            .timeout(REQUEST_LIMIT)
            .build()
            .unwrap();
        Client {
            http,
            token: token.to_string(),
        }
    }

    /// One request; `Err` when no HTTP answer came (refused, reset, timeout).
    fn call(
        &self,
        addr: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{addr}/v1/{path}"));
        if !self.token.is_empty() {
            req = req.header("X-Vault-Token", &self.token);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().map_err(|e| error_chain(&e))?;
        let status = resp.status().as_u16();
        let text = resp.text().map_err(|e| error_chain(&e))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Reply { status, body, text })
    }

    /// A request that must be answered.
    fn must(&self, addr: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.call(addr, method, path, body.as_ref())
            .unwrap_or_else(|e| panic!("{method} {path} on {addr}: no answer: {e}"))
    }

    /// A request that must answer `status`.
    fn expect(
        &self,
        status: u16,
        addr: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let reply = self.must(addr, method, path, body);
        assert_eq!(
            reply.status, status,
            "{method} {path} on {addr}: {}",
            reply.text
        );
        reply
    }
}

/// Polls `probe` every 100 ms until it yields a value, failing after `limit`.
fn eventually<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Nodes started, initialised through the first and all unsealed.
struct Nodes {
    servers: Vec<Server>,
    names: Vec<String>,
    addrs: Vec<String>,
    root: Client,
    _dir: tempfile::TempDir,
}

impl Nodes {
    fn start(url: &str, count: usize) -> Nodes {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..count).map(|i| format!("node-{i}")).collect();
        let servers: Vec<Server> = names
            .iter()
            .map(|name| {
                let settings = format!(
                    "storage = {url:?}\n\n[audit]\nnode = {name:?}\ncheckpoint_interval_secs = 1\n\n\
                     [ha]\nlease_ttl_secs = {TTL_SECS}\n"
                );
                Server::start_yaoshi_config(&settings, dir.path())
            })
            .collect();
        let addrs: Vec<String> = servers.iter().map(|s| s.addr.clone()).collect();
        let init = Client::new("").expect(
            200,
            &addrs[0],
            "PUT",
            "sys/init",
            Some(json!({"secret_shares": 1, "secret_threshold": 1})),
        );
        let share = init.body["keys"][0].as_str().unwrap().to_string();
        let root = Client::new(init.body["root_token"].as_str().unwrap());
        for addr in &addrs {
            let unsealed = root.expect(200, addr, "PUT", "sys/unseal", Some(json!({"key": share})));
            assert_eq!(unsealed.body["sealed"], json!(false), "{}", unsealed.text);
        }
        Nodes {
            servers,
            names,
            addrs,
            root,
            _dir: dir,
        }
    }

    /// The index of the node all of `among` agree leads (itself one of them).
    fn agreed_leader(&self, among: &[usize], limit: Duration) -> usize {
        eventually("one leader the nodes agree on", limit, || {
            let views: Vec<(bool, Value)> = among
                .iter()
                .map(|&i| {
                    let r = self
                        .root
                        .expect(200, &self.addrs[i], "GET", "sys/leader", None);
                    Some((r.body["is_self"].as_bool()?, r.body["leader_node"].clone()))
                })
                .collect::<Option<_>>()?;
            let leaders: Vec<usize> = (0..among.len()).filter(|&j| views[j].0).collect();
            let [only] = leaders[..] else { return None };
            let name = json!(self.names[among[only]]);
            views.iter().all(|(_, n)| *n == name).then_some(among[only])
        })
    }
}

/// The version in a `vault:vN:` ciphertext.
fn ciphertext_version(ct: &str) -> i64 {
    ct.strip_prefix("vault:v")
        .and_then(|rest| rest.split_once(':'))
        .and_then(|(v, _)| v.parse().ok())
        .unwrap_or_else(|| panic!("not a vault:vN: ciphertext: {ct}"))
}

/// What a load request did.
#[derive(Debug, Clone)]
enum Op {
    Encrypt {
        key: &'static str,
        plaintext: String,
    },
    Rotate {
        key: &'static str,
    },
}

/// One request of the load and how it ended.
#[derive(Debug)]
struct Outcome {
    node: usize,
    op: Op,
    ended: Instant,
    answer: Result<Reply, String>,
}

fn run(client: &Client, addrs: &[String], node: usize, op: Op) -> Outcome {
    let answer = match &op {
        Op::Encrypt { key, plaintext } => client.call(
            &addrs[node],
            "POST",
            &format!("transit/encrypt/{key}"),
            Some(&json!({"plaintext": plaintext})),
        ),
        Op::Rotate { key } => client.call(
            &addrs[node],
            "POST",
            &format!("transit/keys/{key}/rotate"),
            None,
        ),
    };
    Outcome {
        node,
        op,
        ended: Instant::now(),
        answer,
    }
}

/// Encrypts round-robin over the nodes and keys until `stop`.
fn encrypt_load(
    client: Client,
    addrs: Vec<String>,
    thread: usize,
    stop: Arc<AtomicBool>,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let node = (thread + n) % addrs.len();
        let key = KEYS[(thread + n / addrs.len()) % KEYS.len()].0;
        let plaintext = b64(format!("thread {thread} message {n}").as_bytes());
        out.push(run(&client, &addrs, node, Op::Encrypt { key, plaintext }));
        n += 1;
    }
    out
}

/// Rotates the keys in turn, each time through another node, until `stop`.
fn rotate_load(client: Client, addrs: Vec<String>, stop: Arc<AtomicBool>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let key = KEYS[n % KEYS.len()].0;
        let node = (n + n / KEYS.len()) % addrs.len();
        out.push(run(&client, &addrs, node, Op::Rotate { key }));
        n += 1;
        // Pacing only: a rotation every ~150 ms keeps versions few.
        std::thread::sleep(Duration::from_millis(150));
    }
    out
}

/// Stops the load threads when the test ends, also by a failed assertion.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[test]
fn failover_under_load_loses_no_acknowledged_request() {
    let _serial = serial();
    let test_started = Instant::now();
    // Declared first, dropped last.
    let primary = PgCluster::start().expect("a private PostgreSQL cluster starts");
    primary.create_database("yaoshi_ha").unwrap();
    let replica = primary
        .start_replica()
        .expect("the streaming replica starts");
    let url = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/yaoshi_ha?target_session_attrs=read-write",
        primary.port(),
        replica.port()
    );
    let mut nodes = Nodes::start(&url, 3);
    let root = nodes.root.clone();
    let addrs = nodes.addrs.clone();
    // Request id -> (answering node, key, version) of every acknowledged request.
    let mut acked: HashMap<String, (usize, &'static str, i64)> = HashMap::new();
    for (i, (key, key_type)) in KEYS.iter().enumerate() {
        let made = root.expect(
            200,
            &addrs[i],
            "POST",
            &format!("transit/keys/{key}"),
            Some(json!({"type": key_type})),
        );
        acked.insert(made.request_id(), (i, key, 1));
    }
    let all: Vec<usize> = (0..3).collect();
    let killed = nodes.agreed_leader(&all, WAIT);
    let survivors: Vec<usize> = all.iter().copied().filter(|&i| i != killed).collect();

    let stop = Arc::new(AtomicBool::new(false));
    let _stop_if_this_fails = StopOnDrop(stop.clone());
    let mut threads = Vec::new();
    for t in 0..ENCRYPT_THREADS {
        let (client, addrs, stop) = (root.clone(), addrs.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            encrypt_load(client, addrs, t, stop)
        }));
    }
    {
        let (client, addrs, stop) = (root.clone(), addrs.clone(), stop.clone());
        threads.push(std::thread::spawn(move || rotate_load(client, addrs, stop)));
    }

    // Load for a while, then SIGKILL the lease holder.
    std::thread::sleep(Duration::from_secs(2));
    // Taken before the signal: requests in flight at the kill end after it.
    let killed_at = Instant::now();
    nodes.servers[killed].kill();
    let new_leader = nodes.agreed_leader(&survivors, Duration::from_secs(TTL_SECS + 5));
    let takeover = killed_at.elapsed();
    assert!(
        takeover <= Duration::from_secs(TTL_SECS + 3),
        "a survivor took the lease {takeover:?} after the kill (ttl {TTL_SECS} s)"
    );

    // More load, then the database fails over: primary stopped (its WAL
    // reaches the connected replica on a fast shutdown), replica promoted.
    std::thread::sleep(Duration::from_secs(1));
    let failover_at = Instant::now();
    primary.stop().expect("pg_ctl stop -m fast");
    replica.promote().expect("pg_ctl promote");
    let promoted = failover_at.elapsed();

    // Service resumes on every survivor (these probes count as load too).
    let mut probes = Vec::new();
    for &i in &survivors {
        eventually("encrypt on a survivor after the promotion", WAIT, || {
            let o = run(
                &root,
                &addrs,
                i,
                Op::Encrypt {
                    key: KEYS[0].0,
                    plaintext: b64(format!("probe on node {i}").as_bytes()),
                },
            );
            let ok = matches!(&o.answer, Ok(r) if r.status == 200);
            probes.push(o);
            ok.then_some(())
        });
    }
    let resumed = failover_at.elapsed();
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let mut outcomes: Vec<Outcome> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("a load thread panicked"))
        .collect();
    outcomes.extend(probes);

    // Every request either was acknowledged or failed cleanly.
    // (key, plaintext, ciphertext) of every acknowledged encrypt.
    let mut encrypts: Vec<(&'static str, String, String)> = Vec::new();
    let mut rotations: HashMap<&'static str, Vec<i64>> = HashMap::new();
    let mut failures: HashMap<String, usize> = HashMap::new();
    let mut acked_before_failover = [0usize; 2]; // encrypts, rotations
    for o in &outcomes {
        match &o.answer {
            Ok(r) if r.status == 200 => {
                let (key, version) = match &o.op {
                    Op::Encrypt { key, plaintext } => {
                        let ct = r.data()["ciphertext"]
                            .as_str()
                            .expect("ciphertext")
                            .to_string();
                        let version = ciphertext_version(&ct);
                        assert_eq!(r.data()["key_version"], json!(version), "{}", r.text);
                        encrypts.push((key, plaintext.clone(), ct));
                        (*key, version)
                    }
                    Op::Rotate { key } => {
                        let version = r.data()["latest_version"].as_i64().expect("latest_version");
                        rotations.entry(key).or_default().push(version);
                        (*key, version)
                    }
                };
                if o.ended < failover_at {
                    acked_before_failover[usize::from(matches!(o.op, Op::Rotate { .. }))] += 1;
                }
                let earlier = acked.insert(r.request_id(), (o.node, key, version));
                assert!(earlier.is_none(), "request id reused: {}", r.text);
            }
            Ok(r) => {
                assert!(
                    (400..=599).contains(&r.status),
                    "{:?}: unclean failure {}",
                    o.op,
                    r.text
                );
                let on_killed = o.node == killed && o.ended >= killed_at;
                assert!(
                    o.ended >= failover_at || on_killed,
                    "{:?} on node {} failed before the database failover: {} {}",
                    o.op,
                    o.node,
                    r.status,
                    r.text
                );
                *failures
                    .entry(format!("{} {}", r.status, r.body["errors"][0]))
                    .or_default() += 1;
            }
            Err(e) => {
                assert!(
                    o.node == killed && o.ended >= killed_at,
                    "{:?} on node {} (killed: {killed}) got no answer {:?} after the kill, \
                     {:?} after the failover began: {e}",
                    o.op,
                    o.node,
                    o.ended.checked_duration_since(killed_at),
                    o.ended.checked_duration_since(failover_at),
                );
                *failures
                    .entry("no answer from the killed node".into())
                    .or_default() += 1;
            }
        }
    }
    assert!(
        acked_before_failover.iter().all(|&n| n > 0),
        "load acknowledged encrypts and rotations before the failover: {acked_before_failover:?}"
    );

    // Every acknowledged ciphertext decrypts on a survivor (batches of 100,
    // alternating between the survivors).
    let mut by_key: HashMap<&str, Vec<(String, String)>> = HashMap::new();
    for (key, plaintext, ct) in &encrypts {
        by_key
            .entry(key)
            .or_default()
            .push((plaintext.clone(), ct.clone()));
    }
    let mut batch_no = 0;
    for (key, items) in &by_key {
        for chunk in items.chunks(100) {
            let addr = &addrs[survivors[batch_no % survivors.len()]];
            batch_no += 1;
            let batch: Vec<Value> = chunk
                .iter()
                .map(|(_, ct)| json!({"ciphertext": ct}))
                .collect();
            let opened = root.expect(
                200,
                addr,
                "POST",
                &format!("transit/decrypt/{key}"),
                Some(json!({"batch_input": batch})),
            );
            let results = opened.data()["batch_results"]
                .as_array()
                .expect("batch_results");
            assert_eq!(results.len(), chunk.len());
            for ((plaintext, ct), result) in chunk.iter().zip(results) {
                assert_eq!(result["plaintext"], json!(plaintext), "{ct}: {result}");
            }
        }
    }

    // Every acknowledged rotation is there: distinct, increasing versions
    // (a rotation lost in the failover would be handed out again), all
    // present, and latest_version counts them all.
    for (key, _) in KEYS {
        let versions = rotations.get(key).cloned().unwrap_or_default();
        assert!(
            versions.windows(2).all(|w| w[0] < w[1]),
            "{key}: {versions:?}"
        );
        let read = root.expect(
            200,
            &addrs[survivors[0]],
            "GET",
            &format!("transit/keys/{key}"),
            None,
        );
        let latest = read.data()["latest_version"].as_i64().unwrap();
        assert!(
            latest > versions.len() as i64,
            "{key}: latest {latest}, {} acknowledged rotations",
            versions.len()
        );
        for v in &versions {
            assert!(
                read.data()["keys"].get(v.to_string()).is_some(),
                "{key} v{v} exists: {}",
                read.text
            );
        }
    }

    // Every acknowledged request has exactly one audit record, written by
    // the node that answered; the export verifies offline.
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("audit.jsonl");
    let pem = dir.path().join("audit.pem");
    let survivor_addr = &addrs[new_leader];
    let cli = |args: &[&str]| {
        let out = server::yaoshi_cli(survivor_addr, &root.token, args);
        assert!(
            out.status.success(),
            "yaoshi {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    std::fs::write(&pem, cli(&["audit", "public-key"])).unwrap();
    cli(&["audit", "export", "--out", &export.display().to_string()]);
    cli(&[
        "audit",
        "verify",
        &export.display().to_string(),
        "--public-key",
        &pem.display().to_string(),
    ]);
    let mut records: HashMap<String, Vec<Value>> = HashMap::new();
    let text = std::fs::read_to_string(&export).unwrap();
    for line in text.lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        if line["type"] == json!("record") {
            let id = line["record"]["request_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            records.entry(id).or_default().push(line["record"].clone());
        }
    }
    for (id, (node, key, version)) in &acked {
        let found = records.get(id).map(Vec::as_slice).unwrap_or_default();
        let [record] = found else {
            panic!(
                "request {id} (node {node}, {key} v{version}): {} audit records",
                found.len()
            );
        };
        assert_eq!(record["outcome"], json!("ok"), "{record}");
        assert_eq!(record["node"], json!(nodes.names[*node]), "{record}");
        assert_eq!(record["key"], json!(key), "{record}");
        assert_eq!(record["version"], json!(version), "{record}");
    }
    let verified = root.expect(
        200,
        survivor_addr,
        "POST",
        "sys/audit/verify",
        Some(json!({})),
    );
    assert_eq!(
        verified.data()["verified"],
        json!(true),
        "{}",
        verified.text
    );

    // The survivors serve on the new primary and are healthy; one leads.
    // (Not necessarily the one that took over from the killed node: the
    // database outage can outlast the lease, which either may then take.)
    let leader_now = nodes.agreed_leader(&survivors, WAIT);
    for &i in &survivors {
        let ok = root.expect(
            200,
            &addrs[i],
            "POST",
            &format!("transit/encrypt/{}", KEYS[1].0),
            Some(json!({"plaintext": b64(b"after the failover")})),
        );
        assert!(
            ok.data()["ciphertext"]
                .as_str()
                .unwrap()
                .starts_with("vault:v")
        );
        let health = root.expect(200, &addrs[i], "GET", "sys/health", None);
        assert_eq!(
            health.body["store"]["reachable"],
            json!(true),
            "{}",
            health.text
        );
        let role = if i == leader_now { "leader" } else { "standby" };
        assert_eq!(health.body["ha"]["role"], json!(role), "{}", health.text);
    }

    eprintln!(
        "killed {} (lease holder); {} took the lease after {takeover:?} ({} leads at the end); \
         primary stopped and replica promoted in {promoted:?}, service resumed {resumed:?} \
         after the stop began; {} requests: {} \
         acknowledged encrypts, {} rotations {:?}, failures {failures:?}; {} records; {:?} in all",
        nodes.names[killed],
        nodes.names[new_leader],
        nodes.names[leader_now],
        outcomes.len(),
        encrypts.len(),
        rotations.values().map(Vec::len).sum::<usize>(),
        rotations,
        text.lines().count(),
        test_started.elapsed()
    );
    drop(nodes);
    drop(replica);
    drop(primary);
}

#[test]
fn changes_on_one_node_apply_at_once_on_the_others() {
    let _serial = serial();
    let cluster = PgCluster::start().expect("a private PostgreSQL cluster starts");
    let url = cluster.create_database("yaoshi_ha_changes").unwrap();
    let nodes = Nodes::start(&url, 3);
    let (root, addrs) = (&nodes.root, &nodes.addrs);
    root.expect(
        200,
        &addrs[0],
        "POST",
        "transit/keys/shared",
        Some(json!({"type": "sm4-gcm96"})),
    );
    let encrypt = |node: usize, text: &str| -> String {
        let r = root.expect(
            200,
            &addrs[node],
            "POST",
            "transit/encrypt/shared",
            Some(json!({"plaintext": b64(text.as_bytes())})),
        );
        r.data()["ciphertext"].as_str().unwrap().to_string()
    };
    // Every node has version 1 cached.
    let mut first = Vec::new();
    for i in 0..3 {
        let ct = encrypt(i, "v1");
        assert!(ct.starts_with("vault:v1:"), "{ct}");
        first.push(ct);
    }

    // A rotation on each node in turn is used by the next encrypt elsewhere.
    for (round, rotator) in (0..3).enumerate() {
        let version = round as i64 + 2;
        let rotated = root.expect(
            200,
            &addrs[rotator],
            "POST",
            "transit/keys/shared/rotate",
            None,
        );
        assert_eq!(
            rotated.data()["latest_version"],
            json!(version),
            "{}",
            rotated.text
        );
        for other in (0..3).filter(|&i| i != rotator) {
            let ct = encrypt(other, "next");
            assert!(
                ct.starts_with(&format!("vault:v{version}:")),
                "node {other} after a rotation on node {rotator}: {ct}"
            );
        }
    }

    // min_decryption_version raised on node 1: nodes 0 and 2 refuse v1
    // ciphertexts at once (they have v1 cached) and still open v4 ones.
    let latest = encrypt(1, "latest");
    root.expect(
        200,
        &addrs[1],
        "POST",
        "transit/keys/shared/config",
        Some(json!({"min_decryption_version": 2})),
    );
    for other in [0, 2] {
        let refused = root.must(
            &addrs[other],
            "POST",
            "transit/decrypt/shared",
            Some(json!({"ciphertext": first[other]})),
        );
        assert_eq!(refused.status, 400, "{}", refused.text);
        let opened = root.expect(
            200,
            &addrs[other],
            "POST",
            "transit/decrypt/shared",
            Some(json!({"ciphertext": latest})),
        );
        assert_eq!(opened.data()["plaintext"], json!(b64(b"latest")));
    }

    // Deleted through node 2: nodes 0 and 1 know at once.
    root.expect(
        200,
        &addrs[2],
        "POST",
        "transit/keys/shared/config",
        Some(json!({"deletion_allowed": true})),
    );
    root.expect(204, &addrs[2], "DELETE", "transit/keys/shared", None);
    for other in [0, 1] {
        let refused = root.must(
            &addrs[other],
            "POST",
            "transit/decrypt/shared",
            Some(json!({"ciphertext": latest})),
        );
        assert_eq!(
            refused.status, 400,
            "node {other} decrypts with a deleted key: {}",
            refused.text
        );
        let gone = root.must(&addrs[other], "GET", "transit/keys/shared", None);
        assert_eq!(
            gone.status, 404,
            "node {other} still lists the key: {}",
            gone.text
        );
    }
    drop(nodes);
    drop(cluster);
}

#[test]
fn bench_nodes_runs_one_to_three_nodes() {
    let _serial = serial();
    let cluster = PgCluster::start().expect("a private PostgreSQL cluster starts");
    let databases = || cluster.psql("SELECT count(*) FROM pg_database").unwrap();
    let before = databases();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yaoshi"))
        .args(["bench", "nodes", "--postgres", &cluster.url("postgres")])
        .args(["--seconds", "0.5", "--concurrency", "6", "--json"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("yaoshi runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3, "{report}");
    for (i, r) in runs.iter().enumerate() {
        assert_eq!(r["nodes"], json!(i + 1), "{r}");
        assert_eq!(r["errors"], json!(0), "{r}");
        assert!(r["encrypts"].as_u64().unwrap() > 0, "{r}");
        assert!(r["encrypts_per_sec"].as_f64().unwrap() > 0.0, "{r}");
        let (p50, p99) = (r["p50_ms"].as_f64().unwrap(), r["p99_ms"].as_f64().unwrap());
        assert!(0.0 < p50 && p50 <= p99, "{r}");
        let per_node = r["encrypts_per_node"]
            .as_array()
            .expect("encrypts_per_node");
        assert_eq!(per_node.len(), i + 1, "{r}");
        assert!(
            per_node.iter().all(|n| n.as_u64().unwrap() > 0),
            "every node served: {r}"
        );
        let sum: u64 = per_node.iter().map(|n| n.as_u64().unwrap()).sum();
        assert_eq!(sum, r["encrypts"].as_u64().unwrap(), "{r}");
        assert_eq!(r["audit_verified"], json!(true), "{r}");
    }
    assert_eq!(databases(), before, "the scratch database is dropped");
}
