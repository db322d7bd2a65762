//! Reduced precision: a loaded model's float parameters cast to bf16 or f16 for inference, and
//! a bf16 copy for one mixed-precision training step.
//!
//! Checkpoints load in `f32` (see [`crate::weights`]). [`cast_floats`] converts every float
//! parameter of a module. The forward passes follow the parameters' type: the attention bias
//! is cast to it ([`crate::model::multi_head_attention`]), and the fused operations take f32,
//! bf16 and f16. Training keeps the weights in f32, as AdamW's updates are far below bf16's
//! resolution for most weights: [`mixed_precision_copy`] makes the bf16 copy a step runs on,
//! whose gradients flow back to the f32 weights.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Device, FloatDType, Tensor};

use crate::error::{EncoderError, Result};

/// A floating-point type a model can run inference in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// 32-bit IEEE floats (what checkpoints load as; the default).
    F32,
    /// bfloat16: f32's range, 8 bits of mantissa.
    Bf16,
    /// IEEE half precision: 11 bits of mantissa, range up to 65504.
    F16,
}

impl Precision {
    /// Every precision, by name.
    pub const ALL: [Precision; 3] = [Precision::F32, Precision::Bf16, Precision::F16];

    /// The command-line name (`f32`, `bf16`, `f16`).
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
            Precision::F16 => "f16",
        }
    }

    /// The precision named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Burn's float type.
    pub fn dtype(self) -> FloatDType {
        match self {
            Precision::F32 => FloatDType::F32,
            Precision::Bf16 => FloatDType::BF16,
            Precision::F16 => FloatDType::F16,
        }
    }
}

/// `module` (on `device`) with every float parameter cast to `precision` (nothing changes for
/// [`Precision::F32`]). For inference: on an autodiff device the cast parameters would be
/// derived tensors, which do not train.
///
/// # Errors
/// [`EncoderError::UnsupportedPrecision`] when the device cannot compute in that type (WGPU's
/// WGSL shaders have no bf16, for one).
pub fn cast_floats<M: Module>(module: M, precision: Precision, device: &Device) -> Result<M> {
    if precision == Precision::F32 {
        return Ok(module);
    }
    if !device.supports_dtype(precision.dtype()) {
        let hint = [Precision::Bf16, Precision::F16]
            .into_iter()
            .find(|p| *p != precision && device.supports_dtype(p.dtype()))
            .map_or_else(String::new, |p| format!(" or {}", p.name()));
        return Err(EncoderError::UnsupportedPrecision {
            precision: precision.name(),
            device: format!("{device:?}"),
            hint,
        });
    }
    Ok(module.map(&mut Cast(precision.dtype())))
}

/// `module` (on an autodiff device) as a bf16 copy whose parameters are casts of its f32
/// ones, for one mixed-precision step: the forward and backward run in bf16, and the
/// gradients arrive, cast back to f32, at the f32 parameters, which the optimizer updates
/// (`GradientsParams::from_grads(grads, &module)` of the original). No device check: the
/// trainer checks once.
pub fn mixed_precision_copy<M: Module>(module: &M) -> M {
    module.clone().map(&mut Cast(FloatDType::BF16))
}

struct Cast(FloatDType);

impl ModuleMapper for Cast {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        // A parameter already of the type is returned as it is.
        Param::from_mapped_value(id, tensor.cast(self.0), mapper)
    }
}
