//! ONNX export of burnish's encoders and task heads.
//!
//! [`export`] writes the graph `transformers`' modeling code computes (the BERT layer of
//! `modeling_bert.py`, with each family's differences taken from its [`Family`](burnish_encoder::family::Family) data: RoBERTa's
//! position ids, DistilBERT's missing token types, ELECTRA's `embeddings_project`, the
//! classifier heads) as ONNX opset 17 operators, weights as initializers. Inputs are int64
//! `[batch_size, sequence_length]` `input_ids`, `attention_mask` and, where the family has
//! token types, `token_type_ids`; outputs are named as `transformers`' (optimum's) ONNX exports
//! name them, the task's first: `logits`; `start_logits`, `end_logits`; `last_hidden_state`;
//! an embedding model's `sentence_embedding` (mean pooling, normalised when asked).
//!
//! With [`Options::int8`], every linear layer is quantised as ONNX Runtime's
//! `quantize_dynamic(per_channel=True)` does: int8 weights (symmetric, a scale per output
//! column), activations quantised at run time (`DynamicQuantizeLinear` + `MatMulInteger`);
//! embeddings and LayerNorms stay float.
//!
//! The weights come in as plain arrays by BERT's `transformers` names (burnish's parameter
//! paths; the encoder's without a `bert.` prefix), so this crate needs no Burn backend.

pub mod proto;

use std::collections::BTreeMap;

use burnish_encoder::family::{ClassifierHead, Positions};
use burnish_encoder::{BertConfig, HiddenAct};
use prost::Message;

use proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TensorTypeProto, TypeProto,
    ValueInfoProto, attribute_type, data_type,
};

/// Errors of the export.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// A weight the graph needs is not among the model's.
    #[error("the model has no tensor `{name}`, which the ONNX graph of a {head} needs")]
    MissingTensor {
        /// The tensor's name.
        name: String,
        /// The head being exported.
        head: String,
    },
    /// A weight has another shape than the configuration implies.
    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    Shape {
        /// The tensor's name.
        name: String,
        /// Its shape.
        found: Vec<usize>,
        /// The shape the graph needs.
        expected: Vec<usize>,
    },
    /// The model cannot be written as this graph.
    #[error("cannot export to ONNX: {0}")]
    Unsupported(String),
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, OnnxError>;

/// What the exported graph computes on top of the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// The encoder alone: `last_hidden_state`.
    Encoder,
    /// Sentence embeddings: `sentence_embedding` (masked mean of the last hidden states,
    /// L2-normalised when `normalize`), then `last_hidden_state`.
    Embedding {
        /// Whether the embedding is L2-normalised (sentence-transformers' `Normalize`).
        normalize: bool,
    },
    /// `logits` `[batch, num_labels]` through the family's classifier head.
    SequenceClassification(ClassifierHead),
    /// `logits` `[batch, seq, num_labels]`.
    TokenClassification,
    /// `start_logits` and `end_logits` `[batch, seq]`.
    QuestionAnswering,
}

impl Head {
    fn name(self) -> &'static str {
        match self {
            Head::Encoder => "encoder",
            Head::Embedding { .. } => "sentence embedding model",
            Head::SequenceClassification(_) => "sequence classifier",
            Head::TokenClassification => "token classifier",
            Head::QuestionAnswering => "question answering model",
        }
    }
}

/// Export options.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The ONNX opset (17 or later: `LayerNormalization`).
    pub opset: i64,
    /// Quantise the linear layers to int8 (dynamic quantisation).
    pub int8: bool,
    /// Free-form `metadata_props` (the source folder, say).
    pub metadata: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            opset: 17,
            int8: false,
            metadata: Vec::new(),
        }
    }
}

/// A float tensor: shape and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct Weight {
    /// The shape (`[out, in]` for a linear layer's weight, as PyTorch stores it).
    pub shape: Vec<usize>,
    /// The values.
    pub values: Vec<f32>,
}

/// The ONNX model (serialised `ModelProto`) of `head` over the encoder of `config`, with the
/// weights `weights` (by name, see the crate docs).
///
/// # Errors
/// [`OnnxError::MissingTensor`] / [`OnnxError::Shape`] for weights that do not fit the
/// configuration; [`OnnxError::Unsupported`] for an opset below 17, a decoder family or an
/// activation ONNX's operators do not express here.
pub fn export(
    config: &BertConfig,
    head: Head,
    weights: &BTreeMap<String, Weight>,
    options: &Options,
) -> Result<Vec<u8>> {
    if options.opset < 17 {
        return Err(OnnxError::Unsupported(format!(
            "opset {} (LayerNormalization needs 17 or later)",
            options.opset
        )));
    }
    if config.family.is_decoder {
        return Err(OnnxError::Unsupported(format!(
            "{} is a decoder; burnish exports encoders",
            config.family.name
        )));
    }
    let mut g = Builder {
        nodes: Vec::new(),
        initializers: Vec::new(),
        weights,
        head: head.name(),
        int8: options.int8,
        next: 0,
    };
    let token_types = config.family.has_token_types;
    let mut inputs = vec!["input_ids", "attention_mask"];
    if token_types {
        inputs.push("token_type_ids");
    }

    let hidden = encoder(&mut g, config)?;
    let outputs: Vec<(String, Vec<&str>)> = match head {
        Head::Encoder => vec![(
            hidden.clone(),
            vec!["batch_size", "sequence_length", "hidden"],
        )],
        Head::Embedding { normalize } => {
            let pooled = mean_pool(&mut g, &hidden);
            let pooled = if normalize {
                l2_normalize(&mut g, &pooled)
            } else {
                pooled
            };
            vec![
                (pooled, vec!["batch_size", "hidden"]),
                (
                    hidden.clone(),
                    vec!["batch_size", "sequence_length", "hidden"],
                ),
            ]
        }
        Head::SequenceClassification(kind) => {
            let first = g.gather_index(&hidden, 0, 1);
            let pre = match kind {
                ClassifierHead::Pooler => {
                    let x = g.linear(&first, "pooler.dense")?;
                    g.op("Tanh", &[&x], vec![])
                }
                ClassifierHead::DenseTanh => {
                    let x = g.linear(&first, "pre_classifier")?;
                    g.op("Tanh", &[&x], vec![])
                }
                ClassifierHead::DenseGelu => {
                    let x = g.linear(&first, "pre_classifier")?;
                    activation(&mut g, &x, HiddenAct::Gelu)?
                }
                ClassifierHead::DenseRelu => {
                    let x = g.linear(&first, "pre_classifier")?;
                    g.op("Relu", &[&x], vec![])
                }
                ClassifierHead::LastToken => {
                    return Err(OnnxError::Unsupported("GPT-2's classifier".into()));
                }
            };
            vec![(
                g.linear(&pre, "classifier")?,
                vec!["batch_size", "num_labels"],
            )]
        }
        Head::TokenClassification => vec![(
            g.linear(&hidden, "classifier")?,
            vec!["batch_size", "sequence_length", "num_labels"],
        )],
        Head::QuestionAnswering => {
            let logits = g.linear(&hidden, "qa_outputs")?;
            let start = g.gather_index(&logits, 0, 2);
            let end = g.gather_index(&logits, 1, 2);
            vec![
                (start, vec!["batch_size", "sequence_length"]),
                (end, vec!["batch_size", "sequence_length"]),
            ]
        }
    };
    let output_names: &[&str] = match head {
        Head::Encoder => &["last_hidden_state"],
        Head::Embedding { .. } => &["sentence_embedding", "last_hidden_state"],
        Head::SequenceClassification(_) | Head::TokenClassification => &["logits"],
        Head::QuestionAnswering => &["start_logits", "end_logits"],
    };
    let mut graph_outputs = Vec::new();
    for ((value, dims), name) in outputs.iter().zip(output_names) {
        g.nodes.push(node("Identity", &[value], name, vec![]));
        graph_outputs.push(value_info(name, data_type::FLOAT, dims));
    }
    let graph = GraphProto {
        node: g.nodes,
        name: format!("burnish {}", head.name()),
        initializer: g.initializers,
        input: inputs
            .iter()
            .map(|n| value_info(n, data_type::INT64, &["batch_size", "sequence_length"]))
            .collect(),
        output: graph_outputs,
    };
    let model = ModelProto {
        // IR version 8 goes with opset 17 (onnx/helper.py's VERSION_TABLE).
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: options.opset,
        }],
        producer_name: "burnish".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!("{} {}", config.family.name, head.name()),
        graph: Some(graph),
        metadata_props: options
            .metadata
            .iter()
            .map(|(key, value)| StringStringEntryProto {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
    };
    Ok(model.encode_to_vec())
}

/// The encoder (`BertModel.forward` without the pooler): embeddings, then the layers.
/// Returns the name of the `[B, S, H]` last hidden state.
fn encoder(g: &mut Builder<'_>, config: &BertConfig) -> Result<String> {
    let family = config.family;
    let h = config.hidden_size;
    let heads = config.num_attention_heads;
    if heads == 0 || !h.is_multiple_of(heads) {
        return Err(OnnxError::Unsupported(format!(
            "hidden_size {h} is not a multiple of num_attention_heads {heads}"
        )));
    }
    let e = config.embedding_size.unwrap_or(h);
    let eps = config.layer_norm_eps as f32;

    // Embeddings: words + positions (+ token types), LayerNorm.
    let words = g.weight("embeddings.word_embeddings.weight", &[config.vocab_size, e])?;
    let mut x = g.op("Gather", &[&words, "input_ids"], vec![]);
    let positions = g.weight(
        "embeddings.position_embeddings.weight",
        &[config.max_position_embeddings, e],
    )?;
    let position_ids = match family.positions {
        Positions::Absolute => {
            // 0..S as [1, S].
            let shape = g.op("Shape", &["input_ids"], vec![]);
            let seq = g.gather_index(&shape, 1, 0);
            let zero = g.const_i64(&[], &[0]);
            let one = g.const_i64(&[], &[1]);
            let range = g.op("Range", &[&zero, &seq, &one], vec![]);
            let axes = g.const_i64(&[1], &[0]);
            g.op("Unsqueeze", &[&range, &axes], vec![])
        }
        Positions::AfterPadding => {
            // RoBERTa's create_position_ids_from_input_ids: cumsum over non-padding tokens,
            // offset by padding_idx, padding tokens at padding_idx.
            let pad = g.const_i64(&[], &[config.pad_token_id as i64]);
            let is_pad = g.op("Equal", &["input_ids", &pad], vec![]);
            let not_pad = g.op("Not", &[&is_pad], vec![]);
            let mask = g.op(
                "Cast",
                &[&not_pad],
                vec![int_attr("to", data_type::INT64 as i64)],
            );
            let axis = g.const_i64(&[], &[1]);
            let counts = g.op("CumSum", &[&mask, &axis], vec![]);
            let counted = g.op("Mul", &[&counts, &mask], vec![]);
            g.op("Add", &[&counted, &pad], vec![])
        }
    };
    let pos = g.op("Gather", &[&positions, &position_ids], vec![]);
    x = g.op("Add", &[&x, &pos], vec![]);
    if family.has_token_types && config.type_vocab_size > 0 {
        let types = g.weight(
            "embeddings.token_type_embeddings.weight",
            &[config.type_vocab_size, e],
        )?;
        let t = g.op("Gather", &[&types, "token_type_ids"], vec![]);
        x = g.op("Add", &[&x, &t], vec![]);
    } else if g
        .weights
        .contains_key("embeddings.token_type_embeddings.weight")
    {
        // A token-type table without a token-type input (RoBERTa's single row): type 0.
        let types = g.weight("embeddings.token_type_embeddings.weight", &[0, e])?;
        let zero = g.const_i64(&[], &[0]);
        let row = g.op("Gather", &[&types, &zero], vec![]);
        x = g.op("Add", &[&x, &row], vec![]);
    }
    x = g.layer_norm(&x, "embeddings.LayerNorm", e, eps)?;
    if config.embedding_size.is_some_and(|e| e != h)
        || g.weights.contains_key("embeddings_project.weight")
    {
        x = g.linear(&x, "embeddings_project")?;
    }

    // The attention mask as an additive bias `[B, 1, 1, S]`: 0 where attended, the float
    // minimum where masked (transformers' `get_extended_attention_mask`).
    let mask = g.op(
        "Cast",
        &["attention_mask"],
        vec![int_attr("to", data_type::FLOAT as i64)],
    );
    let one = g.const_f32(&[], &[1.0]);
    let inverted = g.op("Sub", &[&one, &mask], vec![]);
    let min = g.const_f32(&[], &[f32::MIN]);
    let bias = g.op("Mul", &[&inverted, &min], vec![]);
    let axes = g.const_i64(&[2], &[1, 2]);
    let bias = g.op("Unsqueeze", &[&bias, &axes], vec![]);

    let d = h / heads;
    let split = g.const_i64(&[4], &[0, 0, heads as i64, d as i64]);
    let merge = g.const_i64(&[3], &[0, 0, h as i64]);
    let scale = g.const_f32(&[], &[1.0 / (d as f32).sqrt()]);
    for i in 0..config.num_hidden_layers {
        let p = format!("encoder.layer.{i}");
        // Self-attention: [B, S, H] -> [B, heads, S, d].
        let q = g.linear(&x, &format!("{p}.attention.self.query"))?;
        let k = g.linear(&x, &format!("{p}.attention.self.key"))?;
        let v = g.linear(&x, &format!("{p}.attention.self.value"))?;
        let q = g.op("Reshape", &[&q, &split], vec![]);
        let q = g.op("Transpose", &[&q], vec![ints_attr("perm", &[0, 2, 1, 3])]);
        let k = g.op("Reshape", &[&k, &split], vec![]);
        let k = g.op("Transpose", &[&k], vec![ints_attr("perm", &[0, 2, 3, 1])]);
        let v = g.op("Reshape", &[&v, &split], vec![]);
        let v = g.op("Transpose", &[&v], vec![ints_attr("perm", &[0, 2, 1, 3])]);
        let scores = g.op("MatMul", &[&q, &k], vec![]);
        let scores = g.op("Mul", &[&scores, &scale], vec![]);
        let scores = g.op("Add", &[&scores, &bias], vec![]);
        let probs = g.op("Softmax", &[&scores], vec![int_attr("axis", -1)]);
        let context = g.op("MatMul", &[&probs, &v], vec![]);
        let context = g.op(
            "Transpose",
            &[&context],
            vec![ints_attr("perm", &[0, 2, 1, 3])],
        );
        let context = g.op("Reshape", &[&context, &merge], vec![]);
        let attn = g.linear(&context, &format!("{p}.attention.output.dense"))?;
        let attn = g.op("Add", &[&attn, &x], vec![]);
        let attn = g.layer_norm(&attn, &format!("{p}.attention.output.LayerNorm"), h, eps)?;
        // Feed-forward.
        let inner = g.linear(&attn, &format!("{p}.intermediate.dense"))?;
        let inner = activation(g, &inner, config.hidden_act)?;
        let out = g.linear(&inner, &format!("{p}.output.dense"))?;
        let out = g.op("Add", &[&out, &attn], vec![]);
        x = g.layer_norm(&out, &format!("{p}.output.LayerNorm"), h, eps)?;
    }
    Ok(x)
}

/// `hidden_act` as ONNX operators.
fn activation(g: &mut Builder<'_>, x: &str, act: HiddenAct) -> Result<String> {
    Ok(match act {
        HiddenAct::Gelu => {
            // x * 0.5 * (1 + erf(x / sqrt(2)))
            let sqrt2 = g.const_f32(&[], &[std::f32::consts::SQRT_2]);
            let scaled = g.op("Div", &[x, &sqrt2], vec![]);
            let erf = g.op("Erf", &[&scaled], vec![]);
            let one = g.const_f32(&[], &[1.0]);
            let sum = g.op("Add", &[&erf, &one], vec![]);
            let half = g.const_f32(&[], &[0.5]);
            let prod = g.op("Mul", &[x, &sum], vec![]);
            g.op("Mul", &[&prod, &half], vec![])
        }
        HiddenAct::GeluNew => {
            // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
            let three = g.const_f32(&[], &[3.0]);
            let cube = g.op("Pow", &[x, &three], vec![]);
            let c = g.const_f32(&[], &[0.044715]);
            let term = g.op("Mul", &[&cube, &c], vec![]);
            let inner = g.op("Add", &[x, &term], vec![]);
            let k = g.const_f32(&[], &[(2.0 / std::f64::consts::PI).sqrt() as f32]);
            let inner = g.op("Mul", &[&inner, &k], vec![]);
            let tanh = g.op("Tanh", &[&inner], vec![]);
            let one = g.const_f32(&[], &[1.0]);
            let sum = g.op("Add", &[&tanh, &one], vec![]);
            let half = g.const_f32(&[], &[0.5]);
            let prod = g.op("Mul", &[x, &sum], vec![]);
            g.op("Mul", &[&prod, &half], vec![])
        }
        HiddenAct::Relu => g.op("Relu", &[x], vec![]),
        HiddenAct::Tanh => g.op("Tanh", &[x], vec![]),
        HiddenAct::Sigmoid => g.op("Sigmoid", &[x], vec![]),
        HiddenAct::Silu => {
            let s = g.op("Sigmoid", &[x], vec![]);
            g.op("Mul", &[x, &s], vec![])
        }
        HiddenAct::QuickGelu => {
            let k = g.const_f32(&[], &[1.702]);
            let scaled = g.op("Mul", &[x, &k], vec![]);
            let s = g.op("Sigmoid", &[&scaled], vec![]);
            g.op("Mul", &[x, &s], vec![])
        }
        HiddenAct::Mish => {
            let sp = g.op("Softplus", &[x], vec![]);
            let t = g.op("Tanh", &[&sp], vec![]);
            g.op("Mul", &[x, &t], vec![])
        }
    })
}

/// The masked mean over the sequence: `sum(h * m) / max(sum(m), 1e-9)`, `[B, H]`.
fn mean_pool(g: &mut Builder<'_>, hidden: &str) -> String {
    let mask = g.op(
        "Cast",
        &["attention_mask"],
        vec![int_attr("to", data_type::FLOAT as i64)],
    );
    let axes = g.const_i64(&[1], &[2]);
    let mask = g.op("Unsqueeze", &[&mask, &axes], vec![]);
    let masked = g.op("Mul", &[hidden, &mask], vec![]);
    let seq_axis = g.const_i64(&[1], &[1]);
    let sum = g.op(
        "ReduceSum",
        &[&masked, &seq_axis],
        vec![int_attr("keepdims", 0)],
    );
    let count = g.op(
        "ReduceSum",
        &[&mask, &seq_axis],
        vec![int_attr("keepdims", 0)],
    );
    let floor = g.const_f32(&[], &[1e-9]);
    let count = g.op("Max", &[&count, &floor], vec![]);
    g.op("Div", &[&sum, &count], vec![])
}

/// `x / max(||x||_2, 1e-12)` over the last axis (`torch.nn.functional.normalize`).
fn l2_normalize(g: &mut Builder<'_>, x: &str) -> String {
    let sq = g.op("Mul", &[x, x], vec![]);
    let axis = g.const_i64(&[1], &[-1]);
    let sum = g.op("ReduceSum", &[&sq, &axis], vec![int_attr("keepdims", 1)]);
    let norm = g.op("Sqrt", &[&sum], vec![]);
    let floor = g.const_f32(&[], &[1e-12]);
    let norm = g.op("Max", &[&norm, &floor], vec![]);
    g.op("Div", &[x, &norm], vec![])
}

/// Builds the node list and initializers.
struct Builder<'a> {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    weights: &'a BTreeMap<String, Weight>,
    head: &'static str,
    int8: bool,
    next: usize,
}

impl Builder<'_> {
    fn fresh(&mut self, op: &str) -> String {
        self.next += 1;
        format!("{op}_{}", self.next)
    }

    /// One node with one output; returns the output's name.
    fn op(&mut self, op: &str, inputs: &[&str], attributes: Vec<AttributeProto>) -> String {
        let out = self.fresh(op);
        self.nodes.push(node(op, inputs, &out, attributes));
        out
    }

    /// `x[..., index, ...]` on `axis` (the axis removed).
    fn gather_index(&mut self, x: &str, index: i64, axis: i64) -> String {
        let i = self.const_i64(&[], &[index]);
        self.op("Gather", &[x, &i], vec![int_attr("axis", axis)])
    }

    fn tensor(&self, name: &str) -> Result<&Weight> {
        self.weights
            .get(name)
            .ok_or_else(|| OnnxError::MissingTensor {
                name: name.into(),
                head: self.head.into(),
            })
    }

    /// A weight as an initializer named as the model names it, checked against `shape`
    /// (a 0 in `shape` is not checked).
    fn weight(&mut self, name: &str, shape: &[usize]) -> Result<String> {
        let w = self.tensor(name)?;
        let fits = w.shape.len() == shape.len()
            && w.shape.iter().zip(shape).all(|(a, b)| *b == 0 || a == b);
        if !fits {
            return Err(OnnxError::Shape {
                name: name.into(),
                found: w.shape.clone(),
                expected: shape.to_vec(),
            });
        }
        let (dims, values) = (w.shape.clone(), w.values.clone());
        Ok(self.push_f32(name, &dims, &values))
    }

    fn push_f32(&mut self, name: &str, dims: &[usize], values: &[f32]) -> String {
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: data_type::FLOAT,
            name: name.into(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        });
        name.into()
    }

    fn const_f32(&mut self, dims: &[usize], values: &[f32]) -> String {
        let name = self.fresh("const");
        self.push_f32(&name, dims, values)
    }

    fn const_i64(&mut self, dims: &[usize], values: &[i64]) -> String {
        let name = self.fresh("const");
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: data_type::INT64,
            name: name.clone(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        });
        name
    }

    /// `x @ W^T + b` of the linear layer `prefix` (`prefix.weight` `[out, in]`,
    /// `prefix.bias`), int8-quantised when asked.
    fn linear(&mut self, x: &str, prefix: &str) -> Result<String> {
        let name = format!("{prefix}.weight");
        let w = self.tensor(&name)?.clone();
        let [out, inp] = w.shape[..] else {
            return Err(OnnxError::Shape {
                name,
                found: w.shape.clone(),
                expected: vec![0, 0],
            });
        };
        // [in, out] for MatMul.
        let mut t = vec![0f32; out * inp];
        for o in 0..out {
            for i in 0..inp {
                t[i * out + o] = w.values[o * inp + i];
            }
        }
        let y = if self.int8 {
            // Per output column (ONNX Runtime's `per_channel=True`): symmetric, zero point 0.
            let scales: Vec<f32> = (0..out)
                .map(|o| {
                    let max = (0..inp).fold(0f32, |m, i| m.max(t[i * out + o].abs()));
                    if max > 0.0 { max / 127.0 } else { 1.0 }
                })
                .collect();
            let q: Vec<u8> = t
                .iter()
                .enumerate()
                .map(|(k, v)| ((v / scales[k % out]).round().clamp(-127.0, 127.0) as i8) as u8)
                .collect();
            let wq = format!("{name}_quantized");
            self.initializers.push(TensorProto {
                dims: vec![inp as i64, out as i64],
                data_type: data_type::INT8,
                name: wq.clone(),
                raw_data: q,
            });
            let wz = format!("{name}_zero_point");
            self.initializers.push(TensorProto {
                dims: vec![out as i64],
                data_type: data_type::INT8,
                name: wz.clone(),
                raw_data: vec![0; out],
            });
            let ws = self.const_f32(&[out], &scales);
            let xq = self.fresh("DynamicQuantizeLinear");
            let (xs, xz) = (format!("{xq}_scale"), format!("{xq}_zero_point"));
            self.nodes.push(NodeProto {
                input: vec![x.into()],
                output: vec![xq.clone(), xs.clone(), xz.clone()],
                name: xq.clone(),
                op_type: "DynamicQuantizeLinear".into(),
                attribute: vec![],
            });
            let acc = self.op("MatMulInteger", &[&xq, &wq, &xz, &wz], vec![]);
            let acc = self.op(
                "Cast",
                &[&acc],
                vec![int_attr("to", data_type::FLOAT as i64)],
            );
            let s = self.op("Mul", &[&xs, &ws], vec![]);
            self.op("Mul", &[&acc, &s], vec![])
        } else {
            let wt = self.push_f32(&format!("{name}_transposed"), &[inp, out], &t);
            self.op("MatMul", &[x, &wt], vec![])
        };
        let b = self.weight(&format!("{prefix}.bias"), &[out])?;
        Ok(self.op("Add", &[&y, &b], vec![]))
    }

    /// `LayerNormalization` with the weights of `prefix` (`.weight`, `.bias`).
    fn layer_norm(&mut self, x: &str, prefix: &str, size: usize, eps: f32) -> Result<String> {
        let gamma = self.weight(&format!("{prefix}.weight"), &[size])?;
        let beta = self.weight(&format!("{prefix}.bias"), &[size])?;
        Ok(self.op(
            "LayerNormalization",
            &[x, &gamma, &beta],
            vec![
                int_attr("axis", -1),
                AttributeProto {
                    name: "epsilon".into(),
                    f: Some(eps),
                    r#type: attribute_type::FLOAT,
                    ..Default::default()
                },
            ],
        ))
    }
}

fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        name: output.into(),
        op_type: op.into(),
        attribute,
    }
}

fn int_attr(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i: Some(value),
        r#type: attribute_type::INT,
        ..Default::default()
    }
}

fn ints_attr(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        ints: values.to_vec(),
        r#type: attribute_type::INTS,
        ..Default::default()
    }
}

fn value_info(name: &str, elem_type: i32, dims: &[&str]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| Dimension {
                            dim_value: None,
                            dim_param: Some((*d).into()),
                        })
                        .collect(),
                }),
            }),
        }),
    }
}
