//! Compliance profiles (DESIGN §8): data shipped in the binary and the rules
//! every operation is checked against.
