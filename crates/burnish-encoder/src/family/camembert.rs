//! CamemBERT: RoBERTa's architecture under its own `model_type` and class names (the same
//! modules, `base_model_prefix = "roberta"`, `classifier.dense` / `classifier.out_proj`,
//! `lm_head`), with a SentencePiece Unigram tokenizer (`<s>`, `<pad>` = 1, `</s>`, `<unk>`,
//! `<mask>`; positions from `pad_token_id + 1`).
//!
//! Mirrors `transformers/models/camembert/modeling_camembert.py`
//! (<https://github.com/huggingface/transformers/blob/main/src/transformers/models/camembert/modeling_camembert.py>);
//! the model is [`crate::model::BertModel`] with [`super::Positions::AfterPadding`], the head name
//! tables are RoBERTa's ([`super::roberta`]).

use super::{Family, roberta};

/// CamemBERT (`model_type: "camembert"`).
pub static CAMEMBERT: Family = roberta::architecture(
    "camembert",
    "CamemBERT",
    "Camembert",
    "https://github.com/huggingface/transformers/blob/main/src/transformers/models/camembert/modeling_camembert.py",
);
