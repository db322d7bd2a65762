//! CamemBERT: RoBERTa's architecture under its own `model_type` and class names (the same
//! modules, `base_model_prefix = "roberta"`, `classifier.dense` / `classifier.out_proj`,
//! `lm_head`), with a SentencePiece Unigram tokenizer (`<s>`, `<pad>` = 1, `</s>`, `<unk>`,
//! `<mask>`; positions from `pad_token_id + 1`).
//!
//! Mirrors `transformers/models/camembert/modeling_camembert.py`
//! (<https://github.com/huggingface/transformers/blob/main/src/transformers/models/camembert/modeling_camembert.py>);
//! the model is [`crate::model::BertModel`] with [`Positions::AfterPadding`], the head name
//! tables are RoBERTa's ([`super::roberta`]).

use super::bert::{ENCODER_BARE_STARTS, ENCODER_HEAD_BASES, ENCODER_PROBE};
use super::roberta::{CLASSIFIER_NAMES, MASKED_LM_NAMES};
use super::{ClassifierHead, ConfigFields, Family, Heads, Positions, TiedDecoder, WeightNames};
use crate::config::HiddenAct;

/// CamemBERT (`model_type: "camembert"`).
pub static CAMEMBERT: Family = Family {
    model_type: "camembert",
    name: "CamemBERT",
    class_prefix: "Camembert",
    source: "https://github.com/huggingface/transformers/blob/main/src/transformers/models/camembert/modeling_camembert.py",
    is_decoder: false,
    has_token_types: true,
    has_pooler: true,
    positions: Positions::AfterPadding,
    config: ConfigFields {
        renames: &[],
        to_bert: None,
        absent: &[],
        // `CamembertConfig`'s default, as RoBERTa's.
        default_pad_token_id: 1,
        unsupported: &[],
        embedding_dropout: None,
    },
    weights: WeightNames {
        // `CamembertPreTrainedModel.base_model_prefix`, as RoBERTa's.
        base_prefix: "roberta",
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
        ],
        classifier: ClassifierHead::DenseTanh,
        classifier_names: CLASSIFIER_NAMES,
        masked_lm_names: MASKED_LM_NAMES,
        // `CamembertLMHead` (RoBERTa's) applies `gelu` whatever `hidden_act` says.
        masked_lm_act: Some(HiddenAct::Gelu),
        tied_decoder: TiedDecoder {
            weight: "lm_head.decoder.weight",
            bias_alias: Some("lm_head.decoder.bias"),
            bias: "lm_head.bias",
        },
        token_dropout_is_hidden: false,
    },
};
