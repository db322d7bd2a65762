//! Draws a PNG line chart from a JSON description with burnish's own plotting code
//! (`burnish::train::plot`, the code behind every run's `training.png`): used by
//! `scripts/transfer_experiment.sh` for the learning curve of docs/transfer.md.
//!
//! ```text
//! cargo run --example plot_curves -- SPEC.json OUT.png
//! ```
//!
//! `SPEC.json`: `{"title": "...", "panels": [{"title": "...", "x_label": "...",
//! "series": [{"name": "...", "points": [[x, y], ...]}]}]}`.

use anyhow::{Context, Result, bail};
use burnish::train::plot::{Panel, plot_curves};
use serde::Deserialize;

#[derive(Deserialize)]
struct Spec {
    title: String,
    panels: Vec<PanelSpec>,
}

#[derive(Deserialize)]
struct PanelSpec {
    title: String,
    x_label: String,
    series: Vec<SeriesSpec>,
}

#[derive(Deserialize)]
struct SeriesSpec {
    name: String,
    points: Vec<(f64, f64)>,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [spec_path, out] = args.as_slice() else {
        bail!("usage: plot_curves SPEC.json OUT.png");
    };
    let text =
        std::fs::read_to_string(spec_path).with_context(|| format!("cannot read {spec_path}"))?;
    let spec: Spec = serde_json::from_str(&text).with_context(|| spec_path.to_string())?;
    let panels: Vec<Panel> = spec
        .panels
        .into_iter()
        .map(|p| {
            p.series
                .into_iter()
                .fold(Panel::new(p.title, p.x_label), |panel, s| {
                    panel.with_series(s.name, s.points)
                })
        })
        .collect();
    plot_curves(std::path::Path::new(out), &spec.title, &panels)?;
    eprintln!("wrote {out}");
    Ok(())
}
