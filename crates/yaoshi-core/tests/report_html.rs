//! The monthly report's HTML, rendered by real headless Chromium (DESIGN §8).
//!
//! A realistic report is written as `report.html` and loaded from a `file://`
//! URL (no network): `--dump-dom` must show every section and key values, and
//! a 1280x3000 screenshot must decode as a PNG that is visibly drawn down the
//! page. Chromium is required: without it these tests fail (CI installs the
//! Debian `chromium` package). Artefacts are kept under Cargo's target tmp
//! directory and their paths printed, so a human can look at the screenshot.

use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

mod chromium;

use chromium::{chromium_version, run_chromium};
use yaoshi_core::compliance::html::{SECTIONS, render_html};
use yaoshi_core::compliance::report::*;
use yaoshi_core::compliance::{Finding, FindingStatus};

const DAY: i64 = 86_400;

fn finding(id: &str, title: &str, status: FindingStatus, evidence: &str) -> Finding {
    Finding {
        id: id.into(),
        title: title.into(),
        status,
        evidence: evidence.into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn key(
    mount: &str,
    name: &str,
    key_type: &str,
    versions: u64,
    created_days_ago: i64,
    rotated_days_ago: i64,
    period: Option<u64>,
    max: Option<u64>,
    status: &str,
    now: i64,
) -> KeyInventoryItem {
    KeyInventoryItem {
        mount: mount.into(),
        name: name.into(),
        key_type: key_type.into(),
        state: "active".into(),
        versions,
        latest_version: versions as i64,
        created_at: now - created_days_ago * DAY,
        latest_version_created_at: now - rotated_days_ago * DAY,
        rotation_period_days: period,
        max_rotation_days: max,
        rotation_status: status.into(),
    }
}

fn refusal(
    seq: u64,
    time: i64,
    principal: Option<&str>,
    op: &str,
    path: &str,
    status: u16,
    reason: &str,
) -> RefusalEntry {
    RefusalEntry {
        seq,
        time,
        principal: principal.map(Into::into),
        operation: op.into(),
        path: path.into(),
        status,
        reason: reason.into(),
    }
}

fn sample_report() -> MonthlyReport {
    let (start, end) = MonthlyReport::month_bounds("2026-11").unwrap();
    let now = end + 2 * 3600;
    let counts = |v: &[(&str, u64)]| v.iter().map(|(k, n)| (k.to_string(), *n)).collect();
    MonthlyReport {
        format: MonthlyReport::FORMAT.into(),
        profile: "gb39786-l3".into(),
        month: "2026-11".into(),
        period_start: start,
        period_end: end,
        generated_at: now,
        deployment: DeploymentInfo {
            jurisdiction: Some("CN".into()),
            storage_backend: "postgres".into(),
            node: "kms-bj-1".into(),
            version: "0.4.0".into(),
            tls_enabled: true,
        },
        findings: vec![
            finding("algorithms.key-types", "Only approved key types (SM2, SM4)", FindingStatus::Pass, "7 keys: sm4-gcm ×4, sm2 ×2, hmac-sm3 ×1"),
            finding("algorithms.barrier", "Barrier uses SM4-GCM", FindingStatus::Pass, "barrier algorithm sm4-gcm"),
            finding("audit.algorithms", "Audit chain SM3, checkpoints SM2", FindingStatus::Pass, "hash sm3, signature sm2-sm3"),
            finding("audit.retention", "Audit retention ≥ 180 days", FindingStatus::Pass, "retention 365 days"),
            finding("roles.separation", "Three-role separation", FindingStatus::Pass, "no principal holds two admin roles"),
            finding("dual-control.operations", "Dual control on destroy, export, profile change", FindingStatus::Pass, "quorum 2 of 3"),
            finding("rotation.max-period", "Keys rotated within the profile maximum", FindingStatus::Fail, "transit/legacy-billing last rotated 412 days ago (max 365)"),
            finding("rotation.due-soon", "Rotations due within 30 days", FindingStatus::Warn, "transit/payments due in 12 days"),
            finding("tls.required", "API served over TLS", FindingStatus::Pass, "TLS 1.3, SM2 certificate"),
            finding("residency.min-data-centres", "At least 2 data centres", FindingStatus::Pass, "2 distinct: cn-north-1a, cn-north-1b"),
        ],
        keys: vec![
            key("transit", "payments", "sm4-gcm", 4, 800, 353, Some(365), Some(365), "due-soon", now),
            key("transit", "legacy-billing", "sm4-gcm", 1, 412, 412, None, Some(365), "overdue", now),
            key("transit", "orders", "sm4-gcm", 3, 300, 40, Some(90), Some(365), "ok", now),
            key("transit", "sessions", "sm4-gcm", 12, 370, 20, Some(30), Some(365), "ok", now),
            key("signing", "invoice-seal", "sm2", 2, 500, 120, Some(365), Some(365), "ok", now),
            key("signing", "api-gateway", "sm2", 1, 60, 60, None, Some(365), "ok", now),
            key("mac", "webhook-hmac", "hmac-sm3", 1, 90, 90, None, None, "not-required", now),
        ],
        operations: OperationStats {
            total: 184_233,
            allowed: 183_904,
            denied: 317,
            failed: 12,
            by_algorithm: counts(&[("sm4-gcm", 171_200), ("sm2", 12_410), ("hmac-sm3", 623)]),
            by_principal: counts(&[("app-payments", 120_003), ("app-orders", 51_197), ("app-invoicing", 12_410), ("svc-webhooks", 600), ("sec-admin-li", 23)]),
            by_operation: counts(&[("encrypt", 98_321), ("decrypt", 72_879), ("sign", 10_002), ("verify", 2_408), ("hmac", 600), ("rotate", 23)]),
        },
        refusals: vec![
            refusal(1_048_211, start + 2 * DAY + 3_600, Some("app-orders"), "decrypt", "/v1/transit/decrypt/payments", 403, "no grant for key transit/payments"),
            refusal(1_051_004, start + 5 * DAY + 7_200, None, "encrypt", "/v1/transit/encrypt/orders", 403, "missing or invalid token"),
            refusal(1_077_310, start + 11 * DAY + 60, Some("sec-admin-li"), "keys.create", "/v1/transit/keys/rsa-legacy", 400, "profile gb39786-l3 does not allow key type rsa-2048"),
            refusal(1_102_455, start + 19 * DAY + 30_000, Some("sys-admin-wang"), "keys.export", "/v1/transit/export/encryption-key/payments", 403, "role sys-admin may not export keys"),
        ],
        approvals: vec![
            ApprovalSummary { id: "apr-7f3c21".into(), operation: "keys.destroy transit/old-tokens".into(), requester: "sec-admin-li".into(), status: "executed".into(), approvers: vec!["sec-admin-zhao".into(), "audit-admin-chen".into()], rejected_by: vec![], created_at: start + 3 * DAY, decided_at: Some(start + 3 * DAY + 5_400) },
            ApprovalSummary { id: "apr-80aa9e".into(), operation: "keys.export transit/payments".into(), requester: "sec-admin-zhao".into(), status: "rejected".into(), approvers: vec![], rejected_by: vec!["sec-admin-li".into(), "audit-admin-chen".into()], created_at: start + 14 * DAY, decided_at: Some(start + 15 * DAY) },
            ApprovalSummary { id: "apr-91b0d4".into(), operation: "profile.change gb39786-l3 → gb39786-l4".into(), requester: "sec-admin-li".into(), status: "pending".into(), approvers: vec!["sec-admin-zhao".into()], rejected_by: vec![], created_at: start + 28 * DAY, decided_at: None },
        ],
        audit: AuditSection {
            verified: true,
            detail: "hash chain (SM3) intact over 1,041,877–1,226,109; 62 checkpoints, Merkle roots and SM2 signatures verified".into(),
            records_in_period: 184_233,
            first_seq: Some(1_041_877),
            last_seq: Some(1_226_109),
            checkpoint: Some(serde_json::json!({
                "tree_size": 1_226_110,
                "root_hash": "5d1f0c2e8b7a4c99e3a0f6b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b",
                "timestamp": end - 45,
                "hash_algorithm": "sm3",
                "signature_algorithm": "sm2-sm3",
                "key_id": "audit-signing-2026",
                "signature": "MEUCIQDx3n9q8Wc2l1pZ0f6bKq7V3xY4t2uS5rR8oP1nM0aL9gIgQ7e6D5c4B3a2Z1y0X9w8V7u6T5s4R3q2P1o0N9m8L7k=",
            })),
            public_key_pem: "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEq3V8n1tJ9cX2kP0uY5wR7hL4mB6s\nA1dF3gH8jK2lZ9xC4vB7nM5qW0eR6tY3uI8oP2aS1dF4gH7jK9lZ3xC5vB8n==\n-----END PUBLIC KEY-----\n".into(),
        },
        residency: ResidencySection {
            jurisdiction: Some("CN".into()),
            allowed_locations: vec!["cn-north-1".into(), "cn-east-2".into()],
            min_data_centres: 2,
            distinct_data_centres: 2,
            endpoints: vec![
                LocatedEndpoint { kind: "storage".into(), name: "pg-primary.kms.internal".into(), location: "cn-north-1".into(), allowed: true },
                LocatedEndpoint { kind: "storage".into(), name: "pg-replica.kms.internal".into(), location: "cn-east-2".into(), allowed: true },
                LocatedEndpoint { kind: "backup target".into(), name: "oss-backup-bj".into(), location: "cn-north-1".into(), allowed: true },
                LocatedEndpoint { kind: "audit sink".into(), name: "siem-export".into(), location: "hk-1".into(), allowed: false },
            ],
        },
    }
}

/// A fresh directory for one test's artefacts, kept after the run.
fn artefact_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("report_html")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_report(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("report.html");
    std::fs::write(&path, render_html(&sample_report())).unwrap();
    let json = serde_json::to_string_pretty(&sample_report()).unwrap();
    std::fs::write(dir.join("report.json"), json).unwrap();
    let url = format!("file://{}", path.canonicalize().unwrap().display());
    (path, url)
}

#[test]
fn chromium_dom_has_every_section_and_values() {
    let dir = artefact_dir("dom");
    let (html_path, url) = write_report(&dir);
    println!("{}", chromium_version());
    println!("report: {}", html_path.display());
    let dom = run_chromium(&dir, &["--dump-dom"], &url, &dir.join("dom.html"));
    println!("dom: {}", dir.join("dom.html").display());

    assert!(dom.contains("<title>yaoshi compliance report — gb39786-l3 — 2026-11</title>"));
    for (id, heading) in SECTIONS {
        assert!(
            dom.contains(&format!("<section id=\"{id}\">")),
            "section {id} missing from the rendered DOM"
        );
        assert!(
            dom.contains(&format!("<h2>{heading}</h2>")),
            "heading {heading:?} missing from the rendered DOM"
        );
    }
    for value in [
        "legacy-billing",
        "<span class=\"badge b-fail\">overdue</span>",
        "<span class=\"badge b-warn\">due-soon</span>",
        "app-payments",
        "120,003",
        "no grant for key transit/payments",
        "<em>unauthenticated</em>",
        "apr-80aa9e",
        "1,226,110",
        "5d1f0c2e8b7a4c99e3a0f6b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b",
        "2026-11-30T23:59:15Z",
        "audit-signing-2026",
        "-----BEGIN PUBLIC KEY-----",
        "siem-export",
        "<span class=\"badge b-fail\">not allowed</span>",
        "profile.change gb39786-l3 → gb39786-l4",
    ] {
        assert!(
            dom.contains(value),
            "{value:?} missing from the rendered DOM"
        );
    }
    // The parser built no script or image elements from the data.
    assert!(!dom.contains("<script"));
    assert!(!dom.contains("<img"));
}

#[test]
fn chromium_screenshot_is_drawn_down_the_page() {
    let dir = artefact_dir("screenshot");
    let (html_path, url) = write_report(&dir);
    let png_path = dir.join("report.png");
    println!("{}", chromium_version());
    println!("report: {}", html_path.display());
    let shot = format!("--screenshot={}", png_path.display());
    run_chromium(
        &dir,
        &["--hide-scrollbars", "--window-size=1280,3000", &shot],
        &url,
        &dir.join("screenshot.stdout.txt"),
    );
    println!("screenshot: {}", png_path.display());
    assert!(
        png_path.is_file(),
        "no screenshot at {}",
        png_path.display()
    );

    let mut decoder = png::Decoder::new(BufReader::new(File::open(&png_path).unwrap()));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame decodes");
    assert_eq!((info.width, info.height), (1280, 3000));
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected colour type {other:?}"),
    };
    let (w, h) = (info.width as usize, info.height as usize);
    let stride = info.line_size;
    let pixel = |x: usize, y: usize| {
        let i = y * stride + x * channels;
        [buf[i], buf[i + 1], buf[i + 2]]
    };

    let mut colours = HashSet::new();
    const BANDS: usize = 6;
    let mut ink = [0usize; BANDS];
    for y in 0..h {
        for x in 0..w {
            let p = pixel(x, y);
            colours.insert(p);
            // "Ink": clearly darker than the white page.
            if p.iter().any(|&c| c < 200) {
                ink[y * BANDS / h] += 1;
            }
        }
    }
    println!("distinct colours: {}, ink per band: {ink:?}", colours.len());
    assert!(
        colours.len() > 48,
        "only {} distinct colours: the page looks blank",
        colours.len()
    );
    let band_pixels = w * h / BANDS;
    let drawn = ink.iter().filter(|&&n| n * 200 > band_pixels).count();
    assert!(
        drawn >= 5,
        "content drawn in only {drawn} of {BANDS} horizontal bands: {ink:?}"
    );
    // The top band holds the title and the summary.
    assert!(
        ink[0] * 100 > band_pixels,
        "title band nearly empty: {ink:?}"
    );
}
