//! `burnish finetune --task classification`: fine-tune a pre-trained encoder on a labelled file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burnish::burn::tensor::Device;
use burnish::data::{
    BadRowPolicy, ColumnSpec, Dataset, LabelKind, ReadOptions, Task, TokenizeOptions,
    stratified_split, tokenize_dataset, train_valid_split,
};
use burnish::data::{Batch, Example};
use burnish::encoder::weights::LoadReport;
use burnish::encoder::{BertConfig, CONFIG_FILE};
use burnish::heads::{
    BertForSequenceClassification, Gpt2ForSequenceClassification, SequenceClassifier,
};
use burnish::tokenizer::Tokenizer;
use burnish::train::schedule::ScheduleKind;
use burnish::train::tasks::classification::{self, ExampleBatches};
use burnish::train::trainer::FineTune;
use burnish::train::trainer::files;
use burnish::train::{FitResult, Outcome, TrainConfig, Trainer};
use clap::{Args, ValueEnum};

use crate::run_dir::{self, RunInfo};

/// The downstream task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    /// Sequence classification (sentiment, topic, sentence pairs, regression).
    Classification,
    /// Token classification (named entities): CoNLL or JSONL `{"tokens", "tags"}` files.
    Ner,
    /// Extractive question answering: SQuAD v1.1 / v2.0 JSON files.
    Qa,
}

impl TaskArg {
    /// The name written in `training_config.json`.
    pub fn name(self) -> &'static str {
        match self {
            TaskArg::Classification => "classification",
            TaskArg::Ner => "ner",
            TaskArg::Qa => "qa",
        }
    }
}

/// How the label column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LabelKindArg {
    /// One class per row.
    Class,
    /// Several classes per row (separated by `|` in CSV/TSV, a list in JSONL).
    MultiLabel,
    /// A number per row.
    Regression,
}

impl LabelKindArg {
    fn kind(self) -> LabelKind {
        match self {
            LabelKindArg::Class => LabelKind::Class,
            LabelKindArg::MultiLabel => LabelKind::MultiLabel,
            LabelKindArg::Regression => LabelKind::Regression,
        }
    }

    fn name(self) -> &'static str {
        match self {
            LabelKindArg::Class => "class",
            LabelKindArg::MultiLabel => "multi-label",
            LabelKindArg::Regression => "regression",
        }
    }
}

/// Where the weights of a fine-tuning run start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitArg {
    /// The `--model` checkpoint's weights (a new task head where it has none).
    Pretrained,
    /// The `--model` folder's architecture (`config.json`) and tokenizer, with every weight
    /// freshly initialised from the seed: the no-pre-training baseline.
    Random,
}

impl InitArg {
    /// The name written in `training_config.json`.
    pub fn name(self) -> &'static str {
        match self {
            InitArg::Pretrained => "pretrained",
            InitArg::Random => "random",
        }
    }
}

/// Arguments of `burnish finetune`.
#[derive(Debug, Clone, Args)]
pub struct FinetuneArgs {
    /// The task.
    #[arg(long, value_enum, default_value = "classification")]
    pub(crate) task: TaskArg,
    /// Pre-trained model folder (Hugging Face layout).
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// Classification: start from the checkpoint's weights (`pretrained`) or from a random
    /// initialisation of the same architecture (`random`, the baseline that shows what
    /// pre-training brings).
    #[arg(long, value_enum, default_value = "pretrained")]
    pub(crate) init: InitArg,
    /// Training data (CSV, TSV or JSONL with a header / keys).
    #[arg(long)]
    pub(crate) train: PathBuf,
    /// Validation data; without it, a stratified `--valid-fraction` of the training data.
    #[arg(long)]
    pub(crate) valid: Option<PathBuf>,
    /// Run directory to write (resumed if it holds an unfinished run).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Replace an existing finished run directory.
    #[arg(long)]
    pub(crate) overwrite: bool,
    /// TOML file with training settings (the fields of `training_config.json`'s `train`);
    /// flags given on the command line win.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Text column.
    #[arg(long, default_value = "text")]
    text_column: String,
    /// Second-text column, for sentence pairs.
    #[arg(long)]
    text_pair_column: Option<String>,
    /// Label column.
    #[arg(long, default_value = "label")]
    label_column: String,
    /// How the label column is read.
    #[arg(long, value_enum, default_value = "class")]
    label_kind: LabelKindArg,
    /// Skip unreadable rows (reported with file and line) instead of stopping at the first.
    #[arg(long)]
    pub(crate) skip_bad_rows: bool,
    /// Use only the first N training rows.
    #[arg(long)]
    pub(crate) max_train_rows: Option<usize>,
    /// Fraction of the training data held out for validation when `--valid` is absent.
    #[arg(long, default_value_t = 0.1)]
    pub(crate) valid_fraction: f64,
    /// Backend: flex, tch, tch-cuda, wgpu or cuda.
    #[arg(long, default_value = "flex")]
    pub(crate) backend: String,
    /// Epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Batch size.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Peak learning rate (whole model).
    #[arg(long)]
    lr: Option<f64>,
    /// Peak learning rate of the head while the encoder is frozen.
    #[arg(long)]
    head_lr: Option<f64>,
    /// Epochs training only the new head on a frozen encoder first.
    #[arg(long)]
    freeze_encoder_epochs: Option<usize>,
    /// Warmup fraction of each stage's steps.
    #[arg(long)]
    warmup_ratio: Option<f64>,
    /// linear, cosine or constant.
    #[arg(long)]
    schedule: Option<String>,
    /// AdamW weight decay.
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Global-norm clipping threshold (0 disables).
    #[arg(long)]
    max_grad_norm: Option<f64>,
    /// Layer-wise learning-rate decay (1.0 = off).
    #[arg(long)]
    layer_lr_decay: Option<f64>,
    /// Gradient accumulation steps.
    #[arg(long)]
    grad_accum: Option<usize>,
    /// Longest input in tokens.
    #[arg(long)]
    pub(crate) max_length: Option<usize>,
    /// Evaluate every N optimizer steps (besides epoch ends).
    #[arg(long)]
    eval_every: Option<usize>,
    /// Stop after N evaluations without improvement.
    #[arg(long)]
    early_stopping_patience: Option<usize>,
    /// Metric selecting the best model (accuracy, f1_macro, mcc, loss, pearson, ...).
    #[arg(long)]
    pub(crate) metric: Option<String>,
    /// Write a resumable checkpoint every N optimizer steps.
    #[arg(long)]
    checkpoint_every: Option<usize>,
    /// Seed.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Train with K seeds (the seed, seed+1, ...), each in RUN_DIR/seeds/seed-S; report the
    /// mean and standard deviation of the best validation metric in metrics.json and keep the
    /// best seed's model in RUN_DIR. Small data makes fine-tuning unstable across seeds.
    #[arg(long, default_value_t = 1)]
    pub(crate) seeds: usize,
    /// The seed of the held-out validation split (`None`: the run's seed). `--seeds` fixes it
    /// to the first seed so every seed is validated on the same examples.
    #[arg(skip)]
    pub(crate) split_seed: Option<u64>,
    /// Stop after N consecutive optimizer steps with a non-finite loss or gradient norm (each
    /// is skipped and logged in log.jsonl); the last good checkpoint is kept.
    #[arg(long)]
    max_bad_steps: Option<usize>,
    /// Plain shuffled batches instead of length-bucketed ones (the batches PyTorch's
    /// `DataLoader(shuffle=True)` makes; more padding).
    #[arg(long)]
    no_bucketing: bool,
    /// Recompute each encoder layer in the backward pass instead of keeping its activations
    /// (layer-wise gradient checkpointing): much less memory for long sequences, about a
    /// third more compute. BERT, RoBERTa and DistilBERT classification, NER and QA.
    #[arg(long)]
    gradient_checkpointing: bool,
    /// Mixed precision: forward and backward in bf16, weights, optimizer and loss in f32
    /// (`transformers`' `--bf16`). For devices that multiply bf16 natively (recent GPUs and
    /// CPUs with AMX / AVX-512 BF16).
    #[arg(long)]
    bf16: bool,
    /// Train data-parallel on these devices of the backend (`--devices 0,1`: CUDA devices 0
    /// and 1; wgpu: discrete GPUs). `--batch-size` stays the global batch: each device takes
    /// an equal share of every batch, gradients are summed on the first device, which steps
    /// the optimizer, evaluates and writes the run.
    #[arg(long, value_delimiter = ',')]
    pub(crate) devices: Vec<usize>,
    /// Hide the progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// NER: the tag scheme of the files (iob1, iob2/bio, bioes); detected when absent. Tags
    /// are converted to IOB2 for training.
    #[arg(long)]
    pub(crate) tag_scheme: Option<String>,
    /// NER: label every sub-word of a word (continuations of `B-X` as `I-X`), not only the
    /// first.
    #[arg(long)]
    pub(crate) label_all_subwords: bool,
    /// QA: tokens shared by consecutive windows over a long context.
    #[arg(long, default_value_t = 128)]
    pub(crate) doc_stride: usize,
    /// QA: the longest answer, in tokens.
    #[arg(long, default_value_t = 30)]
    pub(crate) max_answer_length: usize,
    /// QA: how many best start and end tokens are paired per window.
    #[arg(long, default_value_t = 20)]
    pub(crate) n_best: usize,
    /// QA (SQuAD v2 data): answer nothing when the null score beats the best span by more
    /// than this.
    #[arg(long, default_value_t = 0.0)]
    pub(crate) null_threshold: f32,
    /// QA: train on these articles of the training file only (`A:B`, 0-based, B excluded).
    #[arg(long)]
    pub(crate) train_articles: Option<String>,
    /// QA: validate on these articles of the validation file (or of the training file when
    /// there is no `--valid`), `A:B`.
    #[arg(long)]
    pub(crate) valid_articles: Option<String>,
}

impl FinetuneArgs {
    /// The run's trainer ([`make_trainer`] with these flags).
    pub(crate) fn trainer(&self, cfg: &TrainConfig, resuming: bool) -> Result<Trainer> {
        make_trainer(
            cfg,
            &self.out,
            &self.backend,
            &self.devices,
            self.quiet,
            resuming,
        )
    }

    pub(crate) fn train_config(&self) -> Result<TrainConfig> {
        let mut cfg = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                toml::from_str::<TrainConfig>(&text)
                    .with_context(|| format!("{}: invalid training config", path.display()))?
            }
            None => TrainConfig::default(),
        };
        macro_rules! set {
            ($($flag:ident => $field:ident),*) => {$(
                if let Some(v) = self.$flag.clone() { cfg.$field = v; }
            )*};
        }
        set!(epochs => epochs, batch_size => batch_size, lr => learning_rate,
             head_lr => head_learning_rate, freeze_encoder_epochs => freeze_encoder_epochs,
             warmup_ratio => warmup_ratio, weight_decay => weight_decay,
             layer_lr_decay => layer_lr_decay, grad_accum => grad_accum_steps,
             max_length => max_length, metric => metric, seed => seed,
             max_bad_steps => max_bad_steps);
        if let Some(n) = self.max_grad_norm {
            cfg.max_grad_norm = (n > 0.0).then_some(n);
        }
        if self.no_bucketing {
            cfg.bucketing = false;
        }
        if self.gradient_checkpointing {
            cfg.gradient_checkpointing = true;
        }
        if self.bf16 {
            cfg.bf16 = true;
        }
        if self.eval_every.is_some() {
            cfg.eval_every = self.eval_every;
        }
        if self.early_stopping_patience.is_some() {
            cfg.early_stopping_patience = self.early_stopping_patience;
        }
        if self.checkpoint_every.is_some() {
            cfg.checkpoint_every = self.checkpoint_every;
        }
        if let Some(s) = &self.schedule {
            cfg.schedule = match s.as_str() {
                "linear" => ScheduleKind::Linear,
                "cosine" => ScheduleKind::Cosine,
                "constant" => ScheduleKind::Constant,
                other => bail!("--schedule {other}: expected linear, cosine or constant"),
            };
        }
        let defaults = self.config.is_none();
        if self.task != TaskArg::Classification && self.metric.is_none() && defaults {
            // Entity F1 for NER, SQuAD F1 for QA.
            cfg.metric = "f1".into();
        }
        if self.task == TaskArg::Qa && self.max_length.is_none() && defaults {
            cfg.max_length = 384;
        }
        if self.task == TaskArg::Classification
            && self.label_kind == LabelKindArg::Regression
            && self.metric.is_none()
            && defaults
        {
            cfg.metric = "loss".into();
        }
        if self.label_kind == LabelKindArg::MultiLabel
            && self.metric.is_none()
            && self.config.is_none()
        {
            cfg.metric = "f1_micro".into();
        }
        Ok(cfg)
    }
}

/// What to do with the output directory: `Ok(true)` to resume the unfinished run in it,
/// `Ok(false)` to start a new run.
///
/// A finished run (it has `metrics.json`) or a folder holding anything but the trainer's own
/// files is refused unless `overwrite` (then removed). A run killed at any moment stays
/// resumable: its checkpoint is `checkpoint/` or, if the kill fell between the two renames
/// that swap a new checkpoint in, `.checkpoint.old/`. A run killed before its first checkpoint
/// holds only trainer files (a partial checkpoint, the log): it starts over. Temporary files
/// of interrupted atomic writes are removed.
pub(crate) fn prepare_out_dir(out: &Path, overwrite: bool) -> Result<bool> {
    prepare_out_dir_keeping(out, overwrite, &[])
}

/// [`prepare_out_dir`] for a command that writes more of its own files before the first
/// checkpoint (`burnish pretrain`: the tokenizer it trained, the packed corpus): `own` names
/// them. They count as the run's, and a run that starts over keeps them (each is checked
/// before it is reused).
pub(crate) fn prepare_out_dir_keeping(out: &Path, overwrite: bool, own: &[&str]) -> Result<bool> {
    let finished = out.join(run_dir::METRICS).is_file();
    let has_state = [files::CHECKPOINT_DIR, files::OLD_CHECKPOINT_DIR]
        .iter()
        .any(|d| out.join(d).join(files::STATE).is_file());
    let foreign = out.is_dir() && !has_state && !holds_only_trainer_files(out, own)?;
    if finished || foreign {
        if !overwrite {
            bail!(
                "{} already exists{}; pass --overwrite to replace it",
                out.display(),
                if finished {
                    " and holds a finished run"
                } else {
                    " and is not an unfinished burnish run"
                }
            );
        }
        std::fs::remove_dir_all(out).with_context(|| format!("cannot remove {}", out.display()))?;
        return Ok(false);
    }
    if !has_state && dir_has_entries(out) {
        // Killed before its first checkpoint: nothing to resume; keep only `own`.
        for entry in
            std::fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?
        {
            let entry = entry.with_context(|| format!("cannot read {}", out.display()))?;
            if own.contains(&&*entry.file_name().to_string_lossy()) {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            }
            .with_context(|| format!("cannot remove {}", path.display()))?;
        }
        remove_temporary_files(out)?;
        return Ok(false);
    }
    for dir in [out.to_path_buf(), out.join(files::BEST_DIR)] {
        remove_temporary_files(&dir)?;
    }
    Ok(has_state)
}

/// Whether every entry of `dir` is one the trainer writes before a run's first checkpoint, or
/// one of `own`.
fn holds_only_trainer_files(dir: &Path, own: &[&str]) -> Result<bool> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let name = entry
            .with_context(|| format!("cannot read {}", dir.display()))?
            .file_name();
        let name = name.to_string_lossy();
        let ours = [
            files::CHECKPOINT_DIR,
            files::PARTIAL_CHECKPOINT_DIR,
            files::OLD_CHECKPOINT_DIR,
            files::BEST_DIR,
            files::LOG,
            files::PLOT,
        ]
        .contains(&&*name)
            || own.contains(&&*name)
            || is_temporary(&name);
        if !ours {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A temporary file of `write_atomic` (`.NAME.tmpPID`).
fn is_temporary(name: &str) -> bool {
    name.starts_with('.')
        && name
            .rsplit_once(".tmp")
            .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

pub(crate) fn remove_temporary_files(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        if is_temporary(&entry.file_name().to_string_lossy()) && entry.path().is_file() {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn dir_has_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

/// Runs `burnish finetune`.
pub fn run(args: FinetuneArgs) -> Result<()> {
    if args.seeds > 1 {
        return crate::seeds::run(args);
    }
    if args.seeds == 0 {
        bail!("--seeds 0: expected at least one seed");
    }
    run_one(args)
}

/// One fine-tuning run (one seed) into `args.out`.
pub(crate) fn run_one(args: FinetuneArgs) -> Result<()> {
    if args.init != InitArg::Pretrained && args.task != TaskArg::Classification {
        bail!(
            "--init {} is for --task classification only",
            args.init.name()
        );
    }
    match args.task {
        TaskArg::Classification => run_classification(args),
        TaskArg::Ner => crate::ner::finetune(&args),
        TaskArg::Qa => crate::qa::finetune(&args),
    }
}

/// The stop flag every trainer of this process shares: one Ctrl-C handler for all runs (a
/// `--seeds` run makes several trainers; the handler can only be installed once).
fn stop_flag() -> Arc<AtomicBool> {
    static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    STOP.get_or_init(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                // A second Ctrl-C: give up at once.
                std::process::exit(130);
            }
            eprintln!("\ninterrupt: saving a checkpoint after this step (Ctrl-C again to abort)");
        });
        stop
    })
    .clone()
}

/// A trainer for `cfg` writing to `out`, stopped cleanly by the first Ctrl-C.
/// With more than one of `device_indices` (`--devices`), it trains data-parallel on those
/// devices of `backend`.
pub(crate) fn make_trainer(
    cfg: &TrainConfig,
    out: &Path,
    backend: &str,
    device_indices: &[usize],
    quiet: bool,
    resuming: bool,
) -> Result<Trainer> {
    let devices = burnish::backend::devices(backend, device_indices)?;
    if devices.len() > 1 {
        let cpu = backend
            .parse::<burnish::backend::BackendKind>()
            .is_ok_and(|b| b.is_cpu());
        eprintln!(
            "data-parallel over {} devices{}",
            devices.len(),
            if cpu {
                " (a CPU backend has one device: the replicas take turns on it, which checks \
                 the arithmetic but is no faster)"
            } else {
                ""
            }
        );
    }
    let trainer = Trainer::new(cfg.clone(), out, &devices[0])?
        .with_devices(&devices)?
        .with_progress(!quiet)
        .with_stop_flag(stop_flag());
    if resuming {
        eprintln!("resuming the unfinished run in {}", out.display());
    }
    Ok(trainer)
}

/// The device a run loads its model on: the first of `--devices` (else the backend's default).
pub(crate) fn primary_device(
    backend: &str,
    device_indices: &[usize],
) -> Result<burnish::burn::tensor::Device> {
    Ok(burnish::backend::devices(backend, device_indices)?.swap_remove(0))
}

/// Exits with status 130 after an interrupt (the checkpoint is saved).
pub(crate) fn exit_if_interrupted<M>(result: &FitResult<M>, out: &Path) {
    if result.outcome == Outcome::Interrupted {
        eprintln!(
            "interrupted after step {}; checkpoint saved in {} — run the same command again to resume",
            result.state.global_step,
            out.join(files::CHECKPOINT_DIR).display()
        );
        std::process::exit(130);
    }
}

/// The evaluation of the best model: the last of this process's `evaluations` (one per
/// evaluation, in order) at the best step, or, after a resume when the best one predates this
/// process, `recompute()`.
pub(crate) fn best_evaluation<M, E>(
    result: &FitResult<M>,
    mut evaluations: Vec<E>,
    recompute: impl FnOnce() -> Result<E>,
) -> Result<E> {
    let evals = &result.state.evals;
    let ours = evals.len().saturating_sub(evaluations.len());
    let best_index = result
        .state
        .best_step
        .and_then(|step| evals.iter().rposition(|e| e.step == step))
        .filter(|&i| i >= ours);
    match best_index {
        Some(i) => Ok(evaluations.swap_remove(i - ours)),
        None => recompute(),
    }
}

/// The last lines of a run: the best metric, throughput, time, and where it went.
pub(crate) fn print_summary<M>(
    cfg: &TrainConfig,
    result: &FitResult<M>,
    started: Instant,
    out: &Path,
) {
    let name = &cfg.metric;
    eprintln!(
        "best {name} {:.4} at step {} of {} ({}); {:.0} training tokens/s; {:.1}s",
        result.state.best_metric.unwrap_or(f64::NAN),
        result.state.best_step.unwrap_or(0),
        result.state.global_step,
        match result.outcome {
            Outcome::EarlyStopped => "stopped early",
            _ => "finished",
        },
        result.tokens_per_second(),
        started.elapsed().as_secs_f64()
    );
    eprintln!("wrote {}", out.display());
}

/// The common part of `metrics.json`.
pub(crate) fn run_metrics<M>(
    result: &FitResult<M>,
    final_validation: &burnish::train::Metrics,
    started: Instant,
    backend: &str,
) -> serde_json::Value {
    serde_json::json!({
        "outcome": result.outcome,
        "best": result.best(),
        "final_validation": final_validation,
        "steps": result.state.global_step,
        "train_seconds": result.state.train_seconds,
        "train_tokens_per_second": result.tokens_per_second(),
        "wall_seconds": started.elapsed().as_secs_f64(),
        "backend": backend,
        "skipped_steps": result.state.skipped_steps,
        // Peak resident memory of the process that finished the run (host memory: on GPU
        // backends the tensors live elsewhere); null where the OS does not report it.
        "peak_rss_bytes": burnish::train::memory::peak_rss_bytes(),
    })
}

fn run_classification(args: FinetuneArgs) -> Result<()> {
    let started = Instant::now();
    let cfg = args.train_config()?;
    let device = primary_device(&args.backend, &args.devices)?;
    let resuming = prepare_out_dir(&args.out, args.overwrite)?;

    let tokenizer = Tokenizer::from_dir(&args.model)?;
    let columns = match &args.text_pair_column {
        Some(pair) => ColumnSpec::pair(&args.text_column, pair, Some(&args.label_column)),
        None => ColumnSpec::new(&args.text_column, Some(&args.label_column)),
    };
    let mut read = ReadOptions::new(columns);
    read.label_kind = args.label_kind.kind();
    read.bad_rows = if args.skip_bad_rows {
        BadRowPolicy::Skip
    } else {
        BadRowPolicy::Fail
    };
    let mut train = Dataset::read(&args.train, &read)?;
    report_bad_rows(&train);
    if let Some(n) = args.max_train_rows {
        train.records.truncate(n);
    }
    let task = Task::from_dataset(args.label_kind.kind(), &train)?;
    let tokenize = TokenizeOptions::new(cfg.max_length);
    let all_train = tokenize_dataset(&tokenizer, &train, Some(&task), &tokenize)?;
    if let Some(note) = all_train.truncation_note() {
        eprintln!("note: {}: {note}", args.train.display());
    }
    let (train_examples, valid_examples) = match &args.valid {
        Some(path) => {
            let valid = Dataset::read(path, &read)?;
            report_bad_rows(&valid);
            let v = tokenize_dataset(&tokenizer, &valid, Some(&task), &tokenize)?;
            if let Some(note) = v.truncation_note() {
                eprintln!("note: {}: {note}", path.display());
            }
            (all_train.examples, v.examples)
        }
        None => {
            let (train_idx, valid_idx) = match &task {
                Task::SingleLabel(_) => {
                    let keys: Vec<u32> = all_train
                        .examples
                        .iter()
                        .map(|e| match e.label {
                            burnish::data::Label::Class(c) => c,
                            _ => 0,
                        })
                        .collect();
                    stratified_split(
                        &keys,
                        args.valid_fraction,
                        args.split_seed.unwrap_or(cfg.seed),
                    )?
                }
                _ => train_valid_split(
                    all_train.examples.len(),
                    args.valid_fraction,
                    args.split_seed.unwrap_or(cfg.seed),
                )?,
            };
            let pick = |idx: &[usize]| {
                idx.iter()
                    .map(|&i| all_train.examples[i].clone())
                    .collect::<Vec<_>>()
            };
            eprintln!(
                "note: no --valid file: holding out {} of {} training rows for validation",
                valid_idx.len(),
                all_train.examples.len()
            );
            (pick(&train_idx), pick(&valid_idx))
        }
    };
    if train_examples.is_empty() {
        bail!("{}: no training examples", args.train.display());
    }
    if valid_examples.is_empty() {
        bail!("the validation set is empty (give --valid or a larger --valid-fraction)");
    }
    if cfg.batch_size > train_examples.len() {
        eprintln!(
            "note: batch size {} exceeds the {} training examples: every step uses all of them",
            cfg.batch_size,
            train_examples.len()
        );
    }

    // The new head's initialisation follows the seed: a run restarted from scratch (killed
    // before its first checkpoint) starts from the same weights.
    device.seed(cfg.seed);
    let run = ClassifierRun {
        args: &args,
        cfg: &cfg,
        device: &device,
        resuming,
        started,
        tokenizer: &tokenizer,
        task: &task,
        train_examples: &train_examples,
        valid_examples: &valid_examples,
    };
    let num_labels = Some(task.num_labels());
    let problem = Some(classification::problem_type(&task));
    // The family picks the architecture: a GPT-2 folder is a decoder with its own head.
    let family = BertConfig::from_file(args.model.join(CONFIG_FILE))?.family;
    if args.init == InitArg::Random && !resuming {
        eprintln!(
            "note: --init random: {}'s architecture with freshly initialised weights",
            args.model.display()
        );
    }
    if family.is_decoder() {
        let (mut model, mut config, report) = match args.init {
            InitArg::Pretrained => Gpt2ForSequenceClassification::from_pretrained(
                &args.model,
                num_labels,
                problem,
                &device,
            )?,
            InitArg::Random => {
                let config = burnish::encoder::pretrained::decoder_config(&args.model)?;
                let model = Gpt2ForSequenceClassification::new(
                    &config,
                    task.num_labels(),
                    classification::problem_type(&task),
                    &device,
                );
                (model, config, LoadReport::default())
            }
        };
        // GPT-2 reads the last real token off the padding id: it must be the one the batches
        // are padded with (and the saved config says so, for transformers).
        if let Some(pad) = tokenizer.pad_id().map(|p| p as usize)
            && pad != config.pad_token_id
        {
            eprintln!(
                "note: pad_token_id {} of {} replaced by the tokenizer's padding id {pad}",
                config.pad_token_id,
                args.model.display()
            );
            config.pad_token_id = pad;
            model.pad_token_id = pad;
        }
        fit_classifier(run, (model, config, report))
    } else {
        let loaded = match args.init {
            InitArg::Pretrained => BertForSequenceClassification::from_pretrained(
                &args.model,
                num_labels,
                problem,
                &device,
            )?,
            InitArg::Random => {
                let config = burnish::encoder::pretrained::encoder_config(&args.model)?;
                let model = BertForSequenceClassification::new(
                    &config,
                    task.num_labels(),
                    classification::problem_type(&task),
                    &device,
                );
                (model, config, LoadReport::default())
            }
        };
        fit_classifier(run, loaded)
    }
}

/// What [`fit_classifier`] needs besides the model: the prepared data and settings.
struct ClassifierRun<'a> {
    args: &'a FinetuneArgs,
    cfg: &'a TrainConfig,
    device: &'a Device,
    resuming: bool,
    started: Instant,
    tokenizer: &'a Tokenizer,
    task: &'a Task,
    train_examples: &'a [Example],
    valid_examples: &'a [Example],
}

/// Fine-tunes a loaded sequence classifier (any family) and writes the run directory.
fn fit_classifier<M>(run: ClassifierRun<'_>, loaded: (M, BertConfig, LoadReport)) -> Result<()>
where
    M: SequenceClassifier + FineTune<Batch>,
{
    let ClassifierRun {
        args,
        cfg,
        device,
        resuming,
        started,
        tokenizer,
        task,
        train_examples,
        valid_examples,
    } = run;
    let (model, config, report) = loaded;
    if cfg.max_length > config.max_sequence_length() {
        bail!(
            "--max-length {} exceeds the longest input the model's positions cover ({})",
            cfg.max_length,
            config.max_sequence_length()
        );
    }
    if !report.newly_initialized.is_empty() && !resuming {
        eprintln!(
            "note: new task head ({}) initialised from scratch",
            report.newly_initialized.join(", ")
        );
    }
    let pad_id = tokenizer.pad_id().unwrap_or(config.pad_token_id as u32);
    let batches = ExampleBatches::new(
        train_examples,
        cfg.batch_size,
        cfg.bucketing,
        cfg.seed,
        pad_id,
    )?;

    let trainer = args.trainer(cfg, resuming)?;
    eprintln!(
        "fine-tuning {} on {} examples ({} validation), {} labels, backend {}",
        args.model.display(),
        train_examples.len(),
        valid_examples.len(),
        task.num_labels(),
        args.backend
    );
    let eval_device = device.clone();
    let eval_batch = cfg.batch_size.max(32);
    // Every evaluation of this process, in order, so the best one's full report (per class,
    // confusion matrix) need not be computed again at the end.
    let mut evaluations = Vec::new();
    let mut evaluate = |m: &M| {
        let eval =
            classification::evaluate(m, valid_examples, task, eval_batch, pad_id, &eval_device)?;
        let metrics = eval.metrics.clone();
        evaluations.push(eval);
        Ok(metrics)
    };
    let result = trainer.fit(model, &batches, &mut evaluate)?;
    exit_if_interrupted(&result, &args.out);

    // The finished run directory: a Hugging Face folder plus how it was made.
    let mut config = config;
    if let Some(map) = task.to_hf_json().as_object() {
        for (k, v) in map {
            config.extra.insert(k.clone(), v.clone());
        }
    }
    let best_model = result.model.valid();
    best_model.save_folder(&config, &args.out)?;
    tokenizer.save_dir(&args.out)?;
    let final_eval = best_evaluation(&result, evaluations, || {
        classification::evaluate(
            &best_model,
            valid_examples,
            task,
            eval_batch,
            pad_id,
            device,
        )
        .map_err(anyhow::Error::msg)
    })?;
    let info = RunInfo {
        task: TaskArg::Classification.name().into(),
        base_model: args.model.clone(),
        train_file: args.train.clone(),
        valid_file: args.valid.clone(),
        text_column: args.text_column.clone(),
        text_pair_column: args.text_pair_column.clone(),
        label_column: args.label_column.clone(),
        label_kind: args.label_kind.name().into(),
        ner: None,
        qa: None,
        init: args.init.name().into(),
        train: cfg.clone(),
    };
    run_dir::write_json(&args.out.join(run_dir::TRAINING_CONFIG), &info)?;
    run_dir::write_json(&args.out.join(run_dir::LABELS), &task.to_hf_json())?;
    let mut metrics = run_metrics(&result, &final_eval.metrics, started, &args.backend);
    metrics["report"] = serde_json::to_value(&final_eval.report)?;
    metrics["train_examples"] = train_examples.len().into();
    metrics["valid_examples"] = valid_examples.len().into();
    run_dir::write_json(&args.out.join(run_dir::METRICS), &metrics)?;

    if let Some(report) = &final_eval.report {
        eprintln!("\n{report}");
    }
    print_summary(cfg, &result, started, &args.out);
    Ok(())
}

fn report_bad_rows(dataset: &Dataset) {
    if let Some(summary) = dataset.bad_rows_summary(5) {
        eprintln!("warning: {summary}");
    }
}
