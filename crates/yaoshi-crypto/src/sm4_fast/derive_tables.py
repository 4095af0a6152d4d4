#!/usr/bin/env python3
"""Derives the affine-map nibble tables in tables.rs (run: python3 derive_tables.py).

The SM4 S-box is S(x) = A·inv(A·x + C) + C in GF(2^8) mod x^8+x^7+x^6+x^5+x^4+x^2+1,
with A the circulant matrix whose row i is 0xA7 rotated left by i and C = 0xD3. With an
isomorphism phi from that field onto the AES field (mod x^8+x^4+x^3+x+1) and the AES
S-box SB(w) = A_aes·inv(w) + 0x63:

    S(x) = POST(SB(PRE(x))),  PRE(x) = phi(A·x + C),  POST(y) = A·phi^-1(A_aes^-1·(y + 0x63)) + C

Both maps are affine, so each is split into a low-nibble table (with the constant) and a
high-nibble table. The script checks the S-box identity for all 256 inputs against the
S-box from the GB/T 32907 standard (copied below) and prints the tables.
"""

SBOX = bytes.fromhex(
    "d690e9fecce13db716b614c228fb2c052b679a762abe04c3aa44132649860699"
    "9c4250f491ef987a33540b43edcfac62e4b31ca9c908e89580df94fa758f3fa6"
    "4707a7fcf37317ba83593c19e6854fa8686b81b27164da8bf8eb0f4b70569d35"
    "1e240e5e6358d1a225227c3b01217887d40046579fd327524c3602e7a0c4c89e"
    "eabf8ad240c738b5a3f7f2cef96115a1e0ae5da49b341a55ad933230f58cb1e3"
    "1df6e22e8266ca60c02923ab0d534e6fd5db3745defd8e2f03ff6a726d6c5b51"
    "8d1baf92bbddbc7f11d95c411f105ad80ac13188a5cd7bbd2d74d012b8e5b4b0"
    "8969974a0c96777e65b9f109c56ec68418f07dec3adc4d2079ee5f3ed7cb3948"
)
P_SM4, P_AES = 0x1F5, 0x11B


def gmul(a, b, p):
    r = 0
    while b:
        if b & 1:
            r ^= a
        b >>= 1
        a <<= 1
        if a & 0x100:
            a ^= p
    return r


def ginv(a, p):
    return 0 if a == 0 else next(b for b in range(1, 256) if gmul(a, b, p) == 1)


def rotl8(v, n):
    return ((v << n) | (v >> (8 - n))) & 0xFF if n % 8 else v


def mat(rows, x):
    return sum((bin(rows[i] & x).count("1") & 1) << i for i in range(8))


A = [rotl8(0xA7, i) for i in range(8)]
C = 0xD3
assert all(mat(A, ginv(mat(A, x) ^ C, P_SM4)) ^ C == SBOX[x] for x in range(256))


def aes_affine(v):
    r = 0
    for i in range(8):
        bit = (v >> i) ^ (v >> ((i + 4) % 8)) ^ (v >> ((i + 5) % 8)) ^ (v >> ((i + 6) % 8)) ^ (v >> ((i + 7) % 8))
        r |= (bit & 1) << i
    return r ^ 0x63


SB = [aes_affine(ginv(x, P_AES)) for x in range(256)]
assert SB[0] == 0x63 and SB[0x53] == 0xED


def phi_for(beta):
    powers = [1]
    for _ in range(8):
        powers.append(gmul(powers[-1], beta, P_AES))
    if eval_poly(powers) != 0:  # beta must be a root of the SM4 field polynomial
        return None
    table = []
    for x in range(256):
        v = 0
        for i in range(8):
            if x >> i & 1:
                v ^= powers[i]
        table.append(v)
    return table if len(set(table)) == 256 else None


def eval_poly(powers):
    acc = 0
    for i in range(9):
        if P_SM4 >> i & 1:
            acc ^= powers[i]
    return acc


phi = next(t for t in (phi_for(b) for b in range(2, 256)) if t)
assert all(phi[gmul(a, b, P_SM4)] == gmul(phi[a], phi[b], P_AES) for a in range(256) for b in range(0, 256, 5))
phi_inv = [0] * 256
for x in range(256):
    phi_inv[phi[x]] = x

pre = [phi[mat(A, x) ^ C] for x in range(256)]
post = [0] * 256
for w in range(256):
    post[SB[w]] = mat(A, phi_inv[ginv(w, P_AES)]) ^ C
assert all(post[SB[pre[x]]] == SBOX[x] for x in range(256))


def split(t):
    lo = [t[n] for n in range(16)]
    hi = [t[n << 4] ^ t[0] for n in range(16)]
    assert all(t[x] == lo[x & 15] ^ hi[x >> 4] for x in range(256))
    return lo, hi


for name, table in (("PRE", pre), ("POST", post)):
    for half, values in zip(("LO", "HI"), split(table)):
        print(f"{name}_{half}: [{', '.join(f'0x{v:02x}' for v in values)}]")
