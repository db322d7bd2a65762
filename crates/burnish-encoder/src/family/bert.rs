//! BERT, the family every other one is described against: burnish's parameter paths and
//! config fields are BERT's own.
//!
//! Mirrors `transformers/models/bert/modeling_bert.py`
//! (<https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py>);
//! the model is [`crate::model::BertModel`].

use super::{ClassifierHead, ConfigFields, Family, Heads, Positions, TiedDecoder, WeightNames};

/// The first segments of a bare encoder's parameter names, for every encoder family.
pub(crate) const ENCODER_BARE_STARTS: &[&str] =
    &["embeddings.", "encoder.", "transformer.", "pooler."];
/// The prefixes head checkpoints of the encoder families put the encoder under.
pub(crate) const ENCODER_HEAD_BASES: &[&str] = &["bert.", "roberta.", "distilbert."];
/// The tensor every encoder checkpoint has.
pub(crate) const ENCODER_PROBE: &str = "embeddings.word_embeddings.weight";

/// `BertLMPredictionHead`'s names: the decoder tied to the word embeddings and its bias
/// (`cls.predictions.decoder.bias` is an alias of `cls.predictions.bias`).
pub const TIED_DECODER: TiedDecoder = TiedDecoder {
    weight: "cls.predictions.decoder.weight",
    bias_alias: Some("cls.predictions.decoder.bias"),
    bias: "cls.predictions.bias",
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
    config: ConfigFields {
        renames: &[],
        to_bert: None,
        absent: &[],
        default_pad_token_id: 0,
        unsupported: &[],
        embedding_dropout: None,
    },
    weights: WeightNames {
        base_prefix: "bert",
        burnish_base: "bert",
        layers: &[],
        stored_transposed: &[],
        probe: ENCODER_PROBE,
        bare_starts: ENCODER_BARE_STARTS,
        head_bases: ENCODER_HEAD_BASES,
    },
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
    },
};
