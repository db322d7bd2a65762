//! Task heads on burnish's BERT encoder: fine-tuning heads (sequence and token
//! classification, question answering) and pre-training heads (masked LM, MLM + NSP, causal LM,
//! all with the decoder tied to the word embeddings); and on the GPT-2 decoder ([`gpt2`]):
//! causal LM and sequence classification.
//!
//! Each head is a `#[derive(Module)]` struct whose field names are `transformers`' (`bert`,
//! `classifier`, ...), so Hugging Face `BertFor*` checkpoints load into it and what burnish
//! saves loads back in `transformers`. Each has a typed `forward` (documented shapes) and its
//! loss.
#![warn(missing_docs)]

pub mod causal_lm;
pub mod classification;
pub mod gpt2;
pub mod loss;
pub mod masked_lm;
pub mod pretraining;
pub mod question_answering;
pub mod rerank;
pub mod sentence;
pub mod token_classification;

pub use burnish_encoder::{Backbone, EncoderError, HfModel, Result};

use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use burnish_encoder::{BertConfig, BertModel, Gpt2Model};

/// A task head over a family's base model ([`Backbone`]): what the trainer freezes in the first
/// stage of the two-step recipe and decays layer by layer, without asking which family it is.
pub trait WithBackbone: Sized {
    /// The base model.
    type Backbone: Backbone;
    /// The Burn path of the backbone's parameters (`"bert."`, `"transformer."`).
    const BACKBONE_PATH: &'static str;
    /// The base model.
    fn backbone(&self) -> &Self::Backbone;
    /// The head with its base model replaced by `f` of it.
    fn map_backbone(self, f: impl FnOnce(Self::Backbone) -> Self::Backbone) -> Self;
    /// Number of the backbone's layers (for layer-wise learning-rate decay).
    fn encoder_layers(&self) -> usize {
        self.backbone().num_layers()
    }
    /// Turns gradient tracking of the backbone off (frozen) or on.
    fn set_encoder_trainable(self, trainable: bool) -> Self {
        self.map_backbone(|backbone| backbone.set_trainable(trainable))
    }
}

/// `WithBackbone` for heads whose base model is the field `$field`.
macro_rules! with_backbone {
    ($field:ident: $backbone:ty => $($head:ty),+) => {$(
        impl WithBackbone for $head {
            type Backbone = $backbone;
            const BACKBONE_PATH: &'static str = concat!(stringify!($field), ".");
            fn backbone(&self) -> &$backbone {
                &self.$field
            }
            fn map_backbone(mut self, f: impl FnOnce($backbone) -> $backbone) -> Self {
                self.$field = f(self.$field);
                self
            }
        }
    )+};
}

with_backbone!(bert: BertModel =>
    BertForSequenceClassification, BertForTokenClassification, BertForQuestionAnswering,
    BertForMaskedLM, BertForPreTraining, BertLMHeadModel, SentenceEncoder);
with_backbone!(transformer: Gpt2Model => Gpt2ForSequenceClassification, Gpt2LMHeadModel);

/// A head's `H -> d_output` linear layer, initialised as `transformers` does: weights
/// ~ N(0, initializer_range), zero bias.
pub(crate) fn head_linear(config: &BertConfig, d_output: usize, device: &Device) -> Linear {
    let mut layer = LinearConfig::new(config.hidden_size, d_output)
        .with_initializer(Initializer::Normal {
            mean: 0.0,
            std: config.initializer_range,
        })
        .init(device);
    layer.bias = Some(burn::module::Param::from_tensor(Tensor::zeros(
        [d_output],
        device,
    )));
    layer
}
pub use causal_lm::{BertLMHeadModel, NextTokenTargets, next_token_loss};
pub use classification::{
    BertForSequenceClassification, ClassificationTargets, ProblemType, SequenceClassifier,
};
pub use gpt2::{Gpt2ForSequenceClassification, Gpt2LMHeadModel};
pub use loss::ClassLoss;
pub use masked_lm::{BertForMaskedLM, MaskedTargets};
pub use pretraining::{BertForPreTraining, PreTrainingLoss};
pub use question_answering::BertForQuestionAnswering;
pub use rerank::CrossEncoder;
pub use sentence::{Pooling, SentenceConfig, SentenceEncoder};
pub use token_classification::BertForTokenClassification;
