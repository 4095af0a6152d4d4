//! Public constants of the SIMD SM4 path: the nibble tables of the two affine
//! maps that turn the AES S-box into the SM4 S-box, and the byte-shuffle masks
//! of the linear transform. Nothing here depends on a key or on data.
//!
//! The SM4 S-box is `S(x) = A·inv(A·x + 0xD3) + 0xD3` in GF(2^8) modulo
//! `x^8+x^7+x^6+x^5+x^4+x^2+1` (A is the circulant matrix of 0xA7). Mapping that
//! field onto the AES field (modulo `x^8+x^4+x^3+x+1`) with an isomorphism `φ`
//! gives `S(x) = POST(SubBytes_AES(PRE(x)))` with the affine maps
//! `PRE(x) = φ(A·x + 0xD3)` and `POST(y) = A·φ⁻¹(A_AES⁻¹·(y + 0x63)) + 0xD3`.
//! An affine map of a byte is the XOR of a map of its low nibble and one of its
//! high nibble, so each is two 16-entry tables applied with PSHUFB. The tables
//! were derived (and checked against the S-box for all 256 inputs) by
//! `derive_tables.py` in this directory; `tests::simd_sbox_matches_table`
//! checks them again here.

/// `PRE` on the low nibble (includes the constant term).
pub(super) const PRE_LO: [u8; 16] = [
    0x3e, 0xb2, 0x0e, 0x82, 0xbb, 0x37, 0x8b, 0x07, 0xa1, 0x2d, 0x91, 0x1d, 0x24, 0xa8, 0x14, 0x98,
];
/// `PRE` on the high nibble (linear part only).
pub(super) const PRE_HI: [u8; 16] = [
    0x00, 0xdc, 0x2e, 0xf2, 0xc5, 0x19, 0xeb, 0x37, 0x08, 0xd4, 0x26, 0xfa, 0xcd, 0x11, 0xe3, 0x3f,
];
/// `POST` on the low nibble (includes the constant term).
pub(super) const POST_LO: [u8; 16] = [
    0x6c, 0xd4, 0xa6, 0x1e, 0x52, 0xea, 0x98, 0x20, 0x0b, 0xb3, 0xc1, 0x79, 0x35, 0x8d, 0xff, 0x47,
];
/// `POST` on the high nibble (linear part only).
pub(super) const POST_HI: [u8; 16] = [
    0x00, 0xe0, 0x50, 0xb0, 0x9d, 0x7d, 0xcd, 0x2d, 0xc0, 0x20, 0x90, 0x70, 0x5d, 0xbd, 0x0d, 0xed,
];
/// Low-nibble mask.
pub(super) const NIBBLE: [u8; 16] = [0x0f; 16];

/// Byte-swaps every 32-bit lane (SM4 words are big-endian).
pub(super) const BSWAP32: [u8; 16] = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];
/// Reverses all 16 bytes (GHASH blocks are big-endian 128-bit numbers).
pub(super) const BSWAP128: [u8; 16] = [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];

/// Undoes the ShiftRows that AESENCLAST applies before SubBytes: AESENCLAST
/// puts `SubBytes(x[sr[i]])` at byte `i`, with `sr[r + 4c] = r + 4((c + r) mod 4)`;
/// byte `j` of the result is then at `INV_SR[j]`.
const fn inv_shift_rows() -> [u8; 16] {
    let mut m = [0u8; 16];
    let mut j = 0;
    while j < 16 {
        let r = j % 4;
        let c = j / 4;
        m[j] = (r + 4 * ((c + 4 - r) % 4)) as u8;
        j += 1;
    }
    m
}

/// Shuffle mask that undoes ShiftRows and then rotates every 32-bit lane left
/// by `8 * k` bits.
const fn inv_sr_then_rol(k: usize) -> [u8; 16] {
    let inv = inv_shift_rows();
    let mut m = [0u8; 16];
    let mut j = 0;
    while j < 16 {
        let lane = j / 4;
        let byte = j % 4;
        m[j] = inv[4 * lane + (byte + 4 - k) % 4];
        j += 1;
    }
    m
}

/// Undo ShiftRows.
pub(super) const ROL0: [u8; 16] = inv_sr_then_rol(0);
/// Undo ShiftRows, rotate lanes left by 8.
pub(super) const ROL8: [u8; 16] = inv_sr_then_rol(1);
/// Undo ShiftRows, rotate lanes left by 16.
pub(super) const ROL16: [u8; 16] = inv_sr_then_rol(2);
/// Undo ShiftRows, rotate lanes left by 24.
pub(super) const ROL24: [u8; 16] = inv_sr_then_rol(3);

/// SM4 system parameter FK.
pub(super) const FK: [u32; 4] = [0xa3b1_bac6, 0x56aa_3350, 0x677d_9197, 0xb270_22dc];

/// SM4 fixed parameters CK: byte `j` of `CK[i]` is `(4i + j) * 7 mod 256`.
pub(super) const CK: [u32; 32] = {
    let mut ck = [0u32; 32];
    let mut i = 0;
    while i < 32 {
        let mut w = 0u32;
        let mut j = 0;
        while j < 4 {
            w = (w << 8) | (((4 * i + j) * 7) % 256) as u32;
            j += 1;
        }
        ck[i] = w;
        i += 1;
    }
    ck
};
