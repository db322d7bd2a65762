//! [`Trainer`]: fine-tune a [`Pretrained`] model into a pipeline, with burnish-train's loop.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use burn::tensor::Device;
use burnish_data::{
    LabelMap, NerDataset, QaFeatureOptions, SquadDataset, SquadVersion, TokenFeatureOptions,
    TokenizeOptions, qa_features, qa_inputs, tagged_features, tokenize_records,
};
use burnish_heads::{
    BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification,
};
use burnish_train::tasks::batches::{Batches, Collate};
use burnish_train::tasks::classification;
use burnish_train::tasks::ner;
use burnish_train::tasks::qa::{self, PostProcess};
use burnish_train::trainer::FineTune;
use burnish_train::{
    EvalRecord, FitResult, Metrics, Outcome, TrainConfig, TrainError, TrainerState,
};

use crate::error::{Error, Result};
use crate::pipelines::{QuestionAnswerer, TextClassifier, TokenClassifier};
use crate::pretrained::Pretrained;
use crate::text_dataset::TextDataset;

/// How a training run went.
#[derive(Debug, Clone)]
pub struct TrainReport {
    /// How it ended (finished, stopped early, interrupted).
    pub outcome: Outcome,
    /// The evaluation that selected the returned model (the best by
    /// [`TrainConfig::metric`]).
    pub best: Option<EvalRecord>,
    /// The trainer's final state: every evaluation, the training-loss history, steps, tokens.
    pub state: TrainerState,
}

impl TrainReport {
    fn new<M>(result: &FitResult<M>) -> Self {
        Self {
            outcome: result.outcome,
            best: result.best().cloned(),
            state: result.state.clone(),
        }
    }

    /// A metric of the best evaluation (`accuracy`, `f1`, `loss`, ...).
    pub fn best_metric(&self, name: &str) -> Option<f64> {
        self.best.as_ref()?.metrics.get(name).copied()
    }

    /// Real (non-padding) training tokens per second of training-loop time.
    pub fn tokens_per_second(&self) -> f64 {
        self.state.tokens as f64 / self.state.train_seconds.max(1e-9)
    }
}

/// A fine-tuned pipeline and how its training went.
#[derive(Debug, Clone)]
pub struct Trained<P> {
    /// The best model by the selection metric, as a ready pipeline.
    pub model: P,
    /// The run's history.
    pub report: TrainReport,
}

/// Fine-tunes pre-trained models into pipelines, running burnish-train's loop: AdamW with
/// decoupled weight decay (not on biases and LayerNorm), linear warmup then decay, global-norm
/// clipping, optional gradient accumulation, frozen-encoder epochs and layer-wise learning-rate
/// decay, evaluation at each epoch end (and every `eval_every` steps), best-model selection,
/// early stopping, resumable checkpoints.
///
/// [`TrainConfig::default`] is the field's recipe: learning rate 5e-5 (2e-5..5e-5 is the usual
/// range), 10% warmup, weight decay 0.01, clipping at 1.0, batch 32, 3 epochs, maximum length
/// 128, seed 42.
///
/// The run directory receives the trainer's files: `checkpoint/`, `best/`, `log.jsonl` and
/// `training.png`. Training again into the same directory resumes an unfinished run exactly
/// where it stopped, and returns a finished run's best model without training: use a fresh
/// directory per experiment. Save the fine-tuned model with the pipeline's `save`.
///
/// ```
/// # fn main() -> burnish::Result<()> {
/// use burnish::prelude::*;
///
/// let device = burnish::backend::device("flex")?;
/// let base = Pretrained::from_dir(
///     concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-bert"),
///     &device,
/// )?;
/// let data = TextDataset::from_labelled(
///     (0..40).map(|i| if i % 2 == 0 { ("good fun", "pos") } else { ("a dull mess", "neg") }),
/// )?;
/// let (train, valid) = data.split(0.25, 42)?;
///
/// let run = tempfile::tempdir().unwrap();
/// let config = TrainConfig { epochs: 2, batch_size: 8, max_length: 16, ..TrainConfig::default() };
/// let trainer = Trainer::new(config, run.path())?.with_progress(false);
/// let trained = trainer.classifier(&base, &train, &valid)?;
/// assert!(trained.report.best_metric("accuracy").is_some());
///
/// let classifier = trained.model;
/// let eval = classifier.evaluate(&valid)?;
/// // The returned model is the best one: evaluating it again gives the recorded score.
/// let best = trained.report.best_metric("accuracy").unwrap();
/// assert!((eval.metrics["accuracy"] - best).abs() < 1e-9);
/// classifier.save(run.path().join("model"))?;
/// let reloaded = TextClassifier::from_dir(run.path().join("model"), &device)?;
/// assert_eq!(reloaded.labels(), ["neg", "pos"]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Trainer {
    config: TrainConfig,
    out_dir: PathBuf,
    progress: bool,
    stop: Option<Arc<AtomicBool>>,
    /// Data-parallel replicas' devices (empty: the base model's device alone).
    devices: Vec<Device>,
}

impl Trainer {
    /// A trainer with `config`, writing its run files into `out_dir`.
    ///
    /// # Errors
    /// [`Error::Train`] naming the first unusable configuration field.
    pub fn new(config: TrainConfig, out_dir: impl Into<PathBuf>) -> Result<Self> {
        config
            .validate()
            .map_err(|(field, reason)| TrainError::Config { field, reason })?;
        Ok(Self {
            config,
            out_dir: out_dir.into(),
            progress: true,
            stop: None,
            devices: Vec::new(),
        })
    }

    /// Trains data-parallel on `devices` (the first should be the base model's: it steps the
    /// optimizer and evaluates); see `burnish_train::Trainer::with_devices`. `--batch-size` is
    /// the global batch.
    pub fn with_devices(mut self, devices: &[Device]) -> Self {
        self.devices = devices.to_vec();
        self
    }

    /// Shows (default) or hides the progress bar.
    pub fn with_progress(mut self, show: bool) -> Self {
        self.progress = show;
        self
    }

    /// A flag that, once set (by a Ctrl-C handler, say), ends the run after the current step
    /// with a checkpoint ([`Outcome::Interrupted`]).
    pub fn with_stop_flag(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The run directory.
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// burnish-train's trainer for `base`'s device, after checking the maximum length. With
    /// `f1_task`, the default selection metric (`accuracy`) becomes `f1`, as `burnish finetune`
    /// does for NER and QA.
    fn inner(&self, base: &Pretrained, f1_task: bool) -> Result<burnish_train::Trainer> {
        let limit = base.config().max_sequence_length();
        if self.config.max_length > limit {
            return Err(Error::Setting {
                name: "max_length",
                reason: format!(
                    "{} exceeds the longest input the model's positions cover ({limit})",
                    self.config.max_length
                ),
            });
        }
        // New heads are initialised from the seed: the same run starts from the same weights.
        base.device().seed(self.config.seed);
        let mut config = self.config.clone();
        if f1_task && config.metric == TrainConfig::default().metric {
            config.metric = "f1".into();
        }
        let mut trainer = burnish_train::Trainer::new(config, &self.out_dir, base.device())?
            .with_progress(self.progress);
        if !self.devices.is_empty() {
            trainer = trainer.with_devices(&self.devices)?;
        }
        if let Some(stop) = &self.stop {
            trainer = trainer.with_stop_flag(stop.clone());
        }
        Ok(trainer)
    }

    /// The batch size of evaluations.
    fn eval_batch(&self) -> usize {
        self.config.batch_size.max(32)
    }

    /// The run every task shares: refuses empty data, then fine-tunes the model `head` makes
    /// (after [`Trainer::inner`] seeds the device, so the same run starts from the same
    /// weights) on `train`, batched as the configuration asks, and returns the best model by
    /// `evaluate`'s metrics (computed on `valid`, which `evaluate` holds).
    fn fit<F, M>(
        &self,
        base: &Pretrained,
        f1_task: bool,
        (train, valid): (&[F], &[F]),
        head: impl FnOnce() -> Result<M>,
        mut evaluate: impl FnMut(&M) -> std::result::Result<Metrics, String>,
    ) -> Result<(M, TrainReport)>
    where
        F: Collate,
        F::Batch: Send,
        M: FineTune<F::Batch>,
    {
        if train.is_empty() {
            return Err(TrainError::EmptyData.into());
        }
        if valid.is_empty() {
            return Err(Error::Evaluation("the validation data is empty".into()));
        }
        let trainer = self.inner(base, f1_task)?;
        let model = head()?;
        let batches = Batches::for_config(train, &self.config, base.pad_id())?;
        let result = trainer.fit(model, &batches, &mut evaluate)?;
        let report = TrainReport::new(&result);
        Ok((result.model.valid(), report))
    }

    /// Fine-tunes a sequence classifier on `train`, evaluating on `valid` (the task and its
    /// labels come from `train`). Returns the best model by [`TrainConfig::metric`]
    /// (`accuracy` by default; use `loss` or `pearson` for regression, `f1_micro` for
    /// multi-label).
    ///
    /// # Errors
    /// [`Error::Data`] for unusable labels (naming the line), [`Error::Setting`] for a
    /// `max_length` beyond the model, [`Error::Train`] for empty data or a failed run.
    pub fn classifier(
        &self,
        base: &Pretrained,
        train: &TextDataset,
        valid: &TextDataset,
    ) -> Result<Trained<TextClassifier>> {
        let cfg = &self.config;
        let task = train.task()?;
        let tokenize = TokenizeOptions::new(cfg.max_length);
        let tokenizer = base.tokenizer();
        let examples = |data: &TextDataset| -> Result<_> {
            let records = data.records();
            Ok(tokenize_records(tokenizer, data.path(), records, Some(&task), &tokenize)?.examples)
        };
        let train_examples = examples(train)?;
        let valid_examples = examples(valid)?;
        let (eval_batch, pad_id, device) = (self.eval_batch(), base.pad_id(), base.device());
        let (model, report) = self.fit(
            base,
            false,
            (&train_examples, &valid_examples),
            || {
                let model = base.sequence_classifier(&task)?;
                Ok(classification::with_class_loss(
                    model,
                    cfg,
                    &task,
                    &train_examples,
                )?)
            },
            |m: &BertForSequenceClassification| {
                classification::evaluate(m, &valid_examples, &task, eval_batch, pad_id, device)
                    .map(|e| e.metrics)
            },
        )?;
        let model = TextClassifier::from_parts(
            model,
            base.config().clone(),
            tokenizer.clone(),
            task,
            base.device(),
        )
        .with_max_length(cfg.max_length)?;
        Ok(Trained { model, report })
    }

    /// Fine-tunes a token classifier (NER) on `train`'s sentences, evaluating entity F1 on
    /// `valid` (read both with the same [`burnish_data::NerReadOptions`]; the default converts
    /// tags to IOB2). The tags are `train`'s ([`NerDataset::tag_set`]); only the first sub-word
    /// of each word is labelled. The best model is the one with the best entity `f1` (or
    /// [`TrainConfig::metric`] when it is not the default `accuracy`).
    ///
    /// # Errors
    /// [`Error::Data`] for a validation tag the training data lacks (naming the line); as
    /// [`Trainer::classifier`] otherwise.
    pub fn token_classifier(
        &self,
        base: &Pretrained,
        train: &NerDataset,
        valid: &NerDataset,
    ) -> Result<Trained<TokenClassifier>> {
        let cfg = &self.config;
        let tags = LabelMap::new(train.tag_set())?;
        let options = TokenFeatureOptions::new(cfg.max_length);
        let featurize = |data: &NerDataset| {
            tagged_features(
                base.tokenizer(),
                &data.sentences,
                &tags,
                &options,
                &data.path,
            )
            .map(|f| f.features)
        };
        let train_features = featurize(train)?;
        let valid_features = featurize(valid)?;
        let gold: Vec<Vec<String>> = valid.sentences.iter().map(|s| s.tags.clone()).collect();
        let (eval_batch, pad_id, device) = (self.eval_batch(), base.pad_id(), base.device());
        let (model, report) = self.fit(
            base,
            true,
            (&train_features, &valid_features),
            || {
                let model = base.token_classifier(&tags)?;
                Ok(ner::with_class_loss(model, cfg, &tags, &train_features)?)
            },
            |m: &BertForTokenClassification| {
                let eval =
                    ner::evaluate(m, &valid_features, &gold, &tags, eval_batch, pad_id, device);
                eval.map(|e| e.metrics)
            },
        )?;
        let model = TokenClassifier::from_parts(
            model,
            base.config().clone(),
            base.tokenizer().clone(),
            tags,
            base.device(),
        )
        .with_max_length(cfg.max_length)?;
        Ok(Trained { model, report })
    }

    /// Fine-tunes an extractive question answering model on `train`'s questions (windows of
    /// [`TrainConfig::max_length`] tokens sharing `stride` context tokens, labelled with each
    /// question's first answer), evaluating SQuAD exact match and F1 on `valid` (v2.0 scoring,
    /// with "no answer", when either file is SQuAD v2.0). The best model is the one with the
    /// best `f1` (or [`TrainConfig::metric`] when it is not the default `accuracy`).
    ///
    /// # Errors
    /// [`Error::Data`] for a question that cannot be windowed; as [`Trainer::classifier`]
    /// otherwise.
    pub fn question_answerer(
        &self,
        base: &Pretrained,
        train: &SquadDataset,
        valid: &SquadDataset,
        stride: usize,
    ) -> Result<Trained<QuestionAnswerer>> {
        let cfg = &self.config;
        let options = QaFeatureOptions {
            max_length: cfg.max_length,
            stride,
        };
        let featurize = |data: &SquadDataset| {
            let inputs = qa_inputs(&data.examples);
            qa_features(base.tokenizer(), &inputs, options, &data.path).map(|f| f.features)
        };
        let train_features = featurize(train)?;
        let valid_features = featurize(valid)?;
        let v2 = train.version == SquadVersion::V2 || valid.version == SquadVersion::V2;
        let post = PostProcess {
            null_threshold: v2.then_some(0.0),
            ..PostProcess::default()
        };
        let (eval_batch, pad_id, device) = (self.eval_batch(), base.pad_id(), base.device());
        let examples = &valid.examples;
        let (model, report) = self.fit(
            base,
            true,
            (&train_features, &valid_features),
            || base.question_answering(),
            |m: &BertForQuestionAnswering| {
                let eval = qa::evaluate(
                    m,
                    &valid_features,
                    examples,
                    post,
                    eval_batch,
                    pad_id,
                    device,
                );
                eval.map(|e| e.metrics)
            },
        )?;
        let model = QuestionAnswerer::from_parts(
            model,
            base.config().clone(),
            base.tokenizer().clone(),
            base.device(),
        )
        .with_windows(cfg.max_length, stride)?
        .with_post_process(post);
        Ok(Trained { model, report })
    }
}
