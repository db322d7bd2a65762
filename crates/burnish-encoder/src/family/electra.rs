//! ELECTRA: the discriminator as an encoder. BERT's layers under `electra.`, embeddings
//! `embedding_size` wide projected to the hidden size (`embeddings_project`, present when the
//! widths differ), no pooler; its own classification head (dense + GELU + `out_proj`) and the
//! generator's masked-LM head (`generator_predictions`, `generator_lm_head`).
//!
//! Mirrors `transformers/models/electra/modeling_electra.py`
//! (<https://github.com/huggingface/transformers/blob/main/src/transformers/models/electra/modeling_electra.py>);
//! the model is [`crate::model::BertModel`] with [`crate::model::BertModel::embeddings_project`].

use super::bert::{self, ENCODER_CLASSES};
use super::{ClassifierHead, Family, Heads, Positions, TiedDecoder, WeightNames, roberta};
use crate::activation::HiddenAct;

/// `ElectraGeneratorPredictions` and `generator_lm_head`'s names for burnish's masked-LM head.
pub const MASKED_LM_NAMES: &[(&str, &str)] = &[
    (
        "cls.predictions.transform.dense",
        "generator_predictions.dense",
    ),
    (
        "cls.predictions.transform.layer_norm",
        "generator_predictions.LayerNorm",
    ),
    ("cls.predictions.bias", "generator_lm_head.bias"),
];

/// ELECTRA (`model_type: "electra"`).
pub static ELECTRA: Family = Family {
    model_type: "electra",
    name: "ELECTRA",
    class_prefix: "Electra",
    source: "https://github.com/huggingface/transformers/blob/main/src/transformers/models/electra/modeling_electra.py",
    is_decoder: false,
    has_token_types: true,
    has_pooler: false,
    positions: Positions::Absolute,
    // BERT's field names, plus `embedding_size`.
    config: bert::CONFIG_FIELDS,
    weights: WeightNames {
        base_prefix: "electra",
        burnish_base: "bert",
        layers: &[],
        stored_transposed: &[],
        probe: "embeddings.word_embeddings.weight",
        bare_starts: &["embeddings.", "embeddings_project.", "encoder."],
        head_bases: &["electra."],
    },
    heads: Heads {
        classes: ENCODER_CLASSES,
        classifier: ClassifierHead::DenseGelu,
        // `ElectraClassificationHead` names its layers as RoBERTa's does.
        classifier_names: roberta::CLASSIFIER_NAMES,
        masked_lm_names: MASKED_LM_NAMES,
        // `ElectraGeneratorPredictions` applies `gelu` whatever `hidden_act` says.
        masked_lm_act: Some(HiddenAct::Gelu),
        tied_decoder: TiedDecoder {
            weight: "generator_lm_head.weight",
            bias_alias: None,
            bias: "generator_lm_head.bias",
        },
        token_dropout_is_hidden: false,
        lora_targets: &["query", "value"],
    },
};
