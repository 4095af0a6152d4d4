//! Request metrics in Prometheus text format (`sys/metrics`, like Vault's
//! `?format=prometheus`): request counts and latency by operation, key type
//! and outcome. Each server owns its recorder, so several servers in one
//! process (tests) keep separate figures.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use std::time::Duration;

/// Latency buckets in seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The per-server recorder.
pub struct Metrics {
    recorder: PrometheusRecorder,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// `ok`, `client_error` or `server_error` from an HTTP status.
pub fn outcome(status: u16) -> &'static str {
    match status {
        0..400 => "ok",
        400..500 => "client_error",
        _ => "server_error",
    }
}

impl Metrics {
    /// A fresh recorder.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(BUCKETS)
            .expect("constant buckets are valid")
            .build_recorder();
        Self { recorder }
    }

    /// Records one finished request.
    pub fn record(&self, operation: &str, key_type: &str, status: u16, elapsed: Duration) {
        let labels = [
            ("operation", operation.to_string()),
            ("key_type", key_type.to_string()),
            ("outcome", outcome(status).to_string()),
        ];
        metrics::with_local_recorder(&self.recorder, || {
            metrics::counter!("yaoshi_requests_total", &labels).increment(1);
            metrics::histogram!("yaoshi_request_duration_seconds", &labels)
                .record(elapsed.as_secs_f64());
        });
    }

    /// Records whether the node is sealed (1) or not (0).
    pub fn set_sealed(&self, sealed: bool) {
        metrics::with_local_recorder(&self.recorder, || {
            metrics::gauge!("yaoshi_sealed").set(if sealed { 1.0 } else { 0.0 });
        });
    }

    /// Records the audit writer's state: `yaoshi_audit_healthy` (0 means
    /// requests are being refused), records, commits and failed records.
    pub fn set_audit(&self, health: &yaoshi_core::audit::AuditHealth) {
        metrics::with_local_recorder(&self.recorder, || {
            metrics::gauge!("yaoshi_audit_healthy").set(if health.healthy { 1.0 } else { 0.0 });
            metrics::gauge!("yaoshi_audit_records_written").set(health.records as f64);
            metrics::gauge!("yaoshi_audit_commits").set(health.commits as f64);
            metrics::gauge!("yaoshi_audit_failed_records").set(health.failures as f64);
        });
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.recorder.handle().render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_latency_by_labels() {
        let m = Metrics::new();
        m.record(
            "transit.encrypt",
            "sm4-gcm96",
            200,
            Duration::from_millis(2),
        );
        m.record(
            "transit.encrypt",
            "sm4-gcm96",
            200,
            Duration::from_millis(3),
        );
        m.record("transit.decrypt", "", 400, Duration::from_millis(1));
        let text = m.render();
        assert!(
            text.contains(
                r#"yaoshi_requests_total{operation="transit.encrypt",key_type="sm4-gcm96",outcome="ok"} 2"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"outcome="client_error"} 1"#), "{text}");
        assert!(
            text.contains("yaoshi_request_duration_seconds_bucket"),
            "{text}"
        );
        assert_eq!(outcome(503), "server_error");
    }
}
