//! `BertForPreTraining`: BERT's original objective, masked language modelling plus next-sentence
//! prediction, as in `transformers`.
//!
//! The MLM part is [`crate::masked_lm`]'s head (decoder tied to the word embeddings; tied
//! checkpoint tensors handled as described there); the NSP part is a `H -> 2` linear layer on
//! the pooled `[CLS]` vector (HF `cls.seq_relationship`; class 0 = "B follows A", 1 = "B is
//! random").

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Int, Tensor};
use burnish_encoder::config::BertConfig;
use burnish_encoder::model::{BertInput, BertModel};
use burnish_encoder::pretrained::HfModel;

use crate::masked_lm::{
    BertLMPredictionHead, IGNORE_INDEX, gather_rows, lm_config, mlm_loss, mlm_loss_full,
};
use crate::{head_linear, loss};

/// The MLM and NSP heads (HF `BertPreTrainingHeads`, field `cls`).
#[derive(Module, Debug)]
pub struct BertPreTrainingHeads {
    /// HF `cls.predictions`: transform and decoder tied to the word embeddings.
    pub predictions: BertLMPredictionHead,
    /// HF `cls.seq_relationship`: `H -> 2` on the pooled output.
    pub seq_relationship: Linear,
}

impl BertPreTrainingHeads {
    /// Fresh weights as `transformers` initialises them.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            predictions: BertLMPredictionHead::new(config, device),
            seq_relationship: head_linear(config, 2, device),
        }
    }
}

/// The two losses of a pre-training batch, each `[1]`.
#[derive(Debug, Clone)]
pub struct PreTrainingLoss {
    /// `mlm + nsp` (`transformers`' `total_loss`): what to back-propagate.
    pub total: Tensor<1>,
    /// Masked-LM cross-entropy.
    pub mlm: Tensor<1>,
    /// Next-sentence cross-entropy.
    pub nsp: Tensor<1>,
}

/// BERT with the MLM and NSP heads (HF `BertForPreTraining`). Unlike [`crate::BertForMaskedLM`]
/// the encoder has its pooler, which NSP reads.
#[derive(Module, Debug)]
pub struct BertForPreTraining {
    /// The encoder, with pooler (HF prefix `bert.`). Its word embeddings are the MLM decoder.
    pub bert: BertModel,
    /// HF `cls`.
    pub cls: BertPreTrainingHeads,
}

impl BertForPreTraining {
    /// A fresh model (encoder with pooler and heads initialised as `transformers` does).
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self::with_encoder(BertModel::new(config, device), config, device)
    }

    /// Fresh heads on an existing encoder.
    ///
    /// # Panics
    /// In [`Self::forward`] and [`Self::forward_masked`], if `bert` has no pooler.
    pub fn with_encoder(bert: BertModel, config: &BertConfig, device: &Device) -> Self {
        Self {
            bert,
            cls: BertPreTrainingHeads::new(config, device),
        }
    }

    /// `(prediction_logits [B, S, V], seq_relationship_logits [B, 2])` for a batch of `[B, S]`
    /// inputs: vocabulary logits at every position (padding included) and the NSP logits.
    /// For training prefer [`Self::forward_masked`].
    pub fn forward(&self, input: BertInput) -> (Tensor<3>, Tensor<2>) {
        let (hidden, pooled) = self.encode(input);
        let mlm = self.cls.predictions.forward(hidden, self.word_embeddings());
        (mlm, self.cls.seq_relationship.forward(pooled))
    }

    /// `(mlm_logits [M, V], nsp_logits [B, 2])`: vocabulary logits at the `M` flattened
    /// positions `b * S + s` only (gathered before the transform and decoder, see
    /// [`crate::BertForMaskedLM::forward_masked`]) and the NSP logits.
    ///
    /// # Panics
    /// If a position is outside `0..B * S` (backend-dependent), or `M == 0`.
    pub fn forward_masked(
        &self,
        input: BertInput,
        positions: Tensor<1, Int>,
    ) -> (Tensor<2>, Tensor<2>) {
        let (hidden, pooled) = self.encode(input);
        let mlm = self
            .cls
            .predictions
            .forward_rows(gather_rows(hidden, positions), self.word_embeddings());
        (mlm, self.cls.seq_relationship.forward(pooled))
    }

    fn encode(&self, input: BertInput) -> (Tensor<3>, Tensor<2>) {
        let out = self.bert.forward(input);
        let pooled = out
            .pooler_output
            .expect("BertForPreTraining's encoder needs its pooler for NSP");
        (out.last_hidden_state, pooled)
    }

    /// `transformers`' `total_loss` on the masked-only path: the MLM cross-entropy of `[M, V]`
    /// logits against `[M]` token ids (`-100` skipped) plus the NSP cross-entropy of `[B, 2]`
    /// logits against `[B]` labels (0 = next, 1 = random). Returns `[1]`.
    ///
    /// # Panics
    /// If the shapes disagree or a label is out of range.
    pub fn loss(
        &self,
        mlm_logits: Tensor<2>,
        mlm_labels: Tensor<1, Int>,
        nsp_logits: Tensor<2>,
        nsp_labels: Tensor<1, Int>,
    ) -> Tensor<1> {
        self.loss_parts(mlm_logits, mlm_labels, nsp_logits, nsp_labels)
            .total
    }

    /// As [`Self::loss`], with the two terms kept apart for logging.
    ///
    /// # Panics
    /// As [`Self::loss`].
    pub fn loss_parts(
        &self,
        mlm_logits: Tensor<2>,
        mlm_labels: Tensor<1, Int>,
        nsp_logits: Tensor<2>,
        nsp_labels: Tensor<1, Int>,
    ) -> PreTrainingLoss {
        let mlm = mlm_loss(mlm_logits, mlm_labels);
        let nsp = nsp_loss(nsp_logits, nsp_labels);
        PreTrainingLoss {
            total: mlm.clone() + nsp.clone(),
            mlm,
            nsp,
        }
    }

    /// `transformers`' `total_loss` on the full logits: MLM cross-entropy of `[B, S, V]` logits
    /// against `[B, S]` labels (`-100` skipped) plus NSP cross-entropy of `[B, 2]` logits
    /// against `[B]` labels.
    ///
    /// # Panics
    /// If the shapes disagree or a label is out of range.
    pub fn loss_full(
        &self,
        mlm_logits: Tensor<3>,
        mlm_labels: Tensor<2, Int>,
        nsp_logits: Tensor<2>,
        nsp_labels: Tensor<1, Int>,
    ) -> PreTrainingLoss {
        let mlm = mlm_loss_full(mlm_logits, mlm_labels);
        let nsp = nsp_loss(nsp_logits, nsp_labels);
        PreTrainingLoss {
            total: mlm.clone() + nsp.clone(),
            mlm,
            nsp,
        }
    }

    /// The tied decoder matrix: the encoder's word embeddings, `[V, H]`.
    pub fn word_embeddings(&self) -> Tensor<2> {
        self.bert.embeddings.word_embeddings.weight.val()
    }
}

fn nsp_loss(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    assert_eq!(logits.dims()[1], 2, "NSP logits must be [B, 2]");
    assert_eq!(labels.dims()[0], logits.dims()[0], "NSP labels must be [B]");
    // `CrossEntropyLoss()` as in transformers (whose default also skips -100).
    loss::cross_entropy_ignoring(logits, labels, IGNORE_INDEX)
}

/// `transformers`' `BertForPreTraining`: any BERT checkpoint, its missing heads and pooler
/// fresh and reported.
impl HfModel for BertForPreTraining {
    const CLASS: &'static str = "ForPreTraining";
    const ENCODER_PREFIX: &'static str = "bert.";
    const TIED_DECODER: bool = true;

    fn build(config: &BertConfig, device: &Device) -> Self {
        Self::new(config, device)
    }

    fn may_be_fresh(name: &str) -> bool {
        name.starts_with("cls.") || name.starts_with("bert.pooler.")
    }

    fn folder_config(&self, config: &BertConfig) -> BertConfig {
        lm_config(config, Self::CLASS, false)
    }
}
