//! Every Burn backend is built with the speed features Burn's own defaults give it.
//!
//! The workspace declares `burn` with `default-features = false`, which also strips the defaults
//! of Burn's backends: without naming them, flex runs every matrix product on one thread with
//! no SIMD kernels, and the CubeCL backends run without kernel fusion or autotuned matmul. This
//! test asks cargo for the features each backend crate resolves to, in builds of the facade and
//! of the CLI with each backend feature alone, and fails when one is missing.

use std::process::Command;

/// The backend features of the facade, the Burn crate each builds, and the features that crate
/// must have.
const EXPECTED: [(&str, &str, &[&str]); 4] = [
    ("flex", "burn-flex", &["rayon", "simd", "x86-v4"]),
    ("wgpu", "burn-cubecl", &["fusion", "autotune"]),
    ("vulkan", "burn-cubecl", &["fusion", "autotune", "vulkan"]),
    ("cuda", "burn-cubecl", &["fusion", "autotune"]),
];

/// The features `cargo tree` resolves for `krate` in a build of `package` with only `feature`.
fn resolved_features(package: &str, feature: &str, krate: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "-p", package, "--no-default-features", "--features"])
        .arg(feature)
        .args(["-e", "features", "--prefix", "none", "-i", krate])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package} --features {feature} -i {krate} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prefix = format!("{krate} feature \"");
    let mut features: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect();
    features.sort();
    features.dedup();
    features
}

#[test]
fn backends_are_built_with_their_speed_features() {
    let mut missing = Vec::new();
    for package in ["burnish", "burnish-cli"] {
        for (feature, krate, wanted) in EXPECTED {
            let have = resolved_features(package, feature, krate);
            assert!(
                !have.is_empty(),
                "{krate} is not built at all by -p {package} --features {feature}"
            );
            for want in wanted {
                if !have.iter().any(|f| f == want) {
                    missing.push(format!(
                        "-p {package} --features {feature}: {krate} lacks `{want}` (has {have:?})"
                    ));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "backends built without their speed features (name them in Cargo.toml's backend \
         features):\n{}",
        missing.join("\n")
    );
}
