//! BERT, the family every other one is described against: burnish's parameter paths and
//! config fields are BERT's own.
//!
//! Mirrors `transformers/models/bert/modeling_bert.py`
//! (<https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py>);
//! the model is [`crate::model::BertModel`].

use super::{ClassifierHead, ConfigFields, Family, Heads, Positions, TiedDecoder, WeightNames};

/// The checkpoint names of a family of BERT's encoder ([`crate::model::BertModel`]) whose
/// `transformers` base model is `base_prefix` and whose layer names differ by `layers`.
pub(crate) const fn encoder_weights(
    base_prefix: &'static str,
    layers: &'static [(&'static str, &'static str)],
) -> WeightNames {
    WeightNames {
        base_prefix,
        burnish_base: "bert",
        layers,
        stored_transposed: &[],
        probe: "embeddings.word_embeddings.weight",
        bare_starts: &["embeddings.", "encoder.", "transformer.", "pooler."],
        head_bases: &["bert.", "roberta.", "distilbert."],
    }
}

/// The heads burnish implements for every family of BERT's encoder.
pub(crate) const ENCODER_CLASSES: &[&str] = &[
    "Model",
    "ForSequenceClassification",
    "ForTokenClassification",
    "ForQuestionAnswering",
    "ForMaskedLM",
];

/// `BertLMPredictionHead`'s names: the decoder tied to the word embeddings and its bias
/// (`cls.predictions.decoder.bias` is an alias of `cls.predictions.bias`).
pub const TIED_DECODER: TiedDecoder = TiedDecoder {
    weight: "cls.predictions.decoder.weight",
    bias_alias: Some(DECODER_BIAS),
    bias: "cls.predictions.bias",
};

/// `cls.predictions.decoder.bias`, the alias of the output bias some BERT checkpoints carry.
pub const DECODER_BIAS: &str = "cls.predictions.decoder.bias";

/// BERT's `config.json`: burnish's own field names, `pad_token_id` 0 by default (also
/// ELECTRA's).
pub const CONFIG_FIELDS: ConfigFields = ConfigFields {
    renames: &[],
    to_bert: None,
    absent: &[],
    default_pad_token_id: 0,
    unsupported: &[],
    embedding_dropout: None,
};

/// BERT (`model_type: "bert"`, and configs that name no family): absolute positions, token
/// types, a pooler.
pub static BERT: Family = Family {
    model_type: "bert",
    name: "BERT",
    class_prefix: "Bert",
    source: "https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py",
    is_decoder: false,
    has_token_types: true,
    has_pooler: true,
    positions: Positions::Absolute,
    config: CONFIG_FIELDS,
    weights: encoder_weights("bert", &[]),
    heads: Heads {
        classes: &[
            "Model",
            "ForSequenceClassification",
            "ForTokenClassification",
            "ForQuestionAnswering",
            "ForMaskedLM",
            "ForPreTraining",
            "LMHeadModel",
        ],
        classifier: ClassifierHead::Pooler,
        classifier_names: &[],
        masked_lm_names: &[],
        masked_lm_act: None,
        tied_decoder: TIED_DECODER,
        token_dropout_is_hidden: false,
        lora_targets: &["query", "value"],
    },
};
