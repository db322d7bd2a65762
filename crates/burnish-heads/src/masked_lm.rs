//! `BertForMaskedLM`: masked-language-model pre-training (and continued, domain-adaptive
//! pre-training), as in `transformers`, with the decoder tied to the word embeddings.
//!
//! The head (HF `cls.predictions`) is a transform (`dense`, activation, `LayerNorm`) followed by
//! a decoder whose weight *is* the encoder's word-embedding matrix: logits are computed as
//! `h @ word_embeddings^T + bias`, so there is no separate decoder parameter, gradients reach the
//! embeddings through both uses, and nothing has to be kept in sync.
//!
//! Two forwards: [`BertForMaskedLM::forward`] scores every position (`[B, S, V]`), and
//! [`BertForMaskedLM::forward_masked`] gathers the hidden states of the masked positions first,
//! so the vocabulary-sized projection, most of a pre-training step, runs on `M` rows instead of
//! `B * S`.
//!
//! ## Tied weights in checkpoints
//! `transformers` writes `cls.predictions.bias` and leaves out the tied
//! `cls.predictions.decoder.weight` / `cls.predictions.decoder.bias`; older files (and every
//! `pytorch_model.bin`) carry them too. On loading
//! ([`burnish_encoder::weights::Checkpoint::drop_tied_decoder`]):
//! - `cls.predictions.decoder.weight` is dropped: the decoder is the word-embedding matrix, which
//!   `transformers` also uses after tying. It is not listed as unused.
//! - `cls.predictions.decoder.bias` is the same parameter as `cls.predictions.bias`: it is used
//!   when the file has no `cls.predictions.bias`, and dropped otherwise.
//!
//! Saving writes exactly what `transformers`' `save_pretrained` writes (no `decoder.*`).

use burn::module::{Module, Param};
use burn::nn::{Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_encoder::config::BertConfig;
use burnish_encoder::config::HiddenAct;
use burnish_encoder::family::{Family, bert};
use burnish_encoder::model::{BertInput, BertModel, apply_activation};
use burnish_encoder::pretrained::HfModel;
use burnish_encoder::weights::NameMap;

use crate::loss;

/// The label `transformers` ignores in language-model losses (positions that are not
/// predicted: unmasked tokens, padding).
pub const IGNORE_INDEX: i64 = -100;

/// HF name of the head's output bias.
pub const BIAS_NAME: &str = bert::TIED_DECODER.bias;
/// HF name of the tied decoder weight (the word embeddings); accepted, never used or written.
pub const DECODER_WEIGHT_NAME: &str = bert::TIED_DECODER.weight;
/// HF name of the decoder bias, an alias of [`BIAS_NAME`]; used only when that is absent.
pub const DECODER_BIAS_NAME: &str = bert::DECODER_BIAS;

/// `dense`, activation (`hidden_act`; GELU for RoBERTa) and `LayerNorm` before the decoder
/// (HF `cls.predictions.transform`; RoBERTa's `lm_head.dense` / `lm_head.layer_norm`,
/// DistilBERT's `vocab_transform` / `vocab_layer_norm`; ELECTRA's `generator_predictions`, which
/// narrows to the embeddings' width `E`).
#[derive(Module, Debug)]
pub struct BertPredictionHeadTransform {
    /// `H -> E` (`E` = `embedding_size`, `H` but for ELECTRA).
    pub dense: Linear,
    /// HF `LayerNorm` (epsilon `layer_norm_eps`).
    pub layer_norm: LayerNorm,
    /// HF `transform_act_fn`, from `hidden_act`.
    #[module(skip)]
    pub act: HiddenAct,
    /// `layer_norm_eps` of the config (Burn's `LayerNorm` keeps its own private).
    #[module(skip)]
    pub layer_norm_eps: f64,
}

impl BertPredictionHeadTransform {
    /// Fresh weights as `transformers` initialises them: `dense` ~ N(0, initializer_range)
    /// with zero bias, LayerNorm weight 1 and bias 0.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let width = config.embedding_size();
        let mut dense = LinearConfig::new(config.hidden_size, width)
            .with_initializer(Initializer::Normal {
                mean: 0.0,
                std: config.initializer_range,
            })
            .init(device);
        dense.bias = Some(Param::from_tensor(Tensor::zeros([width], device)));
        Self {
            dense,
            layer_norm: LayerNormConfig::new(width)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            layer_norm_eps: config.layer_norm_eps,
            // `RobertaLMHead` applies `gelu` whatever `hidden_act` says.
            act: config
                .family
                .heads
                .masked_lm_act
                .unwrap_or(config.hidden_act),
        }
    }

    /// `LayerNorm(act(dense(hidden)))`, `[.., H]` to `[.., E]`.
    pub fn forward<const D: usize>(&self, hidden: Tensor<D>) -> Tensor<D> {
        let hidden = apply_activation(
            self.act,
            burnish_encoder::fused::linear(&self.dense, hidden),
        );
        burnish_encoder::fused::layer_norm(&self.layer_norm, self.layer_norm_eps, hidden)
    }
}

/// The transform and the decoder tied to the word embeddings (HF `cls.predictions`).
#[derive(Module, Debug)]
pub struct BertLMPredictionHead {
    /// HF `transform`.
    pub transform: BertPredictionHeadTransform,
    /// The decoder's output bias, `[V]` (HF `cls.predictions.bias`, alias
    /// `cls.predictions.decoder.bias`).
    pub bias: Param<Tensor<1>>,
}

impl BertLMPredictionHead {
    /// Fresh weights as `transformers` initialises them (the bias is zero).
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            transform: BertPredictionHeadTransform::new(config, device),
            bias: Param::from_tensor(Tensor::zeros([config.vocab_size], device)),
        }
    }

    /// Vocabulary logits of `[N, H]` hidden rows: `transform(h) @ word_embeddings^T + bias`,
    /// `[N, V]`, with `word_embeddings` the encoder's `[V, E]` embedding matrix.
    ///
    /// # Panics
    /// If the widths disagree.
    pub fn forward_rows(&self, hidden: Tensor<2>, word_embeddings: Tensor<2>) -> Tensor<2> {
        let transformed = self.transform.forward(hidden);
        transformed.matmul(word_embeddings.transpose()) + self.bias.val().unsqueeze::<2>()
    }

    /// Vocabulary logits of `[B, S, H]` hidden states, `[B, S, V]` (see
    /// [`Self::forward_rows`]).
    pub fn forward(&self, hidden: Tensor<3>, word_embeddings: Tensor<2>) -> Tensor<3> {
        let [batch, seq_len, width] = hidden.dims();
        let vocab = word_embeddings.dims()[0];
        self.forward_rows(hidden.reshape([batch * seq_len, width]), word_embeddings)
            .reshape([batch, seq_len, vocab])
    }
}

/// The MLM head alone (HF `BertOnlyMLMHead`, field `cls`).
#[derive(Module, Debug)]
pub struct BertOnlyMLMHead {
    /// HF `cls.predictions`.
    pub predictions: BertLMPredictionHead,
}

impl BertOnlyMLMHead {
    /// Fresh weights.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            predictions: BertLMPredictionHead::new(config, device),
        }
    }
}

/// BERT with the masked-language-model head (HF `BertForMaskedLM`; for RoBERTa and DistilBERT
/// checkpoints `RobertaForMaskedLM` / `DistilBertForMaskedLM`, the same head under the names of
/// [`mlm_names`]).
///
/// The encoder has no pooler (`add_pooling_layer=False` in `transformers`): a checkpoint that has
/// one loads with the pooler tensors listed in the report's `unused`.
#[derive(Module, Debug)]
pub struct BertForMaskedLM {
    /// The encoder, without pooler (HF prefix `bert.`). Its word embeddings are the decoder.
    pub bert: BertModel,
    /// HF `cls`.
    pub cls: BertOnlyMLMHead,
}

impl BertForMaskedLM {
    /// A fresh model (encoder without pooler and head initialised as `transformers` does).
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self::with_encoder(
            BertModel::new_with_pooler(config, false, device),
            config,
            device,
        )
    }

    /// A fresh head on an existing encoder (whose word embeddings become the decoder). An
    /// encoder with a pooler keeps it, unused and saved with the model (`transformers` then
    /// reports it as unexpected weights).
    pub fn with_encoder(bert: BertModel, config: &BertConfig, device: &Device) -> Self {
        Self {
            bert,
            cls: BertOnlyMLMHead::new(config, device),
        }
    }

    /// Vocabulary logits at every position, `[B, S, V]`, for a batch of `[B, S]` inputs
    /// (padded positions included). For training prefer [`Self::forward_masked`].
    pub fn forward(&self, input: BertInput) -> Tensor<3> {
        let hidden = self.bert.forward(input).last_hidden_state;
        self.cls.predictions.forward(hidden, self.word_embeddings())
    }

    /// Vocabulary logits at the `M` masked positions only, `[M, V]`: `positions` (`[M]`) are
    /// flattened indices `b * S + s` into the `[B, S]` batch. The hidden states are gathered
    /// *before* the transform and the tied decoder, so the `H x V` projection runs on `M` rows
    /// instead of `B * S`. Row `m` equals `forward(input)[b, s]` for `positions[m] = b * S + s`.
    ///
    /// # Panics
    /// If a position is outside `0..B * S` (backend-dependent), or `M == 0`.
    pub fn forward_masked(&self, input: BertInput, positions: Tensor<1, Int>) -> Tensor<2> {
        self.forward_masked_hidden(self.bert.encode(input), positions)
    }

    /// The head alone on the masked positions: `[M, V]` logits from the `[B, S, H]` last
    /// hidden state and the `[M]` flattened positions (as [`Self::forward_masked`]).
    pub fn forward_masked_hidden(
        &self,
        last_hidden_state: Tensor<3>,
        positions: Tensor<1, Int>,
    ) -> Tensor<2> {
        self.cls.predictions.forward_rows(
            gather_rows(last_hidden_state, positions),
            self.word_embeddings(),
        )
    }

    /// Mean cross-entropy of `[M, V]` logits (from [`Self::forward_masked`]) against the `[M]`
    /// original token ids; labels equal to [`IGNORE_INDEX`] (`-100`) are skipped. Returns `[1]`.
    ///
    /// # Panics
    /// If the shapes disagree or a label is outside `0..V` (other than `-100`).
    pub fn loss(&self, logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
        mlm_loss(logits, labels)
    }

    /// `transformers`' MLM loss on the full logits: mean cross-entropy of `[B, S, V]` logits
    /// against `[B, S]` labels, over the positions whose label is not `-100`. Returns `[1]`; 0
    /// when every position is ignored (where PyTorch gives NaN).
    ///
    /// # Panics
    /// If the shapes disagree or a label is outside `0..V` (other than `-100`).
    pub fn loss_full(&self, logits: Tensor<3>, labels: Tensor<2, Int>) -> Tensor<1> {
        mlm_loss_full(logits, labels)
    }

    /// The tied decoder matrix: the encoder's word embeddings, `[V, H]`.
    pub fn word_embeddings(&self) -> Tensor<2> {
        self.bert.embeddings.word_embeddings.weight.val()
    }
}

/// Flattened masked positions and their labels, built from `[B, S]` label rows in which every
/// position that is not predicted holds [`IGNORE_INDEX`] (the MLM collator's output).
#[derive(Debug, Clone)]
pub struct MaskedTargets {
    /// `b * S + s` of every predicted position, row-major, `[M]`.
    pub positions: Tensor<1, Int>,
    /// The token ids to predict there, `[M]`.
    pub labels: Tensor<1, Int>,
}

impl MaskedTargets {
    /// Collects the positions whose label is not `-100`, in row-major order; `None` when there
    /// are none (a batch with nothing masked has no MLM loss).
    ///
    /// # Panics
    /// If the rows differ in length.
    pub fn from_label_rows(labels: &[Vec<i64>], device: &Device) -> Option<Self> {
        let seq_len = labels.first().map_or(0, Vec::len);
        assert!(
            labels.iter().all(|r| r.len() == seq_len),
            "label rows must be padded to one length"
        );
        let (positions, targets): (Vec<i64>, Vec<i64>) = labels
            .iter()
            .flatten()
            .enumerate()
            .filter(|(_, l)| **l != IGNORE_INDEX)
            .map(|(i, &l)| (i as i64, l))
            .unzip();
        if positions.is_empty() {
            return None;
        }
        let m = positions.len();
        Some(Self {
            positions: Tensor::from_data(TensorData::new(positions, [m]), device),
            labels: Tensor::from_data(TensorData::new(targets, [m]), device),
        })
    }
}

/// `[B, S, H]` hidden states to the `[M, H]` rows at flattened positions `b * S + s`.
pub(crate) fn gather_rows(hidden: Tensor<3>, positions: Tensor<1, Int>) -> Tensor<2> {
    let [batch, seq_len, width] = hidden.dims();
    hidden
        .reshape([batch * seq_len, width])
        .select(0, positions)
}

/// Mean CE of `[M, V]` logits against `[M]` labels, skipping `-100`.
pub(crate) fn mlm_loss(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    assert_eq!(
        labels.dims()[0],
        logits.dims()[0],
        "labels must be [M] like the logits' rows"
    );
    loss::cross_entropy_ignoring(logits, labels, IGNORE_INDEX)
}

/// Mean CE of `[B, S, V]` logits against `[B, S]` labels, skipping `-100`.
pub(crate) fn mlm_loss_full(logits: Tensor<3>, labels: Tensor<2, Int>) -> Tensor<1> {
    let [batch, seq_len, vocab] = logits.dims();
    assert_eq!(
        labels.dims(),
        [batch, seq_len],
        "labels must be [B, S] like the logits' first two dimensions"
    );
    loss::cross_entropy_ignoring(
        logits.reshape([batch * seq_len, vocab]),
        labels.reshape([batch * seq_len]),
        IGNORE_INDEX,
    )
}

/// The checkpoint names of `family`'s masked-LM model (RoBERTa's `lm_head`, DistilBERT's
/// `vocab_*`).
pub fn mlm_names(family: &'static Family) -> NameMap {
    NameMap::new(family).with_head(family.heads.masked_lm_names)
}

/// `config` with `architectures: [class]` and `is_decoder` set for saving.
pub(crate) fn lm_config(config: &BertConfig, class: &str, is_decoder: bool) -> BertConfig {
    let mut config = config.clone();
    config.set_architecture(class);
    config
        .extra
        .insert("is_decoder".into(), serde_json::Value::Bool(is_decoder));
    config
}

/// `transformers`' `BertForMaskedLM` (and RoBERTa's, DistilBERT's): a head checkpoint or a
/// bare encoder (its head fresh and reported); always bidirectional.
impl HfModel for BertForMaskedLM {
    const CLASS: &'static str = "ForMaskedLM";
    const ENCODER_PREFIX: &'static str = "bert.";
    const TIED_DECODER: bool = true;

    fn build(config: &BertConfig, device: &Device) -> Self {
        Self::new(config, device)
    }

    fn may_be_fresh(name: &str) -> bool {
        name.starts_with("cls.predictions.")
    }

    fn names(family: &'static Family) -> NameMap {
        mlm_names(family)
    }

    fn folder_config(&self, config: &BertConfig) -> BertConfig {
        lm_config(config, Self::CLASS, false)
    }
}
