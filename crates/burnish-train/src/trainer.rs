//! The fine-tuning loop.
//!
//! One [`Trainer::fit`] call runs the whole recipe: optional frozen-encoder epochs (head only,
//! its own learning rate), then the whole model; AdamW with warmup and decay per stage;
//! global-norm clipping; gradient accumulation; evaluation every N steps and at each epoch end;
//! best-model selection and early stopping; resumable checkpoints every N steps, at each epoch
//! end and on interruption.
//!
//! Determinism: the data order is a function of `(seed, epoch)` (see
//! [`BatchSource::plan`]), and the backend's RNG (dropout) is re-seeded from
//! `(seed, epoch, batch)` before every micro-batch, so a run resumed from a checkpoint takes
//! exactly the steps the uninterrupted run would have taken.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::{Module, ModuleMapper, Param, ParamGroup};
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::store::ModuleSnapshot;
use burn::tensor::{Device, GradientCheckpointingStrategy, Tensor};
use burnish_encoder::precision::mixed_precision_copy;
use burnish_encoder::weights::{
    Checkpoint, LoadSpec, NameMap, load_checkpoint, save_safetensors, write_safetensors,
};
use burnish_heads::WithBackbone;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::checkpointing::CheckpointedStep;
use crate::config::{ReportTo, TrainConfig};
use crate::error::{Result, TrainError};
use crate::log::LogEvent;
use crate::metrics::Metric;
use crate::optim::{AdamW, AdamWConfig, clip_scale, global_grad_norm};
use crate::plot::{Panel, Series, plot_curves};
use crate::schedule::Schedule;

pub use crate::log::Metrics;
pub use crate::seed::mix_seed;

/// Where training batches come from.
pub trait BatchSource {
    /// A collated batch.
    type Batch;
    /// The batches of `epoch`, as lists of example indices. Must depend only on the epoch
    /// (and the source's own seed): a resumed run asks for the same epoch again and skips the
    /// batches already done.
    fn plan(&self, epoch: u64) -> Vec<Vec<usize>>;
    /// Number of batches in `epoch`: by default `plan(epoch).len()`.
    fn num_batches(&self, epoch: u64) -> usize {
        self.plan(epoch).len()
    }
    /// The batches of `epoch` from batch `start` on, one at a time: by default from
    /// [`plan`](Self::plan). A source with more examples than it should hold an index of each
    /// in memory (pre-training on a corpus on disk) computes them as they are asked for; it
    /// must give the batches of [`plan`](Self::plan).
    fn batches_from(&self, epoch: u64, start: usize) -> Box<dyn Iterator<Item = Vec<usize>> + '_> {
        Box::new(self.plan(epoch).into_iter().skip(start))
    }
    /// Builds the batch of the given examples.
    fn collate(&self, indices: &[usize]) -> Self::Batch;
    /// Builds the batch of the given examples, or says why it cannot (a source that reads its
    /// examples from disk). The trainer calls this; by default it is [`collate`](Self::collate).
    ///
    /// # Errors
    /// Why the batch cannot be built, naming the file.
    fn try_collate(&self, indices: &[usize]) -> std::result::Result<Self::Batch, String> {
        Ok(self.collate(indices))
    }
    /// Real (non-padding) tokens in a batch, for throughput.
    fn real_tokens(&self, batch: &Self::Batch) -> usize;
}

/// A model the trainer can fine-tune.
pub trait FineTune<B>: Module + ModuleSnapshot + Clone + WithBackbone {
    /// The mean loss of a batch. `self` lives on an autodiff device.
    fn loss(&self, batch: &B, device: &Device) -> Tensor<1>;
    /// How many terms the mean loss of `batch` averages (rows, labelled tokens, masked tokens),
    /// or `None` when the loss is not one mean (MLM + NSP). Data-parallel replicas weight their
    /// losses by it so that their gradients sum to the whole batch's; with `None` they are
    /// weighted by rows, as PyTorch's DDP weights equal shards equally.
    fn loss_terms(&self, batch: &B) -> Option<usize> {
        let _ = batch;
        None
    }
    /// The gradients of `weight * loss` with the encoder's layers recomputed in the backward
    /// pass instead of kept ([`crate::checkpointing`]), and the loss: `None` (the default)
    /// when the model does not support it, and the trainer runs the plain backward pass. The
    /// inner `None` is a non-finite loss (no backward pass).
    fn checkpointed_grads(
        &self,
        batch: &B,
        step: CheckpointedStep<'_>,
    ) -> Option<(f64, Option<GradientsParams>)> {
        let _ = (batch, step);
        None
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// All epochs done.
    Finished,
    /// The metric stopped improving for `early_stopping_patience` evaluations.
    EarlyStopped,
    /// The stop flag was raised (Ctrl-C); a checkpoint was written.
    Interrupted,
}

/// One evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    /// Optimizer steps done.
    pub step: usize,
    /// Epoch (0-based) during which it ran.
    pub epoch: usize,
    /// Metrics.
    pub metrics: Metrics,
}

/// Everything needed to continue a run exactly where it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TrainerState {
    /// Epoch to continue in.
    pub epoch: usize,
    /// Next batch of that epoch.
    pub batch: usize,
    /// Optimizer steps done in total.
    pub global_step: usize,
    /// Optimizer steps done in the current stage (drives the schedule).
    pub stage_step: usize,
    /// AdamW's step counter (bias correction).
    pub optimizer_step: u64,
    /// Best value of the selection metric so far.
    pub best_metric: Option<f64>,
    /// Step at which it was reached.
    pub best_step: Option<usize>,
    /// Evaluations since the last improvement.
    pub evals_without_improvement: usize,
    /// Every evaluation so far.
    pub evals: Vec<EvalRecord>,
    /// `(step, mean training loss since the previous entry)`.
    pub train_loss: Vec<(usize, f64)>,
    /// Real tokens trained on.
    pub tokens: u64,
    /// Seconds spent in the training loop (evaluation excluded).
    pub train_seconds: f64,
    /// Whether the run is over (a finished run is not resumed).
    pub done: bool,
    /// Optimizer steps skipped because the loss or gradient norm was not finite.
    #[serde(default)]
    pub skipped_steps: usize,
    /// Consecutive skipped steps up to now (reset by a good step).
    #[serde(default)]
    pub bad_steps_in_a_row: usize,
}

/// The result of [`Trainer::fit`].
#[derive(Debug)]
pub struct FitResult<M> {
    /// The best model by the selection metric (or the last one if none was evaluated).
    pub model: M,
    /// How the run ended.
    pub outcome: Outcome,
    /// The final state (history, best metric, throughput).
    pub state: TrainerState,
}

impl<M> FitResult<M> {
    /// The evaluation that selected the returned model.
    pub fn best(&self) -> Option<&EvalRecord> {
        let step = self.state.best_step?;
        self.state.evals.iter().rev().find(|e| e.step == step)
    }

    /// Real training tokens per second of training-loop time.
    pub fn tokens_per_second(&self) -> f64 {
        self.state.tokens as f64 / self.state.train_seconds.max(1e-9)
    }
}

/// File names inside a run directory.
pub mod files {
    /// Resumable checkpoint folder.
    pub const CHECKPOINT_DIR: &str = "checkpoint";
    /// A checkpoint being written (swapped in by a rename once complete).
    pub const PARTIAL_CHECKPOINT_DIR: &str = ".checkpoint.partial";
    /// The previous checkpoint during the swap (read if a crash left no `checkpoint/`).
    pub const OLD_CHECKPOINT_DIR: &str = ".checkpoint.old";
    /// Best model weights folder.
    pub const BEST_DIR: &str = "best";
    /// Model weights inside both.
    pub const MODEL: &str = "model.safetensors";
    /// Optimizer moments inside the checkpoint.
    pub const OPTIMIZER: &str = "optimizer.safetensors";
    /// Trainer state inside the checkpoint.
    pub const STATE: &str = "trainer_state.json";
    /// JSON-lines log of training loss, skipped steps and evaluations, one
    /// [`LogEvent`](crate::log::LogEvent) a line.
    pub const LOG: &str = "log.jsonl";
    /// Loss and metric curves.
    pub const PLOT: &str = "training.png";
}

/// Runs fine-tuning.
pub struct Trainer {
    config: TrainConfig,
    out_dir: PathBuf,
    /// The autodiff devices of the data-parallel replicas; the first holds the trained model.
    devices: Vec<Device>,
    stop: Arc<AtomicBool>,
    progress: bool,
    /// This process's TensorBoard event file, created with the first logged line when
    /// `report_to` names TensorBoard.
    tensorboard: std::sync::OnceLock<crate::tensorboard::EventWriter>,
}

impl Trainer {
    /// A trainer writing into `out_dir` (created if needed), on `device` (autodiff is enabled
    /// on it; an autodiff device keeps its gradient-checkpointing strategy, so
    /// `device.autodiff().gradient_checkpointing()` trains with Burn's balanced checkpointing,
    /// which docs/benchmarks.md measured to save no memory on burnish's encoder).
    ///
    /// # Errors
    /// [`TrainError::Config`] for an unusable configuration.
    pub fn new(config: TrainConfig, out_dir: impl Into<PathBuf>, device: &Device) -> Result<Self> {
        config
            .validate()
            .map_err(|(field, reason)| TrainError::Config { field, reason })?;
        burnish_encoder::threads::set_cpu_threads(config.threads).map_err(|e| {
            TrainError::Config {
                field: "threads",
                reason: e.to_string(),
            }
        })?;
        let device = device.clone().autodiff();
        Ok(Self {
            config,
            out_dir: out_dir.into(),
            devices: vec![device],
            stop: Arc::new(AtomicBool::new(false)),
            progress: true,
            tensorboard: std::sync::OnceLock::new(),
        })
    }

    /// A flag that, once set (by a Ctrl-C handler, say), makes the run write a checkpoint and
    /// return [`Outcome::Interrupted`] after the current optimizer step.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Uses an existing stop flag.
    pub fn with_stop_flag(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = stop;
        self
    }

    /// Shows (default) or hides the progress bar.
    pub fn with_progress(mut self, show: bool) -> Self {
        self.progress = show;
        self
    }

    /// Trains data-parallel on `devices` (the first one also holds the model the optimizer
    /// updates, evaluates and checkpoints; it replaces the device given to [`Trainer::new`]).
    ///
    /// Every micro-batch is split by [`shard_rows`]: replica `r` of `N` takes rows `r, r + N,
    /// ...`. Each replica runs forward and backward on its rows with its loss weighted by its
    /// share of the batch's loss terms ([`FineTune::loss_terms`]: rows, labelled tokens,
    /// masked tokens), the gradients are summed on the first device, one AdamW step is taken
    /// there, and the replicas are refreshed from the updated model. The summed gradient is
    /// the whole batch's, so the run matches a single-device run to float rounding when
    /// dropout is off (with dropout on, each replica draws its own masks). A loss that is no
    /// single mean (MLM + NSP) is weighted by rows, as PyTorch's DDP weights equal shards.
    ///
    /// Replicas on distinct devices run in parallel, one thread each; replicas that share a
    /// device (several CPU "devices") run one after another, which only checks the arithmetic.
    ///
    /// # Errors
    /// [`TrainError::Config`] when `devices` is empty.
    pub fn with_devices(mut self, devices: &[Device]) -> Result<Self> {
        if devices.is_empty() {
            return Err(TrainError::Config {
                field: "devices",
                reason: "at least one device is needed".into(),
            });
        }
        self.devices = devices.iter().map(|d| d.clone().autodiff()).collect();
        Ok(self)
    }

    /// The autodiff device the trainer runs on (the first of [`Trainer::devices`]).
    pub fn device(&self) -> &Device {
        &self.devices[0]
    }

    /// The autodiff devices of the data-parallel replicas (one unless
    /// [`Trainer::with_devices`] gave more).
    pub fn devices(&self) -> &[Device] {
        &self.devices
    }

    /// The run's configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    fn path(&self, parts: &[&str]) -> PathBuf {
        parts.iter().fold(self.out_dir.clone(), |p, s| p.join(s))
    }

    /// Trains `model` (moved to the trainer's autodiff device) on `data`, calling `evaluate`
    /// with a validation copy of the model (no autodiff, dropout off) whenever the recipe
    /// evaluates.
    ///
    /// If the run directory holds an unfinished checkpoint of an earlier run, training
    /// continues from it (weights, optimizer moments, schedule, data position, history).
    ///
    /// # Errors
    /// I/O and weight errors naming the file; [`TrainError::EmptyData`];
    /// [`TrainError::Evaluation`] from the callback.
    pub fn fit<B, M, S>(
        &self,
        model: M,
        data: &S,
        evaluate: &mut dyn FnMut(&M) -> std::result::Result<Metrics, String>,
    ) -> Result<FitResult<M>>
    where
        M: FineTune<B>,
        S: BatchSource<Batch = B>,
        B: Send,
    {
        let cfg = &self.config;
        self.prepare()?;
        let mut model = fork_for_training(model, self.device());
        let plan = self.plan(&mut model, data)?;
        if plan.state.done {
            // A finished run is not trained again: its result is its best model.
            let model = self.load_best(model)?;
            return Ok(FitResult {
                model,
                outcome: Outcome::Finished,
                state: plan.state,
            });
        }
        let progress = self.progress_bar(plan.total_steps, plan.state.global_step);
        let mut run = Run::new(plan, progress);
        let mut outcome = Outcome::Finished;
        'epochs: for epoch in run.state.epoch..cfg.epochs {
            model = self.start_stage(model, &mut run, epoch)?;
            let schedule = self.schedule(epoch, run.steps_per_epoch);
            let num_batches = data.num_batches(epoch as u64);
            let start = run.state.batch;
            let mut step = Accumulation::new();
            // The step of this epoch's latest evaluation: the epoch's end does not repeat it.
            let mut evaluated_at = None;
            for (k, indices) in data.batches_from(epoch as u64, start).enumerate() {
                let batch = start + k;
                if self.max_reached(&run.state) {
                    break;
                }
                let seed = mix_seed(cfg.seed, epoch as u64, batch as u64);
                self.micro_batch(&model, &mut run, &mut step, data, &indices, seed)?;
                let last_of_epoch = batch + 1 == num_batches;
                if step.micro_batches < cfg.grad_accum_steps && !last_of_epoch {
                    continue;
                }
                run.state.batch = batch + 1;
                let Some((grads, norm)) =
                    self.guard(&model, &mut run, &mut step, epoch, batch, schedule.peak)?
                else {
                    if self.stop.load(Ordering::SeqCst) {
                        self.checkpoint(&model, &mut run, epoch)?;
                        outcome = Outcome::Interrupted;
                        break 'epochs;
                    }
                    continue;
                };
                let lr = schedule.lr(run.state.stage_step);
                model = self.optimizer_step(model, &mut run, grads, norm, lr);
                if run.state.global_step % cfg.log_every == 0 || last_of_epoch {
                    self.log_train(&mut run, epoch, lr)?;
                }
                run.progress.inc(1);
                let end = self.evaluate_or_checkpoint(&model, &mut run, epoch, evaluate)?;
                if end.evaluated {
                    evaluated_at = Some(run.state.global_step);
                }
                if let Some(end) = end.outcome {
                    outcome = end;
                    break 'epochs;
                }
            }
            outcome = self.end_epoch(&model, &mut run, epoch, evaluate, evaluated_at)?;
            if run.state.done {
                break;
            }
        }
        self.finish(model, run, outcome)
    }

    /// Creates the run directory and checks that every device computes in the configured
    /// precision, before any work that a refusal would waste.
    fn prepare(&self) -> Result<()> {
        create_dir(&self.out_dir)?;
        if self.config.bf16
            && let Some(d) = self
                .devices
                .iter()
                .find(|d| !d.supports_dtype(burn::tensor::FloatDType::BF16))
        {
            return Err(TrainError::Config {
                field: "bf16",
                reason: format!("{d:?} cannot compute in bf16"),
            });
        }
        Ok(())
    }

    /// The run's length and where it starts: optimizer steps per epoch and in all, and, when
    /// the run directory holds a checkpoint, its state and AdamW moments (its weights are
    /// loaded into `model`); otherwise a fresh state.
    fn plan<B, M, S>(&self, model: &mut M, data: &S) -> Result<Plan>
    where
        M: FineTune<B>,
        S: BatchSource<Batch = B>,
    {
        let cfg = &self.config;
        let batches_per_epoch = data.num_batches(0);
        if batches_per_epoch == 0 {
            return Err(TrainError::EmptyData);
        }
        let steps_per_epoch = batches_per_epoch.div_ceil(cfg.grad_accum_steps);
        let (state, optimizer) = match self.read_checkpoint(model)? {
            Some((state, optimizer)) => (state, Some(optimizer)),
            None => (TrainerState::default(), None),
        };
        Ok(Plan {
            steps_per_epoch,
            total_steps: (steps_per_epoch * cfg.epochs).min(cfg.max_steps.unwrap_or(usize::MAX)),
            state,
            optimizer,
        })
    }

    /// Whether the run has taken `max_steps` optimizer steps.
    fn max_reached(&self, state: &TrainerState) -> bool {
        self.config
            .max_steps
            .is_some_and(|m| state.global_step >= m)
    }

    /// The stage `epoch` belongs to (0: the frozen-encoder epochs, 1: the whole model's), with
    /// the stage's number of epochs and its peak learning rate.
    fn stage(&self, epoch: usize) -> (usize, usize, f64) {
        let cfg = &self.config;
        if epoch < cfg.freeze_encoder_epochs {
            (0, cfg.freeze_encoder_epochs, cfg.head_learning_rate)
        } else {
            (1, cfg.epochs - cfg.freeze_encoder_epochs, cfg.learning_rate)
        }
    }

    /// The learning-rate schedule of `epoch`'s stage: warmup and decay over the stage's
    /// optimizer steps (at most `max_steps`), so each stage warms up from zero.
    fn schedule(&self, epoch: usize, steps_per_epoch: usize) -> Schedule {
        let cfg = &self.config;
        let (_, stage_epochs, peak) = self.stage(epoch);
        let total = (steps_per_epoch * stage_epochs).min(cfg.max_steps.unwrap_or(usize::MAX));
        Schedule {
            peak,
            warmup_steps: (cfg.warmup_ratio * total as f64).ceil() as usize,
            total_steps: total,
            kind: cfg.schedule,
        }
    }

    /// Starts `epoch`'s stage unless it is the one running: the encoder frozen (stage 0) or
    /// trainable, a new AdamW that leaves a frozen encoder's parameters alone, and either the
    /// checkpoint's AdamW state (a resumed run's first stage) or the stage's schedule from its
    /// first step (a stage after the first).
    fn start_stage<B, M: FineTune<B>>(
        &self,
        model: M,
        run: &mut Run<M>,
        epoch: usize,
    ) -> Result<M> {
        let (stage, _, _) = self.stage(epoch);
        if run.stage == Some(stage) {
            return Ok(model);
        }
        let cfg = &self.config;
        let (num_layers, encoder_prefix) = (model.encoder_layers(), M::BACKBONE_PATH);
        // `train_only` freezes all but its parameters; LoRA freezes the encoder's own weights
        // itself (its adapters train) and is left as it is; else the two-stage recipe.
        let model = if !cfg.train_only.is_empty() {
            model
                .no_grad()
                .unfreeze_group(ParamGroup::from_any_predicates(cfg.train_only.clone()))
        } else if cfg.lora.is_some() {
            model
        } else {
            model.set_encoder_trainable(stage == 1)
        };
        run.replicas.clear();
        run.optim = AdamW::new(AdamWConfig {
            beta1: cfg.beta1,
            beta2: cfg.beta2,
            eps: cfg.eps,
            weight_decay: cfg.weight_decay,
            layer_decay: cfg.layer_lr_decay,
            num_layers,
            frozen_prefixes: if stage == 0 {
                vec![encoder_prefix.to_string()]
            } else {
                Vec::new()
            },
        });
        if let Some((step, tensors)) = run.resumed_optimizer.take() {
            run.optim
                .restore(step, tensors, self.device())
                .map_err(|name| TrainError::Resume {
                    path: self.path(&[files::CHECKPOINT_DIR]),
                    reason: format!("optimizer state lacks {name}"),
                })?;
        } else if run.stage.is_some() {
            // A new stage starts its own schedule.
            run.state.stage_step = 0;
        }
        run.stage = Some(stage);
        Ok(model)
    }

    /// One micro-batch: the backend's RNG seeded with `seed` (dropout), the batch of
    /// `indices` collated, its loss and the gradients of its share of the step's loss added to
    /// `step` (split over the replicas when there are several devices). A loss that is not
    /// finite gets no backward pass and marks the step bad; a finite one joins the loss
    /// window of the next `train` log line.
    fn micro_batch<B, M, S>(
        &self,
        model: &M,
        run: &mut Run<M>,
        step: &mut Accumulation<M>,
        data: &S,
        indices: &[usize],
        seed: u64,
    ) -> Result<()>
    where
        M: FineTune<B>,
        S: BatchSource<Batch = B>,
        B: Send,
    {
        let (loss, tokens) = if self.devices.len() == 1 {
            let (device, cfg) = (self.device(), &self.config);
            device.seed(seed);
            let batch = data.try_collate(indices).map_err(TrainError::Data)?;
            let tokens = data.real_tokens(&batch);
            let weight = 1.0 / cfg.grad_accum_steps as f64;
            let (loss, grads) = replica_grads(model, &batch, device, weight, seed, cfg);
            if let Some(grads) = grads {
                step.grads.accumulate(model, grads);
            }
            (loss, tokens)
        } else {
            let replicas = &mut run.replicas;
            self.data_parallel_micro_batch(model, replicas, data, indices, seed, &mut step.grads)?
        };
        if loss.is_finite() {
            run.window_loss += loss;
            run.window_steps += 1;
        } else {
            // No backward pass: its gradients could only be garbage.
            step.bad = Some(format!("loss {loss}"));
        }
        step.micro_batches += 1;
        run.state.tokens += tokens as u64;
        Ok(())
    }

    /// The numerical guard at the end of an optimizer step's micro-batches: their summed
    /// gradients and the global gradient norm, or `None` when a loss or the norm was not
    /// finite. Such a step is skipped (the weights and AdamW moments stay the last good ones),
    /// logged and counted, and `max_bad_steps` skips in a row end the run with
    /// [`TrainError::NonFinite`] (`peak`, the stage's learning rate, is in its advice).
    fn guard<B, M: FineTune<B>>(
        &self,
        model: &M,
        run: &mut Run<M>,
        step: &mut Accumulation<M>,
        epoch: usize,
        batch: usize,
        peak: f64,
    ) -> Result<Option<(GradientsParams, Option<Tensor<1>>)>> {
        let (grads, bad) = step.take();
        let norm = global_grad_norm(model, &grads);
        let norm_value = norm.clone().map(|n| n.into_scalar::<f64>());
        let bad = bad.or_else(|| {
            norm_value
                .filter(|n| !n.is_finite())
                .map(|n| format!("gradient norm {n}"))
        });
        let Some(reason) = bad else {
            return Ok(Some((grads, norm)));
        };
        let state = &mut run.state;
        state.skipped_steps += 1;
        state.bad_steps_in_a_row += 1;
        self.log(&LogEvent::Skipped {
            step: state.global_step,
            epoch,
            batch,
            reason: reason.clone(),
            consecutive: state.bad_steps_in_a_row,
        })?;
        run.progress
            .set_message(format!("skipped a step: {reason}"));
        if run.state.bad_steps_in_a_row >= self.config.max_bad_steps {
            run.progress.finish_and_clear();
            self.write_plot(&run.state)?;
            return Err(self.non_finite_error(&run.state, reason, peak));
        }
        Ok(None)
    }

    /// The optimizer step: the gradients clipped to `max_grad_norm` (by their global `norm`),
    /// AdamW at `lr`, the step counters advanced. The replicas are stale after it.
    fn optimizer_step<B, M: FineTune<B>>(
        &self,
        model: M,
        run: &mut Run<M>,
        grads: GradientsParams,
        norm: Option<Tensor<1>>,
        lr: f64,
    ) -> M {
        run.state.bad_steps_in_a_row = 0;
        let scale = self
            .config
            .max_grad_norm
            .and_then(|max| norm.map(|n| clip_scale(n, max)));
        let model = run.optim.step(model, grads, lr, scale);
        run.replicas.clear();
        run.state.stage_step += 1;
        run.state.global_step += 1;
        run.state.optimizer_step = run.optim.step;
        model
    }

    /// Logs the mean micro-batch loss since the previous `train` line (to `log.jsonl`, the
    /// history and the progress bar) with the step's `lr` and the throughput, and starts a new
    /// window.
    fn log_train<M>(&self, run: &mut Run<M>, epoch: usize, lr: f64) -> Result<()> {
        let mean = run.window_loss / run.window_steps.max(1) as f64;
        run.state.train_loss.push((run.state.global_step, mean));
        let tokens_per_s = run.state.tokens as f64 / run.clock.train_seconds().max(1e-9);
        self.log(&LogEvent::Train {
            step: run.state.global_step,
            epoch,
            loss: mean,
            lr,
            tokens_per_s,
        })?;
        run.progress.set_message(format!(
            "loss {mean:.4} lr {lr:.2e} {tokens_per_s:.0} tok/s"
        ));
        run.window_loss = 0.0;
        run.window_steps = 0;
        Ok(())
    }

    /// What follows an optimizer step: an evaluation every `eval_every` steps, then a
    /// checkpoint every `checkpoint_every` steps or when the stop flag is raised (Ctrl-C).
    /// The run ends interrupted on the flag, or early stopped when the evaluation says so.
    fn evaluate_or_checkpoint<B, M: FineTune<B>>(
        &self,
        model: &M,
        run: &mut Run<M>,
        epoch: usize,
        evaluate: &mut dyn FnMut(&M) -> std::result::Result<Metrics, String>,
    ) -> Result<AfterStep> {
        let cfg = &self.config;
        let step = run.state.global_step;
        let evaluated = cfg.eval_every.is_some_and(|n| step.is_multiple_of(n));
        let stop_early = evaluated && self.evaluate(model, epoch, run, evaluate)?;
        let interrupted = self.stop.load(Ordering::SeqCst);
        if interrupted || cfg.checkpoint_every.is_some_and(|n| step.is_multiple_of(n)) {
            self.checkpoint(model, run, epoch)?;
        }
        let outcome = if interrupted {
            Some(Outcome::Interrupted)
        } else if stop_early {
            Some(Outcome::EarlyStopped)
        } else {
            None
        };
        Ok(AfterStep { evaluated, outcome })
    }

    /// The end of `epoch`: an evaluation unless its last step had one (`evaluated_at`), then
    /// the checkpoint that resumes at the next epoch and records whether the run is over
    /// (all epochs or `max_steps` done, or early stopped: the returned outcome).
    fn end_epoch<B, M: FineTune<B>>(
        &self,
        model: &M,
        run: &mut Run<M>,
        epoch: usize,
        evaluate: &mut dyn FnMut(&M) -> std::result::Result<Metrics, String>,
        evaluated_at: Option<usize>,
    ) -> Result<Outcome> {
        let outcome = if evaluated_at != Some(run.state.global_step)
            && self.evaluate(model, epoch, run, evaluate)?
        {
            Outcome::EarlyStopped
        } else {
            Outcome::Finished
        };
        run.state.batch = 0;
        run.state.done = epoch + 1 >= self.config.epochs
            || outcome == Outcome::EarlyStopped
            || self.max_reached(&run.state);
        self.checkpoint(model, run, epoch + 1)?;
        Ok(outcome)
    }

    /// Writes a checkpoint that resumes in `epoch` at `run.state.batch`, with the
    /// training-loop time so far.
    fn checkpoint<M: Module + ModuleSnapshot>(
        &self,
        model: &M,
        run: &mut Run<M>,
        epoch: usize,
    ) -> Result<()> {
        run.state.epoch = epoch;
        run.state.train_seconds = run.clock.train_seconds();
        self.write_checkpoint(model, &run.optim, &run.state)
    }

    /// The end of the run: unless it was interrupted, the state is marked done (a finished run
    /// is not resumed) and the best model is the result; the curves are plotted either way.
    fn finish<M: Module + ModuleSnapshot>(
        &self,
        model: M,
        mut run: Run<M>,
        outcome: Outcome,
    ) -> Result<FitResult<M>> {
        run.progress.finish_and_clear();
        if outcome != Outcome::Interrupted {
            run.state.done = true;
            self.write_state(&run.state)?;
        }
        self.write_plot(&run.state)?;
        let model = if outcome == Outcome::Interrupted {
            model
        } else {
            self.load_best(model)?
        };
        Ok(FitResult {
            model,
            outcome,
            state: run.state,
        })
    }

    /// The error that stops a run after `max_bad_steps` consecutive non-finite steps. The
    /// checkpoint on disk (if any) is the last one written before the bad steps and is left
    /// as it is.
    fn non_finite_error(&self, state: &TrainerState, reason: String, lr: f64) -> TrainError {
        let dir = self.path(&[files::CHECKPOINT_DIR]);
        let kept = if dir.join(files::STATE).is_file() {
            format!(
                "the last good checkpoint is kept in {} (run again to resume from it)",
                dir.display()
            )
        } else {
            "no checkpoint had been written yet".to_string()
        };
        TrainError::NonFinite {
            steps: state.bad_steps_in_a_row,
            step: state.global_step,
            reason,
            lr,
            kept,
        }
    }

    /// Runs the evaluation callback, records it, keeps the best model and decides on early
    /// stopping (returns `true` to stop). Its time is left out of the training-loop time.
    fn evaluate<B, M: FineTune<B>>(
        &self,
        model: &M,
        epoch: usize,
        run: &mut Run<M>,
        evaluate: &mut dyn FnMut(&M) -> std::result::Result<Metrics, String>,
    ) -> Result<bool> {
        let started = Instant::now();
        let state = &mut run.state;
        let valid = model.valid();
        let metrics = evaluate(&valid).map_err(TrainError::Evaluation)?;
        let record = EvalRecord {
            step: state.global_step,
            epoch,
            metrics,
        };
        self.log(&LogEvent::Eval {
            step: record.step,
            epoch,
            metrics: record.metrics.clone(),
        })?;
        let name = &self.config.metric;
        let value = record.metrics.get(name).copied();
        state.evals.push(record);
        let Some(value) = value else {
            return Err(TrainError::Evaluation(format!(
                "the selection metric `{name}` is not among the evaluation's metrics"
            )));
        };
        let better = match state.best_metric {
            None => value.is_finite(),
            Some(best) => {
                if Metric::name_higher_is_better(name) {
                    value > best
                } else {
                    value < best
                }
            }
        };
        if better {
            state.best_metric = Some(value);
            state.best_step = Some(state.global_step);
            state.evals_without_improvement = 0;
            let dir = self.path(&[files::BEST_DIR]);
            create_dir(&dir)?;
            save_safetensors(&valid, &dir.join(files::MODEL))?;
        } else {
            state.evals_without_improvement += 1;
        }
        self.write_plot(state)?;
        let stop = self
            .config
            .early_stopping_patience
            .is_some_and(|p| state.evals_without_improvement >= p);
        run.clock.eval_seconds += started.elapsed().as_secs_f64();
        Ok(stop)
    }

    /// Replaces the weights of `model` with the best ones saved, if any.
    fn load_best<M: Module + ModuleSnapshot>(&self, mut model: M) -> Result<M> {
        let path = self.path(&[files::BEST_DIR, files::MODEL]);
        if path.is_file() {
            load_weights(&mut model, &path)?;
        }
        Ok(model)
    }

    /// One micro-batch split over the data-parallel replicas (see [`Trainer::with_devices`]):
    /// adds every replica's weighted gradients, on the first device, to `accumulator`.
    /// Returns the batch's loss (the replicas' losses weighted by their shares of the loss
    /// terms; not finite when any replica's is not, and then nothing is accumulated) and its
    /// real tokens.
    fn data_parallel_micro_batch<B, M, S>(
        &self,
        model: &M,
        replicas: &mut Vec<M>,
        data: &S,
        indices: &[usize],
        micro_seed: u64,
        accumulator: &mut GradientsAccumulator<M>,
    ) -> Result<(f64, usize)>
    where
        M: FineTune<B>,
        S: BatchSource<Batch = B>,
        B: Send,
    {
        let shards = shard_rows(indices, self.devices.len());
        let batches = shards
            .iter()
            .map(|rows| data.try_collate(rows))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(TrainError::Data)?;
        let tokens = batches.iter().map(|b| data.real_tokens(b)).sum();
        let accum = self.config.grad_accum_steps as f64;
        // Each replica's share of the batch's loss terms (else of its rows).
        let terms: Option<Vec<usize>> = batches.iter().map(|b| model.loss_terms(b)).collect();
        let shares: Vec<usize> = match terms {
            Some(t) if t.iter().sum::<usize>() > 0 => t,
            _ => shards.iter().map(Vec::len).collect(),
        };
        let total = shares.iter().sum::<usize>() as f64;
        let weights: Vec<f64> = shares.iter().map(|&n| n as f64 / total / accum).collect();
        let seeds: Vec<u64> = (0..shards.len())
            .map(|r| match r {
                0 => micro_seed,
                r => mix_seed(micro_seed, r as u64, 0),
            })
            .collect();
        let parallel = self
            .devices
            .iter()
            .enumerate()
            .all(|(i, d)| !self.devices[..i].contains(d));
        let results: Vec<(f64, Option<GradientsParams>)> = if parallel {
            if replicas.is_empty() {
                *replicas = self.devices[1..]
                    .iter()
                    .map(|d| fork_for_training(model.clone(), d))
                    .collect();
            }
            let taken = std::mem::take(replicas);
            let mut batches = batches.into_iter();
            let first = batches.next();
            let (first_result, others) = std::thread::scope(|scope| {
                let handles: Vec<_> = taken
                    .into_iter()
                    .zip(batches)
                    .enumerate()
                    .map(|(k, (replica, batch))| {
                        let r = k + 1;
                        let (device, weight, seed) = (&self.devices[r], weights[r], seeds[r]);
                        scope.spawn(move || {
                            device.seed(seed);
                            let result =
                                replica_grads(&replica, &batch, device, weight, seed, &self.config);
                            (replica, result)
                        })
                    })
                    .collect();
                let first_result = first.map(|batch| {
                    self.device().seed(seeds[0]);
                    let (seed, cfg) = (seeds[0], &self.config);
                    replica_grads(model, &batch, self.device(), weights[0], seed, cfg)
                });
                let others: Vec<_> = handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect();
                (first_result, others)
            });
            let mut results: Vec<_> = first_result.into_iter().collect();
            for (replica, result) in others {
                replicas.push(replica);
                results.push(result);
            }
            if replicas.len() + 1 < self.devices.len() {
                // A batch smaller than the replica count left some replicas idle this time.
                replicas.clear();
            }
            results
        } else {
            batches
                .iter()
                .zip(&weights)
                .zip(&seeds)
                .map(|((batch, &weight), &seed)| {
                    self.device().seed(seed);
                    replica_grads(model, batch, self.device(), weight, seed, &self.config)
                })
                .collect()
        };
        let loss = results
            .iter()
            .zip(&weights)
            .map(|((l, _), w)| l * w * accum)
            .sum::<f64>();
        if results.iter().any(|(_, g)| g.is_none()) {
            let bad = results
                .iter()
                .map(|(l, _)| *l)
                .find(|l| !l.is_finite())
                .unwrap_or(f64::NAN);
            return Ok((bad, tokens));
        }
        for (_, grads) in results {
            if let Some(grads) = grads {
                accumulator.accumulate(model, grads.to_device(self.device(), model));
            }
        }
        Ok((loss, tokens))
    }

    fn write_checkpoint<M: Module + ModuleSnapshot>(
        &self,
        model: &M,
        optim: &AdamW,
        state: &TrainerState,
    ) -> Result<()> {
        // Write a complete new folder, then swap it in: the previous checkpoint stays intact
        // until the new one is whole.
        let final_dir = self.path(&[files::CHECKPOINT_DIR]);
        let tmp_dir = self.path(&[files::PARTIAL_CHECKPOINT_DIR]);
        if tmp_dir.exists() {
            std::fs::remove_dir_all(&tmp_dir).map_err(|source| TrainError::Io {
                path: tmp_dir.clone(),
                source,
            })?;
        }
        let written = (|| -> Result<()> {
            create_dir(&tmp_dir)?;
            save_safetensors(model, &tmp_dir.join(files::MODEL))?;
            let tensors = optim.state_tensors();
            write_safetensors(&tmp_dir.join(files::OPTIMIZER), &tensors)?;
            write_json(&tmp_dir.join(files::STATE), state)
        })();
        if let Err(e) = written {
            // A full disk, say: leave nothing half-written; the previous checkpoint is intact.
            let _ = std::fs::remove_dir_all(&tmp_dir);
            return Err(e);
        }
        let old_dir = self.path(&[files::OLD_CHECKPOINT_DIR]);
        if final_dir.exists() {
            let _ = std::fs::remove_dir_all(&old_dir);
            std::fs::rename(&final_dir, &old_dir).map_err(|source| TrainError::Io {
                path: final_dir.clone(),
                source,
            })?;
        }
        std::fs::rename(&tmp_dir, &final_dir).map_err(|source| TrainError::Io {
            path: final_dir.clone(),
            source,
        })?;
        let _ = std::fs::remove_dir_all(&old_dir);
        Ok(())
    }

    fn write_state(&self, state: &TrainerState) -> Result<()> {
        let path = self.path(&[files::CHECKPOINT_DIR, files::STATE]);
        if path.parent().is_some_and(Path::is_dir) {
            write_json(&path, state)?;
        }
        Ok(())
    }

    /// Loads the run directory's checkpoint into `model`, returning the state and optimizer
    /// moments; `None` when there is no checkpoint.
    fn read_checkpoint<M: Module + ModuleSnapshot>(
        &self,
        model: &mut M,
    ) -> Result<Option<(TrainerState, OptimizerState)>> {
        let mut dir = self.path(&[files::CHECKPOINT_DIR]);
        if !dir.join(files::STATE).is_file() {
            // A crash between the two renames of `write_checkpoint` leaves only the old one.
            let old = self.path(&[files::OLD_CHECKPOINT_DIR]);
            if old.join(files::STATE).is_file() {
                dir = old;
            } else {
                return Ok(None);
            }
        }
        let state_path = dir.join(files::STATE);
        let text = std::fs::read_to_string(&state_path).map_err(|source| TrainError::Io {
            path: state_path.clone(),
            source,
        })?;
        let state: TrainerState =
            serde_json::from_str(&text).map_err(|source| TrainError::Json {
                path: state_path,
                source,
            })?;
        load_weights(model, &dir.join(files::MODEL))?;
        let optimizer = Checkpoint::read_safetensors(&dir.join(files::OPTIMIZER))?;
        Ok(Some((
            state.clone(),
            (state.optimizer_step, optimizer.tensors),
        )))
    }

    /// Appends `event` to the run's `log.jsonl`, and its scalars to the TensorBoard event
    /// file when `report_to` names TensorBoard.
    fn log(&self, event: &LogEvent) -> Result<()> {
        use std::io::Write;
        if self.config.report_to.contains(&ReportTo::Tensorboard) {
            let io = |source| TrainError::Io {
                path: self.path(&[crate::tensorboard::DIR]),
                source,
            };
            let writer = match self.tensorboard.get() {
                Some(writer) => writer,
                None => {
                    let writer =
                        crate::tensorboard::EventWriter::create(&self.out_dir).map_err(io)?;
                    self.tensorboard.get_or_init(|| writer)
                }
            };
            let (step, values) = crate::tensorboard::scalars(event);
            writer.write_scalars(step, &values).map_err(io)?;
        }
        let path = self.path(&[files::LOG]);
        let line = event.to_line().map_err(|source| TrainError::Json {
            path: path.clone(),
            source,
        })?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| TrainError::Io {
                path: path.clone(),
                source,
            })?;
        writeln!(file, "{line}").map_err(|source| TrainError::Io { path, source })
    }

    fn write_plot(&self, state: &TrainerState) -> Result<()> {
        let mut loss_series = vec![Series {
            name: "train loss".into(),
            points: state
                .train_loss
                .iter()
                .map(|&(s, l)| (s as f64, l))
                .collect(),
        }];
        let eval_points = |name: &str| -> Vec<(f64, f64)> {
            state
                .evals
                .iter()
                .filter_map(|e| e.metrics.get(name).map(|&v| (e.step as f64, v)))
                .collect()
        };
        let valid_loss = eval_points("loss");
        if !valid_loss.is_empty() {
            loss_series.push(Series {
                name: "validation loss".into(),
                points: valid_loss,
            });
        }
        let mut panels = vec![Panel {
            title: "loss".into(),
            x_label: "optimizer step".into(),
            series: loss_series,
        }];
        if let Some(g) = crate::generalization::generalization(state) {
            let title = match &g.overfitting {
                Some(o) => format!(
                    "validation - training loss (overfitting since step {})",
                    o.lowest.step
                ),
                None => "validation - training loss".into(),
            };
            panels.push(Panel {
                title,
                x_label: "optimizer step".into(),
                series: vec![Series {
                    name: "gap".into(),
                    points: g.points.iter().map(|p| (p.step as f64, p.gap)).collect(),
                }],
            });
        }
        let metric_names: Vec<String> = state
            .evals
            .last()
            .map(|e| {
                e.metrics
                    .keys()
                    .filter(|k| *k != "loss" && !k.contains('/'))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        // Rates (accuracy, F1, ...: every value in [0, 1]) and unbounded metrics (perplexity,
        // ...) get separate panels, so that neither flattens the other.
        let (rates, others): (Vec<Series>, Vec<Series>) = metric_names
            .iter()
            .map(|n| Series {
                name: n.clone(),
                points: eval_points(n),
            })
            .partition(|s| s.points.iter().all(|&(_, v)| (0.0..=1.0).contains(&v)));
        for (title, series) in [
            ("validation metrics", rates),
            ("validation metrics (unbounded)", others),
        ] {
            if !series.is_empty() {
                panels.push(Panel {
                    title: title.into(),
                    x_label: "optimizer step".into(),
                    series,
                });
            }
        }
        plot_curves(&self.path(&[files::PLOT]), "burnish training", &panels)?;
        Ok(())
    }

    fn progress_bar(&self, total: usize, done: usize) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(total as u64).with_style(
            ProgressStyle::with_template(
                "{spinner} train [{bar:30}] {pos}/{len} steps {elapsed_precise} eta {eta_precise} {msg}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar.set_position(done as u64);
        bar
    }
}

/// AdamW's step counter and moments as a checkpoint stores them.
type OptimizerState = (u64, BTreeMap<String, burn::tensor::TensorData>);

/// Where a run starts ([`Trainer::plan`]).
struct Plan {
    /// Optimizer steps per epoch.
    steps_per_epoch: usize,
    /// Optimizer steps of the whole run (`max_steps` included), for the progress bar.
    total_steps: usize,
    /// The checkpoint's state, or a fresh one.
    state: TrainerState,
    /// The checkpoint's AdamW state, if there is a checkpoint.
    optimizer: Option<OptimizerState>,
}

/// What the training loop of [`Trainer::fit`] carries from step to step, the model aside
/// (AdamW takes the model by value and returns the updated one).
struct Run<M> {
    /// Position, counters and history: what a checkpoint saves.
    state: TrainerState,
    /// Optimizer steps per epoch.
    steps_per_epoch: usize,
    /// The checkpoint's AdamW state, until the first stage restores it.
    resumed_optimizer: Option<OptimizerState>,
    /// The stage `optim` belongs to (`None` before the first epoch).
    stage: Option<usize>,
    /// The stage's AdamW (a placeholder until the first stage starts).
    optim: AdamW,
    /// The other devices' copies of the model, made before the first micro-batch after each
    /// optimizer step (empty: stale, or a single device).
    replicas: Vec<M>,
    /// Sum of the finite micro-batch losses since the last `train` log line.
    window_loss: f64,
    /// How many there were.
    window_steps: usize,
    /// Training-loop time.
    clock: Clock,
    /// The progress bar (hidden unless asked for).
    progress: ProgressBar,
}

impl<M> Run<M> {
    fn new(plan: Plan, progress: ProgressBar) -> Self {
        Self {
            clock: Clock::start(plan.state.train_seconds),
            state: plan.state,
            steps_per_epoch: plan.steps_per_epoch,
            resumed_optimizer: plan.optimizer,
            stage: None,
            optim: AdamW::new(AdamWConfig::default()),
            replicas: Vec::new(),
            window_loss: 0.0,
            window_steps: 0,
            progress,
        }
    }
}

/// Seconds of training-loop time: this process's since it started the loop, less its
/// evaluations, plus what earlier processes of a resumed run spent.
struct Clock {
    started: Instant,
    /// Earlier processes' training-loop seconds.
    before: f64,
    /// This process's evaluation seconds.
    eval_seconds: f64,
}

impl Clock {
    fn start(before: f64) -> Self {
        Self {
            started: Instant::now(),
            before,
            eval_seconds: 0.0,
        }
    }

    /// Seconds spent in the training loop so far, this process's and earlier ones'.
    fn train_seconds(&self) -> f64 {
        self.before + self.started.elapsed().as_secs_f64() - self.eval_seconds
    }
}

/// The micro-batches of the optimizer step being accumulated.
struct Accumulation<M> {
    /// Their weighted gradients, summed.
    grads: GradientsAccumulator<M>,
    /// How many there were.
    micro_batches: usize,
    /// Why the step is unusable (a loss that was not finite).
    bad: Option<String>,
}

impl<M> Accumulation<M> {
    fn new() -> Self {
        Self {
            grads: GradientsAccumulator::new(),
            micro_batches: 0,
            bad: None,
        }
    }

    /// The step's summed gradients and why they are unusable, if they are; the next
    /// micro-batch starts the next step.
    fn take(&mut self) -> (GradientsParams, Option<String>) {
        self.micro_batches = 0;
        (self.grads.grads(), self.bad.take())
    }
}

/// What [`Trainer::evaluate_or_checkpoint`] did after an optimizer step.
struct AfterStep {
    /// Whether it evaluated.
    evaluated: bool,
    /// How the run ends there, if it does.
    outcome: Option<Outcome>,
}

/// Loads weights written by [`save_safetensors`] (burnish's own full parameter names).
///
/// # Errors
/// As [`load_checkpoint`].
pub fn load_weights<M: Module + ModuleSnapshot>(model: &mut M, path: &Path) -> Result<()> {
    let checkpoint = Checkpoint::read_safetensors(path)?;
    load_checkpoint(
        model,
        &checkpoint,
        LoadSpec {
            encoder_prefix: "bert.",
            may_be_fresh: &|_| false,
            names: NameMap::default(),
        },
    )?;
    Ok(())
}

/// `model` forked onto the autodiff `device`, in training mode, with every parameter under the
/// device's gradient-checkpointing strategy. `fork` keeps each tensor's own strategy (none for
/// a model built on a plain device), and autodiff refuses an operation whose operands carry
/// two strategies, so a model trained with checkpointing needs its parameters moved over.
pub fn fork_for_training<M: Module>(model: M, device: &Device) -> M {
    let model = model.fork(device).train();
    match device.gradient_checkpointing_strategy() {
        Some(strategy) if strategy != GradientCheckpointingStrategy::default() => {
            model.map(&mut SetCheckpointing(strategy))
        }
        _ => model,
    }
}

/// Puts every autodiff float parameter under one gradient-checkpointing strategy.
struct SetCheckpointing(GradientCheckpointingStrategy);

impl ModuleMapper for SetCheckpointing {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let tensor = if tensor.is_autodiff() {
            tensor.with_gradient_checkpointing_strategy(self.0)
        } else {
            tensor
        };
        Param::from_mapped_value(id, tensor, mapper)
    }
}

/// The rows each of `replicas` data-parallel replicas takes from a batch of `indices`:
/// replica `r` gets positions `r, r + replicas, ...`, so every replica gets the same number of
/// rows, give or take one, and the shards together are the batch. Empty shards (a batch
/// smaller than the replica count) are left out.
pub fn shard_rows(indices: &[usize], replicas: usize) -> Vec<Vec<usize>> {
    let n = replicas.max(1);
    (0..n)
        .map(|r| {
            indices
                .iter()
                .skip(r)
                .step_by(n)
                .copied()
                .collect::<Vec<_>>()
        })
        .filter(|rows| !rows.is_empty())
        .collect()
}

/// One replica's forward and backward on `batch`: its loss, and its gradients for a loss
/// scaled by `weight`, unless the loss is not finite (no backward pass then: its gradients
/// could only be garbage). `cfg.gradient_checkpointing` recomputes the encoder's layers in the
/// backward pass where the model supports it (`seed` seeds their dropout); `cfg.bf16` runs
/// forward and backward on a bf16 copy of the model whose gradients reach the f32 parameters.
pub(crate) fn replica_grads<B, M: FineTune<B>>(
    model: &M,
    batch: &B,
    device: &Device,
    weight: f64,
    seed: u64,
    cfg: &TrainConfig,
) -> (f64, Option<GradientsParams>) {
    if weight == 0.0 {
        // A shard with no loss terms (every answer outside its windows): nothing to learn.
        return (0.0, Some(GradientsParams::new()));
    }
    if cfg.gradient_checkpointing
        && let Some(result) = model.checkpointed_grads(
            batch,
            CheckpointedStep {
                device,
                seed,
                weight,
                bf16: cfg.bf16,
            },
        )
    {
        return result;
    }
    let loss = if cfg.bf16 {
        mixed_precision_copy(model).loss(batch, device)
    } else {
        model.loss(batch, device)
    };
    let value = loss.clone().into_scalar::<f64>();
    if !value.is_finite() {
        return (value, None);
    }
    let scaled = if weight == 1.0 { loss } else { loss * weight };
    (
        value,
        Some(GradientsParams::from_grads(scaled.backward(), model)),
    )
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| TrainError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|source| TrainError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    write_atomic(path, text.as_bytes())
}

/// Writes `bytes` to `path` atomically ([`burnish_fs::write_atomic`]).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    burnish_fs::write_atomic(path, bytes).map_err(|source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_interleave_rows_and_cover_the_batch() {
        let batch = [10, 11, 12, 13, 14, 15, 16];
        assert_eq!(
            shard_rows(&batch, 3),
            vec![vec![10, 13, 16], vec![11, 14], vec![12, 15]]
        );
        assert_eq!(shard_rows(&batch, 1), vec![batch.to_vec()]);
        // More replicas than rows: the idle ones get no shard.
        assert_eq!(shard_rows(&[4, 5], 4), vec![vec![4], vec![5]]);
        // Zero replicas means one.
        assert_eq!(shard_rows(&[1, 2], 0), vec![vec![1, 2]]);
    }
}
