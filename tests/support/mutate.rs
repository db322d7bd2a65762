//! A small seeded input mutator for the bounded fuzz tests (stable Rust; the cargo-fuzz
//! targets in `fuzz/` do the same with libFuzzer's coverage guidance). Shared by the crates'
//! `tests/fuzz.rs` through `#[path]`.
#![allow(dead_code)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// SplitMix64.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes that matter to the formats under test: separators, quotes, brackets, line ends,
/// invalid UTF-8, digits, NaN spellings.
const INTERESTING: &[&[u8]] = &[
    b"\"",
    b",",
    b"\t",
    b"\n",
    b"\r\n",
    b"\r",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\\",
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"0",
    b"-1",
    b"1e39",
    b"NaN",
    b"null",
    b"\"\"",
    b" ",
    b"\0",
    b"B-",
    b"I-",
    b"O",
    b"-DOCSTART-",
    b"99999999999999999999",
    b"\xe2\x80\x94",
];

/// `input` with 1-8 random edits (bit flips, byte sets, inserts of interesting bytes,
/// deletions, duplications, truncation, splices from `other`).
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..1 + rng.below(8) {
        let len = data.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            2 | 3 => {
                let i = rng.below(len + 1);
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                data.splice(i..i, piece.iter().copied());
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                data.drain(i..i + n);
            }
            5 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let piece = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, piece);
            }
            6 if len > 0 => data.truncate(rng.below(len)),
            _ if !other.is_empty() => {
                let i = rng.below(other.len());
                let n = 1 + rng.below((other.len() - i).min(128));
                let at = rng.below(len + 1);
                data.splice(at..at, other[i..i + n].iter().copied());
            }
            _ => {}
        }
    }
    data
}

/// How many inputs a fuzz test tries per target: `BURNISH_FUZZ_ITERS`, else `default`.
pub fn iterations(default: usize) -> usize {
    std::env::var("BURNISH_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An optional time budget per target (`BURNISH_FUZZ_SECONDS`): when set, the target runs
/// until it is spent instead of for a number of iterations.
pub fn time_budget() -> Option<Duration> {
    std::env::var("BURNISH_FUZZ_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_secs)
}

/// Feeds mutations of `seeds` to `check` (which writes them where the code under test reads
/// them and runs it); a panic fails the test after saving the input to `crash_dir` so it can
/// become a regression test. Returns the number of inputs tried.
pub fn fuzz(
    name: &str,
    seed: u64,
    seeds: &[Vec<u8>],
    default_iterations: usize,
    crash_dir: &Path,
    mut check: impl FnMut(&[u8]),
) -> usize {
    let mut rng = Rng(seed);
    let budget = time_budget();
    let limit = iterations(default_iterations);
    let started = Instant::now();
    let mut tried = 0usize;
    // Quiet panics: a caught panic is reported with its input below.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut crash: Option<(PathBuf, String)> = None;
    loop {
        let done = match budget {
            Some(b) => started.elapsed() >= b,
            None => tried >= limit,
        };
        if done {
            break;
        }
        let base = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        // Every so often the seed itself, unmutated: the baseline must pass too.
        let input = if tried < seeds.len() {
            seeds[tried].clone()
        } else {
            mutate(&mut rng, base, other)
        };
        tried += 1;
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&input))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            std::fs::create_dir_all(crash_dir).unwrap();
            let path = crash_dir.join(format!("{name}-{seed}-{tried}.bin"));
            std::fs::write(&path, &input).unwrap();
            crash = Some((path, message));
            break;
        }
    }
    std::panic::set_hook(hook);
    if let Some((path, message)) = crash {
        panic!(
            "{name}: input {tried} panicked: {message}; saved to {}",
            path.display()
        );
    }
    eprintln!(
        "{name}: {tried} inputs in {:.1}s, no panic",
        started.elapsed().as_secs_f64()
    );
    tried
}
