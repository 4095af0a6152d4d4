//! Compliance evaluation and reporting (DESIGN §8): findings of
//! `yaoshi compliance check` ([`checks`]) and the monthly report
//! ([`report`], [`activity`], [`html`]).

pub mod activity;
pub mod checks;
pub mod html;
pub mod report;

use serde::{Deserialize, Serialize};

/// How one finding came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    /// The deployment meets the rule.
    Pass,
    /// The deployment breaks the rule (`compliance check` exits 1).
    Fail,
    /// Not a breach, but an auditor should look (e.g. a rotation due soon).
    Warn,
}

/// One evaluated rule with the evidence it was judged on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identifier, e.g. `algorithms.key-types`.
    pub id: String,
    /// One-line human title.
    pub title: String,
    /// Outcome.
    pub status: FindingStatus,
    /// What was observed (human-readable, never secret).
    pub evidence: String,
}

/// The answer of `compliance check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Name of the profile evaluated against.
    pub profile: String,
    /// Unix time (seconds) of the evaluation.
    pub generated_at: i64,
    /// Every finding, in a stable order.
    pub findings: Vec<Finding>,
}

impl CheckResult {
    /// True when any finding failed.
    pub fn failed(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.status == FindingStatus::Fail)
    }
}
