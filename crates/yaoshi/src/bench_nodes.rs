//! `yaoshi bench nodes`: encrypt throughput with 1, 2 and 3 nodes sharing one
//! PostgreSQL database. Creates a scratch database on the server named by
//! `--postgres` (dropped afterwards, `DROP DATABASE ... WITH (FORCE)`, so
//! PostgreSQL 13 or newer), initialises it once (Shamir, one share) and for
//! each node count starts that many in-process, unsealed nodes on loopback
//! and drives the `bench_load` encrypt load spread over them; then has the
//! last node verify the whole stored audit log.

use crate::bench_load;
use serde_json::{Value, json};
use sqlx::Connection;
use yaoshi_server::{RunningServer, ServerSettings};

/// Node counts measured.
pub const NODE_COUNTS: [usize; 3] = [1, 2, 3];
/// The key the load encrypts with.
const KEY: &str = "bench";

/// The result for one node count.
pub struct NodesRun {
    /// Nodes serving the load.
    pub nodes: usize,
    /// The load's measurements.
    pub load: bench_load::Load,
    /// Whether the stored audit log verified after the run.
    pub audit_verified: bool,
}

/// Runs every node count on a scratch database on `postgres`.
pub async fn run(
    postgres: &str,
    seconds: f64,
    concurrency: usize,
) -> Result<Vec<NodesRun>, String> {
    let name = format!(
        "yaoshi_bench_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let scratch = with_database(postgres, &name)?;
    admin(postgres, &format!("CREATE DATABASE {name}")).await?;
    let runs = run_on(&scratch, seconds, concurrency).await;
    let dropped = admin(
        postgres,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
    let runs = runs?;
    dropped?;
    Ok(runs)
}

/// Runs one statement on the administrative connection.
async fn admin(postgres: &str, sql: &str) -> Result<(), String> {
    let mut conn = sqlx::PgConnection::connect(postgres)
        .await
        .map_err(|e| format!("cannot connect to {postgres}: {e}"))?;
    sqlx::raw_sql(sql)
        .execute(&mut conn)
        .await
        .map_err(|e| format!("{sql}: {e}"))?;
    conn.close().await.map_err(|e| e.to_string())
}

/// `url` with its database replaced by `name` (host list and parameters kept).
fn with_database(url: &str, name: &str) -> Result<String, String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let rest = ["postgres://", "postgresql://"]
        .iter()
        .find_map(|scheme| base.strip_prefix(scheme))
        .ok_or("--postgres must be a postgres:// URL")?;
    let scheme = &base[..base.len() - rest.len()];
    let authority = rest.split('/').next().unwrap_or_default();
    let mut out = format!("{scheme}{authority}/{name}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

/// A JSON request that must succeed; returns the body (`Null` when empty).
async fn call(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> Result<Value, String> {
    let mut req = http
        .request(method, format!("{base}/v1/{path}"))
        .json(&body);
    if let Some(t) = token {
        req = req.header("X-Vault-Token", t);
    }
    let resp = req.send().await.map_err(|e| format!("{path}: {e}"))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{path}: {status} {text}"));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The unseal share and root token of the initialised database.
struct Credentials {
    share: String,
    root: String,
}

async fn run_on(url: &str, seconds: f64, concurrency: usize) -> Result<Vec<NodesRun>, String> {
    let http = reqwest::Client::new();
    let mut credentials: Option<Credentials> = None;
    let mut runs = Vec::new();
    for nodes in NODE_COUNTS {
        let mut servers: Vec<RunningServer> = Vec::new();
        for i in 0..nodes {
            let mut settings = ServerSettings {
                listen: "127.0.0.1:0".parse().map_err(|_| "bad address")?,
                storage: Some(url.to_string()),
                ..ServerSettings::default()
            };
            settings.audit.node = Some(format!("bench-node-{}", i + 1));
            servers.push(
                yaoshi_server::start(settings)
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        let bases: Vec<String> = servers.iter().map(RunningServer::url).collect();
        let first_run = credentials.is_none();
        if first_run {
            let init = call(
                &http,
                &bases[0],
                None,
                reqwest::Method::PUT,
                "sys/init",
                json!({"secret_shares": 1, "secret_threshold": 1}),
            )
            .await?;
            let field = |name: &str, v: &Value| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("sys/init answered no {name}"))
            };
            credentials = Some(Credentials {
                share: field("key", &init["keys"][0])?,
                root: field("root token", &init["root_token"])?,
            });
        }
        let creds = credentials.as_ref().ok_or("not initialised")?;
        for base in &bases {
            call(
                &http,
                base,
                None,
                reqwest::Method::PUT,
                "sys/unseal",
                json!({"key": creds.share}),
            )
            .await?;
        }
        if first_run {
            call(
                &http,
                &bases[0],
                Some(&creds.root),
                reqwest::Method::POST,
                &format!("transit/keys/{KEY}"),
                json!({"type": "sm4-gcm96"}),
            )
            .await?;
        }
        let load = bench_load::encrypt_load(&bases, &creds.root, KEY, seconds, concurrency).await?;
        let verified = call(
            &http,
            &bases[nodes - 1],
            Some(&creds.root),
            reqwest::Method::POST,
            "sys/audit/verify",
            json!({}),
        )
        .await?;
        for server in servers {
            server.shutdown().await.map_err(|e| e.to_string())?;
        }
        runs.push(NodesRun {
            nodes,
            load,
            audit_verified: verified["data"]["verified"] == json!(true),
        });
    }
    Ok(runs)
}

/// A table for people.
pub fn to_table(runs: &[NodesRun], concurrency: usize) -> String {
    let mut out = format!(
        "encrypt over HTTP, {concurrency} clients spread over the nodes, one PostgreSQL database, audit on\n\
         {:<6} {:>12} {:>9} {:>9} {:>7} {:>6}  encrypts per node\n",
        "nodes", "encrypts/s", "p50 ms", "p99 ms", "errors", "audit"
    );
    for r in runs {
        let per_node: Vec<String> = r.load.ok_per_server.iter().map(u64::to_string).collect();
        out.push_str(&format!(
            "{:<6} {:>12.0} {:>9.2} {:>9.2} {:>7} {:>6}  {}\n",
            r.nodes,
            r.load.per_sec(),
            r.load.percentile_ms(50.0),
            r.load.percentile_ms(99.0),
            r.load.errors,
            if r.audit_verified { "ok" } else { "BROKEN" },
            per_node.join(" / ")
        ));
    }
    out
}

/// One JSON object for scripts.
pub fn to_json(runs: &[NodesRun], seconds: f64, concurrency: usize) -> Value {
    let runs: Vec<Value> = runs
        .iter()
        .map(|r| {
            json!({
                "nodes": r.nodes,
                "encrypts": r.load.ok(),
                "encrypts_per_sec": r.load.per_sec(),
                "p50_ms": r.load.percentile_ms(50.0),
                "p99_ms": r.load.percentile_ms(99.0),
                "errors": r.load.errors,
                "encrypts_per_node": r.load.ok_per_server,
                "audit_verified": r.audit_verified,
            })
        })
        .collect();
    json!({"seconds": seconds, "concurrency": concurrency, "runs": runs})
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn scratch_url_keeps_hosts_and_parameters() {
        assert_eq!(
            with_database("postgres://u:p@127.0.0.1:5432/postgres", "s").unwrap(),
            "postgres://u:p@127.0.0.1:5432/s"
        );
        assert_eq!(
            with_database("postgresql://127.0.0.1", "s").unwrap(),
            "postgresql://127.0.0.1/s"
        );
        assert_eq!(
            with_database(
                "postgres://u@127.0.0.1:1,127.0.0.1:2/db?sslmode=disable",
                "s"
            )
            .unwrap(),
            "postgres://u@127.0.0.1:1,127.0.0.1:2/s?sslmode=disable"
        );
        assert!(with_database("mysql://127.0.0.1/db", "s").is_err());
    }
}
