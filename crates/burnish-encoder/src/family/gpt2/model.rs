//! The GPT-2 decoder, one struct per Hugging Face module (`modeling_gpt2.py`).
//!
//! Field names are `transformers`' (`wte`, `wpe`, `h.N.ln_1`, `attn.c_attn`, `attn.c_proj`,
//! `ln_2`, `mlp.c_fc`, `mlp.c_proj`, `ln_f`), so checkpoints map one to one; the only
//! translation is the layout of the `Conv1D` weights, which `transformers` stores `[in, out]`
//! (transposed relative to `nn.Linear`), done by [`crate::weights::NameMap`] when loading and
//! saving. The attention math ([`multi_head_attention`]), the causal mask
//! ([`causal_attention_bias`]), LayerNorm, embeddings and activations are the encoder's.
//!
//! Shapes use `B` = batch, `S` = sequence length, `H` = hidden size (`n_embd`), `N` = heads,
//! `I` = inner size (`n_inner`), `V` = vocabulary.

use burn::module::{Module, Param};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, Linear,
    LinearConfig,
};
use burn::tensor::{Device, Int, Tensor};

use crate::config::{BertConfig, HiddenAct};
use crate::fused;
use crate::model::{
    BertInput, apply_activation, causal_attention_bias, layer_norm, linear, multi_head_attention,
    normal,
};

/// A linear layer for one of GPT-2's residual projections (`c_proj`), initialised as
/// `transformers` does: weights ~ N(0, initializer_range / sqrt(2 n_layer)), zero bias.
fn residual_projection(
    d_input: usize,
    d_output: usize,
    config: &BertConfig,
    device: &Device,
) -> Linear {
    let scale = 1.0 / ((2 * config.num_hidden_layers.max(1)) as f64).sqrt();
    // Initialised at the scaled deviation (scaling an initialised `Param` with `Param::map`
    // would leave a derived tensor that no longer trains).
    let mut layer = LinearConfig::new(d_input, d_output)
        .with_initializer(Initializer::Normal {
            mean: 0.0,
            std: config.initializer_range * scale,
        })
        .init(device);
    layer.bias = Some(Param::from_tensor(Tensor::zeros([d_output], device)));
    layer
}

/// Causal multi-head self-attention with fused query/key/value projection (HF `attn`,
/// `GPT2Attention`).
#[derive(Module, Debug)]
pub struct Gpt2Attention {
    /// `H -> 3H`: query, key and value side by side (HF `Conv1D`, stored `[H, 3H]`).
    pub c_attn: Linear,
    /// `H -> H` output projection (HF `Conv1D`).
    pub c_proj: Linear,
    /// Dropout on the attention probabilities (`attn_pdrop`).
    pub attn_dropout: Dropout,
    /// Dropout on the output (`resid_pdrop`).
    pub resid_dropout: Dropout,
    /// Number of heads.
    #[module(skip)]
    pub num_heads: usize,
}

impl Gpt2Attention {
    /// Fresh weights.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            c_attn: linear(h, 3 * h, config, device),
            c_proj: residual_projection(h, h, config, device),
            attn_dropout: DropoutConfig::new(config.attention_probs_dropout_prob).init(),
            resid_dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            num_heads: config.num_attention_heads,
        }
    }

    /// `[B, S, H]` (already normalised) hidden states and a `[B, N, S, S]` additive bias (see
    /// [`causal_attention_bias`]) to the `[B, S, H]` attention output.
    pub fn forward(&self, hidden: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        let width = hidden.dims()[2];
        let qkv = fused::linear(&self.c_attn, hidden);
        let q = qkv.clone().narrow(2, 0, width);
        let k = qkv.clone().narrow(2, width, width);
        let v = qkv.narrow(2, 2 * width, width);
        let context = multi_head_attention(q, k, v, bias, self.num_heads, &self.attn_dropout);
        self.resid_dropout
            .forward(fused::linear(&self.c_proj, context))
    }
}

/// The feed-forward block (HF `mlp`, `GPT2MLP`).
#[derive(Module, Debug)]
pub struct Gpt2Mlp {
    /// `H -> I` (HF `Conv1D`).
    pub c_fc: Linear,
    /// `I -> H` (HF `Conv1D`).
    pub c_proj: Linear,
    /// Output dropout (`resid_pdrop`).
    pub dropout: Dropout,
    /// `activation_function`.
    #[module(skip)]
    pub act: HiddenAct,
}

impl Gpt2Mlp {
    /// Fresh weights.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            c_fc: linear(config.hidden_size, config.intermediate_size, config, device),
            c_proj: residual_projection(
                config.intermediate_size,
                config.hidden_size,
                config,
                device,
            ),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            act: config.hidden_act,
        }
    }

    /// `dropout(c_proj(act(c_fc(x))))`, `[B, S, H]` to `[B, S, H]`.
    pub fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        let inner = apply_activation(self.act, fused::linear(&self.c_fc, hidden));
        fused::dropout(&self.dropout, fused::linear(&self.c_proj, inner))
    }
}

/// One pre-LayerNorm block (HF `h.N`, `GPT2Block`):
/// `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`.
#[derive(Module, Debug)]
pub struct Gpt2Block {
    /// LayerNorm before attention.
    pub ln_1: LayerNorm,
    /// Causal self-attention.
    pub attn: Gpt2Attention,
    /// LayerNorm before the feed-forward block.
    pub ln_2: LayerNorm,
    /// Feed-forward block.
    pub mlp: Gpt2Mlp,
    /// `layer_norm_eps` of the config (Burn's `LayerNorm` keeps its own private).
    #[module(skip)]
    pub layer_norm_eps: f64,
}

impl Gpt2Block {
    /// Fresh weights.
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            ln_1: layer_norm(config, device),
            attn: Gpt2Attention::new(config, device),
            ln_2: layer_norm(config, device),
            mlp: Gpt2Mlp::new(config, device),
            layer_norm_eps: config.layer_norm_eps,
        }
    }

    /// `[B, S, H]` to `[B, S, H]`; `bias` as in [`Gpt2Attention::forward`].
    pub fn forward(&self, hidden: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        let hidden = hidden.clone()
            + self.attn.forward(
                fused::layer_norm(&self.ln_1, self.layer_norm_eps, hidden),
                bias,
            );
        hidden.clone()
            + self
                .mlp
                .forward(fused::layer_norm(&self.ln_2, self.layer_norm_eps, hidden))
    }
}

/// The GPT-2 decoder (HF `GPT2Model`, `transformer` inside the head models): token and learned
/// position embeddings, pre-LayerNorm blocks with causal attention, and a final LayerNorm.
#[derive(Module, Debug)]
pub struct Gpt2Model {
    /// Token embeddings, `[V, H]`; also the LM head's output matrix (tied).
    pub wte: Embedding,
    /// Learned absolute position embeddings, `[n_positions, H]`.
    pub wpe: Embedding,
    /// Embedding dropout (`embd_pdrop`).
    pub drop: Dropout,
    /// The blocks.
    pub h: Vec<Gpt2Block>,
    /// The final LayerNorm.
    pub ln_f: LayerNorm,
    /// `layer_norm_eps` of the config (Burn's `LayerNorm` keeps its own private).
    #[module(skip)]
    pub layer_norm_eps: f64,
}

impl Gpt2Model {
    /// A freshly initialised decoder (weights as `transformers`' `GPT2PreTrainedModel`
    /// initialises them: normal(0, initializer_range), residual projections scaled by
    /// `1 / sqrt(2 n_layer)`, LayerNorms 1 and 0).
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let embedding = |n| {
            EmbeddingConfig::new(n, config.hidden_size)
                .with_initializer(normal(config))
                .init(device)
        };
        Self {
            wte: embedding(config.vocab_size),
            wpe: embedding(config.max_position_embeddings),
            drop: DropoutConfig::new(config.embedding_dropout_prob()).init(),
            h: (0..config.num_hidden_layers)
                .map(|_| Gpt2Block::new(config, device))
                .collect(),
            ln_f: layer_norm(config, device),
            layer_norm_eps: config.layer_norm_eps,
        }
    }

    /// The last hidden states (after `ln_f`), `[B, S, H]`, for `[B, S]` inputs: position `s`
    /// attends to the non-padding positions `<= s`; positions are `0..S` whatever the padding
    /// (as `transformers` without explicit `position_ids`). `token_type_ids` are ignored.
    ///
    /// # Panics
    /// If `S` exceeds `n_positions`.
    pub fn forward(&self, input: BertInput) -> Tensor<3> {
        let [_, seq_len] = input.dims();
        let device = input.input_ids.device();
        let heads = self.h.first().map_or(1, |b| b.attn.num_heads);
        let bias = causal_attention_bias(input.attention_mask, heads);
        let positions = Tensor::<1, Int>::arange(0..seq_len as i64, &device).unsqueeze::<2>();
        let embedded = self.wte.forward(input.input_ids) + self.wpe.forward(positions);
        let mut hidden = self.drop.forward(embedded);
        for block in &self.h {
            hidden = block.forward(hidden, bias.clone());
        }
        fused::layer_norm(&self.ln_f, self.layer_norm_eps, hidden)
    }

    /// The token embedding matrix, `[V, H]` (the tied LM head).
    pub fn word_embeddings(&self) -> Tensor<2> {
        self.wte.weight.val()
    }

    /// Number of blocks.
    pub fn num_layers(&self) -> usize {
        self.h.len()
    }
}
