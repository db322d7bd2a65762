//! The BERT encoder, one struct per Hugging Face module.
//!
//! Field names follow `transformers`' `modeling_bert.py` (`embeddings.word_embeddings`,
//! `encoder.layer.N.attention.self.query`, ...), so that the name map in [`crate::weights`]
//! only has to translate what Rust cannot spell (`self`) or what Burn names differently
//! (`LayerNorm`).
//!
//! Shapes use `B` = batch, `S` = sequence length, `H` = hidden size, `N` = attention heads,
//! `D` = head width (`H / N`), `I` = intermediate size.

use burn::module::{Module, Param};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
    Linear, LinearConfig,
};
use burn::tensor::activation;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use crate::config::{BertConfig, HiddenAct};
use crate::family::Positions;
use crate::fused;

/// A batch of tokenized inputs, as integer tensors on one device.
#[derive(Debug, Clone)]
pub struct BertInput {
    /// Word-piece ids, `[B, S]`.
    pub input_ids: Tensor<2, Int>,
    /// Segment ids (0 for the first text, 1 for the second), `[B, S]`.
    pub token_type_ids: Tensor<2, Int>,
    /// 1 for real tokens, 0 for padding, `[B, S]`.
    pub attention_mask: Tensor<2, Int>,
}

impl BertInput {
    /// Builds a batch from rows of equal length (already padded).
    ///
    /// # Panics
    /// If the rows are empty or of different lengths (a programming error: pad first).
    pub fn from_rows(
        input_ids: &[Vec<u32>],
        token_type_ids: &[Vec<u32>],
        attention_mask: &[Vec<u32>],
        device: &Device,
    ) -> Self {
        Self {
            input_ids: int_tensor(input_ids, device),
            token_type_ids: int_tensor(token_type_ids, device),
            attention_mask: int_tensor(attention_mask, device),
        }
    }

    /// `[B, S]`.
    pub fn dims(&self) -> [usize; 2] {
        self.input_ids.dims()
    }
}

/// Turns equal-length rows into a `[rows, len]` integer tensor.
///
/// # Panics
/// If there are no rows or they differ in length.
pub fn int_tensor(rows: &[Vec<u32>], device: &Device) -> Tensor<2, Int> {
    let len = rows.first().map(Vec::len).expect("at least one row");
    assert!(
        rows.iter().all(|r| r.len() == len),
        "rows must be padded to one length"
    );
    let flat: Vec<i64> = rows.iter().flatten().map(|&v| i64::from(v)).collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), len]), device)
}

/// The output of [`BertModel::forward`].
#[derive(Debug, Clone)]
pub struct BertModelOutput {
    /// The last layer's hidden states, `[B, S, H]`.
    pub last_hidden_state: Tensor<3>,
    /// `tanh(W h_[CLS] + b)`, `[B, H]`; `None` for a model built without a pooler.
    pub pooler_output: Option<Tensor<2>>,
}

pub(crate) fn normal(config: &BertConfig) -> Initializer {
    Initializer::Normal {
        mean: 0.0,
        std: config.initializer_range,
    }
}

/// A linear layer initialised as `transformers` does: weights ~ N(0, initializer_range),
/// zero bias.
pub(crate) fn linear(
    d_input: usize,
    d_output: usize,
    config: &BertConfig,
    device: &Device,
) -> Linear {
    let mut layer = LinearConfig::new(d_input, d_output)
        .with_initializer(normal(config))
        .init(device);
    layer.bias = Some(Param::from_tensor(Tensor::zeros([d_output], device)));
    layer
}

pub(crate) fn layer_norm(config: &BertConfig, device: &Device) -> LayerNorm {
    layer_norm_of(config.hidden_size, config, device)
}

/// A LayerNorm over `width` features with the config's epsilon.
pub(crate) fn layer_norm_of(width: usize, config: &BertConfig, device: &Device) -> LayerNorm {
    LayerNormConfig::new(width)
        .with_epsilon(config.layer_norm_eps)
        .init(device)
}

/// Word + position + token-type embeddings, then LayerNorm and dropout (HF `embeddings` of
/// BERT, RoBERTa, DistilBERT and ELECTRA), `E` = `embedding_size` wide (`H` but for ELECTRA).
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    /// `[vocab_size, E]`.
    pub word_embeddings: Embedding,
    /// `[max_position_embeddings, E]`.
    pub position_embeddings: Embedding,
    /// `[type_vocab_size, E]`; `None` for DistilBERT, which has no token types.
    pub token_type_embeddings: Option<Embedding>,
    /// HF `LayerNorm`.
    pub layer_norm: LayerNorm,
    /// Hidden dropout.
    pub dropout: Dropout,
    /// `layer_norm_eps` of the config (Burn's `LayerNorm` keeps its own private).
    #[module(skip)]
    pub layer_norm_eps: f64,
    /// RoBERTa's `padding_idx`: positions are counted from `padding_idx + 1` over the
    /// non-padding tokens, and padding tokens get `padding_idx`. `None`: positions `0..S`.
    #[module(skip)]
    pub position_padding_idx: Option<usize>,
    /// `pad_token_id`: the word-embedding row that, as `nn.Embedding(padding_idx=...)` in
    /// `transformers`, never receives a gradient (weight decay still shrinks it).
    #[module(skip)]
    pub word_padding_idx: usize,
}

impl BertEmbeddings {
    /// Fresh embeddings; the padding row of the word embeddings is zero, as in `transformers`.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let width = config.embedding_size();
        let embedding = |n| {
            EmbeddingConfig::new(n, width)
                .with_initializer(normal(config))
                .init(device)
        };
        let mut word_embeddings = embedding(config.vocab_size);
        let pad = config.pad_token_id;
        // A new parameter from the zeroed table, computed outside autodiff: on an autodiff
        // device `Param::map` would keep a tensor derived from the initialised one, which no
        // longer trains.
        let table = word_embeddings.weight.val().without_autodiff();
        let zero_row = Tensor::zeros([1, width], &table.device());
        let table = table.slice_assign([pad..pad + 1, 0..width], zero_row);
        word_embeddings.weight = Param::from_tensor(if device.is_autodiff() {
            table.autodiff()
        } else {
            table
        });
        Self {
            word_embeddings,
            position_embeddings: embedding(config.max_position_embeddings),
            token_type_embeddings: config
                .family
                .has_token_types
                .then(|| embedding(config.type_vocab_size)),
            layer_norm: layer_norm_of(width, config, device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            layer_norm_eps: config.layer_norm_eps,
            position_padding_idx: (config.family.positions == Positions::AfterPadding)
                .then_some(config.pad_token_id),
            word_padding_idx: config.pad_token_id,
        }
    }

    /// `[B, S]` ids and token types to `[B, S, H]` embeddings. Positions are `0..S`, or for
    /// RoBERTa [`roberta_position_ids`]; the token types are ignored by DistilBERT.
    ///
    /// # Panics
    /// If a position reaches `max_position_embeddings` (callers truncate to
    /// `BertConfig::max_sequence_length` or window first).
    pub fn forward(&self, input_ids: Tensor<2, Int>, token_type_ids: Tensor<2, Int>) -> Tensor<3> {
        let [_, seq_len] = input_ids.dims();
        let device = input_ids.device();
        let words = embed_without_padding_gradient(
            &self.word_embeddings,
            input_ids.clone(),
            self.word_padding_idx,
        );
        let positions = match self.position_padding_idx {
            // RoBERTa's position embeddings have `padding_idx` too.
            Some(padding_idx) => embed_without_padding_gradient(
                &self.position_embeddings,
                roberta_position_ids(input_ids, padding_idx),
                padding_idx,
            ),
            None => self
                .position_embeddings
                .forward(Tensor::<1, Int>::arange(0..seq_len as i64, &device).unsqueeze::<2>()),
        };
        let mut embeddings = words + positions;
        if let Some(token_types) = &self.token_type_embeddings {
            embeddings = embeddings + token_types.forward(token_type_ids);
        }
        fused::dropout(
            &self.dropout,
            fused::layer_norm(&self.layer_norm, self.layer_norm_eps, embeddings),
        )
    }
}

/// `embedding` of `[B, S]` ids as `[B, S, H]`, where rows looked up by `padding_idx` pass no
/// gradient back to the table, as PyTorch's `nn.Embedding(padding_idx=...)` (the forward
/// values are unchanged). Without autodiff it is the plain lookup.
fn embed_without_padding_gradient(
    embedding: &Embedding,
    ids: Tensor<2, Int>,
    padding_idx: usize,
) -> Tensor<3> {
    let out = embedding.forward(ids.clone());
    if !out.device().is_autodiff() || !embedding.weight.is_require_grad() {
        return out;
    }
    let padding = ids
        .equal_elem(padding_idx as i64)
        .unsqueeze_dim::<3>(2)
        .expand(out.shape());
    out.clone().mask_where(padding, out.detach())
}

/// RoBERTa's position ids (`transformers`' `create_position_ids_from_input_ids`):
/// `padding_idx + 1 + (number of non-padding tokens before and at i)` for each
/// non-padding token, `padding_idx` for padding. `[B, S]` to `[B, S]`.
pub fn roberta_position_ids(input_ids: Tensor<2, Int>, padding_idx: usize) -> Tensor<2, Int> {
    let not_pad = input_ids.not_equal_elem(padding_idx as i64).int();
    (not_pad.clone().cumsum(1) * not_pad).add_scalar(padding_idx as i64)
}

/// Multi-head scaled dot-product self-attention (HF `attention.self`).
#[derive(Module, Debug)]
pub struct BertSelfAttention {
    /// `H -> H`.
    pub query: Linear,
    /// `H -> H`.
    pub key: Linear,
    /// `H -> H`.
    pub value: Linear,
    /// Dropout on the attention probabilities.
    pub dropout: Dropout,
    /// Number of heads.
    #[module(skip)]
    pub num_heads: usize,
}

impl BertSelfAttention {
    /// Fresh attention weights.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            query: linear(h, h, config, device),
            key: linear(h, h, config, device),
            value: linear(h, h, config, device),
            dropout: DropoutConfig::new(config.attention_probs_dropout_prob).init(),
            num_heads: config.num_attention_heads,
        }
    }

    /// `[B, S, H]` hidden states and a `[B, N, S, S]` additive bias (0 = attend, a huge negative
    /// number = do not) to the `[B, S, H]` context.
    ///
    /// When attention dropout is active (training on an autodiff device) the probabilities are
    /// materialised so dropout can apply; otherwise the backend's fused attention runs.
    pub fn forward(&self, hidden: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        let q = fused::linear(&self.query, hidden.clone());
        let k = fused::linear(&self.key, hidden.clone());
        let v = fused::linear(&self.value, hidden);
        multi_head_attention(q, k, v, bias, self.num_heads, &self.dropout)
    }
}

/// Scaled dot-product attention over `heads` heads, shared by the encoder
/// ([`BertSelfAttention`]) and the decoder ([`crate::family::gpt2::model::Gpt2Attention`]).
///
/// `[B, S, H]` projected queries, keys and values and a `[B, N, S, S]` additive bias (0 =
/// attend, a huge negative number = do not) to the `[B, S, H]` context
/// `softmax(q k^T / sqrt(D) + bias) v`, heads concatenated.
///
/// When `dropout` is active (training on an autodiff device) the probabilities are
/// materialised so dropout can apply to them; otherwise the backend's fused attention runs.
pub fn multi_head_attention(
    q: Tensor<3>,
    k: Tensor<3>,
    v: Tensor<3>,
    bias: Tensor<4>,
    heads: usize,
    dropout: &Dropout,
) -> Tensor<3> {
    let [batch, seq_len, width] = q.dims();
    let split = |t: Tensor<3>| {
        t.reshape([batch, seq_len, heads, width / heads])
            .swap_dims(1, 2)
    };
    let (q, k, v) = (split(q), split(k), split(v));
    // The bias is built in the device's default float type; the weights may be in another
    // (a model cast to bf16). Casting to the same type returns the tensor as it is.
    let bias = bias.cast(q.dtype());
    let dropout_active =
        dropout.prob > 0.0 && dropout.training.val().is_enabled() && q.device().is_autodiff();
    let context = if dropout_active {
        let scale = 1.0 / ((width / heads) as f64).sqrt();
        let scores = q.matmul(k.swap_dims(2, 3)) * scale;
        let probs = fused::softmax_last(scores + bias);
        fused::dropout(dropout, probs).matmul(v)
    } else {
        // An additive bias rather than a bool mask: burn-tch 0.22.1 hands the bool mask to
        // PyTorch's SDPA, where `true` means "attend" (Burn's means "masked"), inverting
        // it; a float bias means the same everywhere.
        fused::attention(q, k, v, bias)
    };
    context.swap_dims(1, 2).reshape([batch, seq_len, width])
}

/// Projection after attention, dropout, residual and LayerNorm (HF `attention.output`).
#[derive(Module, Debug)]
pub struct BertSelfOutput {
    /// `H -> H`.
    pub dense: Linear,
    /// HF `LayerNorm`.
    pub layer_norm: LayerNorm,
    /// Hidden dropout.
    pub dropout: Dropout,
    /// `layer_norm_eps` of the config (Burn's `LayerNorm` keeps its own private).
    #[module(skip)]
    pub layer_norm_eps: f64,
}

impl BertSelfOutput {
    /// Fresh weights.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            dense: linear(config.hidden_size, config.hidden_size, config, device),
            layer_norm: layer_norm(config, device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            layer_norm_eps: config.layer_norm_eps,
        }
    }

    /// `LayerNorm(dropout(dense(hidden)) + residual)`, all `[B, S, H]`.
    pub fn forward(&self, hidden: Tensor<3>, residual: Tensor<3>) -> Tensor<3> {
        let hidden = fused::dropout(&self.dropout, fused::linear(&self.dense, hidden));
        fused::layer_norm(&self.layer_norm, self.layer_norm_eps, hidden + residual)
    }
}

/// Self-attention with its output block (HF `attention`).
#[derive(Module, Debug)]
pub struct BertAttention {
    /// HF `attention.self` (`self` is a Rust keyword).
    pub self_attn: BertSelfAttention,
    /// HF `attention.output`.
    pub output: BertSelfOutput,
}

impl BertAttention {
    /// Fresh weights.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            self_attn: BertSelfAttention::new(config, device),
            output: BertSelfOutput::new(config, device),
        }
    }

    /// `[B, S, H]` to `[B, S, H]`; `bias` as in [`BertSelfAttention::forward`].
    pub fn forward(&self, hidden: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        let context = self.self_attn.forward(hidden.clone(), bias);
        self.output.forward(context, hidden)
    }
}

/// The feed-forward expansion and its activation (HF `intermediate`).
#[derive(Module, Debug)]
pub struct BertIntermediate {
    /// `H -> I`.
    pub dense: Linear,
    /// `hidden_act`.
    #[module(skip)]
    pub act: HiddenAct,
}

impl BertIntermediate {
    /// Fresh weights.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            dense: linear(config.hidden_size, config.intermediate_size, config, device),
            act: config.hidden_act,
        }
    }

    /// `[B, S, H]` to `[B, S, I]`.
    pub fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        apply_activation(self.act, fused::linear(&self.dense, hidden))
    }
}

/// Applies one of `transformers`' activations element-wise.
pub fn apply_activation<const D: usize>(act: HiddenAct, x: Tensor<D>) -> Tensor<D> {
    match act {
        HiddenAct::Gelu => fused::gelu(x),
        HiddenAct::GeluNew => activation::gelu_approximate(x),
        HiddenAct::QuickGelu => x.clone() * activation::sigmoid(x * 1.702),
        HiddenAct::Relu => activation::relu(x),
        HiddenAct::Silu => activation::silu(x),
        HiddenAct::Tanh => activation::tanh(x),
        HiddenAct::Sigmoid => activation::sigmoid(x),
        HiddenAct::Mish => activation::mish(x),
    }
}

/// The feed-forward contraction, dropout, residual and LayerNorm (HF `output`).
#[derive(Module, Debug)]
pub struct BertOutput {
    /// `I -> H`.
    pub dense: Linear,
    /// HF `LayerNorm`.
    pub layer_norm: LayerNorm,
    /// Hidden dropout.
    pub dropout: Dropout,
    /// `layer_norm_eps` of the config (Burn's `LayerNorm` keeps its own private).
    #[module(skip)]
    pub layer_norm_eps: f64,
}

impl BertOutput {
    /// Fresh weights.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            dense: linear(config.intermediate_size, config.hidden_size, config, device),
            layer_norm: layer_norm(config, device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            layer_norm_eps: config.layer_norm_eps,
        }
    }

    /// `LayerNorm(dropout(dense(intermediate)) + residual)`: `[B, S, I]`, `[B, S, H]` to
    /// `[B, S, H]`.
    pub fn forward(&self, intermediate: Tensor<3>, residual: Tensor<3>) -> Tensor<3> {
        let hidden = fused::dropout(&self.dropout, fused::linear(&self.dense, intermediate));
        fused::layer_norm(&self.layer_norm, self.layer_norm_eps, hidden + residual)
    }
}

/// One post-LayerNorm transformer layer (HF `encoder.layer.N`).
#[derive(Module, Debug)]
pub struct BertLayer {
    /// Attention block.
    pub attention: BertAttention,
    /// Feed-forward expansion.
    pub intermediate: BertIntermediate,
    /// Feed-forward contraction.
    pub output: BertOutput,
}

impl BertLayer {
    /// Fresh weights.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            attention: BertAttention::new(config, device),
            intermediate: BertIntermediate::new(config, device),
            output: BertOutput::new(config, device),
        }
    }

    /// `[B, S, H]` to `[B, S, H]`.
    pub fn forward(&self, hidden: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        let attended = self.attention.forward(hidden, bias);
        let expanded = self.intermediate.forward(attended.clone());
        self.output.forward(expanded, attended)
    }
}

/// The stack of layers (HF `encoder`).
#[derive(Module, Debug)]
pub struct BertEncoder {
    /// HF `encoder.layer`.
    pub layer: Vec<BertLayer>,
}

impl BertEncoder {
    /// Fresh weights.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            layer: (0..config.num_hidden_layers)
                .map(|_| BertLayer::new(config, device))
                .collect(),
        }
    }

    /// `[B, S, H]` to `[B, S, H]`.
    pub fn forward(&self, mut hidden: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        for layer in &self.layer {
            hidden = layer.forward(hidden, bias.clone());
        }
        hidden
    }
}

/// `tanh(dense(h_[CLS]))` (HF `pooler`).
#[derive(Module, Debug)]
pub struct BertPooler {
    /// `H -> H`.
    pub dense: Linear,
}

impl BertPooler {
    /// Fresh weights.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            dense: linear(config.hidden_size, config.hidden_size, config, device),
        }
    }

    /// `[B, S, H]` to `[B, H]`, from the first token.
    pub fn forward(&self, hidden: Tensor<3>) -> Tensor<2> {
        let [batch, _, width] = hidden.dims();
        let first = hidden.narrow(1, 0, 1).reshape([batch, width]);
        activation::tanh(fused::linear(&self.dense, first))
    }
}

/// The BERT encoder (HF `BertModel`): embeddings, layers and an optional pooler. The same
/// module is HF's `RobertaModel` and `DistilBertModel` (see [`crate::family`]): their layers are
/// BERT's, under other names for DistilBERT ([`crate::weights::NameMap`]).
#[derive(Module, Debug)]
pub struct BertModel {
    /// Embeddings.
    pub embeddings: BertEmbeddings,
    /// `E -> H`, when the embeddings are narrower than the hidden states (ELECTRA's
    /// `embeddings_project`).
    pub embeddings_project: Option<Linear>,
    /// Transformer layers.
    pub encoder: BertEncoder,
    /// Pooler over `[CLS]`; absent in checkpoints saved with `add_pooling_layer=False`.
    pub pooler: Option<BertPooler>,
}

impl BertModel {
    /// A freshly initialised model (weights as `transformers`' `_init_weights`).
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self::new_with_pooler(config, true, device)
    }

    /// A freshly initialised model, with or without the pooler (never for DistilBERT, which
    /// has none).
    pub fn new_with_pooler(config: &BertConfig, add_pooler: bool, device: &Device) -> Self {
        let add_pooler = add_pooler && config.family.has_pooler;
        Self {
            embeddings: BertEmbeddings::new(config, device),
            embeddings_project: (config.embedding_size() != config.hidden_size)
                .then(|| linear(config.embedding_size(), config.hidden_size, config, device)),
            encoder: BertEncoder::new(config, device),
            pooler: add_pooler.then(|| BertPooler::new(config, device)),
        }
    }

    /// Runs the encoder.
    ///
    /// Shapes: `input.*` are `[B, S]`; the output holds `[B, S, H]` hidden states and a
    /// `[B, H]` pooled vector.
    ///
    /// # Panics
    /// If `S` exceeds `max_position_embeddings` or the three input tensors differ in shape.
    pub fn forward(&self, input: BertInput) -> BertModelOutput {
        let bias = attention_bias(input.attention_mask, self.encoder_heads());
        self.forward_with_bias(input.input_ids, input.token_type_ids, bias)
    }

    /// The last hidden state alone, `[B, S, H]` from `[B, S]` inputs (no pooler).
    ///
    /// # Panics
    /// As [`Self::forward`].
    pub fn encode(&self, input: BertInput) -> Tensor<3> {
        let bias = attention_bias(input.attention_mask, self.encoder_heads());
        self.encode_with_bias(input.input_ids, input.token_type_ids, bias)
    }

    /// Runs the encoder as a decoder, as `transformers` does for a config with
    /// `is_decoder: true` (`BertLMHeadModel`): position `i` attends to the positions `j <= i`
    /// that are not padding (see [`causal_attention_bias`]). Otherwise as [`Self::forward`].
    ///
    /// Shapes: `input.*` are `[B, S]`; the output holds `[B, S, H]` hidden states and, with a
    /// pooler, a `[B, H]` pooled vector.
    ///
    /// # Panics
    /// If `S` exceeds `max_position_embeddings` or the three input tensors differ in shape.
    pub fn forward_causal(&self, input: BertInput) -> BertModelOutput {
        let bias = causal_attention_bias(input.attention_mask, self.encoder_heads());
        self.forward_with_bias(input.input_ids, input.token_type_ids, bias)
    }

    /// Embeddings, layers and pooler with a ready `[B, N, S, S]` additive attention bias.
    fn forward_with_bias(
        &self,
        input_ids: Tensor<2, Int>,
        token_type_ids: Tensor<2, Int>,
        bias: Tensor<4>,
    ) -> BertModelOutput {
        let last_hidden_state = self.encode_with_bias(input_ids, token_type_ids, bias);
        let pooler_output = self
            .pooler
            .as_ref()
            .map(|p| p.forward(last_hidden_state.clone()));
        BertModelOutput {
            last_hidden_state,
            pooler_output,
        }
    }

    /// Embeddings and layers with a ready `[B, N, S, S]` additive attention bias: the
    /// `[B, S, H]` last hidden state.
    fn encode_with_bias(
        &self,
        input_ids: Tensor<2, Int>,
        token_type_ids: Tensor<2, Int>,
        bias: Tensor<4>,
    ) -> Tensor<3> {
        self.encoder
            .forward(self.embed(input_ids, token_type_ids), bias)
    }

    /// `[B, S]` ids and token types to the first layer's `[B, S, H]` input: the embeddings,
    /// projected to the hidden size where they are narrower.
    pub fn embed(&self, input_ids: Tensor<2, Int>, token_type_ids: Tensor<2, Int>) -> Tensor<3> {
        let embedded = self.embeddings.forward(input_ids, token_type_ids);
        match &self.embeddings_project {
            Some(project) => fused::linear(project, embedded),
            None => embedded,
        }
    }

    /// Attention heads per layer (1 for a model without layers).
    pub fn encoder_heads(&self) -> usize {
        self.encoder
            .layer
            .first()
            .map(|l| l.attention.self_attn.num_heads)
            .unwrap_or(1)
    }
}

/// HF's `attention_mask` (`[B, S]`, 1 = attend) to the `[B, N, S, S]` additive bias that
/// attention adds to its scores: 0 for real keys, `f32::MIN` for padded ones (as
/// `transformers` does), for every query.
pub fn attention_bias(attention_mask: Tensor<2, Int>, heads: usize) -> Tensor<4> {
    let [batch, seq_len] = attention_mask.dims();
    let masked: Tensor<2, Bool> = attention_mask.equal_elem(0);
    let bias = Tensor::<2>::zeros([batch, seq_len], &masked.device()).mask_fill(masked, f32::MIN);
    bias.unsqueeze_dims::<4>(&[1, 2])
        .expand([batch, heads, seq_len, seq_len])
}

/// The decoder's `[B, N, S, S]` additive bias from HF's `attention_mask` (`[B, S]`, 1 = attend):
/// query `i` may attend to key `j` only if `j <= i` and key `j` is not padding; 0 there,
/// `f32::MIN` elsewhere, as `transformers`' `create_extended_attention_mask_for_decoder` (then
/// `(1 - mask) * finfo.min`) gives.
pub fn causal_attention_bias(attention_mask: Tensor<2, Int>, heads: usize) -> Tensor<4> {
    let [batch, seq_len] = attention_mask.dims();
    let device = attention_mask.device();
    let padded: Tensor<4, Bool> = attention_mask
        .equal_elem(0)
        .unsqueeze_dims::<4>(&[1, 2])
        .expand([batch, 1, seq_len, seq_len]);
    // `tril_mask` is true strictly above the diagonal: the future keys `j > i`.
    let future: Tensor<4, Bool> = Tensor::<2, Bool>::tril_mask([seq_len, seq_len], 0, &device)
        .unsqueeze_dims::<4>(&[0, 1])
        .expand([batch, 1, seq_len, seq_len]);
    let masked = padded.bool_or(future);
    Tensor::<4>::zeros([batch, 1, seq_len, seq_len], &device)
        .mask_fill(masked, f32::MIN)
        .expand([batch, heads, seq_len, seq_len])
}

/// Mean of the hidden states over real tokens, L2-normalised: the sentence embedding of
/// sentence-transformers' mean pooling + `Normalize`.
///
/// `[B, S, H]` and a `[B, S]` mask to `[B, H]`.
pub fn mean_pool_normalized(hidden: Tensor<3>, attention_mask: Tensor<2, Int>) -> Tensor<2> {
    l2_normalize(mean_pool(hidden, attention_mask))
}

/// Mean of the hidden states over real tokens (sentence-transformers' `pooling_mode_mean_tokens`).
///
/// `[B, S, H]` and a `[B, S]` mask to `[B, H]`.
pub fn mean_pool(hidden: Tensor<3>, attention_mask: Tensor<2, Int>) -> Tensor<2> {
    let [batch, _, width] = hidden.dims();
    let mask = attention_mask
        .float()
        .unsqueeze_dim::<3>(2)
        .cast(hidden.dtype());
    let summed = (hidden * mask.clone()).sum_dim(1).reshape([batch, width]);
    let counts = mask.sum_dim(1).reshape([batch, 1]).clamp_min(1e-9);
    summed / counts
}

/// Each row divided by its L2 norm (at least 1e-12), as `torch.nn.functional.normalize`.
///
/// `[N, D]` to `[N, D]`.
pub fn l2_normalize(x: Tensor<2>) -> Tensor<2> {
    let norm = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .sqrt()
        .clamp_min(1e-12);
    x / norm
}
