//! [`Backbone`]: what every family's base model offers the heads and the trainer (encode,
//! count its layers, freeze), so that neither asks which family it holds.

use burn::module::Module;
use burn::tensor::Tensor;

use crate::Gpt2Model;
use crate::model::{BertInput, BertModel};

/// A family's base model under a task head: BERT-style encoders ([`BertModel`]) and the GPT-2
/// decoder ([`Gpt2Model`]).
pub trait Backbone: Module + Sized {
    /// The last hidden states, `[B, S, H]`, of `[B, S]` inputs.
    fn encode(&self, input: BertInput) -> Tensor<3>;

    /// Number of transformer layers (what layer-wise learning-rate decay counts).
    fn num_layers(&self) -> usize;

    /// The backbone with gradient tracking on (`trainable`) or off (frozen).
    fn set_trainable(self, trainable: bool) -> Self {
        if trainable {
            self.unfreeze()
        } else {
            self.no_grad()
        }
    }
}

impl Backbone for BertModel {
    fn encode(&self, input: BertInput) -> Tensor<3> {
        BertModel::encode(self, input)
    }

    fn num_layers(&self) -> usize {
        self.encoder.layer.len()
    }
}

impl Backbone for Gpt2Model {
    fn encode(&self, input: BertInput) -> Tensor<3> {
        self.forward(input)
    }

    fn num_layers(&self) -> usize {
        Gpt2Model::num_layers(self)
    }
}
