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
pub mod token_classification;

pub use burnish_encoder::{EncoderError, HfModel, Result};

use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use burnish_encoder::BertConfig;

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
pub use masked_lm::{BertForMaskedLM, MaskedTargets};
pub use pretraining::{BertForPreTraining, PreTrainingLoss};
pub use question_answering::BertForQuestionAnswering;
pub use token_classification::BertForTokenClassification;
