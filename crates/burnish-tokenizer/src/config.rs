//! The BERT tokenizer settings and the Hugging Face files that carry them:
//! `tokenizer_config.json` and `special_tokens_map.json`.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Result, TokenizerError};

/// Name of the Hugging Face tokenizer configuration file.
pub const TOKENIZER_CONFIG_FILE: &str = "tokenizer_config.json";
/// Name of the Hugging Face special-tokens file.
pub const SPECIAL_TOKENS_MAP_FILE: &str = "special_tokens_map.json";

/// The text of the special tokens a BERT pipeline gives a role to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialTokens {
    /// Replaces words the vocabulary cannot spell (`[UNK]`).
    pub unk: String,
    /// Starts every encoded input (`[CLS]`).
    pub cls: String,
    /// Ends each sequence (`[SEP]`).
    pub sep: String,
    /// Fills padded positions (`[PAD]`).
    pub pad: String,
    /// Replaces masked tokens in masked-language-model training (`[MASK]`).
    pub mask: String,
}

impl Default for SpecialTokens {
    fn default() -> Self {
        Self {
            unk: "[UNK]".into(),
            cls: "[CLS]".into(),
            sep: "[SEP]".into(),
            pad: "[PAD]".into(),
            mask: "[MASK]".into(),
        }
    }
}

impl SpecialTokens {
    /// RoBERTa's special tokens: `<unk>`, `<s>`, `</s>`, `<pad>`, `<mask>`.
    pub fn roberta() -> Self {
        Self {
            unk: "<unk>".into(),
            cls: "<s>".into(),
            sep: "</s>".into(),
            pad: "<pad>".into(),
            mask: "<mask>".into(),
        }
    }

    /// The tokens with their role and their Hugging Face configuration key, in the order
    /// `unk, cls, sep, pad, mask`.
    pub(crate) fn roles(&self) -> [(&'static str, &'static str, &str); 5] {
        [
            ("unk", "unk_token", &self.unk),
            ("cls", "cls_token", &self.cls),
            ("sep", "sep_token", &self.sep),
            ("pad", "pad_token", &self.pad),
            ("mask", "mask_token", &self.mask),
        ]
    }

    /// Overrides the tokens named in a Hugging Face configuration file (`unk_token`, ...). A
    /// file that names no `cls_token` / `sep_token` but a `bos_token` / `eos_token` (GPT-2's
    /// `<|endoftext|>`) gives those the start / end roles.
    pub(crate) fn update_from(&mut self, config: &ConfigFile) -> Result<()> {
        for (key, fallback, slot) in [
            ("cls_token", "bos_token", &mut self.cls),
            ("sep_token", "eos_token", &mut self.sep),
        ] {
            if config.token(key)?.is_none()
                && let Some(token) = config.token(fallback)?
            {
                *slot = token;
            }
        }
        for (key, slot) in [
            ("unk_token", &mut self.unk),
            ("cls_token", &mut self.cls),
            ("sep_token", &mut self.sep),
            ("pad_token", &mut self.pad),
            ("mask_token", &mut self.mask),
        ] {
            if let Some(token) = config.token(key)? {
                *slot = token;
            }
        }
        Ok(())
    }
}

/// How to build a BERT WordPiece tokenizer from a `vocab.txt`, with the same meaning as the
/// arguments of Hugging Face's `BertTokenizer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BertTokenizerOptions {
    /// Lowercase the text (`do_lower_case`, default `true`).
    pub lowercase: bool,
    /// Remove accents (`strip_accents`); `None` follows `lowercase`, as in `BertTokenizer`.
    pub strip_accents: Option<bool>,
    /// Put spaces around CJK characters so each is a word (`tokenize_chinese_chars`, default
    /// `true`).
    pub tokenize_chinese_chars: bool,
    /// The special tokens' text.
    pub special_tokens: SpecialTokens,
    /// The longest input the model accepts (`model_max_length`), if known.
    pub model_max_length: Option<usize>,
    /// Words longer than this many characters become `[UNK]` (default 100).
    pub max_input_chars_per_word: usize,
}

impl Default for BertTokenizerOptions {
    fn default() -> Self {
        Self {
            lowercase: true,
            strip_accents: None,
            tokenize_chinese_chars: true,
            special_tokens: SpecialTokens::default(),
            model_max_length: None,
            max_input_chars_per_word: 100,
        }
    }
}

impl BertTokenizerOptions {
    /// Reads the options from a model folder's `tokenizer_config.json` and
    /// `special_tokens_map.json` (both optional; missing ones leave the defaults). As in
    /// `transformers`, a token named in `special_tokens_map.json` wins over
    /// `tokenizer_config.json`.
    ///
    /// # Errors
    /// A file that exists but cannot be read, is not a JSON object, or has a field of the wrong
    /// type.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        Self::from_config_files(
            ConfigFile::read_if_exists(&dir.join(TOKENIZER_CONFIG_FILE))?.as_ref(),
            ConfigFile::read_if_exists(&dir.join(SPECIAL_TOKENS_MAP_FILE))?.as_ref(),
        )
    }

    /// The options from parsed `tokenizer_config.json` and `special_tokens_map.json` files.
    pub(crate) fn from_config_files(
        config: Option<&ConfigFile>,
        special_map: Option<&ConfigFile>,
    ) -> Result<Self> {
        let mut options = Self::default();
        if let Some(config) = config {
            options.update_from(config)?;
        }
        if let Some(map) = special_map {
            options.special_tokens.update_from(map)?;
        }
        Ok(options)
    }

    /// Overrides the options found in a `tokenizer_config.json`.
    pub(crate) fn update_from(&mut self, config: &ConfigFile) -> Result<()> {
        if let Some(lowercase) = config.bool("do_lower_case")? {
            self.lowercase = lowercase;
        }
        if config.map.contains_key("strip_accents") {
            self.strip_accents = config.bool("strip_accents")?;
        }
        if let Some(chinese) = config.bool("tokenize_chinese_chars")? {
            self.tokenize_chinese_chars = chinese;
        }
        if let Some(length) = config.model_max_length()? {
            self.model_max_length = Some(length);
        }
        self.special_tokens.update_from(config)
    }
}

/// A parsed Hugging Face JSON configuration file, kept with its path for error messages.
#[derive(Debug, Clone)]
pub(crate) struct ConfigFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its top-level object.
    pub map: Map<String, Value>,
}

impl ConfigFile {
    /// Reads and parses `path`, or returns `None` if it does not exist.
    pub fn read_if_exists(path: &Path) -> Result<Option<Self>> {
        if !path.is_file() {
            return Ok(None);
        }
        let bytes = std::fs::read(path).map_err(|e| TokenizerError::io(path, e))?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|source| TokenizerError::Json {
                path: path.to_path_buf(),
                source,
            })?;
        match value {
            Value::Object(map) => Ok(Some(Self {
                path: path.to_path_buf(),
                map,
            })),
            other => Err(TokenizerError::field(
                path,
                "<top level>",
                format!("expected a JSON object, found {}", json_kind(&other)),
            )),
        }
    }

    /// A boolean field; `None` when absent or `null`.
    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong_type(key, "a boolean or null", other)),
        }
    }

    /// A special-token field: either a string or, as older `transformers` wrote it, an object
    /// with a `content` string. `None` when absent or `null`.
    pub fn token(&self, key: &str) -> Result<Option<String>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Object(o)) => match o.get("content") {
                Some(Value::String(s)) => Ok(Some(s.clone())),
                _ => Err(TokenizerError::field(
                    &self.path,
                    key,
                    "expected a string or an object with a `content` string",
                )),
            },
            Some(other) => Err(self.wrong_type(key, "a string", other)),
        }
    }

    /// `model_max_length`. `transformers` writes a huge number (`1e30`) to mean "no limit";
    /// anything that does not fit in a `u64` is read as that sentinel (`None`).
    pub fn model_max_length(&self) -> Result<Option<usize>> {
        const KEY: &str = "model_max_length";
        match self.map.get(KEY) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => {
                if let Some(length) = n.as_u64() {
                    Ok(usize::try_from(length).ok())
                } else if n.as_f64().is_some_and(|f| f >= u64::MAX as f64) {
                    Ok(None)
                } else {
                    Err(TokenizerError::field(
                        &self.path,
                        KEY,
                        format!("expected a non-negative integer, found {n}"),
                    ))
                }
            }
            Some(other) => Err(self.wrong_type(KEY, "an integer", other)),
        }
    }

    fn wrong_type(&self, key: &str, expected: &str, found: &Value) -> TokenizerError {
        TokenizerError::field(
            &self.path,
            key,
            format!("expected {expected}, found {}", json_kind(found)),
        )
    }
}

/// A JSON value's kind, for error messages ("a string", "null"): every JSON file burnish reads
/// says what it found this way.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> ConfigFile {
        let Value::Object(map) = serde_json::from_str(json).unwrap() else {
            panic!("not an object")
        };
        ConfigFile {
            path: PathBuf::from("tokenizer_config.json"),
            map,
        }
    }

    #[test]
    fn reads_hf_fields() {
        let mut options = BertTokenizerOptions::default();
        options
            .update_from(&config(
                r#"{"do_lower_case": false, "strip_accents": true, "tokenize_chinese_chars": false,
                    "model_max_length": 256, "unk_token": {"content": "<unk>", "lstrip": false},
                    "mask_token": "<mask>"}"#,
            ))
            .unwrap();
        assert!(!options.lowercase);
        assert_eq!(options.strip_accents, Some(true));
        assert!(!options.tokenize_chinese_chars);
        assert_eq!(options.model_max_length, Some(256));
        assert_eq!(options.special_tokens.unk, "<unk>");
        assert_eq!(options.special_tokens.mask, "<mask>");
        assert_eq!(options.special_tokens.cls, "[CLS]");
    }

    #[test]
    fn huge_model_max_length_means_no_limit() {
        let c = config(r#"{"model_max_length": 1000000000000000019884624838656}"#);
        assert_eq!(c.model_max_length().unwrap(), None);
        let c = config(r#"{"model_max_length": -3}"#);
        assert!(c.model_max_length().is_err());
    }

    #[test]
    fn wrong_type_names_file_and_field() {
        let err = config(r#"{"do_lower_case": "yes"}"#)
            .bool("do_lower_case")
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("tokenizer_config.json"), "{message}");
        assert!(message.contains("do_lower_case"), "{message}");
    }
}
