//! AdamW as PyTorch's `torch.optim.AdamW` computes it, with what fine-tuning needs on top:
//! parameter groups by path (no weight decay on biases and LayerNorm, layer-wise learning-rate
//! decay, frozen prefixes), global-norm gradient clipping, and a state that can be saved and
//! restored exactly.
//!
//! The update for a parameter `p` with gradient `g` at step `t` (1-based):
//! `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
//! `p = p (1 - lr wd) - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)`.

use std::collections::BTreeMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};

/// Hyper-parameters of [`AdamW`].
#[derive(Debug, Clone, PartialEq)]
pub struct AdamWConfig {
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// Decoupled weight decay (not applied to biases and LayerNorm parameters).
    pub weight_decay: f64,
    /// Multiplier per layer of depth for layer-wise learning-rate decay (`1.0` = off): the
    /// top encoder layer gets `lr * decay`, the one below `lr * decay^2`, ..., the embeddings
    /// `lr * decay^(L+1)`; the task head keeps `lr`.
    pub layer_decay: f64,
    /// Number of encoder layers (for layer-wise decay).
    pub num_layers: usize,
    /// Parameters whose path starts with one of these are not updated.
    pub frozen_prefixes: Vec<String>,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            layer_decay: 1.0,
            num_layers: 0,
            frozen_prefixes: Vec::new(),
        }
    }
}

/// Whether a parameter (burnish path) is exempt from weight decay: biases and LayerNorm (Burn's
/// `gamma` / `beta`, GPT-2's `ln_1`, `ln_2`, `ln_f` included).
pub fn is_no_decay(path: &str) -> bool {
    path.ends_with(".bias")
        || path.ends_with(".beta")
        || path.ends_with(".gamma")
        || path.contains("layer_norm.")
        || path.contains("LayerNorm.")
}

/// The learning-rate multiplier of a parameter under layer-wise decay.
pub fn layer_lr_scale(path: &str, decay: f64, num_layers: usize) -> f64 {
    if decay == 1.0 {
        return 1.0;
    }
    // BERT's `encoder.layer.N.`, GPT-2's `transformer.h.N.`.
    let layer_rest = path
        .split("encoder.layer.")
        .nth(1)
        .or_else(|| path.split("transformer.h.").nth(1));
    let depth_below_top = if let Some(rest) = layer_rest {
        let index: usize = rest
            .split('.')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(num_layers.saturating_sub(1));
        num_layers.saturating_sub(index)
    } else if path.contains("embeddings.")
        || path.contains("transformer.wte.")
        || path.contains("transformer.wpe.")
    {
        num_layers + 1
    } else {
        0
    };
    decay.powi(depth_below_top as i32)
}

/// AdamW with per-path state (`m`, `v`, flattened) and a step counter.
#[derive(Debug, Clone)]
pub struct AdamW {
    /// Hyper-parameters.
    pub config: AdamWConfig,
    /// Number of updates done (the `t` of bias correction).
    pub step: u64,
    state: BTreeMap<String, (Tensor<1>, Tensor<1>)>,
}

impl AdamW {
    /// A fresh optimizer.
    pub fn new(config: AdamWConfig) -> Self {
        Self {
            config,
            step: 0,
            state: BTreeMap::new(),
        }
    }

    /// Applies one update to `module` with `grads` (already accumulated), learning rate `lr`,
    /// after scaling every gradient by `grad_scale` (a `[1]` tensor from
    /// [`clip_scale`], or `None`).
    pub fn step<M: Module>(
        &mut self,
        module: M,
        grads: GradientsParams,
        lr: f64,
        grad_scale: Option<Tensor<1>>,
    ) -> M {
        self.step += 1;
        let mut mapper = Updater {
            optim: self,
            grads,
            lr,
            grad_scale,
            path: Vec::new(),
        };
        module.map(&mut mapper)
    }

    /// The optimizer's moments, by parameter path (`<path>.exp_avg` / `<path>.exp_avg_sq`),
    /// for saving.
    pub fn state_tensors(&self) -> Vec<(String, TensorData)> {
        let mut out = Vec::with_capacity(self.state.len() * 2);
        for (path, (m, v)) in &self.state {
            out.push((format!("{path}.exp_avg"), m.to_data()));
            out.push((format!("{path}.exp_avg_sq"), v.to_data()));
        }
        out
    }

    /// Restores the moments saved by [`AdamW::state_tensors`] and the step counter.
    ///
    /// # Errors
    /// The name of a tensor without its partner.
    pub fn restore(
        &mut self,
        step: u64,
        tensors: BTreeMap<String, TensorData>,
        device: &Device,
    ) -> Result<(), String> {
        self.step = step;
        self.state.clear();
        for (name, m) in &tensors {
            let Some(path) = name.strip_suffix(".exp_avg") else {
                continue;
            };
            let v = tensors
                .get(&format!("{path}.exp_avg_sq"))
                .ok_or_else(|| format!("{path}.exp_avg_sq"))?;
            self.state.insert(
                path.to_string(),
                (
                    Tensor::from_data(m.clone(), device),
                    Tensor::from_data(v.clone(), device),
                ),
            );
        }
        Ok(())
    }
}

struct Updater<'a> {
    optim: &'a mut AdamW,
    grads: GradientsParams,
    lr: f64,
    grad_scale: Option<Tensor<1>>,
    path: Vec<String>,
}

impl ModuleMapper for Updater<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let path = self.path.join(".");
        let config = &self.optim.config;
        if config.frozen_prefixes.iter().any(|p| path.starts_with(p)) {
            return Param::from_mapped_value(id, tensor, mapper);
        }
        let require_grad = tensor.is_require_grad();
        let checkpointing = tensor.gradient_checkpointing_strategy();
        let shape = tensor.shape();
        let numel = shape.num_elements();
        let p = tensor.inner().reshape([numel]);
        let mut g = grad.reshape([numel]);
        if let Some(scale) = &self.grad_scale {
            g = g * scale.clone();
        }
        let (b1, b2) = (config.beta1, config.beta2);
        let (m, v) = match self.optim.state.remove(&path) {
            Some((m, v)) => (
                m * b1 + g.clone() * (1.0 - b1),
                v * b2 + g.powf_scalar(2.0) * (1.0 - b2),
            ),
            None => (g.clone() * (1.0 - b1), g.powf_scalar(2.0) * (1.0 - b2)),
        };
        let t = self.optim.step as i32;
        let lr = self.lr * layer_lr_scale(&path, config.layer_decay, config.num_layers);
        let bias1 = 1.0 - b1.powi(t);
        let bias2 = 1.0 - b2.powi(t);
        let decayed = if config.weight_decay > 0.0 && !is_no_decay(&path) {
            p * (1.0 - lr * config.weight_decay)
        } else {
            p
        };
        let denom = (v.clone() / bias2).sqrt() + config.eps;
        let updated = decayed - (m.clone() / denom) * (lr / bias1);
        self.optim.state.insert(path, (m, v));
        let mut tensor = Tensor::from_inner(updated.reshape(shape));
        // `from_inner` lifts with the default checkpointing strategy; the parameter must keep
        // its device's, or the next forward mixes two strategies and autodiff refuses.
        if let Some(strategy) = checkpointing {
            tensor = tensor.with_gradient_checkpointing_strategy(strategy);
        }
        if require_grad {
            tensor = tensor.require_grad();
        }
        Param::from_mapped_value(id, tensor, mapper)
    }
}

/// The global L2 norm of all gradients of `module`'s parameters, as a `[1]` tensor (no host
/// synchronisation).
pub fn global_grad_norm<M: Module>(module: &M, grads: &GradientsParams) -> Option<Tensor<1>> {
    struct Norm<'a> {
        grads: &'a GradientsParams,
        sum: Option<Tensor<1>>,
    }
    impl ModuleVisitor for Norm<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.get::<D>(param.id) {
                let sq = g.powf_scalar(2.0).sum();
                self.sum = Some(match self.sum.take() {
                    Some(s) => s + sq,
                    None => sq,
                });
            }
        }
    }
    let mut visitor = Norm { grads, sum: None };
    module.visit(&mut visitor);
    visitor.sum.map(|s| s.sqrt())
}

/// PyTorch's `clip_grad_norm_` factor: `min(1, max_norm / (norm + 1e-6))`, as a `[1]` tensor.
pub fn clip_scale(norm: Tensor<1>, max_norm: f64) -> Tensor<1> {
    (norm.add_scalar(1e-6).recip() * max_norm).clamp_max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decay_groups_follow_the_hf_recipe() {
        assert!(is_no_decay("bert.encoder.layer.0.output.layer_norm.gamma"));
        assert!(is_no_decay("classifier.bias"));
        assert!(!is_no_decay("bert.encoder.layer.0.output.dense.weight"));
        assert!(is_no_decay("transformer.h.0.ln_1.gamma"));
        assert!(!is_no_decay("transformer.h.0.attn.c_attn.weight"));
        assert!(!is_no_decay("bert.embeddings.word_embeddings.weight"));
    }

    #[test]
    fn layer_wise_decay_scales_by_depth() {
        let s = |p| layer_lr_scale(p, 0.5, 4);
        assert_eq!(s("classifier.weight"), 1.0);
        assert_eq!(s("bert.pooler.dense.weight"), 1.0);
        assert_eq!(s("bert.encoder.layer.3.output.dense.weight"), 0.5);
        assert_eq!(s("bert.encoder.layer.0.output.dense.weight"), 0.0625);
        assert_eq!(s("transformer.h.3.mlp.c_fc.weight"), 0.5);
        assert_eq!(s("transformer.wte.weight"), 0.5f64.powi(5));
        assert_eq!(s("bert.embeddings.word_embeddings.weight"), 0.03125);
        assert_eq!(layer_lr_scale("bert.embeddings.x", 1.0, 4), 1.0);
    }
}
