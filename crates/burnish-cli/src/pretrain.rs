//! `burnish pretrain`: masked LM, masked LM + NSP, or causal LM on plain-text corpora, from
//! scratch or continued from a checkpoint.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burnish::burn::tensor::Device;
use burnish::data::{
    Corpus, CorpusOptions, HeldOutSplit, MlmMasker, MlmOptions, NspOptions, NspPairs, PackOptions,
    Packer, Part, PretrainSequence, SpecialIds, TokenizedDocuments, TokenizedSentences,
};
use burnish::encoder::config::BertConfig;
use burnish::heads::{BertForMaskedLM, BertForPreTraining, BertLMHeadModel};
use burnish::tokenizer::{Tokenizer, WordPieceTrainOptions, train_wordpiece};
use burnish::train::TrainConfig;
use burnish::train::schedule::ScheduleKind;
use burnish::train::tasks::pretrain::{self, Objective, PretrainBatches, PretrainModel};
use burnish::train::trainer::FineTune;
use clap::Args;
use serde::Serialize;

use crate::finetune::{
    exit_if_interrupted, make_trainer, prepare_out_dir, print_summary, run_metrics,
};
use crate::run_dir;

/// Arguments of `burnish pretrain`.
#[derive(Debug, Args)]
pub struct PretrainArgs {
    /// mlm, mlm+nsp or clm.
    #[arg(long, default_value = "mlm")]
    objective: String,
    /// Corpus files: `.txt` (documents separated by blank lines), `.jsonl` (a `text` per line),
    /// either gzip-compressed or not.
    #[arg(long, required = true, num_args = 1..)]
    corpus: Vec<PathBuf>,
    /// Run directory to write (resumed if it holds an unfinished run).
    #[arg(long)]
    out: PathBuf,
    /// Replace an existing finished run directory.
    #[arg(long)]
    overwrite: bool,
    /// Continue pre-training this checkpoint (its tokenizer too); without it, a new model of
    /// the sizes below.
    #[arg(long)]
    model: Option<PathBuf>,
    /// From scratch: a `config.json` with the sizes (flags below override it).
    #[arg(long)]
    config: Option<PathBuf>,
    /// From scratch: encoder layers.
    #[arg(long)]
    layers: Option<usize>,
    /// From scratch: hidden size.
    #[arg(long)]
    hidden: Option<usize>,
    /// From scratch: attention heads.
    #[arg(long)]
    heads: Option<usize>,
    /// From scratch: feed-forward size (default 4 x hidden).
    #[arg(long)]
    intermediate: Option<usize>,
    /// From scratch: position embeddings (at least --max-length).
    #[arg(long)]
    max_positions: Option<usize>,
    /// From scratch: a tokenizer folder; without it, a WordPiece tokenizer is trained on the
    /// corpus first.
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Vocabulary size of a tokenizer trained on the corpus.
    #[arg(long, default_value_t = 8000)]
    vocab_size: usize,
    /// Keep case when training a tokenizer.
    #[arg(long)]
    cased: bool,
    /// Tokens per packed sequence.
    #[arg(long, default_value_t = 128)]
    max_length: usize,
    /// Fraction of the documents held out for evaluation.
    #[arg(long, default_value_t = 0.05)]
    held_out: f64,
    /// Use at most this many training sequences.
    #[arg(long)]
    max_sequences: Option<usize>,
    /// Fraction of tokens predicted by MLM.
    #[arg(long, default_value_t = 0.15)]
    mlm_probability: f64,
    /// Mask whole words (all their sub-words) instead of single tokens.
    #[arg(long)]
    whole_word: bool,
    /// Epochs.
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 1e-4)]
    lr: f64,
    /// Warmup fraction.
    #[arg(long, default_value_t = 0.06)]
    warmup_ratio: f64,
    /// AdamW weight decay.
    #[arg(long, default_value_t = 0.01)]
    weight_decay: f64,
    /// Evaluate on the held-out part every N steps (and at each epoch end).
    #[arg(long)]
    eval_every: Option<usize>,
    /// Write a resumable checkpoint every N steps.
    #[arg(long)]
    checkpoint_every: Option<usize>,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Backend: flex, tch, tch-cuda, wgpu or cuda.
    #[arg(long, default_value = "flex")]
    backend: String,
    /// Only evaluate the `--model` checkpoint on the held-out part of the corpus (the same
    /// split and masks a training run with these flags evaluates on): writes `metrics.json`
    /// (held-out loss, perplexity, accuracy, the unigram baseline) and trains and saves nothing.
    #[arg(long)]
    eval_only: bool,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
}

/// How a pre-training run was made (`training_config.json`).
#[derive(Debug, Serialize)]
struct PretrainInfo<'a> {
    task: &'static str,
    objective: &'static str,
    corpus: &'a [PathBuf],
    base_model: Option<&'a Path>,
    max_length: usize,
    held_out: f64,
    mlm_probability: f64,
    whole_word: bool,
    train: &'a TrainConfig,
}

impl PretrainArgs {
    fn train_config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch_size,
            learning_rate: self.lr,
            warmup_ratio: self.warmup_ratio,
            schedule: ScheduleKind::Linear,
            weight_decay: self.weight_decay,
            eval_every: self.eval_every,
            checkpoint_every: self.checkpoint_every,
            metric: "loss".into(),
            seed: self.seed,
            max_length: self.max_length,
            bucketing: false,
            ..TrainConfig::default()
        }
    }

    /// The config of a model trained from scratch.
    fn scratch_config(&self, vocab_size: usize) -> Result<BertConfig> {
        let mut json = match &self.config {
            Some(path) => serde_json::from_str::<serde_json::Value>(
                &std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            )
            .with_context(|| format!("{}", path.display()))?,
            None => serde_json::json!({
                "num_hidden_layers": 4, "hidden_size": 256, "num_attention_heads": 4,
                "intermediate_size": 1024, "max_position_embeddings": 512,
            }),
        };
        let set = |json: &mut serde_json::Value, key: &str, value: Option<usize>| {
            if let Some(v) = value {
                json[key] = v.into();
            }
        };
        set(&mut json, "num_hidden_layers", self.layers);
        set(&mut json, "hidden_size", self.hidden);
        set(&mut json, "num_attention_heads", self.heads);
        let intermediate = self.intermediate.or_else(|| self.hidden.map(|h| 4 * h));
        set(&mut json, "intermediate_size", intermediate);
        set(&mut json, "max_position_embeddings", self.max_positions);
        json["vocab_size"] = vocab_size.into();
        json["model_type"] = "bert".into();
        let where_ = self
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from("--layers/--hidden/--heads"));
        Ok(BertConfig::from_json_str(&json.to_string(), &where_)?)
    }
}

/// The tokenizer: the checkpoint's, the given one, or one trained on the corpus (saved in the
/// run directory).
fn tokenizer(args: &PretrainArgs) -> Result<Tokenizer> {
    if let Some(dir) = args.model.as_ref().or(args.tokenizer.as_ref()) {
        return Ok(Tokenizer::from_dir(dir)?);
    }
    let saved = args.out.join("tokenizer.json");
    if saved.is_file() {
        // A resumed run keeps the tokenizer it trained.
        return Ok(Tokenizer::from_dir(&args.out)?);
    }
    eprintln!(
        "training a {}-token WordPiece tokenizer on the corpus",
        args.vocab_size
    );
    let options = WordPieceTrainOptions {
        vocab_size: args.vocab_size,
        lowercase: !args.cased,
        show_progress: !args.quiet,
        ..WordPieceTrainOptions::default()
    };
    let mut tokenizer = train_wordpiece(&args.corpus, &options)?;
    tokenizer.set_model_max_length(Some(args.max_length.max(512)));
    tokenizer.save_dir(&args.out)?;
    Ok(tokenizer)
}

/// The packed (or paired) sequences of one part of the corpus.
fn sequences(
    args: &PretrainArgs,
    objective: Objective,
    tokenizer: &Tokenizer,
    part: Part,
    limit: Option<usize>,
) -> Result<Vec<PretrainSequence>> {
    let corpus = Corpus::new(args.corpus.iter().cloned(), CorpusOptions::default())?;
    let split = HeldOutSplit::new(args.held_out, args.seed)?;
    let sentences = corpus.sentences().part(split, part);
    let tokenized = TokenizedSentences::new(tokenizer.clone(), sentences);
    let special = SpecialIds::from_tokenizer(tokenizer)?;
    let limit = limit.unwrap_or(usize::MAX);
    let out: Vec<PretrainSequence> = match objective {
        Objective::MlmNsp => {
            let options = NspOptions {
                max_length: args.max_length,
                ..NspOptions::default()
            };
            NspPairs::new(
                TokenizedDocuments::new(tokenized),
                special,
                options,
                args.seed,
                0,
            )?
            .take(limit)
            .collect::<burnish::data::Result<_>>()?
        }
        Objective::Mlm | Objective::Clm => {
            let options = PackOptions {
                max_length: args.max_length,
                cross_documents: true,
            };
            Packer::new(tokenized, special, options)?
                .take(limit)
                .collect::<burnish::data::Result<_>>()?
        }
    };
    Ok(out)
}

/// What `burnish pretrain` needs of a model.
trait PretrainHead: FineTune<burnish::data::PretrainBatch> + PretrainModel {
    fn save(&self, config: &BertConfig, dir: &Path) -> burnish::encoder::Result<()>;
}

impl PretrainHead for BertForMaskedLM {
    fn save(&self, config: &BertConfig, dir: &Path) -> burnish::encoder::Result<()> {
        self.save_pretrained(config, dir)
    }
}

impl PretrainHead for BertForPreTraining {
    fn save(&self, config: &BertConfig, dir: &Path) -> burnish::encoder::Result<()> {
        self.save_pretrained(config, dir)
    }
}

impl PretrainHead for BertLMHeadModel {
    fn save(&self, config: &BertConfig, dir: &Path) -> burnish::encoder::Result<()> {
        self.save_pretrained(config, dir)
    }
}

/// Runs `burnish pretrain`.
pub fn run(args: PretrainArgs) -> Result<()> {
    let objective = Objective::parse(&args.objective).with_context(|| {
        format!(
            "--objective {}: expected mlm, mlm+nsp or clm",
            args.objective
        )
    })?;
    if args.model.is_some() && (args.config.is_some() || args.tokenizer.is_some()) {
        bail!("--model continues a checkpoint; --config and --tokenizer are for a new model");
    }
    if args.eval_only && args.model.is_none() {
        bail!("--eval-only evaluates a checkpoint: give it with --model");
    }
    let device = burnish::backend::device(&args.backend)?;
    let resuming = prepare_out_dir(&args.out, args.overwrite)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let tokenizer = tokenizer(&args)?;
    // New weights follow the seed (a model from scratch, a new head).
    device.seed(args.seed);
    match objective {
        Objective::Mlm => {
            let (model, config) = match &args.model {
                Some(dir) => load(BertForMaskedLM::from_pretrained(dir, &device), resuming)?,
                None => {
                    let config = args.scratch_config(tokenizer.vocab_size())?;
                    (BertForMaskedLM::new(&config, &device), config)
                }
            };
            train(
                &args, objective, &tokenizer, model, config, &device, resuming,
            )
        }
        Objective::MlmNsp => {
            let (model, config) = match &args.model {
                Some(dir) => load(BertForPreTraining::from_pretrained(dir, &device), resuming)?,
                None => {
                    let config = args.scratch_config(tokenizer.vocab_size())?;
                    (BertForPreTraining::new(&config, &device), config)
                }
            };
            train(
                &args, objective, &tokenizer, model, config, &device, resuming,
            )
        }
        Objective::Clm => {
            let (model, config) = match &args.model {
                Some(dir) => load(BertLMHeadModel::from_pretrained(dir, &device), resuming)?,
                None => {
                    let config = args.scratch_config(tokenizer.vocab_size())?;
                    (BertLMHeadModel::new(&config, &device), config)
                }
            };
            train(
                &args, objective, &tokenizer, model, config, &device, resuming,
            )
        }
    }
}

/// A loaded checkpoint, with `transformers`' note about new head weights.
fn load<M>(
    loaded: burnish::encoder::Result<(M, BertConfig, burnish::encoder::weights::LoadReport)>,
    resuming: bool,
) -> Result<(M, BertConfig)> {
    let (model, config, report) = loaded?;
    if !report.newly_initialized.is_empty() && !resuming {
        eprintln!(
            "note: the checkpoint has no weights for {}: newly initialised (train the model \
             before using its predictions)",
            report.newly_initialized.join(", ")
        );
    }
    Ok((model, config))
}

fn train<M: PretrainHead>(
    args: &PretrainArgs,
    objective: Objective,
    tokenizer: &Tokenizer,
    model: M,
    config: BertConfig,
    device: &Device,
    resuming: bool,
) -> Result<()> {
    let started = Instant::now();
    if args.max_length > config.max_sequence_length() {
        bail!(
            "--max-length {} exceeds the longest input the model's positions cover ({})",
            args.max_length,
            config.max_sequence_length()
        );
    }
    if tokenizer.vocab_size() > config.vocab_size {
        bail!(
            "the tokenizer has {} tokens but the model's vocab_size is {}",
            tokenizer.vocab_size(),
            config.vocab_size
        );
    }
    let cfg = args.train_config();
    eprintln!("reading and packing the corpus");
    let train_seqs = sequences(args, objective, tokenizer, Part::Train, args.max_sequences)?;
    let held_seqs = sequences(args, objective, tokenizer, Part::HeldOut, None)?;
    if train_seqs.is_empty() || held_seqs.is_empty() {
        bail!(
            "the corpus gave {} training and {} held-out sequences; both must be non-empty \
             (a larger corpus, or another --held-out fraction)",
            train_seqs.len(),
            held_seqs.len()
        );
    }
    let masker = match objective {
        Objective::Clm => None,
        _ => Some(MlmMasker::from_tokenizer(
            tokenizer,
            MlmOptions {
                mlm_probability: args.mlm_probability,
                whole_word: args.whole_word,
                ..MlmOptions::default()
            },
            args.seed,
        )?),
    };
    let unigram = unigram_baseline(&train_seqs, &held_seqs, masker.as_ref(), config.vocab_size);
    let pad_id = tokenizer.pad_id().unwrap_or(config.pad_token_id as u32);
    let eval_batch = cfg.batch_size.max(32);
    if args.eval_only {
        return evaluate_only(
            args,
            objective,
            &model,
            &held_seqs,
            masker.as_ref(),
            unigram,
            pad_id,
            device,
            started,
        );
    }
    let batches = PretrainBatches::new(
        &train_seqs,
        masker.as_ref(),
        cfg.batch_size,
        cfg.seed,
        pad_id,
    )?;
    let trainer = make_trainer(&cfg, &args.out, device, args.quiet, resuming)?;
    eprintln!(
        "pre-training ({}) on {} sequences of up to {} tokens ({} held out), {} parameters in \
         {} layers, backend {}",
        objective.name(),
        train_seqs.len(),
        args.max_length,
        held_seqs.len(),
        model.num_params(),
        config.num_hidden_layers,
        args.backend
    );
    let mut evaluate =
        |m: &M| pretrain::evaluate(m, &held_seqs, masker.as_ref(), eval_batch, pad_id, device);
    let result = trainer.fit(model, &batches, &mut evaluate)?;
    exit_if_interrupted(&result, &args.out);

    let best = result.model.valid();
    best.save(&config, &args.out)?;
    tokenizer.save_dir(&args.out)?;
    let final_metrics = pretrain::evaluate(
        &best,
        &held_seqs,
        masker.as_ref(),
        eval_batch,
        pad_id,
        device,
    )
    .map_err(anyhow::Error::msg)?;
    let info = PretrainInfo {
        task: "pretrain",
        objective: objective.name(),
        corpus: &args.corpus,
        base_model: args.model.as_deref(),
        max_length: args.max_length,
        held_out: args.held_out,
        mlm_probability: args.mlm_probability,
        whole_word: args.whole_word,
        train: &cfg,
    };
    run_dir::write_json(&args.out.join(run_dir::TRAINING_CONFIG), &info)?;
    let mut metrics = run_metrics(&result, &final_metrics, started, &args.backend);
    metrics["unigram_baseline_loss"] = unigram.into();
    metrics["train_sequences"] = train_seqs.len().into();
    metrics["held_out_sequences"] = held_seqs.len().into();
    run_dir::write_json(&args.out.join(run_dir::METRICS), &metrics)?;
    eprintln!(
        "held-out: loss {:.4} (unigram baseline {unigram:.4}), perplexity {:.2}, token accuracy \
         {:.4}{}",
        final_metrics["loss"],
        final_metrics["perplexity"],
        final_metrics["accuracy"],
        final_metrics
            .get("nsp_accuracy")
            .map(|a| format!(", NSP accuracy {a:.4}"))
            .unwrap_or_default()
    );
    print_summary(&cfg, &result, started, &args.out);
    Ok(())
}

/// `--eval-only`: the checkpoint's held-out metrics, printed and written to `metrics.json`.
#[allow(clippy::too_many_arguments)]
fn evaluate_only<M: PretrainHead>(
    args: &PretrainArgs,
    objective: Objective,
    model: &M,
    held_out: &[PretrainSequence],
    masker: Option<&MlmMasker>,
    unigram: f64,
    pad_id: u32,
    device: &Device,
    started: Instant,
) -> Result<()> {
    eprintln!(
        "evaluating {} ({}) on {} held-out sequences, backend {}",
        args.model.as_deref().unwrap_or(Path::new("?")).display(),
        objective.name(),
        held_out.len(),
        args.backend
    );
    let metrics = pretrain::evaluate(
        model,
        held_out,
        masker,
        args.batch_size.max(32),
        pad_id,
        device,
    )
    .map_err(anyhow::Error::msg)?;
    let json = serde_json::json!({
        "eval_only": true,
        "objective": objective.name(),
        "base_model": args.model,
        "final_validation": metrics,
        "unigram_baseline_loss": unigram,
        "held_out_sequences": held_out.len(),
        "wall_seconds": started.elapsed().as_secs_f64(),
        "backend": args.backend,
    });
    run_dir::write_json(&args.out.join(run_dir::METRICS), &json)?;
    eprintln!(
        "held-out: loss {:.4} (unigram baseline {unigram:.4}), perplexity {:.2}, token accuracy \
         {:.4}{}",
        metrics["loss"],
        metrics["perplexity"],
        metrics["accuracy"],
        metrics
            .get("nsp_accuracy")
            .map(|a| format!(", NSP accuracy {a:.4}"))
            .unwrap_or_default()
    );
    eprintln!("wrote {}", args.out.join(run_dir::METRICS).display());
    Ok(())
}

/// The held-out loss of a model that knows only token frequencies: the mean cross-entropy of
/// the held-out predicted tokens (masked as in evaluation; for causal LM every next token)
/// under the training sequences' unigram distribution (add-one smoothed over the vocabulary).
/// A pre-trained model's loss should fall well below it.
fn unigram_baseline(
    train: &[PretrainSequence],
    held_out: &[PretrainSequence],
    masker: Option<&MlmMasker>,
    vocab_size: usize,
) -> f64 {
    let mut counts = vec![1.0f64; vocab_size];
    for sequence in train {
        for id in sequence.content_ids() {
            if let Some(c) = counts.get_mut(id as usize) {
                *c += 1.0;
            }
        }
    }
    let total: f64 = counts.iter().sum();
    let targets: Vec<u32> = match masker {
        Some(masker) => held_out
            .iter()
            .flat_map(|s| {
                masker
                    .mask(s, 0)
                    .labels
                    .into_iter()
                    .filter(|&l| l >= 0)
                    .map(|l| l as u32)
            })
            .collect(),
        None => held_out.iter().flat_map(|s| s.ids[1..].to_vec()).collect(),
    };
    let n = targets.len().max(1) as f64;
    targets
        .iter()
        .map(|&id| -(counts.get(id as usize).copied().unwrap_or(1.0) / total).ln())
        .sum::<f64>()
        / n
}
