//! `BertLMHeadModel`: causal (left-to-right) language modelling on the BERT encoder, with
//! `transformers`' semantics.
//!
//! The encoder runs with a causal attention mask ([`BertModel::forward_causal`]: position `i`
//! attends to the non-padding positions `j <= i`), which `transformers` does when the config has
//! `is_decoder: true`; [`BertLMHeadModel`]'s `save_pretrained` ([`burnish_encoder::HfModel`]) writes that flag, so `transformers`
//! loads the folder as the same model. The head is the MLM head of [`crate::masked_lm`] (HF
//! `cls.predictions`, decoder tied to the word embeddings, tied checkpoint tensors handled as
//! described there).
//!
//! The loss is next-token prediction: the logits at position `s` are scored against the token at
//! `s + 1`, skipping labels of `-100` (padding); as in `transformers`, the labels passed in are
//! the *unshifted* input ids and the shift happens inside [`BertLMHeadModel::loss`].

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_encoder::config::BertConfig;
use burnish_encoder::model::{BertInput, BertModel};
use burnish_encoder::pretrained::HfModel;

use crate::masked_lm::{BertOnlyMLMHead, IGNORE_INDEX, gather_rows, lm_config, mlm_loss};

/// BERT as a causal language model (HF `BertLMHeadModel` with `is_decoder: true`).
///
/// The encoder has no pooler (`add_pooling_layer=False` in `transformers`).
#[derive(Module, Debug)]
pub struct BertLMHeadModel {
    /// The encoder, without pooler (HF prefix `bert.`), run with a causal mask. Its word
    /// embeddings are the decoder.
    pub bert: BertModel,
    /// HF `cls`.
    pub cls: BertOnlyMLMHead,
}

impl BertLMHeadModel {
    /// A fresh model (encoder without pooler and head initialised as `transformers` does).
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self::with_encoder(
            BertModel::new_with_pooler(config, false, device),
            config,
            device,
        )
    }

    /// A fresh head on an existing encoder (whose word embeddings become the decoder).
    pub fn with_encoder(bert: BertModel, config: &BertConfig, device: &Device) -> Self {
        Self {
            bert,
            cls: BertOnlyMLMHead::new(config, device),
        }
    }

    /// Next-token logits at every position, `[B, S, V]`, for a batch of `[B, S]` inputs: row
    /// `s` depends only on tokens `0..=s` and predicts token `s + 1`.
    pub fn forward(&self, input: BertInput) -> Tensor<3> {
        let hidden = self.bert.forward_causal(input).last_hidden_state;
        self.cls.predictions.forward(hidden, self.word_embeddings())
    }

    /// Next-token logits at `M` flattened positions `b * S + s` only, `[M, V]` (the rows are
    /// gathered before the transform and decoder; see [`NextTokenTargets`] for the positions
    /// that have a next token). Row `m` equals `forward(input)[b, s]`.
    ///
    /// # Panics
    /// If a position is outside `0..B * S` (backend-dependent), or `M == 0`.
    pub fn forward_at(&self, input: BertInput, positions: Tensor<1, Int>) -> Tensor<2> {
        let hidden = self.bert.forward_causal(input).last_hidden_state;
        self.cls
            .predictions
            .forward_rows(gather_rows(hidden, positions), self.word_embeddings())
    }

    /// `transformers`' causal-LM loss: mean cross-entropy of `logits[:, :-1]` (`[B, S, V]` from
    /// [`Self::forward`]) against `labels[:, 1:]` (`[B, S]`, unshifted, normally the input ids
    /// with `-100` at padding: [`Self::labels_from_input`]), skipping `-100`. Returns `[1]`; 0
    /// when nothing is predicted (`S < 2` or all ignored).
    ///
    /// # Panics
    /// If the shapes disagree or a label is outside `0..V` (other than `-100`).
    pub fn loss(&self, logits: Tensor<3>, labels: Tensor<2, Int>) -> Tensor<1> {
        next_token_loss(logits, labels)
    }

    /// The loss on [`Self::forward_at`]'s `[M, V]` logits against the `[M]` next tokens of
    /// [`NextTokenTargets`]; equal to [`Self::loss`] on the full logits. Returns `[1]`.
    ///
    /// # Panics
    /// If the shapes disagree or a label is outside `0..V` (other than `-100`).
    pub fn loss_at(&self, logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
        mlm_loss(logits, labels)
    }

    /// The labels `transformers`' language-modelling collator makes: the input ids, with `-100`
    /// where the attention mask is 0 (padding), `[B, S]`.
    pub fn labels_from_input(input: &BertInput) -> Tensor<2, Int> {
        let padding = input.attention_mask.clone().equal_elem(0);
        input.input_ids.clone().mask_fill(padding, IGNORE_INDEX)
    }

    /// The tied decoder matrix: the encoder's word embeddings, `[V, H]`.
    pub fn word_embeddings(&self) -> Tensor<2> {
        self.bert.embeddings.word_embeddings.weight.val()
    }
}

/// `transformers`' causal-LM loss (`ForCausalLMLoss`), shared by [`BertLMHeadModel`] and
/// [`crate::Gpt2LMHeadModel`]: mean cross-entropy of `logits[:, :-1]` (`[B, S, V]`) against
/// `labels[:, 1:]` (`[B, S]`, unshifted), skipping `-100`. Returns `[1]`; 0 when nothing is
/// predicted (`S < 2` or all ignored).
///
/// # Panics
/// If the shapes disagree or a label is outside `0..V` (other than `-100`).
pub fn next_token_loss(logits: Tensor<3>, labels: Tensor<2, Int>) -> Tensor<1> {
    let [batch, seq_len, vocab] = logits.dims();
    assert_eq!(
        labels.dims(),
        [batch, seq_len],
        "labels must be [B, S] like the logits' first two dimensions"
    );
    if seq_len < 2 {
        return Tensor::zeros([1], &logits.device());
    }
    let n = batch * (seq_len - 1);
    let shifted_logits = logits.narrow(1, 0, seq_len - 1).reshape([n, vocab]);
    let shifted_labels = labels.narrow(1, 1, seq_len - 1).reshape([n]);
    crate::loss::cross_entropy_ignoring(shifted_logits, shifted_labels, IGNORE_INDEX)
}

/// The positions that have a next token to predict, and those tokens: for the speed path
/// ([`BertLMHeadModel::forward_at`] + [`BertLMHeadModel::loss_at`]), which skips the last
/// position and padding instead of scoring them and ignoring the result.
#[derive(Debug, Clone)]
pub struct NextTokenTargets {
    /// `b * S + s` for every `s < S - 1` whose next position `s + 1` is not padding, `[M]`.
    pub positions: Tensor<1, Int>,
    /// `input_ids[b][s + 1]` there, `[M]`.
    pub labels: Tensor<1, Int>,
}

impl NextTokenTargets {
    /// Collects the targets from `[B, S]` id and attention-mask rows; `None` when no row has
    /// two real tokens.
    ///
    /// # Panics
    /// If the rows differ in length.
    pub fn from_rows(
        input_ids: &[Vec<u32>],
        attention_mask: &[Vec<u32>],
        device: &Device,
    ) -> Option<Self> {
        let seq_len = input_ids.first().map_or(0, Vec::len);
        assert!(
            input_ids.len() == attention_mask.len()
                && input_ids
                    .iter()
                    .zip(attention_mask)
                    .all(|(i, m)| i.len() == seq_len && m.len() == seq_len),
            "ids and attention mask must be [B, S] rows of one length"
        );
        let mut positions = Vec::new();
        let mut labels = Vec::new();
        for (b, (ids, mask)) in input_ids.iter().zip(attention_mask).enumerate() {
            for s in 0..seq_len.saturating_sub(1) {
                if mask[s + 1] != 0 {
                    positions.push((b * seq_len + s) as i64);
                    labels.push(i64::from(ids[s + 1]));
                }
            }
        }
        if positions.is_empty() {
            return None;
        }
        let m = positions.len();
        Some(Self {
            positions: Tensor::from_data(TensorData::new(positions, [m]), device),
            labels: Tensor::from_data(TensorData::new(labels, [m]), device),
        })
    }
}

/// `transformers`' `BertLMHeadModel` (`is_decoder: true` when saved).
impl HfModel for BertLMHeadModel {
    const CLASS: &'static str = "LMHeadModel";
    const ENCODER_PREFIX: &'static str = "bert.";
    const TIED_DECODER: bool = true;

    fn build(config: &BertConfig, device: &Device) -> Self {
        Self::new(config, device)
    }

    fn may_be_fresh(name: &str) -> bool {
        name.starts_with("cls.predictions.")
    }

    fn folder_config(&self, config: &BertConfig) -> BertConfig {
        lm_config(config, Self::CLASS, true)
    }
}
