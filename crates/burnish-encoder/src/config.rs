//! [`BertConfig`]: the model's hyper-parameters, read from and written to Hugging Face's
//! `config.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use crate::activation::HiddenAct;
use crate::error::{EncoderError, Result};
use crate::family::{Family, Positions, rename_from_bert};

/// The largest `vocab_size` [`BertConfig::validate`] accepts (2^24; released encoders have at
/// most a few hundred thousand tokens). The limits stop a damaged or hostile `config.json`
/// from asking for a model that cannot be allocated; a model is also checked against its
/// weights before it is built ([`crate::weights::check_config`]).
pub const MAX_VOCAB_SIZE: usize = 1 << 24;
/// The largest `hidden_size` accepted (65,536).
pub const MAX_HIDDEN_SIZE: usize = 1 << 16;
/// The largest `num_hidden_layers` accepted (1,024).
pub const MAX_LAYERS: usize = 1 << 10;
/// The largest `intermediate_size` accepted (262,144).
pub const MAX_INTERMEDIATE_SIZE: usize = 1 << 18;
/// The largest `max_position_embeddings` accepted (1,048,576).
pub const MAX_POSITIONS: usize = 1 << 20;
/// The largest `type_vocab_size` accepted (65,536).
pub const MAX_TYPE_VOCAB_SIZE: usize = 1 << 16;

/// Hyper-parameters of a BERT encoder, as in Hugging Face's `BertConfig`.
///
/// Fields absent from `config.json` take `transformers`' defaults; fields this crate does not
/// use (`architectures`, `id2label`, `problem_type`, ...) are kept in [`BertConfig::extra`] so
/// that saving writes them back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BertConfig {
    /// Number of word-piece ids.
    pub vocab_size: usize,
    /// Width of every hidden state.
    pub hidden_size: usize,
    /// Number of transformer layers.
    pub num_hidden_layers: usize,
    /// Number of attention heads per layer; divides `hidden_size`.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Feed-forward activation.
    pub hidden_act: HiddenAct,
    /// Dropout on embeddings and on every sub-layer output.
    pub hidden_dropout_prob: f64,
    /// Dropout on attention probabilities.
    pub attention_probs_dropout_prob: f64,
    /// Number of learned absolute positions (the longest input the model takes).
    pub max_position_embeddings: usize,
    /// Number of token types (segments).
    pub type_vocab_size: usize,
    /// Standard deviation of the normal initialiser for fresh weights.
    pub initializer_range: f64,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f64,
    /// Id of the padding token.
    pub pad_token_id: usize,
    /// Only `"absolute"` is supported.
    pub position_embedding_type: String,
    /// Dropout before classification heads; `None` means `hidden_dropout_prob`.
    pub classifier_dropout: Option<f64>,
    /// Width of the embeddings when it differs from `hidden_size` (ELECTRA's `embedding_size`:
    /// the embeddings are then projected to the hidden size, `embeddings_project`); `None`:
    /// `hidden_size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding_size: Option<usize>,
    /// Every other field of `config.json`, kept verbatim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// The architecture family (from `model_type`; written back as `model_type`).
    #[serde(skip)]
    pub family: &'static Family,
}

impl Default for BertConfig {
    /// `transformers`' defaults (BERT-base, uncased).
    fn default() -> Self {
        Self {
            vocab_size: 30522,
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: HiddenAct::Gelu,
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            max_position_embeddings: 512,
            type_vocab_size: 2,
            initializer_range: 0.02,
            layer_norm_eps: 1e-12,
            pad_token_id: 0,
            position_embedding_type: "absolute".to_string(),
            classifier_dropout: None,
            embedding_size: None,
            extra: serde_json::Map::new(),
            family: &crate::family::bert::BERT,
        }
    }
}

impl BertConfig {
    /// Reads and validates a `config.json`.
    ///
    /// # Errors
    /// [`EncoderError::Io`] if the file cannot be read, [`EncoderError::ConfigJson`] if it is
    /// not a JSON object of the right field types (with line and column), and
    /// [`EncoderError::ConfigValue`] if a value is unusable (see [`BertConfig::validate`]).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| EncoderError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json_str(&text, path)
    }

    /// Parses a `config.json` held in memory; `path` is only used in error messages.
    ///
    /// # Errors
    /// As [`BertConfig::from_file`].
    pub fn from_json_str(text: &str, path: &Path) -> Result<Self> {
        let json_error = |source| EncoderError::ConfigJson {
            path: path.to_path_buf(),
            source,
        };
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).map_err(json_error)?;
        let family = Family::detect(&map, path)?;
        let renamed = family.config.to_bert.map(|to_bert| to_bert(map.clone()));
        let has_pad_token_id = renamed
            .as_ref()
            .unwrap_or(&map)
            .contains_key("pad_token_id");
        let parsed = match renamed {
            // Parsed from the text, so that a wrong field type is reported with its line.
            None => serde_json::from_str::<Self>(text),
            Some(renamed) => serde_json::from_value(serde_json::Value::Object(renamed)),
        };
        let mut config: Self = parsed.map_err(|source| {
            // serde reports an unknown `hidden_act` as a JSON error; say what is accepted.
            if source.to_string().contains("unknown variant") && text.contains("hidden_act") {
                return EncoderError::ConfigValue {
                    path: path.to_path_buf(),
                    field: "hidden_act",
                    reason: format!("{source}; supported: {}", HiddenAct::SUPPORTED),
                };
            }
            EncoderError::ConfigJson {
                path: path.to_path_buf(),
                source,
            }
        })?;
        config.family = family;
        if !has_pad_token_id {
            config.pad_token_id = family.config.default_pad_token_id;
        }
        config.validate(path)?;
        Ok(config)
    }

    /// The longest input (in tokens) the position embeddings cover: `max_position_embeddings`,
    /// less `pad_token_id + 1` where positions start there (RoBERTa's).
    pub fn max_sequence_length(&self) -> usize {
        match self.family.positions {
            Positions::AfterPadding => self
                .max_position_embeddings
                .saturating_sub(self.pad_token_id + 1),
            Positions::Absolute => self.max_position_embeddings,
        }
    }

    /// The number of parameters of the encoder this config describes (embeddings, layers,
    /// pooler), computed without building it; saturates instead of overflowing.
    pub fn num_encoder_parameters(&self) -> u64 {
        let [v, h, l, i, p, t] = [
            self.vocab_size,
            self.hidden_size,
            self.num_hidden_layers,
            self.intermediate_size,
            self.max_position_embeddings,
            self.type_vocab_size,
        ]
        .map(|x| x as u64);
        // Embeddings `E` wide (and ELECTRA's `E -> H` projection where `E` differs).
        let e = self.embedding_size() as u64;
        let project = if e == h { 0 } else { (e + 1).saturating_mul(h) };
        let embeddings = (v + p + t)
            .saturating_mul(e)
            .saturating_add(2 * e)
            .saturating_add(project);
        // Q, K, V and the attention output (weights and biases), two LayerNorms, the
        // feed-forward pair.
        let layer = (4 * h)
            .saturating_mul(h + 1)
            .saturating_add(4 * h)
            .saturating_add((2 * h).saturating_mul(i))
            .saturating_add(i + h);
        let pooler = h.saturating_mul(h + 1);
        embeddings
            .saturating_add(layer.saturating_mul(l))
            .saturating_add(pooler)
    }

    /// Checks the values a model cannot be built with; `path` is only used in error messages.
    ///
    /// # Errors
    /// [`EncoderError::ConfigValue`] naming the field.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let bad = |field: &'static str, reason: String| {
            Err(EncoderError::ConfigValue {
                path: path.to_path_buf(),
                field,
                reason,
            })
        };
        for (field, value) in [
            ("vocab_size", self.vocab_size),
            ("hidden_size", self.hidden_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("num_attention_heads", self.num_attention_heads),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
            ("embedding_size", self.embedding_size()),
        ] {
            if value == 0 {
                return bad(field, "must be positive".into());
            }
        }
        for (field, value, limit) in [
            ("vocab_size", self.vocab_size, MAX_VOCAB_SIZE),
            ("hidden_size", self.hidden_size, MAX_HIDDEN_SIZE),
            ("embedding_size", self.embedding_size(), MAX_HIDDEN_SIZE),
            ("num_hidden_layers", self.num_hidden_layers, MAX_LAYERS),
            (
                "intermediate_size",
                self.intermediate_size,
                MAX_INTERMEDIATE_SIZE,
            ),
            (
                "max_position_embeddings",
                self.max_position_embeddings,
                MAX_POSITIONS,
            ),
            ("type_vocab_size", self.type_vocab_size, MAX_TYPE_VOCAB_SIZE),
        ] {
            if value > limit {
                return bad(
                    field,
                    format!(
                        "{value} is above burnish's limit of {limit} (far beyond any released \
                         model: is the file damaged?)"
                    ),
                );
            }
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return bad(
                "num_attention_heads",
                format!(
                    "hidden_size {} is not a multiple of num_attention_heads {}",
                    self.hidden_size, self.num_attention_heads
                ),
            );
        }
        for (field, p) in [
            ("hidden_dropout_prob", self.hidden_dropout_prob),
            (
                "attention_probs_dropout_prob",
                self.attention_probs_dropout_prob,
            ),
            ("classifier_dropout", self.classifier_dropout.unwrap_or(0.0)),
        ] {
            if !(0.0..1.0).contains(&p) {
                return bad(field, format!("{p} is not a probability in [0, 1)"));
            }
        }
        if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps.is_finite()) {
            return bad(
                "layer_norm_eps",
                format!("{} is not positive", self.layer_norm_eps),
            );
        }
        if self.position_embedding_type != "absolute" {
            return bad(
                "position_embedding_type",
                format!(
                    "`{}` is not supported (only `absolute`)",
                    self.position_embedding_type
                ),
            );
        }
        for &(field, unsupported, reason) in self.family.config.unsupported {
            if self.extra.get(field) == Some(&serde_json::Value::Bool(unsupported)) {
                return bad(field, reason.into());
            }
        }
        if self.max_sequence_length() == 0 {
            return bad(
                "max_position_embeddings",
                format!(
                    "{} leaves no positions after {}'s offset pad_token_id + 1 = {}",
                    self.max_position_embeddings,
                    self.family.name,
                    self.pad_token_id + 1
                ),
            );
        }
        if self.pad_token_id >= self.vocab_size {
            return bad(
                "pad_token_id",
                format!(
                    "{} is not below vocab_size {}",
                    self.pad_token_id, self.vocab_size
                ),
            );
        }
        Ok(())
    }

    /// Width of the embeddings: `embedding_size`, else `hidden_size`.
    pub fn embedding_size(&self) -> usize {
        self.embedding_size.unwrap_or(self.hidden_size)
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// Dropout on the embeddings: the family's own field where it has one (GPT-2's
    /// `embd_pdrop`, default 0.1), else `hidden_dropout_prob`.
    pub fn embedding_dropout_prob(&self) -> f64 {
        match self.family.config.embedding_dropout {
            Some((field, default)) => self
                .extra
                .get(field)
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(default),
            None => self.hidden_dropout_prob,
        }
    }

    /// Dropout probability in front of classification heads.
    pub fn classifier_dropout_prob(&self) -> f64 {
        self.classifier_dropout.unwrap_or(self.hidden_dropout_prob)
    }

    /// Sets `architectures` to this family's class for `suffix` (`"Model"`,
    /// `"ForSequenceClassification"`: the class `transformers`' `AutoModel` picks) and
    /// `model_type` to the family's.
    pub fn set_architecture(&mut self, suffix: &str) {
        self.extra.insert(
            "architectures".into(),
            serde_json::Value::Array(vec![serde_json::Value::String(
                self.family.class_name(suffix),
            )]),
        );
        self.extra.insert(
            "model_type".into(),
            serde_json::Value::String(self.family.model_type.into()),
        );
    }

    /// Writes `config.json` (pretty-printed) atomically: a temporary file, then a rename.
    ///
    /// # Errors
    /// [`EncoderError::Io`] naming the file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut value = serde_json::to_value(self).map_err(|source| EncoderError::ConfigJson {
            path: path.to_path_buf(),
            source,
        })?;
        if let Some(map) = value.as_object_mut() {
            map.entry("model_type")
                .or_insert_with(|| serde_json::Value::String(self.family.model_type.into()));
            *map = rename_from_bert(self.family, std::mem::take(map));
        }
        let text =
            serde_json::to_string_pretty(&value).map_err(|source| EncoderError::ConfigJson {
                path: path.to_path_buf(),
                source,
            })?;
        write_atomic(path, text.as_bytes())
    }
}

/// Writes `bytes` to `path` atomically ([`burnish_fs::write_atomic`]).
///
/// # Errors
/// [`EncoderError::Io`] naming `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    burnish_fs::write_atomic(path, bytes).map_err(|source| EncoderError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_take_transformers_defaults_and_unknown_ones_are_kept() {
        let c = BertConfig::from_json_str(
            r#"{"hidden_size": 384, "num_attention_heads": 12, "foo": [1, 2], "architectures": ["BertModel"]}"#,
            Path::new("config.json"),
        )
        .unwrap();
        assert_eq!(c.hidden_size, 384);
        assert_eq!(c.num_hidden_layers, 12);
        assert_eq!(c.intermediate_size, 3072);
        assert_eq!(c.layer_norm_eps, 1e-12);
        assert_eq!(c.hidden_act, HiddenAct::Gelu);
        assert_eq!(c.extra["foo"], serde_json::json!([1, 2]));
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["architectures"], serde_json::json!(["BertModel"]));
        assert_eq!(back["hidden_act"], "gelu");
    }

    #[test]
    fn model_type_picks_the_family_and_an_unknown_one_lists_the_supported() {
        let family = |json: &str| {
            BertConfig::from_json_str(json, Path::new("m/config.json")).map(|c| c.family)
        };
        assert_eq!(
            family(r#"{"model_type": "roberta"}"#).unwrap(),
            &crate::family::roberta::ROBERTA
        );
        assert_eq!(
            family(r#"{"architectures": ["DistilBertForMaskedLM"]}"#).unwrap(),
            &crate::family::distilbert::DISTILBERT
        );
        assert_eq!(family("{}").unwrap(), &crate::family::bert::BERT);
        assert_eq!(
            family(r#"{"architectures": ["GPT2ForSequenceClassification"]}"#).unwrap(),
            &crate::family::gpt2::GPT2
        );
        for json in [
            r#"{"model_type": "llama"}"#,
            r#"{"architectures": ["XLNetLMHeadModel"]}"#,
        ] {
            let err = family(json).unwrap_err().to_string();
            assert!(
                err.contains("m/config.json")
                    && err.contains(&crate::family::supported())
                    && err.contains("gpt2")
                    && (err.contains("llama") || err.contains("XLNetLMHeadModel")),
                "{err}"
            );
        }
    }

    #[test]
    fn distilbert_fields_are_read_and_written_in_distilbert_names() {
        let c = BertConfig::from_json_str(
            r#"{"model_type": "distilbert", "dim": 32, "n_heads": 4, "hidden_dim": 64,
                "activation": "relu", "pad_token_id": 0}"#,
            Path::new("config.json"),
        )
        .unwrap();
        assert_eq!(
            (c.hidden_size, c.num_attention_heads, c.intermediate_size),
            (32, 4, 64)
        );
        assert_eq!(c.hidden_act, HiddenAct::Relu);
        // DistilBertConfig's defaults, not BertConfig's.
        assert_eq!((c.num_hidden_layers, c.classifier_dropout), (6, Some(0.2)));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        c.save(&path).unwrap();
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(written["dim"], 32);
        assert_eq!(written["n_layers"], 6);
        assert_eq!(written["activation"], "relu");
        assert_eq!(written["model_type"], "distilbert");
        for bert_only in ["hidden_size", "type_vocab_size", "layer_norm_eps"] {
            assert!(written.get(bert_only).is_none(), "{bert_only} written");
        }
        assert_eq!(BertConfig::from_file(&path).unwrap(), c);
    }

    #[test]
    fn gpt2_fields_are_read_and_written_in_gpt2_names() {
        let c = BertConfig::from_json_str(
            r#"{"model_type": "gpt2", "n_embd": 32, "n_head": 4, "n_layer": 3, "n_inner": null,
                "vocab_size": 100, "eos_token_id": 7, "n_positions": 40}"#,
            Path::new("config.json"),
        )
        .unwrap();
        assert_eq!(c.family, &crate::family::gpt2::GPT2);
        assert_eq!(
            (c.hidden_size, c.num_attention_heads, c.num_hidden_layers),
            (32, 4, 3)
        );
        // n_inner null is 4 x n_embd; GPT2Config's defaults; pad falls back to eos.
        assert_eq!(c.intermediate_size, 128);
        assert_eq!((c.hidden_act, c.layer_norm_eps), (HiddenAct::GeluNew, 1e-5));
        assert_eq!((c.pad_token_id, c.max_sequence_length()), (7, 40));
        assert_eq!(c.embedding_dropout_prob(), 0.1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        c.save(&path).unwrap();
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(written["n_embd"], 32);
        assert_eq!(written["n_inner"], 128);
        assert_eq!(written["layer_norm_epsilon"], 1e-5);
        assert_eq!(written["activation_function"], "gelu_new");
        assert_eq!(written["model_type"], "gpt2");
        for bert_only in ["hidden_size", "type_vocab_size", "layer_norm_eps"] {
            assert!(written.get(bert_only).is_none(), "{bert_only} written");
        }
        assert_eq!(BertConfig::from_file(&path).unwrap(), c);
        let err = BertConfig::from_json_str(
            r#"{"model_type": "gpt2", "scale_attn_by_inverse_layer_idx": true}"#,
            Path::new("g/config.json"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("g/config.json") && err.contains("scale_attn_by_inverse_layer_idx"),
            "{err}"
        );
    }

    #[test]
    fn roberta_positions_start_after_the_padding_index() {
        let c = BertConfig::from_json_str(
            r#"{"model_type": "roberta", "max_position_embeddings": 514}"#,
            Path::new("config.json"),
        )
        .unwrap();
        assert_eq!(c.pad_token_id, 1);
        assert_eq!(c.max_sequence_length(), 512);
    }

    #[test]
    fn activation_aliases_parse() {
        for (name, act) in [
            ("gelu_python", HiddenAct::Gelu),
            ("gelu_pytorch_tanh", HiddenAct::GeluNew),
            ("swish", HiddenAct::Silu),
            ("relu", HiddenAct::Relu),
        ] {
            let c = BertConfig::from_json_str(
                &format!(r#"{{"hidden_act": "{name}"}}"#),
                Path::new("c.json"),
            )
            .unwrap();
            assert_eq!(c.hidden_act, act, "{name}");
        }
    }

    #[test]
    fn bad_values_name_the_field() {
        let err =
            BertConfig::from_json_str(r#"{"hidden_act": "gelu_10x"}"#, Path::new("x/config.json"))
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("x/config.json")
                && err.contains("hidden_act")
                && err.contains("supported"),
            "{err}"
        );
        let err = BertConfig::from_json_str(
            r#"{"hidden_size": 100, "num_attention_heads": 12}"#,
            Path::new("config.json"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("num_attention_heads"), "{err}");
        let err =
            BertConfig::from_json_str("{\n \"hidden_size\": \"big\"}", Path::new("config.json"))
                .unwrap_err()
                .to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
