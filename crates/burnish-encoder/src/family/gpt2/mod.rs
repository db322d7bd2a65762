//! GPT-2: a causal decoder of its own ([`model`]: pre-LayerNorm blocks, causal attention,
//! learned positions), `config.json` fields `n_embd`, `n_layer`, ... and `Conv1D` weights
//! stored `[in, out]`. Its heads are `burnish_heads::gpt2`.
//!
//! Mirrors `transformers/models/gpt2/modeling_gpt2.py`
//! (<https://github.com/huggingface/transformers/blob/main/src/transformers/models/gpt2/modeling_gpt2.py>).

pub mod model;

use super::{
    ClassifierHead, ConfigFields, Family, Heads, JsonMap, Positions, TiedDecoder, WeightNames,
    rename_to_bert, with_defaults,
};

/// GPT-2's `config.json` field names and BERT's for the same value. `n_inner: null` means
/// `4 * n_embd`; `embd_pdrop` (the embeddings' dropout) stays under its own name
/// ([`crate::BertConfig::embedding_dropout_prob`]).
pub const FIELDS: &[(&str, &str)] = &[
    ("n_embd", "hidden_size"),
    ("n_layer", "num_hidden_layers"),
    ("n_head", "num_attention_heads"),
    ("n_inner", "intermediate_size"),
    ("n_positions", "max_position_embeddings"),
    ("activation_function", "hidden_act"),
    ("resid_pdrop", "hidden_dropout_prob"),
    ("attn_pdrop", "attention_probs_dropout_prob"),
    ("layer_norm_epsilon", "layer_norm_eps"),
];

/// GPT-2's `Conv1D` modules (suffixes of the module path): `transformers` stores their weights
/// `[in, out]`, transposed relative to `nn.Linear`'s `[out, in]`. burnish holds them as Burn
/// `Linear`s; [`crate::weights::NameMap::stored_transposed`] tells loading and saving to
/// transpose them.
pub const CONV1D: &[&str] = &["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"];

/// `GPT2Config`'s defaults filled in, then its names renamed to BERT's: `n_inner` null or
/// absent is `4 * n_embd`, and a null or absent `pad_token_id` is `eos_token_id` (default
/// 50256), the id GPT-2 fine-tuning pads with.
fn to_bert(map: JsonMap) -> JsonMap {
    let defaults = [
        ("vocab_size", serde_json::json!(50257)),
        ("n_positions", serde_json::json!(1024)),
        ("n_embd", serde_json::json!(768)),
        ("n_layer", serde_json::json!(12)),
        ("n_head", serde_json::json!(12)),
        ("activation_function", serde_json::json!("gelu_new")),
        ("resid_pdrop", serde_json::json!(0.1)),
        ("attn_pdrop", serde_json::json!(0.1)),
        ("layer_norm_epsilon", serde_json::json!(1e-5)),
    ];
    let mut map = with_defaults(map, defaults);
    if map.get("n_inner").is_none_or(serde_json::Value::is_null) {
        let inner = map["n_embd"].as_u64().map(|h| serde_json::json!(4 * h));
        map.insert("n_inner".into(), inner.unwrap_or(serde_json::Value::Null));
    }
    if map
        .get("pad_token_id")
        .is_none_or(serde_json::Value::is_null)
    {
        let eos = map.get("eos_token_id").cloned();
        let eos = eos.filter(serde_json::Value::is_u64);
        map.insert(
            "pad_token_id".into(),
            eos.unwrap_or(serde_json::json!(50256)),
        );
    }
    rename_to_bert(FIELDS, map)
}

/// GPT-2 (`model_type: "gpt2"`).
pub static GPT2: Family = Family {
    model_type: "gpt2",
    name: "GPT-2",
    class_prefix: "GPT2",
    source: "https://github.com/huggingface/transformers/blob/main/src/transformers/models/gpt2/modeling_gpt2.py",
    is_decoder: true,
    has_token_types: false,
    has_pooler: false,
    positions: Positions::Absolute,
    config: ConfigFields {
        renames: FIELDS,
        to_bert: Some(to_bert),
        absent: &[
            "type_vocab_size",
            "position_embedding_type",
            "classifier_dropout",
        ],
        default_pad_token_id: 0,
        // GPT2Config switches the decoder does not implement: refuse rather than differ.
        unsupported: &[
            ("scale_attn_weights", false, "`false` is not supported"),
            (
                "scale_attn_by_inverse_layer_idx",
                true,
                "`true` is not supported",
            ),
            ("reorder_and_upcast_attn", true, "`true` is not supported"),
            ("add_cross_attention", true, "`true` is not supported"),
        ],
        embedding_dropout: Some(("embd_pdrop", 0.1)),
    },
    weights: WeightNames {
        base_prefix: "transformer",
        // GPT-2's heads name the decoder `transformer`, as `transformers` does.
        burnish_base: "transformer",
        layers: &[],
        stored_transposed: CONV1D,
        probe: "wte.weight",
        bare_starts: &["wte.", "wpe.", "h.", "ln_f."],
        head_bases: &["transformer."],
    },
    heads: Heads {
        classes: &["Model", "LMHeadModel", "ForSequenceClassification"],
        classifier: ClassifierHead::LastToken,
        classifier_names: &[],
        masked_lm_names: &[],
        masked_lm_act: None,
        // `GPT2LMHeadModel.lm_head` has no bias.
        tied_decoder: TiedDecoder {
            weight: "lm_head.weight",
            bias_alias: None,
            bias: "lm_head.bias",
        },
        token_dropout_is_hidden: false,
        lora_targets: &["c_attn"],
    },
};
