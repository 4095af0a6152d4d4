//! SM4-GCM encrypt and SM4-CTR throughput on 16 KiB messages, by wall time and
//! by process CPU time (what `openssl speed` reports without `-elapsed`), so a
//! busy machine does not skew the comparison with OpenSSL.
//!
//! `cargo run --release -p yaoshi-crypto --example sm4_speed [seconds]`

use std::hint::black_box;
use std::time::{Duration, Instant};
use yaoshi_crypto::aead::{AeadAlgorithm, AeadKey};
use yaoshi_crypto::sm4;

const LEN: usize = 16 * 1024;

/// User + system CPU time of this process, from /proc (clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

fn measure(name: &str, seconds: f64, mut op: impl FnMut()) {
    for _ in 0..100 {
        op();
    }
    let (wall0, cpu0) = (Instant::now(), cpu_time());
    let mut n = 0u64;
    while wall0.elapsed().as_secs_f64() < seconds {
        for _ in 0..100 {
            op();
        }
        n += 100;
    }
    let wall = wall0.elapsed().as_secs_f64();
    let cpu = (cpu_time() - cpu0).as_secs_f64();
    let bytes = (n * LEN as u64) as f64;
    println!(
        "{name:<16} {:>8.1} MB/s wall  {:>8.1} MB/s cpu  ({n} x 16 KiB, cpu {:.0}% of wall)",
        bytes / wall / 1e6,
        bytes / cpu / 1e6,
        100.0 * cpu / wall
    );
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("seconds"))
        .unwrap_or(3.0);
    let message = vec![0x5a_u8; LEN];
    let key = AeadKey::new(AeadAlgorithm::Sm4Gcm, &[0x11; 16]).unwrap();
    let nonce = [7u8; 12];
    measure("sm4-gcm/encrypt", seconds, || {
        black_box(key.seal(&nonce, b"", black_box(&message)).unwrap());
    });
    measure("sm4-ctr/encrypt", seconds, || {
        black_box(sm4::ctr_apply(&[0x11; 16], &[0x22; 16], black_box(&message)).unwrap());
    });
}
