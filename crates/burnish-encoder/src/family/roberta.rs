//! RoBERTa: BERT's encoder with positions counted after the padding id, one token type, its
//! own classification and language-model heads.
//!
//! Mirrors `transformers/models/roberta/modeling_roberta.py`
//! (<https://github.com/huggingface/transformers/blob/main/src/transformers/models/roberta/modeling_roberta.py>);
//! the model is [`crate::model::BertModel`] with [`Positions::AfterPadding`].

use super::bert::{ENCODER_CLASSES, encoder_weights};
use super::{ClassifierHead, ConfigFields, Family, Heads, Positions, TiedDecoder};
use crate::activation::HiddenAct;

/// `RobertaClassificationHead`'s names for burnish's sequence-classification head: the
/// `H -> H` layer on `<s>` and the output projection (prefixes of the whole path).
pub const CLASSIFIER_NAMES: &[(&str, &str)] = &[
    ("pre_classifier", "classifier.dense"),
    ("classifier", "classifier.out_proj"),
];

/// RoBERTa's names (`RobertaLMHead`, `lm_head`) for burnish's masked-LM head.
pub const MASKED_LM_NAMES: &[(&str, &str)] = &[
    ("cls.predictions.transform.dense", "lm_head.dense"),
    ("cls.predictions.transform.layer_norm", "lm_head.layer_norm"),
    ("cls.predictions.bias", "lm_head.bias"),
];

/// RoBERTa (`model_type: "roberta"`).
pub static ROBERTA: Family = architecture(
    "roberta",
    "RoBERTa",
    "Roberta",
    "https://github.com/huggingface/transformers/blob/main/src/transformers/models/roberta/modeling_roberta.py",
);

/// A family with RoBERTa's architecture, weight names (`roberta.` base, RoBERTa's heads) and
/// config under its own `model_type`, message name, class prefix and `transformers` source
/// (XLM-RoBERTa, CamemBERT).
pub(crate) const fn architecture(
    model_type: &'static str,
    name: &'static str,
    class_prefix: &'static str,
    source: &'static str,
) -> Family {
    Family {
        model_type,
        name,
        class_prefix,
        source,
        is_decoder: false,
        has_token_types: true,
        has_pooler: true,
        positions: Positions::AfterPadding,
        config: ConfigFields {
            renames: &[],
            to_bert: None,
            absent: &[],
            // `RobertaConfig`'s default.
            default_pad_token_id: 1,
            unsupported: &[],
            embedding_dropout: None,
        },
        weights: encoder_weights("roberta", &[]),
        heads: Heads {
            classes: ENCODER_CLASSES,
            classifier: ClassifierHead::DenseTanh,
            classifier_names: CLASSIFIER_NAMES,
            masked_lm_names: MASKED_LM_NAMES,
            // `RobertaLMHead` applies `gelu` whatever `hidden_act` says.
            masked_lm_act: Some(HiddenAct::Gelu),
            tied_decoder: TiedDecoder {
                weight: "lm_head.decoder.weight",
                bias_alias: Some("lm_head.decoder.bias"),
                bias: "lm_head.bias",
            },
            token_dropout_is_hidden: false,
            lora_targets: &["query", "value"],
        },
    }
}
