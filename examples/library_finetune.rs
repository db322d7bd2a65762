//! burnish as a library: load MiniLM, fine-tune a sentiment classifier on movie-review
//! snippets, evaluate it, predict, and save a Hugging Face folder, through the facade only.
//!
//! ```text
//! scripts/fetch-assets.sh        # once: assets/all-MiniLM-L6-v2, assets/vader-movies
//! cargo run --release --example library_finetune -- [ROWS] [EPOCHS]
//! ```
//!
//! `ROWS` training rows (default 2000; CI uses 200) of `assets/vader-movies/train.tsv`, a
//! tenth of them held out for validation, `EPOCHS` epochs (default 1), inputs cut to 64
//! tokens; the model goes to `runs/library-finetune/model`. `BURNISH_ASSETS` points at
//! another assets folder, `BURNISH_BACKEND` picks the backend (`flex` by default).

use burnish::prelude::*;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let rows = args
        .next()
        .transpose()
        .map_err(|e| setting("ROWS", e))?
        .unwrap_or(2000);
    let epochs = args
        .next()
        .transpose()
        .map_err(|e| setting("EPOCHS", e))?
        .unwrap_or(1);
    let assets = std::env::var("BURNISH_ASSETS").unwrap_or_else(|_| "assets".into());
    let device = device(&std::env::var("BURNISH_BACKEND").unwrap_or_else(|_| "flex".into()))?;

    let base = Pretrained::from_dir(format!("{assets}/all-MiniLM-L6-v2"), &device)?;
    let data = TextDataset::read(
        format!("{assets}/vader-movies/train.tsv"),
        "sentence",
        "label",
    )?;
    let (train, valid) = data.take(rows).split(0.1, 42)?;

    let run = "runs/library-finetune";
    let _ = std::fs::remove_dir_all(run); // start afresh: a run left there would be resumed
    let config = TrainConfig {
        epochs,
        max_length: 64,
        ..TrainConfig::default()
    };
    let trained = Trainer::new(config, run)?.classifier(&base, &train, &valid)?;
    let classifier = trained.model;
    let eval = classifier.evaluate(&valid)?;
    println!(
        "validation accuracy {:.3} on {} reviews",
        eval.metrics["accuracy"],
        valid.len()
    );

    let texts = [
        "A gorgeous, witty, seductive movie.",
        "The plot is a mess and the acting is worse.",
    ];
    for (text, p) in texts.iter().zip(classifier.predict(&texts)?) {
        println!(
            "{} ({:.3})  {text}",
            p.label().unwrap_or("?"),
            p.score().unwrap_or(0.0)
        );
    }
    classifier.save(format!("{run}/model"))?;
    println!("saved {run}/model");
    Ok(())
}

fn setting(name: &'static str, e: std::num::ParseIntError) -> Error {
    Error::Setting {
        name,
        reason: e.to_string(),
    }
}
