//! Model families: what differs between BERT, RoBERTa, DistilBERT, ELECTRA and GPT-2, one module each,
//! and the registry that maps a `config.json` to one of them.
//!
//! A family is a [`Family`]: plain data (its `config.json` field names and defaults, its
//! checkpoint names, the shape of its heads, a link to the `transformers` file it mirrors).
//! Code elsewhere reads that data ("has a pooler?", "which names?") and never asks which
//! family it holds. [`Family::detect`] is the only place that maps `model_type` (or a class in
//! `architectures`) to a family; [`FAMILIES`] lists them.
//!
//! Adding a family: a new module here with its `pub static` [`Family`] (and, for a new
//! architecture, its model next to it, as [`gpt2`] has), and one line in [`FAMILIES`]. See
//! docs/ARCHITECTURE.md, "How to add a family".

use std::path::Path;

use crate::activation::HiddenAct;
use crate::error::{EncoderError, Result};

pub mod bert;
pub mod camembert;
pub mod distilbert;
pub mod electra;
pub mod gpt2;
pub mod roberta;
pub mod xlm_roberta;

/// Every family burnish loads, in the order error messages list them. The registry: a new
/// family is one more line here.
pub static FAMILIES: &[&Family] = &[
    &bert::BERT,
    &roberta::ROBERTA,
    &distilbert::DISTILBERT,
    &gpt2::GPT2,
    &xlm_roberta::XLM_ROBERTA,
    &camembert::CAMEMBERT,
    &electra::ELECTRA,
];

/// The `model_type` values burnish loads, for messages: `bert, roberta, ...`.
pub fn supported() -> String {
    let names: Vec<&str> = FAMILIES.iter().map(|f| f.model_type).collect();
    names.join(", ")
}

/// A `config.json` as parsed JSON.
pub type JsonMap = serde_json::Map<String, serde_json::Value>;

/// One architecture family: everything in which its `transformers` implementation differs from
/// the others, as data.
pub struct Family {
    /// `model_type` in `config.json`.
    pub model_type: &'static str,
    /// Its name in messages (`RoBERTa`).
    pub name: &'static str,
    /// The prefix of `transformers`' class names (`Roberta` in `RobertaForMaskedLM`).
    pub class_prefix: &'static str,
    /// The `transformers` source this family mirrors.
    pub source: &'static str,
    /// Whether it is a causal decoder ([`gpt2::model::Gpt2Model`]) rather than an encoder
    /// ([`crate::model::BertModel`]).
    pub is_decoder: bool,
    /// Whether the embeddings have a token-type (segment) table.
    pub has_token_types: bool,
    /// Whether the encoder can have a pooler.
    pub has_pooler: bool,
    /// How position ids are counted.
    pub positions: Positions,
    /// How its `config.json` differs from BERT's.
    pub config: ConfigFields,
    /// How its checkpoint names differ from BERT's.
    pub weights: WeightNames,
    /// How its task heads differ from BERT's.
    pub heads: Heads,
}

/// How a family counts position ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Positions {
    /// `0..S`.
    Absolute,
    /// From `pad_token_id + 1` over the non-padding tokens (RoBERTa's
    /// `create_position_ids_from_input_ids`): the first `pad_token_id + 1` positions are never
    /// used.
    AfterPadding,
}

/// A family's `config.json`, relative to BERT's (the names [`crate::BertConfig`] uses).
#[derive(Debug)]
pub struct ConfigFields {
    /// Its field names and BERT's for the same value (`("n_embd", "hidden_size")`); empty when
    /// the family uses BERT's names.
    pub renames: &'static [(&'static str, &'static str)],
    /// Fills in the family's own defaults and renames its fields to BERT's, before the config
    /// is parsed; `None`: the file is parsed as it is (errors then carry its line).
    pub to_bert: Option<fn(JsonMap) -> JsonMap>,
    /// BERT fields the family's config does not have: left out when writing.
    pub absent: &'static [&'static str],
    /// `pad_token_id` when the file has none.
    pub default_pad_token_id: usize,
    /// Settings the implementation does not have: `(field, value, reason)`; a config with the
    /// value is refused rather than computed differently.
    pub unsupported: &'static [(&'static str, bool, &'static str)],
    /// The embeddings' dropout, when the family has its own field for it: `(field, default)`
    /// (GPT-2's `embd_pdrop`); else `hidden_dropout_prob`.
    pub embedding_dropout: Option<(&'static str, f64)>,
}

/// A family's checkpoint names, relative to burnish's parameter paths (which are BERT's
/// `transformers` names; see [`crate::weights::NameMap`]).
#[derive(Debug)]
pub struct WeightNames {
    /// `transformers`' `base_model_prefix`: the encoder's name inside a head model
    /// (`roberta.encoder.layer.0...`, GPT-2's `transformer.h.0...`).
    pub base_prefix: &'static str,
    /// The same module's name in burnish's head structs (`bert` for the encoders; GPT-2's
    /// heads call it `transformer`, as `transformers` does).
    pub burnish_base: &'static str,
    /// burnish path segments <-> the family's, inside the encoder (DistilBERT's `q_lin`, ...).
    /// Longer sequences first where they share a start.
    pub layers: &'static [(&'static str, &'static str)],
    /// Modules whose weights the checkpoint stores `[in, out]` (GPT-2's `Conv1D`), suffixes of
    /// the module path.
    pub stored_transposed: &'static [&'static str],
    /// A tensor every checkpoint of the family has, under a bare encoder's names.
    pub probe: &'static str,
    /// The first segments of a bare encoder's names.
    pub bare_starts: &'static [&'static str],
    /// The prefixes a head checkpoint may put the encoder under.
    pub head_bases: &'static [&'static str],
}

/// A family's task heads, relative to BERT's.
#[derive(Debug)]
pub struct Heads {
    /// The `transformers` classes of this family burnish implements, as suffixes of
    /// [`Family::class_prefix`] (`"ForMaskedLM"`).
    pub classes: &'static [&'static str],
    /// What the sequence classifier puts between the encoder and the output layer.
    pub classifier: ClassifierHead,
    /// The sequence classifier's names: burnish prefix <-> the family's.
    pub classifier_names: &'static [(&'static str, &'static str)],
    /// The masked-LM head's names: burnish prefix <-> the family's.
    pub masked_lm_names: &'static [(&'static str, &'static str)],
    /// The masked-LM head's activation when the family fixes it (`RobertaLMHead` applies
    /// `gelu` whatever `hidden_act` says); else `hidden_act`.
    pub masked_lm_act: Option<HiddenAct>,
    /// The names of the language-model decoder tied to the word embeddings.
    pub tied_decoder: TiedDecoder,
    /// Whether the token classifier's dropout is `hidden_dropout_prob` (DistilBERT's
    /// `dropout`) rather than `classifier_dropout`, else `hidden_dropout_prob`.
    pub token_dropout_is_hidden: bool,
    /// The modules LoRA adapts by default (`peft`'s `target_modules` for this `model_type`,
    /// `transformers` module names matched as suffixes): see [`crate::lora`].
    pub lora_targets: &'static [&'static str],
}

/// What a sequence classifier applies to the encoder's output before its output layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassifierHead {
    /// The encoder's pooler (`tanh(dense(h[CLS]))`), then dropout (BERT).
    Pooler,
    /// Dropout, an `H -> H` layer and `tanh` on the first token, then dropout
    /// (`RobertaClassificationHead`).
    DenseTanh,
    /// The same with (exact) GELU instead of `tanh` (`ElectraClassificationHead`).
    DenseGelu,
    /// An `H -> H` layer and ReLU on the first token, then dropout (DistilBERT's
    /// `pre_classifier`).
    DenseRelu,
    /// The decoder's own head on the last token (GPT-2: `burnish_heads::gpt2`).
    LastToken,
}

/// The checkpoint names of a language-model decoder tied to the word embeddings.
#[derive(Debug, Clone, Copy)]
pub struct TiedDecoder {
    /// The decoder weight (dropped on load: it is the word embeddings).
    pub weight: &'static str,
    /// An alias of the output bias some checkpoints carry (`cls.predictions.decoder.bias`).
    pub bias_alias: Option<&'static str>,
    /// The output bias.
    pub bias: &'static str,
}

impl PartialEq for Family {
    /// Families are the same when their `model_type` is.
    fn eq(&self, other: &Self) -> bool {
        self.model_type == other.model_type
    }
}

impl Eq for Family {}

impl std::fmt::Debug for Family {
    /// The `model_type` (the rest is static data).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Family({})", self.model_type)
    }
}

impl Family {
    /// The `transformers` class of this family for `suffix` (`"Model"`,
    /// `"ForSequenceClassification"`, ...).
    pub fn class_name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.class_prefix)
    }

    /// Whether burnish implements the class `suffix` (`"ForPreTraining"`) of this family.
    pub fn has_class(&self, suffix: &str) -> bool {
        self.heads.classes.contains(&suffix)
    }

    /// The family's name for the BERT config field `bert_field` (`n_layer` for
    /// `num_hidden_layers` in GPT-2's); `bert_field` where the family uses BERT's.
    pub fn config_field(&self, bert_field: &'static str) -> &'static str {
        self.config
            .renames
            .iter()
            .find(|(_, bert)| *bert == bert_field)
            .map_or(bert_field, |(own, _)| own)
    }

    /// The family of a `model_type`, if supported.
    pub fn from_model_type(model_type: &str) -> Option<&'static Family> {
        FAMILIES
            .iter()
            .copied()
            .find(|f| f.model_type == model_type)
    }

    /// The family of a `transformers` class name (`DistilBertForMaskedLM`), if supported.
    pub fn from_class_name(class: &str) -> Option<&'static Family> {
        FAMILIES.iter().copied().find(|f| {
            class.strip_prefix(f.class_prefix).is_some_and(|rest| {
                rest == "Model" || rest == "LMHeadModel" || rest.starts_with("For")
            })
        })
    }

    /// Reads the family from a parsed `config.json`: `model_type`, else the first
    /// `architectures` entry, else BERT (older BERT configs name neither). The one place where
    /// `model_type` picks a family.
    ///
    /// # Errors
    /// [`EncoderError::UnsupportedFamily`] for a `model_type` or class of another family.
    pub fn detect(config: &JsonMap, path: &Path) -> Result<&'static Family> {
        let unsupported = |found: String| EncoderError::UnsupportedFamily {
            path: path.to_path_buf(),
            found,
            supported: supported(),
        };
        if let Some(model_type) = config.get("model_type") {
            let name = model_type.as_str().unwrap_or_default();
            return Self::from_model_type(name).ok_or_else(|| unsupported(model_type.to_string()));
        }
        let classes = config.get("architectures").and_then(|v| v.as_array());
        match classes.and_then(|c| c.first()) {
            Some(class) => class
                .as_str()
                .and_then(Self::from_class_name)
                .ok_or_else(|| unsupported(class.to_string())),
            None => Ok(&bert::BERT),
        }
    }
}

impl Default for &'static Family {
    /// BERT, the family of configs that name none.
    fn default() -> Self {
        &bert::BERT
    }
}

/// `map` with the fields of `defaults` it lacks.
pub(crate) fn with_defaults(
    mut map: JsonMap,
    defaults: impl IntoIterator<Item = (&'static str, serde_json::Value)>,
) -> JsonMap {
    for (name, value) in defaults {
        map.entry(name).or_insert(value);
    }
    map
}

/// Renames the fields of a config in a family's names to BERT's (`renames` is `(own, bert)`).
pub(crate) fn rename_to_bert(
    renames: &[(&'static str, &'static str)],
    mut map: JsonMap,
) -> JsonMap {
    for (own, bert) in renames {
        if let Some(value) = map.remove(*own) {
            map.insert((*bert).into(), value);
        }
    }
    map
}

/// The reverse of [`rename_to_bert`], for writing: the family's names, without the BERT fields
/// it does not have and without nulls.
pub(crate) fn rename_from_bert(family: &Family, mut map: JsonMap) -> JsonMap {
    for name in family.config.absent {
        map.remove(*name);
    }
    for (own, bert) in family.config.renames {
        match map.remove(*bert) {
            Some(serde_json::Value::Null) | None => {}
            Some(value) => {
                map.insert((*own).into(), value);
            }
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every family's classes are its own: no class prefix is taken for another family's
    /// (`Roberta` is not a prefix of `XLMRoberta`, nor `Bert` of `Camembert` / `DistilBert`).
    #[test]
    fn class_names_pick_their_own_family() {
        for family in FAMILIES {
            for suffix in family.heads.classes {
                let class = family.class_name(suffix);
                assert_eq!(Family::from_class_name(&class), Some(*family), "{class}");
            }
            assert_eq!(Family::from_model_type(family.model_type), Some(*family));
        }
        assert_eq!(
            Family::from_class_name("XLMRobertaForSequenceClassification"),
            Some(&xlm_roberta::XLM_ROBERTA)
        );
        assert_eq!(
            Family::from_class_name("CamembertForMaskedLM"),
            Some(&camembert::CAMEMBERT)
        );
        assert_eq!(Family::from_class_name("XLMRobertaXLModel"), None);
        assert!(supported().contains("xlm-roberta") && supported().contains("camembert"));
    }
}
