//! The monthly report as one self-contained HTML5 document (DESIGN §8).
//!
//! [`render_html`] writes inline CSS only: no scripts, no external assets
//! (fonts, images, style sheets), nothing that fetches, so the file can be
//! archived, mailed and printed (A4) as it is. Every value from the report is
//! HTML-escaped with [`escape`]; times are UTC ISO-8601.
//!
//! Sections carry stable ids an auditor (or a test) can link to: `summary`,
//! `findings`, `keys`, `operations`, `refusals`, `approvals`, `audit`,
//! `residency`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::FindingStatus;
use super::report::{MonthlyReport, RotationStatus, format_utc};

/// The report sections, in document order: `(id, heading)`.
pub const SECTIONS: [(&str, &str); 7] = [
    ("findings", "Compliance findings"),
    ("keys", "Key inventory and rotation"),
    ("operations", "Operations"),
    ("refusals", "Refused requests"),
    ("approvals", "Dual-control approvals"),
    ("audit", "Audit log verification"),
    ("residency", "Data residency"),
];

const CSS: &str = r#"
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --head: #f0f4f8;
  --pass: #17803d; --pass-bg: #e3f9e5; --warn: #a15c07; --warn-bg: #fff3c4;
  --fail: #b42318; --fail-bg: #fde8e8; --none: #52606d; --none-bg: #eef1f4; --bar: #2f6fb0; }
* { box-sizing: border-box; }
html { background: #ffffff; }
body { margin: 0 auto; max-width: 1180px; padding: 28px 32px 40px; color: var(--ink);
  font: 14px/1.45 "Noto Sans", "Noto Sans CJK SC", "DejaVu Sans", Arial, sans-serif; }
header { border-bottom: 3px solid var(--ink); padding-bottom: 12px; margin-bottom: 18px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h1 .sub { color: var(--muted); font-weight: normal; }
h2 { font-size: 19px; margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { display: grid; grid-template-columns: repeat(4, auto); gap: 2px 18px; margin: 8px 0 0;
  color: var(--muted); font-size: 13px; justify-content: start; }
.meta dt { font-weight: bold; } .meta dd { margin: 0; color: var(--ink); }
.summary { display: grid; grid-template-columns: repeat(6, 1fr); gap: 10px; margin: 14px 0 6px; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; background: var(--head); }
.tile .n { font-size: 24px; font-weight: bold; display: block; }
.tile .l { display: block; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
.tile .l.alert { color: var(--fail); font-weight: bold; }
.tile.overall-pass { background: var(--pass-bg); border-color: var(--pass); }
.tile.overall-fail { background: var(--fail-bg); border-color: var(--fail); }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: bold; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.row-fail td { background: #fff8f7; }
code, pre, .mono { font-family: "DejaVu Sans Mono", "Noto Sans Mono", monospace; font-size: 12px; }
.wrap { overflow-wrap: anywhere; }
time { white-space: nowrap; }
pre { background: var(--head); border: 1px solid var(--line); padding: 10px; white-space: pre-wrap;
  word-break: break-all; margin: 6px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: bold; border: 1px solid currentColor; white-space: nowrap; }
.b-pass { color: var(--pass); background: var(--pass-bg); }
.b-warn { color: var(--warn); background: var(--warn-bg); }
.b-fail { color: var(--fail); background: var(--fail-bg); }
.b-none { color: var(--none); background: var(--none-bg); }
.empty { color: var(--muted); font-style: italic; margin: 6px 0; }
.charts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 18px; }
.chart td { border: none; padding: 2px 4px; }
.chart td.label { width: 38%; overflow-wrap: anywhere; }
.chart td.bar { width: 47%; }
.chart .fill { display: block; height: 12px; background: var(--bar); border-radius: 2px; min-width: 2px; }
.totals { display: flex; gap: 24px; margin: 4px 0 10px; }
.totals b { font-size: 18px; }
footer { margin-top: 34px; padding-top: 8px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; page-break-after: avoid; }
  tr, .tile, pre { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  .summary { grid-template-columns: repeat(3, 1fr); }
  .charts { grid-template-columns: 1fr 1fr; }
}
"#;

/// Escapes text for HTML element content and quoted attribute values:
/// `&`, `<`, `>`, `"` and `'`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the report as one self-contained HTML5 document.
pub fn render_html(report: &MonthlyReport) -> String {
    let mut h = String::with_capacity(32 * 1024);
    let title = format!(
        "yaoshi compliance report — {} — {}",
        report.profile, report.month
    );
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(h, "<title>{}</title>", escape(&title));
    let _ = writeln!(h, "<style>{CSS}</style>\n</head>\n<body>");

    header(&mut h, report);
    summary(&mut h, report);
    findings(&mut h, report);
    keys(&mut h, report);
    operations(&mut h, report);
    refusals(&mut h, report);
    approvals(&mut h, report);
    audit(&mut h, report);
    residency(&mut h, report);

    let _ = writeln!(
        h,
        "<footer>Generated by yaoshi {} on node {} at {} · format {} · period [{}, {})</footer>",
        escape(&report.deployment.version),
        escape(&report.deployment.node),
        time(report.generated_at),
        escape(&report.format),
        time(report.period_start),
        time(report.period_end),
    );
    h.push_str("</body>\n</html>\n");
    h
}

/// A count with thousands separators: `184233` → `184,233`.
fn num(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn time(unix: i64) -> String {
    format!(
        "<time datetime=\"{0}\">{0}</time>",
        escape(&format_utc(unix))
    )
}

fn opt_time(unix: Option<i64>) -> String {
    unix.map_or_else(|| "—".to_string(), time)
}

fn opt_text(s: Option<&str>) -> String {
    s.map_or_else(|| "—".to_string(), escape)
}

fn badge(class: &str, text: &str) -> String {
    format!(
        "<span class=\"badge b-{}\">{}</span>",
        escape(class),
        escape(text)
    )
}

fn status_badge(s: FindingStatus) -> String {
    match s {
        FindingStatus::Pass => badge("pass", "PASS"),
        FindingStatus::Warn => badge("warn", "WARN"),
        FindingStatus::Fail => badge("fail", "FAIL"),
    }
}

fn rotation_badge(s: &str) -> String {
    let class = match s {
        RotationStatus::OK => "pass",
        RotationStatus::DUE_SOON => "warn",
        RotationStatus::OVERDUE => "fail",
        _ => "none",
    };
    badge(class, s)
}

fn section_open(h: &mut String, id: &str) {
    let heading = SECTIONS
        .iter()
        .find(|(i, _)| *i == id)
        .map_or(id, |(_, t)| t);
    let _ = writeln!(
        h,
        "<section id=\"{}\">\n<h2>{}</h2>",
        escape(id),
        escape(heading)
    );
}

fn empty(h: &mut String, text: &str) {
    let _ = writeln!(h, "<p class=\"empty\">{}</p>", escape(text));
}

fn header(h: &mut String, r: &MonthlyReport) {
    let d = &r.deployment;
    let _ = writeln!(
        h,
        "<header>\n<h1>Compliance report <span class=\"sub\">· profile {} · {}</span></h1>",
        escape(&r.profile),
        escape(&r.month)
    );
    h.push_str("<dl class=\"meta\">\n");
    let rows = [
        (
            "Period",
            format!("{} – {}", time(r.period_start), time(r.period_end)),
        ),
        ("Generated", time(r.generated_at)),
        ("Node", escape(&d.node)),
        ("Version", escape(&d.version)),
        ("Storage", escape(&d.storage_backend)),
        ("Jurisdiction", opt_text(d.jurisdiction.as_deref())),
        (
            "TLS",
            if d.tls_enabled {
                "enabled".to_string()
            } else {
                "disabled".to_string()
            },
        ),
        ("Format", escape(&r.format)),
    ];
    for (k, v) in rows {
        let _ = writeln!(h, "<dt>{k}</dt><dd>{v}</dd>");
    }
    h.push_str("</dl>\n</header>\n");
}

fn summary(h: &mut String, r: &MonthlyReport) {
    let (pass, warn, fail) = r.finding_counts();
    let overdue = r
        .keys
        .iter()
        .filter(|k| k.rotation_status == RotationStatus::OVERDUE)
        .count();
    h.push_str("<section id=\"summary\">\n<div class=\"summary\">\n");
    let (class, verdict) = if fail > 0 {
        ("overall-fail", "FAIL")
    } else {
        ("overall-pass", "PASS")
    };
    let _ = writeln!(
        h,
        "<div class=\"tile {class}\"><span class=\"n\">{verdict}</span><span class=\"l\">overall · {pass} pass · {warn} warn · {fail} fail</span></div>"
    );
    // Numbers and fixed labels only, so nothing here needs escaping.
    let keys_label = if overdue > 0 {
        format!("keys</span><span class=\"l alert\">{overdue} rotation overdue")
    } else {
        "keys".to_string()
    };
    let tiles = [
        (num(r.audit.records_in_period), "audit records".to_string()),
        (num(r.keys.len() as u64), keys_label),
        (num(r.operations.total), "operations".to_string()),
        (num(r.refusals.len() as u64), "refusals".to_string()),
        (
            if r.audit.verified { "yes" } else { "NO" }.to_string(),
            "audit log verified".to_string(),
        ),
    ];
    for (n, l) in tiles {
        let _ = writeln!(
            h,
            "<div class=\"tile\"><span class=\"n\">{n}</span><span class=\"l\">{l}</span></div>"
        );
    }
    h.push_str("</div>\n</section>\n");
}

fn findings(h: &mut String, r: &MonthlyReport) {
    section_open(h, "findings");
    if r.findings.is_empty() {
        empty(h, "No findings.");
    } else {
        h.push_str("<table>\n<thead><tr><th>Status</th><th>Rule</th><th>Title</th><th>Evidence</th></tr></thead>\n<tbody>\n");
        for f in &r.findings {
            let row = if f.status == FindingStatus::Fail {
                " class=\"row-fail\""
            } else {
                ""
            };
            let _ = writeln!(
                h,
                "<tr{row}><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                status_badge(f.status),
                escape(&f.id),
                escape(&f.title),
                escape(&f.evidence)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

fn days(d: Option<u64>) -> String {
    d.map_or_else(|| "—".to_string(), |d| format!("{d} d"))
}

fn keys(h: &mut String, r: &MonthlyReport) {
    section_open(h, "keys");
    if r.keys.is_empty() {
        empty(h, "No keys in the inventory.");
    } else {
        h.push_str("<table>\n<thead><tr><th>Mount</th><th>Name</th><th>Type</th><th>State</th><th class=\"num\">Versions</th><th class=\"num\">Latest</th><th>Created</th><th>Latest version created</th><th class=\"num\">Rotation period</th><th class=\"num\">Profile max</th><th>Rotation</th></tr></thead>\n<tbody>\n");
        for k in &r.keys {
            let row = if k.rotation_status == RotationStatus::OVERDUE {
                " class=\"row-fail\""
            } else {
                ""
            };
            let _ = writeln!(
                h,
                "<tr{row}><td>{}</td><td class=\"wrap\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                escape(&k.mount),
                escape(&k.name),
                escape(&k.key_type),
                escape(&k.state),
                k.versions,
                k.latest_version,
                time(k.created_at),
                time(k.latest_version_created_at),
                days(k.rotation_period_days),
                days(k.max_rotation_days),
                rotation_badge(&k.rotation_status),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

fn chart(h: &mut String, title: &str, counts: &BTreeMap<String, u64>) {
    let _ = writeln!(h, "<div>\n<h3>{}</h3>", escape(title));
    if counts.is_empty() {
        empty(h, "None.");
        h.push_str("</div>\n");
        return;
    }
    let mut rows: Vec<(&String, &u64)> = counts.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let max = rows.first().map_or(1, |r| (*r.1).max(1));
    h.push_str("<table class=\"chart\">\n<tbody>\n");
    for (label, n) in rows {
        // Tenths of a percent, integer arithmetic: no float formatting surprises.
        let permille = (u128::from(*n) * 1000 / u128::from(max)) as u64;
        let _ = writeln!(
            h,
            "<tr><td class=\"label\">{}</td><td class=\"bar\"><span class=\"fill\" style=\"width:{}.{}%\"></span></td><td class=\"num\">{}</td></tr>",
            escape(label),
            permille / 10,
            permille % 10,
            num(*n)
        );
    }
    h.push_str("</tbody>\n</table>\n</div>\n");
}

fn operations(h: &mut String, r: &MonthlyReport) {
    section_open(h, "operations");
    let o = &r.operations;
    if o.total == 0 && o.by_operation.is_empty() {
        empty(h, "No operations this month.");
        h.push_str("</section>\n");
        return;
    }
    let _ = writeln!(
        h,
        "<div class=\"totals\"><span><b>{}</b> total</span><span><b>{}</b> allowed</span><span><b>{}</b> denied</span><span><b>{}</b> failed</span></div>",
        num(o.total),
        num(o.allowed),
        num(o.denied),
        num(o.failed)
    );
    h.push_str("<div class=\"charts\">\n");
    chart(h, "By algorithm", &o.by_algorithm);
    chart(h, "By principal", &o.by_principal);
    chart(h, "By operation", &o.by_operation);
    h.push_str("</div>\n</section>\n");
}

fn refusals(h: &mut String, r: &MonthlyReport) {
    section_open(h, "refusals");
    if r.refusals.is_empty() {
        empty(h, "No refusals this month.");
    } else {
        h.push_str("<table>\n<thead><tr><th class=\"num\">Seq</th><th>Time</th><th>Principal</th><th>Operation</th><th>Path</th><th class=\"num\">Status</th><th>Reason</th></tr></thead>\n<tbody>\n");
        for e in &r.refusals {
            let _ = writeln!(
                h,
                "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"wrap\"><code>{}</code></td><td class=\"num\">{}</td><td>{}</td></tr>",
                e.seq,
                time(e.time),
                e.principal
                    .as_deref()
                    .map_or_else(|| "<em>unauthenticated</em>".to_string(), escape),
                escape(&e.operation),
                escape(&e.path),
                e.status,
                escape(&e.reason),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "—".to_string()
    } else {
        escape(&v.join(", "))
    }
}

fn approvals(h: &mut String, r: &MonthlyReport) {
    section_open(h, "approvals");
    if r.approvals.is_empty() {
        empty(h, "No dual-control requests this month.");
    } else {
        h.push_str("<table>\n<thead><tr><th>Request</th><th>Operation</th><th>Requester</th><th>Status</th><th>Approved by</th><th>Rejected by</th><th>Created</th><th>Decided</th></tr></thead>\n<tbody>\n");
        for a in &r.approvals {
            let class = match a.status.as_str() {
                "approved" | "executed" => "pass",
                "pending" => "warn",
                "rejected" => "fail",
                _ => "none",
            };
            let _ = writeln!(
                h,
                "<tr><td class=\"wrap\"><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&a.id),
                escape(&a.operation),
                escape(&a.requester),
                badge(class, &a.status),
                list(&a.approvers),
                list(&a.rejected_by),
                time(a.created_at),
                opt_time(a.decided_at),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

/// Checkpoint fields shown first, with the names a served checkpoint may
/// use for each.
const CHECKPOINT_FIELDS: [(&str, &[&str]); 8] = [
    ("Tree size", &["tree_size", "size"]),
    ("Root hash", &["root_hash", "root", "merkle_root"]),
    ("Time", &["timestamp", "time", "created_at"]),
    ("Hash algorithm", &["hash_algorithm", "hash_alg", "hash"]),
    (
        "Signature algorithm",
        &["signature_algorithm", "sig_alg", "signature_alg"],
    ),
    ("Algorithms", &["algorithms", "algorithm"]),
    ("Key id", &["key_id", "kid", "signing_key_id"]),
    ("Signature", &["signature", "sig"]),
];

fn json_value(label: &str, v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => escape(s),
        serde_json::Value::Number(n) if label == "Time" => match n.as_i64() {
            Some(t) => format!("{} <span class=\"mono\">({t})</span>", time(t)),
            None => escape(&n.to_string()),
        },
        serde_json::Value::Number(n) => n.as_u64().map_or_else(|| escape(&n.to_string()), num),
        other => escape(&other.to_string()),
    }
}

fn checkpoint(h: &mut String, cp: &serde_json::Value) {
    h.push_str("<h3>Latest signed checkpoint</h3>\n<table>\n<tbody>\n");
    match cp {
        serde_json::Value::Object(map) => {
            let mut used: Vec<&str> = Vec::new();
            for (label, names) in CHECKPOINT_FIELDS {
                let Some((name, v)) = names.iter().find_map(|n| map.get(*n).map(|v| (*n, v)))
                else {
                    continue;
                };
                used.push(name);
                let _ = writeln!(
                    h,
                    "<tr><th>{}</th><td class=\"wrap mono\">{}</td></tr>",
                    escape(label),
                    json_value(label, v)
                );
            }
            for (k, v) in map.iter().filter(|(k, _)| !used.contains(&k.as_str())) {
                let _ = writeln!(
                    h,
                    "<tr><th>{}</th><td class=\"wrap mono\">{}</td></tr>",
                    escape(k),
                    json_value(k, v)
                );
            }
        }
        other => {
            let _ = writeln!(
                h,
                "<tr><th>Checkpoint</th><td class=\"wrap mono\">{}</td></tr>",
                escape(&other.to_string())
            );
        }
    }
    h.push_str("</tbody>\n</table>\n");
}

fn audit(h: &mut String, r: &MonthlyReport) {
    section_open(h, "audit");
    let a = &r.audit;
    let _ = writeln!(
        h,
        "<p>{} {}</p>",
        if a.verified {
            badge("pass", "VERIFIED")
        } else {
            badge("fail", "NOT VERIFIED")
        },
        escape(&a.detail)
    );
    let seq = match (a.first_seq, a.last_seq) {
        (Some(f), Some(l)) => format!("{f} – {l}"),
        (Some(f), None) => format!("{f} – ?"),
        (None, Some(l)) => format!("? – {l}"),
        (None, None) => "—".to_string(),
    };
    let _ = writeln!(
        h,
        "<table>\n<tbody>\n<tr><th>Records in period</th><td class=\"num\">{}</td></tr>\n<tr><th>Sequence numbers</th><td class=\"num\">{}</td></tr>\n</tbody>\n</table>",
        num(a.records_in_period),
        seq
    );
    match &a.checkpoint {
        Some(cp) => checkpoint(h, cp),
        None => empty(h, "No signed checkpoint available."),
    }
    h.push_str("<h3>Audit signing public key</h3>\n");
    if a.public_key_pem.trim().is_empty() {
        empty(h, "No public key recorded.");
    } else {
        let _ = writeln!(h, "<pre>{}</pre>", escape(a.public_key_pem.trim_end()));
    }
    h.push_str("</section>\n");
}

fn residency(h: &mut String, r: &MonthlyReport) {
    section_open(h, "residency");
    let s = &r.residency;
    let dc = if s.distinct_data_centres >= s.min_data_centres {
        badge("pass", "met")
    } else {
        badge("fail", "not met")
    };
    let allowed = if s.allowed_locations.is_empty() {
        "any".to_string()
    } else {
        list(&s.allowed_locations)
    };
    let _ = writeln!(
        h,
        "<table>\n<tbody>\n<tr><th>Jurisdiction</th><td>{}</td></tr>\n<tr><th>Allowed locations</th><td>{}</td></tr>\n<tr><th>Data centres</th><td>{} distinct, at least {} required {}</td></tr>\n</tbody>\n</table>",
        opt_text(s.jurisdiction.as_deref()),
        allowed,
        s.distinct_data_centres,
        s.min_data_centres,
        dc
    );
    if s.endpoints.is_empty() {
        empty(h, "No located endpoints.");
    } else {
        h.push_str("<table>\n<thead><tr><th>Kind</th><th>Name</th><th>Location</th><th>Allowed</th></tr></thead>\n<tbody>\n");
        for e in &s.endpoints {
            let row = if e.allowed { "" } else { " class=\"row-fail\"" };
            let _ = writeln!(
                h,
                "<tr{row}><td>{}</td><td class=\"wrap\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(&e.kind),
                escape(&e.name),
                escape(&e.location),
                if e.allowed {
                    badge("pass", "allowed")
                } else {
                    badge("fail", "not allowed")
                }
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::super::report::*;
    use super::super::{Finding, FindingStatus};
    use super::*;

    fn sample(key_name: &str) -> MonthlyReport {
        let (period_start, period_end) = MonthlyReport::month_bounds("2026-11").unwrap();
        MonthlyReport {
            format: MonthlyReport::FORMAT.into(),
            profile: "gb39786-l3".into(),
            month: "2026-11".into(),
            period_start,
            period_end,
            generated_at: period_end + 3600,
            deployment: DeploymentInfo {
                jurisdiction: Some("CN".into()),
                storage_backend: "postgres".into(),
                node: "kms-bj-1".into(),
                version: "0.4.0".into(),
                tls_enabled: true,
            },
            findings: vec![
                Finding {
                    id: "algorithms.key-types".into(),
                    title: "Only SM key types".into(),
                    status: FindingStatus::Pass,
                    evidence: "3 keys, all sm2/sm4".into(),
                },
                Finding {
                    id: "rotation.max-period".into(),
                    title: "Keys rotated within 365 days".into(),
                    status: FindingStatus::Fail,
                    evidence: "1 key overdue".into(),
                },
            ],
            keys: vec![KeyInventoryItem {
                mount: "transit".into(),
                name: key_name.into(),
                key_type: "sm4-gcm".into(),
                state: "active".into(),
                versions: 2,
                latest_version: 2,
                created_at: period_start - 400 * 86_400,
                latest_version_created_at: period_start - 380 * 86_400,
                rotation_period_days: None,
                max_rotation_days: Some(365),
                rotation_status: RotationStatus::OVERDUE.into(),
            }],
            operations: OperationStats {
                total: 10,
                allowed: 8,
                denied: 1,
                failed: 1,
                by_algorithm: [("sm4-gcm".to_string(), 10)].into(),
                by_principal: [("app-payments".to_string(), 10)].into(),
                by_operation: [("encrypt".to_string(), 6), ("decrypt".to_string(), 4)].into(),
            },
            refusals: vec![],
            approvals: vec![],
            audit: AuditSection {
                verified: true,
                detail: "chain, 3 checkpoints and signatures verified".into(),
                records_in_period: 10,
                first_seq: Some(100),
                last_seq: Some(109),
                checkpoint: Some(serde_json::json!({
                    "tree_size": 110,
                    "root_hash": "9f86d081884c7d65",
                    "timestamp": period_end - 60,
                    "hash_algorithm": "sm3",
                    "signature_algorithm": "sm2-sm3",
                    "key_id": "audit-2026",
                    "signature": "MEUCIQD",
                })),
                public_key_pem: "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE\n-----END PUBLIC KEY-----\n".into(),
            },
            residency: ResidencySection {
                jurisdiction: Some("CN".into()),
                allowed_locations: vec!["cn-north".into()],
                min_data_centres: 2,
                distinct_data_centres: 2,
                endpoints: vec![LocatedEndpoint {
                    kind: "storage".into(),
                    name: "pg-primary".into(),
                    location: "cn-north".into(),
                    allowed: true,
                }],
            },
        }
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(num(0), "0");
        assert_eq!(num(999), "999");
        assert_eq!(num(1000), "1,000");
        assert_eq!(num(184_233), "184,233");
        assert_eq!(num(1_226_110), "1,226,110");
    }

    #[test]
    fn escape_handles_markup_ampersands_and_quotes() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(escape("a & b"), "a &amp; b");
        assert_eq!(escape("&amp;"), "&amp;amp;");
        assert_eq!(escape(r#"say "hi" it's"#), "say &quot;hi&quot; it&#39;s");
        assert_eq!(escape("密钥-ok"), "密钥-ok");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn every_section_has_its_id_and_heading() {
        let html = render_html(&sample("payments"));
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<section id=\"summary\">"));
        for (id, heading) in SECTIONS {
            let open = format!("<section id=\"{id}\">\n<h2>{heading}</h2>");
            assert_eq!(html.matches(&open).count(), 1, "section {id}");
        }
        // Sections come in the documented order.
        let pos: Vec<usize> = SECTIONS
            .iter()
            .map(|(id, _)| html.find(&format!("id=\"{id}\"")).unwrap())
            .collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{pos:?}");
        assert!(html.contains("<title>yaoshi compliance report — gb39786-l3 — 2026-11</title>"));
    }

    #[test]
    fn values_render() {
        let html = render_html(&sample("payments"));
        assert!(html.contains("<span class=\"badge b-fail\">FAIL</span>"));
        assert!(html.contains("<span class=\"badge b-pass\">PASS</span>"));
        assert!(html.contains("<span class=\"badge b-fail\">overdue</span>"));
        assert!(html.contains("2026-11-01T00:00:00Z"));
        assert!(html.contains("2026-12-01T01:00:00Z"), "generated_at");
        // Checkpoint fields.
        for v in [
            "Tree size",
            ">110<",
            "9f86d081884c7d65",
            "2026-11-30T23:59:00Z",
            "sm2-sm3",
            "audit-2026",
            "MEUCIQD",
        ] {
            assert!(html.contains(v), "{v}");
        }
        assert!(html.contains("<pre>-----BEGIN PUBLIC KEY-----\n"));
        // Bars: encrypt is the maximum, decrypt 4/6 of it.
        assert!(html.contains("width:100.0%"));
        assert!(html.contains("width:66.6%"));
        // Empty sections say so.
        assert!(html.contains("No refusals this month."));
        assert!(html.contains("No dual-control requests this month."));
    }

    #[test]
    fn empty_report_says_so() {
        let mut r = sample("k");
        r.findings.clear();
        r.keys.clear();
        r.operations = OperationStats::default();
        r.audit.checkpoint = None;
        r.residency.endpoints.clear();
        let html = render_html(&r);
        for s in [
            "No findings.",
            "No keys in the inventory.",
            "No operations this month.",
            "No refusals this month.",
            "No dual-control requests this month.",
            "No signed checkpoint available.",
            "No located endpoints.",
        ] {
            assert!(html.contains(s), "{s}");
        }
    }

    #[test]
    fn hostile_values_appear_only_escaped() {
        let evil = r#"<script>alert("k'1")</script>&<img src=x onerror=alert(2)>"#;
        let mut r = sample(evil);
        r.profile = evil.into();
        r.audit.checkpoint = Some(serde_json::json!({ "key_id": evil, evil: evil }));
        r.operations.by_principal.insert(evil.into(), 3);
        let html = render_html(&r);
        assert!(!html.contains(evil));
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("alert(\""));
        let escaped = escape(evil);
        assert!(escaped.starts_with("&lt;script&gt;alert(&quot;k&#39;1&quot;)"));
        assert!(html.matches(&escaped).count() >= 5);
    }

    #[test]
    fn document_is_self_contained() {
        let html = render_html(&sample("payments"));
        let lower = html.to_ascii_lowercase();
        for banned in [
            "http://", "https://", "<script", "src=", "<link", "@import", "url(", "<img",
        ] {
            assert!(!lower.contains(banned), "{banned}");
        }
        assert!(lower.contains("@media print"));
        assert!(lower.contains("size: a4"));
    }

    #[test]
    fn report_json_round_trips() {
        let r = sample("payments");
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"format\":\"yaoshi-compliance-report-v1\""));
        assert!(json.contains("\"rotation_status\":\"overdue\""));
        assert!(json.contains("\"status\":\"fail\""));
        let back: MonthlyReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
