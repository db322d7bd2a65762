//! `BertForQuestionAnswering`: extractive (SQuAD-style) question answering, a start and an end
//! logit per token, as in `transformers`.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Int, Tensor};
use burnish_encoder::config::BertConfig;
use burnish_encoder::model::{BertInput, BertModel};
use burnish_encoder::pretrained::HfModel;

use crate::token_classification::ensure_label_maps;
use crate::{head_linear, loss};

/// BERT with a `H -> 2` linear layer on every token's hidden state giving the answer span's
/// start and end logits (HF `BertForQuestionAnswering`; no dropout before the layer, as there).
///
/// The encoder has no pooler (`add_pooling_layer=False` in `transformers`): a checkpoint that
/// has one loads with the pooler tensors listed in the report's `unused`.
#[derive(Module, Debug)]
pub struct BertForQuestionAnswering {
    /// The encoder, without pooler (HF prefix `bert.`).
    pub bert: BertModel,
    /// `H -> 2`: start and end logits (HF `qa_outputs`).
    pub qa_outputs: Linear,
}

impl BertForQuestionAnswering {
    /// A fresh model (encoder without pooler and head initialised as `transformers` does).
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self::with_encoder(
            BertModel::new_with_pooler(config, false, device),
            config,
            device,
        )
    }

    /// A new head on an existing encoder. An encoder with a pooler keeps it, unused by
    /// [`Self::forward`] and saved with the model (`transformers` then reports it as unexpected
    /// weights); build it with `BertModel::new_with_pooler(config, false, ..)` to match
    /// `transformers`' layout.
    pub fn with_encoder(bert: BertModel, config: &BertConfig, device: &Device) -> Self {
        Self {
            bert,
            qa_outputs: head_linear(config, 2, device),
        }
    }

    /// `(start_logits, end_logits)`, each `[B, S]`, for a batch of `[B, S]` inputs (padded
    /// positions included: mask them out before picking a span).
    pub fn forward(&self, input: BertInput) -> (Tensor<2>, Tensor<2>) {
        self.forward_hidden(self.bert.encode(input))
    }

    /// The head alone: `[B, S]` start and end logits from the `[B, S, H]` last hidden state.
    pub fn forward_hidden(&self, last_hidden_state: Tensor<3>) -> (Tensor<2>, Tensor<2>) {
        let [batch, seq_len, _] = last_hidden_state.dims();
        let logits = burnish_encoder::fused::linear(&self.qa_outputs, last_hidden_state);
        let start = logits.clone().narrow(2, 0, 1).reshape([batch, seq_len]);
        let end = logits.narrow(2, 1, 1).reshape([batch, seq_len]);
        (start, end)
    }

    /// `(CE(start) + CE(end)) / 2` as `transformers` computes it: `[B, S]` start and end
    /// logits, `[B]` gold start and end token positions. Positions are clamped to `[0, S]` and
    /// those equal to `S` (so also any past the sequence, e.g. an answer truncated away) are
    /// ignored; each cross-entropy is the mean over its non-ignored examples. Returns `[1]`;
    /// a side whose positions are all ignored contributes 0 (where PyTorch gives NaN).
    ///
    /// # Panics
    /// If the logits' shapes differ or the positions are not `[B]`.
    pub fn loss(
        &self,
        start_logits: Tensor<2>,
        end_logits: Tensor<2>,
        start_positions: Tensor<1, Int>,
        end_positions: Tensor<1, Int>,
    ) -> Tensor<1> {
        let [batch, seq_len] = start_logits.dims();
        assert_eq!(
            end_logits.dims(),
            [batch, seq_len],
            "start and end logits differ"
        );
        assert_eq!(
            start_positions.dims(),
            [batch],
            "start_positions must be [B]"
        );
        assert_eq!(end_positions.dims(), [batch], "end_positions must be [B]");
        let ignored = seq_len as i64;
        let span_loss = |logits: Tensor<2>, positions: Tensor<1, Int>| {
            loss::cross_entropy_ignoring(logits, positions.clamp(0, ignored), ignored)
        };
        (span_loss(start_logits, start_positions) + span_loss(end_logits, end_positions))
            .div_scalar(2.0)
    }
}

/// `transformers`' `BertForQuestionAnswering` (and RoBERTa's, DistilBERT's): `qa_outputs` fresh
/// and reported when the checkpoint has none; saved with two labels' `id2label`.
impl HfModel for BertForQuestionAnswering {
    const CLASS: &'static str = "ForQuestionAnswering";
    const ENCODER_PREFIX: &'static str = "bert.";

    fn build(config: &BertConfig, device: &Device) -> Self {
        Self::new(config, device)
    }

    fn may_be_fresh(name: &str) -> bool {
        name.starts_with("qa_outputs.")
    }

    fn folder_config(&self, config: &BertConfig) -> BertConfig {
        let mut config = config.clone();
        config.set_architecture(Self::CLASS);
        ensure_label_maps(&mut config, 2);
        config
    }
}
