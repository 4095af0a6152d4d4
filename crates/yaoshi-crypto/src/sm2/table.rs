//! Precomputed multiples of the SM2 base point `G`, built once on first use
//! (`std::sync::OnceLock`) with the crate's own point arithmetic.
//!
//! * [`base_table`]: for constant-time `k·G`, row `i` (of [`BASE_WINDOWS`])
//!   holds `j·2^(WINDOW·i)·G` for `j = 1..=16` in affine form:
//!   52 × 16 × 64 bytes ≈ 53 KB. Rows are only ever read by a full scan.
//! * [`g_odd_multiples`]: `G, 3G, ..., 63G` (affine) for the width-7 wNAF of
//!   variable-time verification.
//! * [`build_table`] also builds the same table for a public key `P` once
//!   that key object verifies a second time (see `keys.rs`), so repeated
//!   verification needs no doublings.

use super::field::Fe;
use super::point::{Affine, Jacobian, batch_to_affine};
use super::sign::{GX, GY};
use std::sync::OnceLock;

/// Bits per signed window of the fixed-base table.
pub(super) const WINDOW: usize = 5;
/// Rows of the fixed-base table, `⌈256 / WINDOW⌉`.
pub(super) const BASE_WINDOWS: usize = 256_usize.div_ceil(WINDOW);
/// Entries per row: the digit magnitudes `1..=2^(WINDOW-1)`.
const ROW: usize = 1 << (WINDOW - 1);
/// wNAF width used for `G` in verification.
pub(super) const G_WNAF: u32 = 7;

/// Rows of `j·2^(5i)·G`.
pub(super) type BaseTable = [[Affine; ROW]; BASE_WINDOWS];

/// The generator `G`.
pub(super) fn generator() -> Affine {
    Affine {
        x: Fe::from_bytes(&GX).expect("G_x < p"),
        y: Fe::from_bytes(&GY).expect("G_y < p"),
    }
}

/// The fixed-base table for [`super::point::mul_base`].
pub(super) fn base_table() -> &'static BaseTable {
    static TABLE: OnceLock<Box<BaseTable>> = OnceLock::new();
    TABLE.get_or_init(|| build_table(&generator()))
}

/// Rows of `j·2^(5i)·base`, `j = 1..=16`: the generator's table, or a public
/// key's table for repeated verification (one batch inversion).
pub(super) fn build_table(base: &Affine) -> Box<BaseTable> {
    let mut points = Vec::with_capacity(BASE_WINDOWS * ROW);
    let mut base = Jacobian::from(base);
    for _ in 0..BASE_WINDOWS {
        let mut multiple = base;
        for _ in 0..ROW {
            points.push(multiple);
            multiple = multiple.add_vartime(&base);
        }
        for _ in 0..WINDOW {
            base = base.double();
        }
    }
    let affine = batch_to_affine(&points);
    let mut table = Box::new([[Affine::default(); ROW]; BASE_WINDOWS]);
    for (i, row) in table.iter_mut().enumerate() {
        row.copy_from_slice(&affine[i * ROW..(i + 1) * ROW]);
    }
    table
}

/// `G, 3G, 5G, ..., (2^(G_WNAF-1) - 1)·G`.
pub(super) fn g_odd_multiples() -> &'static [Affine; 1 << (G_WNAF - 2)] {
    static ODD: OnceLock<[Affine; 1 << (G_WNAF - 2)]> = OnceLock::new();
    ODD.get_or_init(|| {
        let g = Jacobian::from(&generator());
        let g2 = g.double();
        let mut points = vec![g];
        for i in 1..(1 << (G_WNAF - 2)) {
            let next = points[i - 1].add_vartime(&g2);
            points.push(next);
        }
        let affine = batch_to_affine(&points);
        let mut out = [Affine::default(); 1 << (G_WNAF - 2)];
        out.copy_from_slice(&affine);
        out
    })
}
