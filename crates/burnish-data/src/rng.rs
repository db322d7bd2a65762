//! A small deterministic random number generator (SplitMix64) for shuffling, splitting and
//! masking.
//!
//! The whole state is one `u64` ([`Rng::state`] / [`Rng::from_state`]), so it can be saved in a
//! checkpoint and restored exactly, and the sequence it produces depends on nothing but that
//! state: the same on every platform, every run and every version of every dependency. That is
//! what makes a resumed training run see the same batches as an uninterrupted one.

/// The golden-ratio increment of SplitMix64.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finaliser: a bijective mix of all 64 bits.
const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A SplitMix64 generator (Steele, Lea & Flood 2014): fast, statistically solid for shuffling
/// and sampling, and with a state that is a single `u64`.
///
/// Not for cryptography.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator seeded with `seed`. Every seed, including 0, gives a good sequence.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// An independent generator for stream `stream` of `seed` (e.g. the shuffle of one epoch):
    /// a deterministic function of `(seed, stream)` alone, so stream `k` can be recreated
    /// without drawing streams `0..k` first.
    pub const fn derive(seed: u64, stream: u64) -> Self {
        let stream_key = mix64(stream.wrapping_add(GOLDEN_GAMMA));
        Self::new(mix64(seed ^ stream_key).wrapping_add(stream_key))
    }

    /// Restores a generator from a state saved with [`Rng::state`]; it continues exactly where
    /// the saved one was.
    pub const fn from_state(state: u64) -> Self {
        Self { state }
    }

    /// The current state, to save and later pass to [`Rng::from_state`].
    pub const fn state(&self) -> u64 {
        self.state
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub fn gen_f64(&mut self) -> f64 {
        // 2^-53: the top 53 bits become the mantissa.
        const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
        (self.next_u64() >> 11) as f64 * SCALE
    }

    /// `true` with probability `p` (`p <= 0` never, `p >= 1` always).
    pub fn gen_bool(&mut self, p: f64) -> bool {
        self.gen_f64() < p
    }

    /// A uniform integer in `0..n`, without modulo bias (Lemire's multiply-and-reject).
    /// Returns 0 when `n` is 0.
    pub fn gen_below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(n);
            // The low half decides whether this draw is in the unbiased range.
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }

    /// A uniform index in `0..n` (`n > 0`; returns 0 when `n` is 0).
    pub fn gen_index(&mut self, n: usize) -> usize {
        // usize is at most 64 bits, and the result is below n, so both conversions are exact.
        self.gen_below(n as u64) as usize
    }

    /// Shuffles `items` in place (Fisher-Yates), every order equally likely.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.gen_index(i + 1);
            items.swap(i, j);
        }
    }
}

/// A seeded pseudo-random permutation of `0..n` that is evaluated one position at a time, in
/// constant memory: what shuffles an epoch of a corpus too large to hold one index per
/// sequence in memory.
///
/// It is a four-round Feistel network over the smallest domain of `2k` bits that covers `n`
/// (a bijection of that domain, whatever the round function), restricted to `0..n` by cycle
/// walking (applied again until the value falls below `n`, which takes fewer than four
/// applications on average, as the domain is less than `4n`). The round keys come from
/// [`Rng::derive`]`(seed, round)`, so the order depends only on `(n, seed)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permutation {
    n: u64,
    half_bits: u32,
    keys: [u64; 4],
}

impl Permutation {
    /// The permutation of `0..n` for `seed`.
    pub fn new(n: u64, seed: u64) -> Self {
        let bits = 64 - n.saturating_sub(1).leading_zeros();
        let half_bits = bits.div_ceil(2).max(1);
        let keys = [0, 1, 2, 3].map(|round| Rng::derive(seed, round).next_u64());
        Self { n, half_bits, keys }
    }

    /// Its length `n`.
    pub fn len(&self) -> u64 {
        self.n
    }

    /// Whether it permutes nothing.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The value at position `i` (`i < n`).
    pub fn get(&self, i: u64) -> u64 {
        debug_assert!(i < self.n, "position {i} of a permutation of {}", self.n);
        let mut x = self.feistel(i);
        while x >= self.n {
            x = self.feistel(x);
        }
        x
    }

    /// One pass of the Feistel network over the `2 * half_bits`-bit domain.
    fn feistel(&self, x: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let (mut left, mut right) = (x >> self.half_bits, x & mask);
        for key in self.keys {
            let f = mix64(right ^ key) & mask;
            (left, right) = (right, left ^ f);
        }
        (left << self.half_bits) | right
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_are_bijections_that_depend_on_the_seed() {
        for n in [1u64, 2, 3, 10, 1000, 4097, 65_536] {
            let p = Permutation::new(n, 9);
            let mut values: Vec<u64> = (0..n).map(|i| p.get(i)).collect();
            let order = values.clone();
            values.sort_unstable();
            assert_eq!(values, (0..n).collect::<Vec<_>>(), "n = {n}");
            assert_eq!(order, (0..n).map(|i| p.get(i)).collect::<Vec<_>>());
            if n >= 10 {
                let other: Vec<u64> = (0..n).map(|i| Permutation::new(n, 10).get(i)).collect();
                assert_ne!(order, other, "n = {n}");
                // Shuffled: few values stay in place.
                let fixed = order
                    .iter()
                    .enumerate()
                    .filter(|&(i, &v)| i as u64 == v)
                    .count();
                assert!(fixed as u64 <= n / 5 + 2, "n = {n}: {fixed} fixed points");
            }
        }
        // Large domains work without memory: spot-check distinct values.
        let p = Permutation::new(10_000_000_000, 1);
        let some: std::collections::BTreeSet<u64> = (0..1000).map(|i| p.get(i)).collect();
        assert_eq!(some.len(), 1000);
        assert!(some.iter().all(|&v| v < 10_000_000_000));
    }

    #[test]
    fn matches_the_splitmix64_reference_sequence() {
        // The published first outputs of SplitMix64 seeded with 1234567.
        let mut rng = Rng::new(1_234_567);
        let expected = [
            6_457_827_717_110_365_317u64,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
            4_593_380_528_125_082_431,
            16_408_922_859_458_223_821,
        ];
        for value in expected {
            assert_eq!(rng.next_u64(), value);
        }
    }

    #[test]
    fn state_round_trips_and_continues_the_sequence() {
        let mut a = Rng::new(42);
        a.next_u64();
        let saved = a.state();
        let next: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let mut b = Rng::from_state(saved);
        let again: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(next, again);
    }

    #[test]
    fn derived_streams_are_deterministic_and_distinct() {
        assert_eq!(Rng::derive(7, 3), Rng::derive(7, 3));
        assert_ne!(Rng::derive(7, 3).next_u64(), Rng::derive(7, 4).next_u64());
        assert_ne!(Rng::derive(7, 3).next_u64(), Rng::derive(8, 3).next_u64());
    }

    #[test]
    fn floats_are_in_the_unit_interval_with_the_right_mean() {
        let mut rng = Rng::new(0);
        let n = 100_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let x = rng.gen_f64();
            assert!((0.0..1.0).contains(&x));
            sum += x;
        }
        let mean = sum / f64::from(n);
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn gen_below_is_in_range_and_roughly_uniform() {
        let mut rng = Rng::new(99);
        let mut counts = [0usize; 7];
        for _ in 0..70_000 {
            counts[rng.gen_index(7)] += 1;
        }
        for count in counts {
            assert!((9_000..11_000).contains(&count), "{counts:?}");
        }
        assert_eq!(rng.gen_below(0), 0);
        assert_eq!(rng.gen_below(1), 0);
    }

    #[test]
    fn shuffle_is_a_permutation_and_depends_on_the_seed() {
        let original: Vec<usize> = (0..100).collect();
        let mut a = original.clone();
        Rng::new(1).shuffle(&mut a);
        let mut b = original.clone();
        Rng::new(1).shuffle(&mut b);
        let mut c = original.clone();
        Rng::new(2).shuffle(&mut c);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, original);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, original);
        // Empty and one-element slices are fine.
        Rng::new(3).shuffle(&mut Vec::<u8>::new());
        Rng::new(3).shuffle(&mut [1]);
    }
}
