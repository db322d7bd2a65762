//! Seeds derived from the run seed, so that every random draw of a run (batch order, dropout,
//! a recomputed forward) is a pure function of the seed and its position.

/// A 64-bit seed from the run seed and a position (SplitMix64 finaliser).
pub fn mix_seed(seed: u64, epoch: u64, batch: u64) -> u64 {
    let mut z = seed
        ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ batch.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
