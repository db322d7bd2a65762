//! Layer-wise gradient checkpointing for encoder models: keep one `[B, S, H]` tensor per
//! layer instead of every activation, and recompute each layer in the backward pass.
//!
//! Burn 0.22's own checkpointing (`Device::gradient_checkpointing`, the balanced strategy)
//! recomputes only element-wise operations and keeps every matrix product's and fused
//! operation's output; measured on burnish's encoder it saves no memory (docs/benchmarks.md).
//! What long sequences need is what `transformers`' `gradient_checkpointing_enable()` does:
//! recompute whole layers. [`checkpointed_grads`] does it with Burn's public autodiff API, in
//! passes:
//! 1. embeddings and layers run forward on an untracked copy of the encoder (no graph is
//!    recorded), keeping each layer's input;
//! 2. the head and the loss run with autodiff from the last hidden state, made a leaf: one
//!    backward gives the head's gradients and the gradient of that hidden state;
//! 3. from the last layer to the first, the layer runs again with autodiff from its kept input
//!    (a leaf) and `sum(output * upstream gradient)` is differentiated: the layer's parameter
//!    gradients and its input's gradient, the next layer's upstream gradient;
//! 4. the embeddings the same way.
//!
//! Dropout draws the same masks in the first pass and the recomputation: the backend's RNG is
//! re-seeded from `(seed, layer)` before every layer in both. The gradients are the plain
//! backward pass's up to float rounding (with dropout on, the masks are other draws from the
//! same distribution: the RNG is seeded per layer rather than once per batch).

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::{Device, Tensor};
use burnish_encoder::model::{BertInput, BertModel, attention_bias};
use burnish_encoder::precision::mixed_precision_copy;

use burnish_heads::WithBackbone;

use crate::seed::mix_seed;

/// What one checkpointed backward pass needs besides the model and the batch.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointedStep<'a> {
    /// Where the model lives (an autodiff device).
    pub device: &'a Device,
    /// Seeds dropout, per stage ([`stage_seed`]).
    pub seed: u64,
    /// The loss's weight in the gradients (a micro-batch's share of the batch).
    pub weight: f64,
    /// Compute on a bf16 copy whose gradients reach the f32 parameters.
    pub bf16: bool,
}

/// The RNG seed of one stage of [`checkpointed_grads`]: 0 the embeddings, `l + 1` layer `l`,
/// `layers + 1` the head. The first pass and the recomputation both seed it, so dropout draws
/// the same masks in both.
pub fn stage_seed(seed: u64, stage: usize) -> u64 {
    mix_seed(seed, stage as u64, 0x0C4E_C4B0)
}

/// The gradients of `step.weight * loss` for every parameter of `model`, a head over a BERT-style
/// encoder whose loss is `head_loss(model, last hidden state)`, with the layers recomputed in
/// the backward pass (see the module docs). With `step.bf16` both run on
/// `model`'s bf16 copy ([`mixed_precision_copy`]), whose gradients reach `model`'s f32
/// parameters. Returns the (unweighted) loss and the gradients, or no gradients when the loss
/// is not finite.
///
/// Shapes: `input.*` are `[B, S]`; `head_loss` gets the `[B, S, H]` last hidden state and
/// returns a `[1]` loss.
pub fn checkpointed_grads<M: Module + WithBackbone<Backbone = BertModel>>(
    model: &M,
    step: CheckpointedStep<'_>,
    input: BertInput,
    head_loss: impl FnOnce(&M, Tensor<3>) -> Tensor<1>,
) -> (f64, Option<GradientsParams>) {
    let CheckpointedStep {
        device,
        seed,
        weight,
        bf16,
    } = step;
    let copy;
    let run = if bf16 {
        copy = mixed_precision_copy(model);
        &copy
    } else {
        model
    };
    let bert = run.backbone();
    let layers = bert.encoder.layer.len();
    let seed_for = |stage: usize| device.seed(stage_seed(seed, stage));
    let bias = attention_bias(input.attention_mask, bert.encoder_heads());

    // 1. Forward without a graph, keeping every layer's input.
    let untracked = bert.clone().no_grad();
    seed_for(0);
    let mut hidden = untracked
        .embed(input.input_ids.clone(), input.token_type_ids.clone())
        .detach();
    let mut inputs = Vec::with_capacity(layers);
    for (l, layer) in untracked.encoder.layer.iter().enumerate() {
        inputs.push(hidden.clone());
        seed_for(l + 1);
        hidden = layer.forward(hidden, bias.clone()).detach();
    }

    // 2. The head and the loss, from the last hidden state as a leaf.
    let last = hidden.require_grad();
    seed_for(layers + 1);
    let loss = head_loss(run, last.clone());
    let value = loss.clone().into_scalar::<f64>();
    if !value.is_finite() {
        return (value, None);
    }
    let scaled = if weight == 1.0 { loss } else { loss * weight };
    let grads = scaled.backward();
    let mut upstream = last.grad(&grads);
    let mut accumulator = GradientsAccumulator::<M>::new();
    accumulator.accumulate(model, GradientsParams::from_grads(grads, model));

    // 3. Each layer again, last first, with autodiff.
    for (l, layer) in bert.encoder.layer.iter().enumerate().rev() {
        let Some(g) = upstream.take() else {
            break;
        };
        let x = inputs[l].clone().require_grad();
        seed_for(l + 1);
        let y = layer.forward(x.clone(), bias.clone());
        let grads = (y * g.autodiff()).sum().backward();
        upstream = x.grad(&grads);
        accumulator.accumulate(model, GradientsParams::from_grads(grads, model));
    }

    // 4. The embeddings.
    if let Some(g) = upstream {
        seed_for(0);
        let y = bert.embed(input.input_ids, input.token_type_ids);
        if y.is_tracked() {
            let grads = (y * g.autodiff()).sum().backward();
            accumulator.accumulate(model, GradientsParams::from_grads(grads, model));
        }
    }
    (value, Some(accumulator.grads()))
}
