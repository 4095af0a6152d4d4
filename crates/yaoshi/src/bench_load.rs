//! The HTTP encrypt load shared by `yaoshi bench audit` and `yaoshi bench
//! nodes`: `concurrency` clients, client `i` sending to server `i mod n`,
//! each encrypting a 64-byte message in a loop until the time is up, and
//! the per-server counts and latencies of the requests answered 200.

use serde_json::json;
use std::time::{Duration, Instant};

/// What one load run measured.
pub struct Load {
    /// Requests answered 200, per server (in the order given).
    pub ok_per_server: Vec<u64>,
    /// Requests that failed (no answer or not 200).
    pub errors: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Latencies of the requests answered 200, in microseconds, sorted.
    pub latencies_us: Vec<u64>,
}

impl Load {
    /// Requests answered 200 on all servers.
    pub fn ok(&self) -> u64 {
        self.ok_per_server.iter().sum()
    }

    /// Requests answered 200 per second.
    pub fn per_sec(&self) -> f64 {
        self.ok() as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// The `p`-th percentile (0 to 100) of the successful requests'
    /// latency, in milliseconds (0 when none succeeded).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let n = self.latencies_us.len();
        if n == 0 {
            return 0.0;
        }
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        self.latencies_us[rank.clamp(1, n) - 1] as f64 / 1000.0
    }
}

/// Runs the load against `bases` (`http://host:port`) for `seconds`,
/// encrypting with key `key` (which must exist) using `token`.
pub async fn encrypt_load(
    bases: &[String],
    token: &str,
    key: &str,
    seconds: f64,
    concurrency: usize,
) -> Result<Load, String> {
    if bases.is_empty() {
        return Err("no server to load".into());
    }
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..concurrency {
        let server = client % bases.len();
        let url = format!("{}/v1/transit/encrypt/{key}", bases[server]);
        let (http, token) = (http.clone(), token.to_string());
        tasks.push(tokio::spawn(async move {
            let body = json!({"plaintext": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="});
            let (mut latencies, mut errors) = (Vec::new(), 0u64);
            while Instant::now() < deadline {
                let sent = Instant::now();
                let answer = http
                    .post(&url)
                    .header("X-Vault-Token", &token)
                    .json(&body)
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status().is_success() => {
                        latencies.push(sent.elapsed().as_micros() as u64)
                    }
                    _ => errors += 1,
                }
            }
            (server, latencies, errors)
        }));
    }
    let mut load = Load {
        ok_per_server: vec![0; bases.len()],
        errors: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
    };
    for t in tasks {
        let (server, latencies, errors) = t.await.map_err(|e| e.to_string())?;
        load.ok_per_server[server] += latencies.len() as u64;
        load.errors += errors;
        load.latencies_us.extend(latencies);
    }
    load.elapsed = started.elapsed();
    load.latencies_us.sort_unstable();
    Ok(load)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let load = Load {
            ok_per_server: vec![4, 6],
            errors: 0,
            elapsed: Duration::from_secs(2),
            latencies_us: (1..=10).map(|ms| ms * 1000).collect(),
        };
        assert_eq!(load.ok(), 10);
        assert_eq!(load.per_sec(), 5.0);
        assert_eq!(load.percentile_ms(50.0), 5.0);
        assert_eq!(load.percentile_ms(99.0), 10.0);
        assert_eq!(load.percentile_ms(0.0), 1.0);
        let none = Load {
            latencies_us: Vec::new(),
            ..load
        };
        assert_eq!(none.percentile_ms(50.0), 0.0);
    }
}
