//! [`HiddenAct`]: the activations `config.json` names (`hidden_act`), shared by the config and
//! the families (a family may fix its head's activation whatever `hidden_act` says).

use serde::{Deserialize, Serialize};

/// The activation between the two feed-forward projections (`hidden_act` in `config.json`).
///
/// Names and formulas follow `transformers.activations.ACT2FN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HiddenAct {
    /// `gelu` (and `gelu_python`): the exact, erf-based GELU.
    #[serde(rename = "gelu", alias = "gelu_python")]
    Gelu,
    /// `gelu_new` (and `gelu_pytorch_tanh`, `gelu_fast`): the tanh approximation.
    #[serde(rename = "gelu_new", alias = "gelu_pytorch_tanh", alias = "gelu_fast")]
    GeluNew,
    /// `quick_gelu`: `x * sigmoid(1.702 x)`.
    #[serde(rename = "quick_gelu")]
    QuickGelu,
    /// `relu`.
    #[serde(rename = "relu")]
    Relu,
    /// `silu` (and `swish`): `x * sigmoid(x)`.
    #[serde(rename = "silu", alias = "swish")]
    Silu,
    /// `tanh`.
    #[serde(rename = "tanh")]
    Tanh,
    /// `sigmoid`.
    #[serde(rename = "sigmoid")]
    Sigmoid,
    /// `mish`: `x * tanh(softplus(x))`.
    #[serde(rename = "mish")]
    Mish,
}

impl HiddenAct {
    /// The `hidden_act` names this crate accepts.
    pub const SUPPORTED: &'static str = "gelu, gelu_python, gelu_new, gelu_pytorch_tanh, \
        gelu_fast, quick_gelu, relu, silu, swish, tanh, sigmoid, mish";
}
