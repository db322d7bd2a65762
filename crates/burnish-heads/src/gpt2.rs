//! Heads on the GPT-2 decoder ([`Gpt2Model`]), with `transformers`' names and semantics:
//! [`Gpt2LMHeadModel`] (causal language modelling, the output matrix tied to the token
//! embeddings) and [`Gpt2ForSequenceClassification`] (logits of the last non-padding token).

use std::path::Path;

use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Int, Tensor};
use burnish_encoder::config::BertConfig;
use burnish_encoder::decoder::Gpt2Model;
use burnish_encoder::family::gpt2::GPT2;
use burnish_encoder::model::BertInput;
use burnish_encoder::pretrained::{HfModel, decoder_config, save_hf_folder};
use burnish_encoder::weights::{Checkpoint, LoadReport, LoadSpec, NameMap, load_checkpoint};
use burnish_encoder::{CONFIG_FILE, Result};

use crate::causal_lm::next_token_loss;
use crate::classification::{
    ClassificationTargets, ProblemType, SequenceClassifier, classification_loss, classifier_config,
    classifier_settings,
};
use crate::loss::ClassLoss;
use crate::masked_lm::{gather_rows, mlm_loss};

/// `[B, S, H]` or `[M, H]` hidden states times the transposed `[V, H]` token embeddings:
/// the tied LM head, computed against the embedding matrix itself (no copy).
fn tied_logits_rows(hidden: Tensor<2>, wte: Tensor<2>) -> Tensor<2> {
    hidden.matmul(wte.transpose())
}

/// GPT-2 as a causal language model (HF `GPT2LMHeadModel`): the decoder and an LM head whose
/// weight is the token embedding matrix `transformer.wte` (`tie_word_embeddings`), so the
/// module has no parameter of its own and checkpoints carry no (or a duplicate)
/// `lm_head.weight`.
#[derive(Module, Debug)]
pub struct Gpt2LMHeadModel {
    /// The decoder (HF prefix `transformer.`).
    pub transformer: Gpt2Model,
}

impl Gpt2LMHeadModel {
    /// A freshly initialised model.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            transformer: Gpt2Model::new(config, device),
        }
    }

    /// Next-token logits at every position, `[B, S, V]`, for `[B, S]` inputs: row `s` depends
    /// only on tokens `0..=s` and predicts token `s + 1`.
    pub fn forward(&self, input: BertInput) -> Tensor<3> {
        let hidden = self.transformer.forward(input);
        let [batch, seq_len, width] = hidden.dims();
        let logits = tied_logits_rows(
            hidden.reshape([batch * seq_len, width]),
            self.transformer.word_embeddings(),
        );
        let vocab = logits.dims()[1];
        logits.reshape([batch, seq_len, vocab])
    }

    /// Next-token logits at `M` flattened positions `b * S + s` only, `[M, V]` (see
    /// [`crate::NextTokenTargets`]); row `m` equals `forward(input)[b, s]`.
    ///
    /// # Panics
    /// If a position is outside `0..B * S` (backend-dependent), or `M == 0`.
    pub fn forward_at(&self, input: BertInput, positions: Tensor<1, Int>) -> Tensor<2> {
        let hidden = self.transformer.forward(input);
        tied_logits_rows(
            gather_rows(hidden, positions),
            self.transformer.word_embeddings(),
        )
    }

    /// `transformers`' causal-LM loss on [`Self::forward`]'s logits against unshifted `[B, S]`
    /// labels ([`next_token_loss`]). Returns `[1]`.
    ///
    /// # Panics
    /// If the shapes disagree or a label is outside `0..V` (other than `-100`).
    pub fn loss(&self, logits: Tensor<3>, labels: Tensor<2, Int>) -> Tensor<1> {
        next_token_loss(logits, labels)
    }

    /// The loss on [`Self::forward_at`]'s `[M, V]` logits against `[M]` next tokens. Returns
    /// `[1]`.
    ///
    /// # Panics
    /// If the shapes disagree or a label is outside `0..V` (other than `-100`).
    pub fn loss_at(&self, logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
        mlm_loss(logits, labels)
    }
}

/// GPT-2 sequence classification (HF `GPT2ForSequenceClassification`): `score` (no bias) on
/// the hidden state of each row's last token that is not `pad_token_id` (the rightmost such
/// token, so left and right padding both work; position 0 for a row of padding only), as
/// `transformers` picks it from the input ids.
#[derive(Module, Debug)]
pub struct Gpt2ForSequenceClassification {
    /// The decoder (HF prefix `transformer.`).
    pub transformer: Gpt2Model,
    /// `H -> num_labels`, without bias (HF `score`).
    pub score: Linear,
    /// Number of outputs.
    #[module(skip)]
    pub num_labels: usize,
    /// How the logits are trained and read.
    #[module(skip)]
    pub problem_type: ProblemType,
    /// The config's `pad_token_id`: tokens equal to it are not "real" when picking the last
    /// token.
    #[module(skip)]
    pub pad_token_id: usize,
    /// Class weights and label smoothing of the single-label loss (default: plain
    /// cross-entropy); set by the trainer from its config, not saved.
    #[module(skip)]
    pub class_loss: ClassLoss,
}

impl Gpt2ForSequenceClassification {
    /// A fresh model (weights as `transformers` initialises them).
    pub fn new(
        config: &BertConfig,
        num_labels: usize,
        problem_type: ProblemType,
        device: &Device,
    ) -> Self {
        Self::with_decoder(
            Gpt2Model::new(config, device),
            config,
            num_labels,
            problem_type,
            device,
        )
    }

    /// A fresh head on an existing decoder.
    pub fn with_decoder(
        transformer: Gpt2Model,
        config: &BertConfig,
        num_labels: usize,
        problem_type: ProblemType,
        device: &Device,
    ) -> Self {
        let score = LinearConfig::new(config.hidden_size, num_labels)
            .with_bias(false)
            .with_initializer(Initializer::Normal {
                mean: 0.0,
                std: config.initializer_range,
            })
            .init(device);
        Self {
            transformer,
            score,
            num_labels,
            problem_type,
            pad_token_id: config.pad_token_id,
            class_loss: ClassLoss::default(),
        }
    }

    /// Loads a GPT-2 model folder: a `GPT2ForSequenceClassification` checkpoint (head
    /// included) or another GPT-2 checkpoint (`GPT2LMHeadModel`, `GPT2Model`), which gets a
    /// fresh `score`, listed in the report's `newly_initialized`. `num_labels` and
    /// `problem_type` default as for [`crate::BertForSequenceClassification::from_pretrained`].
    ///
    /// # Errors
    /// [`burnish_encoder::EncoderError::ConfigValue`] for a non-GPT-2 config; otherwise as
    /// [`burnish_encoder::weights::load_checkpoint`].
    pub fn from_pretrained(
        dir: impl AsRef<Path>,
        num_labels: Option<usize>,
        problem_type: Option<ProblemType>,
        device: &Device,
    ) -> Result<(Self, BertConfig, LoadReport)> {
        let dir = dir.as_ref();
        let config = decoder_config(dir)?;
        let (num_labels, problem_type) =
            classifier_settings(&config, &dir.join(CONFIG_FILE), num_labels, problem_type)?;
        let mut checkpoint = Checkpoint::from_dir(dir)?;
        // An LM checkpoint's duplicate tied head is not a classifier weight.
        checkpoint.drop_tied_decoder(&GPT2);
        let mut model = Self::new(&config, num_labels, problem_type, device);
        let report = load_checkpoint(
            &mut model,
            &checkpoint,
            LoadSpec {
                encoder_prefix: "transformer.",
                may_be_fresh: &|name| name.starts_with("score."),
                names: NameMap::new(&GPT2),
            },
        )?;
        Ok((model, config, report))
    }

    /// Logits `[B, num_labels]` for a batch of `[B, S]` inputs, from each row's last
    /// non-padding token.
    pub fn forward(&self, input: BertInput) -> Tensor<2> {
        let [batch, seq_len] = input.dims();
        let device = input.input_ids.device();
        let real = input
            .input_ids
            .clone()
            .not_equal_elem(self.pad_token_id as i64)
            .int();
        let index = Tensor::<1, Int>::arange(0..seq_len as i64, &device)
            .unsqueeze::<2>()
            .expand([batch, seq_len]);
        // The largest index of a real token is its own value: no tie to break.
        let last = (index * real).max_dim(1).reshape([batch]);
        let rows = Tensor::<1, Int>::arange(0..batch as i64, &device).mul_scalar(seq_len as i64);
        let hidden = self.transformer.forward(input);
        self.score.forward(gather_rows(hidden, rows + last))
    }

    /// The loss for `problem_type` (as [`crate::BertForSequenceClassification::loss`]).
    ///
    /// # Panics
    /// If the targets' kind does not fit the problem type (a programming error).
    pub fn loss(&self, logits: Tensor<2>, targets: ClassificationTargets) -> Tensor<1> {
        classification_loss(self.problem_type, &self.class_loss, logits, targets)
    }

    /// Writes `config.json` (architecture `GPT2ForSequenceClassification`, `id2label` /
    /// `label2id` when absent, `problem_type`, `pad_token_id`) and `model.safetensors` in
    /// `transformers`' layout, atomically.
    ///
    /// # Errors
    /// [`burnish_encoder::EncoderError::Io`] or [`burnish_encoder::EncoderError::Serialize`]
    /// naming the file.
    pub fn save_pretrained(&self, config: &BertConfig, dir: impl AsRef<Path>) -> Result<()> {
        let mut config = classifier_config(config, self.num_labels, self.problem_type);
        config.pad_token_id = self.pad_token_id;
        save_hf_folder(self, &config, dir.as_ref())
    }
}

impl SequenceClassifier for Gpt2ForSequenceClassification {
    fn logits(&self, input: BertInput) -> Tensor<2> {
        self.forward(input)
    }

    fn num_labels(&self) -> usize {
        self.num_labels
    }

    fn problem_type(&self) -> ProblemType {
        self.problem_type
    }

    fn class_loss(&self) -> &ClassLoss {
        &self.class_loss
    }

    fn set_class_loss(&mut self, class_loss: ClassLoss) {
        self.class_loss = class_loss;
    }

    fn save_folder(&self, config: &BertConfig, dir: &Path) -> Result<()> {
        self.save_pretrained(config, dir)
    }
}

/// `transformers`' `GPT2LMHeadModel`: `lm_head` is `wte` (a duplicate `lm_head.weight` in the
/// file is dropped).
impl HfModel for Gpt2LMHeadModel {
    const CLASS: &'static str = "LMHeadModel";
    const IS_DECODER: bool = true;
    const ENCODER_PREFIX: &'static str = "transformer.";
    const TIED_DECODER: bool = true;

    fn build(config: &BertConfig, device: &Device) -> Self {
        Self::new(config, device)
    }

    fn may_be_fresh(_: &str) -> bool {
        false
    }
}
