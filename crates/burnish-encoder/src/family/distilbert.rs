//! DistilBERT: BERT's encoder without token types or pooler, under its own parameter and
//! `config.json` names.
//!
//! Mirrors `transformers/models/distilbert/modeling_distilbert.py`
//! (<https://github.com/huggingface/transformers/blob/main/src/transformers/models/distilbert/modeling_distilbert.py>);
//! the model is [`crate::model::BertModel`] without its token-type table and pooler.

use super::bert::{ENCODER_CLASSES, encoder_weights};
use super::{
    ClassifierHead, ConfigFields, Family, Heads, JsonMap, Positions, TiedDecoder, rename_to_bert,
    with_defaults,
};

/// DistilBERT's `config.json` field names and BERT's for the same value.
pub const FIELDS: &[(&str, &str)] = &[
    ("dim", "hidden_size"),
    ("n_layers", "num_hidden_layers"),
    ("n_heads", "num_attention_heads"),
    ("hidden_dim", "intermediate_size"),
    ("activation", "hidden_act"),
    ("dropout", "hidden_dropout_prob"),
    ("attention_dropout", "attention_probs_dropout_prob"),
    ("seq_classif_dropout", "classifier_dropout"),
];

/// DistilBERT's names for the encoder's modules: burnish (BERT) segments <-> `transformers`'
/// `modeling_distilbert.py` segments. Longer sequences first where they share a start.
pub const LAYER_NAMES: &[(&str, &str)] = &[
    ("encoder.layer", "transformer.layer"),
    ("attention.self_attn.query", "attention.q_lin"),
    ("attention.self_attn.key", "attention.k_lin"),
    ("attention.self_attn.value", "attention.v_lin"),
    ("attention.output.dense", "attention.out_lin"),
    ("attention.output.layer_norm", "sa_layer_norm"),
    ("intermediate.dense", "ffn.lin1"),
    ("output.dense", "ffn.lin2"),
    ("output.layer_norm", "output_layer_norm"),
];

/// DistilBERT's names (`vocab_transform`, `vocab_layer_norm`, `vocab_projector`) for burnish's
/// masked-LM head.
pub const MASKED_LM_NAMES: &[(&str, &str)] = &[
    ("cls.predictions.transform.dense", "vocab_transform"),
    ("cls.predictions.transform.layer_norm", "vocab_layer_norm"),
    ("cls.predictions.bias", "vocab_projector.bias"),
];

/// `DistilBertConfig`'s defaults where they differ from `BertConfig`'s, then its names renamed
/// to BERT's.
fn to_bert(map: JsonMap) -> JsonMap {
    let defaults = [
        ("n_layers", serde_json::json!(6)),
        ("seq_classif_dropout", serde_json::json!(0.2)),
    ];
    rename_to_bert(FIELDS, with_defaults(map, defaults))
}

/// DistilBERT (`model_type: "distilbert"`).
pub static DISTILBERT: Family = Family {
    model_type: "distilbert",
    name: "DistilBERT",
    class_prefix: "DistilBert",
    source: "https://github.com/huggingface/transformers/blob/main/src/transformers/models/distilbert/modeling_distilbert.py",
    is_decoder: false,
    has_token_types: false,
    has_pooler: false,
    positions: Positions::Absolute,
    config: ConfigFields {
        renames: FIELDS,
        to_bert: Some(to_bert),
        // Fixed in `transformers`' code: LayerNorm epsilon 1e-12, absolute positions, no
        // token types.
        absent: &[
            "type_vocab_size",
            "layer_norm_eps",
            "position_embedding_type",
        ],
        default_pad_token_id: 0,
        unsupported: &[(
            "sinusoidal_pos_embds",
            true,
            "sinusoidal position embeddings are not supported (only learned ones)",
        )],
        embedding_dropout: None,
    },
    weights: encoder_weights("distilbert", LAYER_NAMES),
    heads: Heads {
        classes: ENCODER_CLASSES,
        classifier: ClassifierHead::DenseRelu,
        classifier_names: &[],
        masked_lm_names: MASKED_LM_NAMES,
        masked_lm_act: None,
        tied_decoder: TiedDecoder {
            weight: "vocab_projector.weight",
            bias_alias: None,
            bias: "vocab_projector.bias",
        },
        token_dropout_is_hidden: true,
        lora_targets: &["q_lin", "v_lin"],
    },
};
