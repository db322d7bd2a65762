//! `burnish finetune --seeds K`: the same fine-tune with K seeds. Fine-tuning on small data is
//! unstable across seeds (BERT's paper restarts and keeps the best on the validation set), so
//! one number from one seed says little; K runs give the mean and the spread.
//!
//! Each seed is a complete run directory under `RUN_DIR/seeds/seed-S` (resumable on its own,
//! reused when finished, so an interrupted `--seeds` run continues where it stopped). The
//! held-out validation split, when there is no `--valid`, uses the first seed for every run:
//! all seeds are judged on the same examples. At the end the best seed's model folder is
//! copied into `RUN_DIR` and `metrics.json` gets a `seeds` object: every seed's best value of
//! the selection metric, their mean and sample standard deviation, and the best seed.

use std::path::Path;

use anyhow::{Context, Result};
use burnish::train::metrics::Metric;

use crate::args::FinetuneArgs;
use crate::run_dir;

/// The folder under the run directory holding one run per seed.
pub const SEEDS_DIR: &str = "seeds";

/// Mean and sample standard deviation (`n - 1` in the denominator; 0 for one value).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Runs `burnish finetune --seeds K` (K > 1), each seed's run by `run_one`.
pub fn run(args: FinetuneArgs, run_one: fn(FinetuneArgs) -> Result<()>) -> Result<()> {
    let cfg = args.train_config()?;
    let out = args.out.clone();
    let finished = out.join(run_dir::METRICS).is_file();
    let foreign = out.is_dir()
        && std::fs::read_dir(&out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .any(|e| e.map_or(true, |e| e.file_name() != SEEDS_DIR));
    if finished || foreign {
        crate::runtime::replace_or_refuse(&out, args.overwrite, finished, "")?;
    }

    let base = cfg.seed;
    let mut runs = Vec::with_capacity(args.seeds);
    for i in 0..args.seeds {
        let seed = base.wrapping_add(i as u64);
        let dir = out.join(SEEDS_DIR).join(format!("seed-{seed}"));
        if dir.join(run_dir::METRICS).is_file() {
            eprintln!("seed {seed}: finished earlier in {}", dir.display());
        } else {
            eprintln!("seed {seed} ({} of {})", i + 1, args.seeds);
            let mut one = args.clone();
            one.seeds = 1;
            one.seed = Some(seed);
            one.split_seed = Some(base);
            one.out = dir.clone();
            one.overwrite = false;
            run_one(one)?;
        }
        let metrics = read_json(&dir.join(run_dir::METRICS))?;
        let value = metrics["best"]["metrics"][&cfg.metric]
            .as_f64()
            .with_context(|| {
                format!(
                    "{}: no best value of `{}`",
                    dir.join(run_dir::METRICS).display(),
                    cfg.metric
                )
            })?;
        runs.push((seed, dir, metrics, value));
    }

    let values: Vec<f64> = runs.iter().map(|r| r.3).collect();
    let (mean, std) = mean_std(&values);
    let better = |a: f64, b: f64| {
        if Metric::name_higher_is_better(&cfg.metric) {
            a > b
        } else {
            a < b
        }
    };
    let best = (1..runs.len()).fold(0, |b, i| if better(runs[i].3, runs[b].3) { i } else { b });
    let (best_seed, best_dir, best_metrics, best_value) = &runs[best];

    // The best seed's model folder becomes the run directory's (its files and a LoRA run's
    // adapter folder; its checkpoint stays in its own folder). metrics.json last: it marks
    // the run finished.
    copy_files(best_dir, &out, &[run_dir::METRICS])?;
    let adapter = best_dir.join(crate::runtime::ADAPTER_DIR);
    if adapter.is_dir() {
        copy_files(&adapter, &out.join(crate::runtime::ADAPTER_DIR), &[])?;
    }
    let mut metrics = best_metrics.clone();
    metrics["seeds"] = serde_json::json!({
        "metric": cfg.metric,
        "values": runs
            .iter()
            .map(|(seed, dir, _, value)| serde_json::json!({
                "seed": seed, "value": value, "dir": dir,
            }))
            .collect::<Vec<_>>(),
        "mean": mean,
        "std": std,
        "best_seed": best_seed,
    });
    metrics["peak_rss_bytes"] = burnish::train::memory::peak_rss_bytes().into();
    run_dir::write_json(&out.join(run_dir::METRICS), &metrics)?;
    eprintln!(
        "{} over {} seeds: mean {mean:.4}, std {std:.4}; best seed {best_seed} ({best_value:.4}) kept in {}",
        cfg.metric,
        runs.len(),
        out.display()
    );
    Ok(())
}

/// Copies the files of `from` (not its folders, nor those named in `skip`) into `to`, each
/// written whole or not at all.
fn copy_files(from: &Path, to: &Path, skip: &[&str]) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry.with_context(|| format!("cannot read {}", from.display()))?;
        let path = entry.path();
        if !path.is_file() || skip.iter().any(|s| entry.file_name() == *s) {
            continue;
        }
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let target = to.join(entry.file_name());
        burnish::fs::write_atomic(&target, &bytes)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std() {
        let (m, s) = mean_std(&[0.8, 0.9, 1.0]);
        assert!((m - 0.9).abs() < 1e-12);
        assert!((s - 0.1).abs() < 1e-12);
        assert_eq!(mean_std(&[0.5]), (0.5, 0.0));
    }
}
