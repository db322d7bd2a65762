//! What every training command shares: the run folder (refuse, resume or start over), the
//! trainer with its Ctrl-C flag, the devices, the checks of a loaded task model, the training
//! loop that keeps its evaluations, the end-of-run summary and `metrics.json`, and where
//! predictions go.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burnish::SaveHf;
use burnish::burn::tensor::Device;
use burnish::encoder::BertConfig;
use burnish::encoder::lora;
use burnish::encoder::weights::LoadReport;
use burnish::tokenizer::Tokenizer;
use burnish::train::tasks::Evaluation;
use burnish::train::trainer::{BatchSource, FineTune, files};
use burnish::train::{FitResult, Outcome, TrainConfig, Trainer};

use crate::args::FinetuneArgs;
use crate::run_dir;

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
        replace_or_refuse(
            out,
            overwrite,
            finished,
            " and is not an unfinished burnish run",
        )?;
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

/// Removes `out`, a folder a new run may not reuse, when `overwrite`; otherwise refuses, saying
/// why: it holds a finished run (`finished`), or `foreign_reason` (may be empty).
pub(crate) fn replace_or_refuse(
    out: &Path,
    overwrite: bool,
    finished: bool,
    foreign_reason: &str,
) -> Result<()> {
    if !overwrite {
        bail!(
            "{} already exists{}; pass --overwrite to replace it",
            out.display(),
            if finished {
                " and holds a finished run"
            } else {
                foreign_reason
            }
        );
    }
    std::fs::remove_dir_all(out).with_context(|| format!("cannot remove {}", out.display()))
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
            burnish::train::tensorboard::DIR,
        ]
        .contains(&&*name)
            || own.contains(&&*name)
            || burnish::fs::is_temporary(&name);
        if !ours {
            return Ok(false);
        }
    }
    Ok(true)
}

pub(crate) fn remove_temporary_files(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        if burnish::fs::is_temporary(&entry.file_name().to_string_lossy()) && entry.path().is_file()
        {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn dir_has_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
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

/// What every `burnish finetune` task starts from, in this order: the clock, the run's
/// configuration, the device the model loads on, whether the output folder holds a run to
/// resume ([`prepare_out_dir`]), and the base model's tokenizer.
pub(crate) fn start_finetune(
    args: &FinetuneArgs,
) -> Result<(Instant, TrainConfig, Device, bool, Tokenizer)> {
    let started = Instant::now();
    let cfg = args.train_config()?;
    let device = primary_device(&args.backend, &args.devices)?;
    let resuming = prepare_out_dir(&args.out, args.overwrite)?;
    let tokenizer = Tokenizer::from_dir(&args.model)?;
    Ok((started, cfg, device, resuming, tokenizer))
}

/// Checks a task model loaded for fine-tuning against the run and returns the padding id its
/// batches use (the tokenizer's, else the model's): `--max-length` must fit the positions the
/// model covers, and a head initialised from scratch is noted (not when resuming: the
/// checkpoint replaces it).
pub(crate) fn check_task_model(
    cfg: &TrainConfig,
    config: &BertConfig,
    report: &LoadReport,
    tokenizer: &Tokenizer,
    resuming: bool,
) -> Result<u32> {
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
    Ok(tokenizer.pad_id().unwrap_or(config.pad_token_id as u32))
}

/// The training loop of `burnish finetune`: trains `model` on `batches`, selecting by the
/// metrics of `evaluate`'s evaluations (given the model and the evaluation batch size: the
/// run's, at least 32), and exits after an interrupt ([`exit_if_interrupted`]); then saves the
/// best model (with `config`) and `tokenizer` into the run folder `out`, a Hugging Face folder,
/// and returns the result with the best model's evaluation. Every evaluation of this process
/// is kept, in order, so that the best one's full report (per class or entity type, answers)
/// need not be computed again ([`best_evaluation`]).
///
/// With LoRA (`TrainConfig::lora`) the model gets its adapters first (the encoder frozen);
/// the run folder then holds the `peft` adapter folder ([`ADAPTER_DIR`]) beside the model with
/// the adapters merged in, which `evaluate` / `predict` load as any model. `base_model` names
/// the base in the adapter's settings; `adapter`, an adapter folder to go on training (its
/// settings then replace `TrainConfig::lora`'s).
pub(crate) fn fit_and_save<M, S, E>(
    trainer: &Trainer,
    model: M,
    batches: &S,
    evaluate: impl Fn(&M, usize) -> std::result::Result<E, String>,
    folder: RunFolder<'_>,
) -> Result<(FitResult<M>, E)>
where
    M: FineTune<S::Batch> + SaveHf,
    S: BatchSource,
    S::Batch: Send,
    E: Evaluation,
{
    let RunFolder {
        config,
        tokenizer,
        out,
        base_model,
        adapter,
    } = folder;
    let eval_batch = trainer.config().batch_size.max(32);
    let mut evaluations = Vec::new();
    let mut record = |m: &M| {
        let eval = evaluate(m, eval_batch)?;
        let metrics = eval.metrics().clone();
        evaluations.push(eval);
        Ok(metrics)
    };
    // LoRA: adapters on the frozen encoder (fresh, or an adapter folder's), before a
    // checkpoint (if any) is read into them.
    let (model, lora) = match (trainer.config().lora.as_ref(), adapter) {
        (_, Some(dir)) => {
            let names = model.hf_names(config);
            let (model, plan, settings) = lora::load_adapter(model, dir, &names)?;
            eprintln!(
                "LoRA r={} alpha={} from {}: {plan}",
                settings.r,
                settings.lora_alpha,
                dir.display()
            );
            (model, Some((settings, plan)))
        }
        (Some(settings), None) => {
            let (model, plan) = lora::apply(model, settings, config.family)?;
            eprintln!(
                "LoRA r={} alpha={}: {plan}",
                settings.r, settings.lora_alpha
            );
            (model, Some((settings.clone(), plan)))
        }
        (None, None) => (model, None),
    };
    let result = trainer.fit(model, batches, &mut record)?;
    exit_if_interrupted(&result, out);
    let mut best_model = result.model.valid();
    if let Some((settings, plan)) = &lora {
        let adapter = out.join(ADAPTER_DIR);
        lora::save_adapter(
            &best_model,
            plan,
            settings,
            &best_model.hf_names(config),
            &base_model.display().to_string(),
            lora::peft_task_type(M::HF_CLASS),
            &adapter,
        )?;
        // The run folder is a plain model: the adapters folded into the weights.
        best_model = best_model.materialize();
    }
    best_model.save_hf(config, out)?;
    tokenizer.save_dir(out)?;
    let final_eval = best_evaluation(&result, evaluations, || {
        evaluate(&best_model, eval_batch).map_err(anyhow::Error::msg)
    })?;
    Ok((result, final_eval))
}

/// What [`fit_and_save`] writes the run folder from: the model's `config` (labels included),
/// its `tokenizer`, the folder `out`; the base model and the adapter folder training starts
/// from (`--adapter`), as `burnish finetune` names them.
pub(crate) struct RunFolder<'a> {
    pub config: &'a BertConfig,
    pub tokenizer: &'a Tokenizer,
    pub out: &'a Path,
    pub base_model: &'a Path,
    pub adapter: Option<&'a Path>,
}

impl<'a> RunFolder<'a> {
    /// The run folder of `args` for a model with `config` and `tokenizer`.
    pub fn new(args: &'a FinetuneArgs, config: &'a BertConfig, tokenizer: &'a Tokenizer) -> Self {
        Self {
            config,
            tokenizer,
            out: &args.out,
            base_model: &args.model,
            adapter: args.adapter.as_deref(),
        }
    }
}

/// The `peft` adapter folder inside a LoRA run's folder.
pub(crate) const ADAPTER_DIR: &str = "adapter";

/// `config` with a task's labels (`id2label` / `label2id`, as [`burnish::data::LabelMap::to_hf_json`]
/// gives them) merged in: the run folder's `config.json` carries them for `transformers`.
pub(crate) fn with_labels(mut config: BertConfig, labels: &serde_json::Value) -> BertConfig {
    if let Some(map) = labels.as_object() {
        for (k, v) in map {
            config.extra.insert(k.clone(), v.clone());
        }
    }
    config
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
    if let Some(o) =
        burnish::train::generalization::generalization(&result.state).and_then(|g| g.overfitting)
    {
        eprintln!("warning: {}", o.warning);
    }
    eprintln!("wrote {}", out.display());
}

/// Training and validation items when there is no `--valid` file: `--valid-fraction` of
/// `all` held out (seeded by `--split-seed`, else `seed`), said on stderr with `what` the
/// items are.
pub(crate) fn hold_out<T: Clone>(
    all: Vec<T>,
    args: &FinetuneArgs,
    seed: u64,
    what: &str,
) -> Result<(Vec<T>, Vec<T>)> {
    let (train, valid) = burnish::data::train_valid_split(
        all.len(),
        args.valid_fraction,
        args.split_seed.unwrap_or(seed),
    )?;
    eprintln!(
        "note: no --valid file: holding out {} of {} training {what} for validation",
        valid.len(),
        all.len()
    );
    let pick = |idx: &[usize]| idx.iter().map(|&i| all[i].clone()).collect();
    Ok((pick(&train), pick(&valid)))
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
        // Training vs validation loss at each evaluation, and the overfitting warning.
        "generalization": burnish::train::generalization::generalization(&result.state),
        // Peak resident memory of the process that finished the run (host memory: on GPU
        // backends the tensors live elsewhere); null where the OS does not report it.
        "peak_rss_bytes": burnish::train::memory::peak_rss_bytes(),
    })
}

/// Where `predict` writes: a file, written whole or not at all, or stdout. Call
/// [`Output::finish`] at the end: a file is renamed into place only then.
pub(crate) enum Output {
    File(burnish::fs::AtomicFile),
    Stdout(BufWriter<std::io::StdoutLock<'static>>),
}

impl Output {
    /// Commits the file (or flushes stdout).
    pub(crate) fn finish(self) -> Result<()> {
        match self {
            Output::File(file) => {
                let path = file.path().to_path_buf();
                file.commit()
                    .with_context(|| format!("cannot write {}", path.display()))
            }
            Output::Stdout(mut out) => Ok(out.flush()?),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::File(file) => file.write(buf),
            Output::Stdout(out) => out.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::File(file) => file.flush(),
            Output::Stdout(out) => out.flush(),
        }
    }
}

/// Where `predict` writes: `path` (see [`Output`]) or stdout.
pub(crate) fn output_writer(path: Option<&Path>) -> Result<Output> {
    Ok(match path {
        Some(path) => Output::File(
            burnish::fs::AtomicFile::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Output::Stdout(BufWriter::new(std::io::stdout().lock())),
    })
}
