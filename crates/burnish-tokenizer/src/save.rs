//! Saving in the Hugging Face layout, every file atomically.

use std::path::Path;

use serde_json::{Map, Value};
use tokenizers::normalizers::NormalizerWrapper;

use crate::Tokenizer;
use crate::config::{SPECIAL_TOKENS_MAP_FILE, TOKENIZER_CONFIG_FILE};
use crate::error::{Result, TokenizerError};
use crate::load::{TOKENIZER_FILE, VOCAB_FILE};

impl Tokenizer {
    /// Saves the tokenizer into `dir` (created if needed) so that both [`Tokenizer::from_dir`]
    /// and `transformers.AutoTokenizer.from_pretrained(dir)` load it.
    ///
    /// Writes `tokenizer.json`; for a WordPiece tokenizer also `vocab.txt` (tokens in id order),
    /// `tokenizer_config.json` (the normaliser's settings, the special tokens,
    /// `model_max_length`, `tokenizer_class`, keeping the other keys of a loaded
    /// `tokenizer_config.json`) and `special_tokens_map.json`. Other tokenizers get a
    /// `tokenizer_config.json` only if they were loaded with one. Each file is written to a
    /// temporary file in `dir` and renamed over the target, so none is ever half-written.
    ///
    /// # Errors
    /// [`TokenizerError::Io`] if `dir` or a file cannot be written, [`TokenizerError::Save`] if
    /// the tokenizer cannot be serialised (or a token cannot be a line of `vocab.txt`).
    pub fn save_dir(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| TokenizerError::io(dir, e))?;

        let path = dir.join(TOKENIZER_FILE);
        let json = self.tokenizer_json(&path)?;
        write_atomic(&path, json.as_bytes())?;

        if self.is_wordpiece() {
            let path = dir.join(VOCAB_FILE);
            write_atomic(&path, self.vocab_txt(&path)?.as_bytes())?;
            write_json(
                &dir.join(TOKENIZER_CONFIG_FILE),
                self.tokenizer_config(true),
            )?;
            write_json(
                &dir.join(SPECIAL_TOKENS_MAP_FILE),
                self.special_tokens_map(),
            )?;
        } else if self.config_json.is_some() {
            write_json(
                &dir.join(TOKENIZER_CONFIG_FILE),
                self.tokenizer_config(false),
            )?;
        }
        Ok(())
    }

    /// `tokenizer.json`'s text, with the truncation and padding the loaded file had.
    fn tokenizer_json(&self, path: &Path) -> Result<String> {
        let save_error = |e: crate::HfError| TokenizerError::Save {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        if self.file_truncation.is_none() && self.file_padding.is_none() {
            return self.inner.to_string(true).map_err(save_error);
        }
        let mut inner = self.inner.clone();
        inner
            .with_truncation(self.file_truncation.clone())
            .map_err(save_error)?;
        inner.with_padding(self.file_padding.clone());
        inner.to_string(true).map_err(save_error)
    }

    /// `vocab.txt`'s text: line `n` is the token with id `n`. An id without a token (a gap left
    /// by a duplicated line in a loaded `vocab.txt`) gets a placeholder, so ids stay aligned.
    fn vocab_txt(&self, path: &Path) -> Result<String> {
        let size = self
            .inner
            .get_vocab(true)
            .values()
            .max()
            .map_or(0, |&max| max as usize + 1);
        let mut text = String::new();
        for id in 0..size as u32 {
            let token = self
                .inner
                .id_to_token(id)
                .unwrap_or_else(|| format!("[burnish_unused_{id}]"));
            if token.contains(['\n', '\r']) || token.trim_end() != token {
                return Err(TokenizerError::Save {
                    path: path.to_path_buf(),
                    reason: format!(
                        "token {id} ({token:?}) ends with whitespace or has a line break, so it \
                         cannot be a line of vocab.txt"
                    ),
                });
            }
            text.push_str(&token);
            text.push('\n');
        }
        Ok(text)
    }

    /// `tokenizer_config.json`: the loaded one (if any) updated with what this tokenizer knows.
    fn tokenizer_config(&self, wordpiece: bool) -> Map<String, Value> {
        let mut config = self.config_json.clone().unwrap_or_default();
        if let Some(length) = self.model_max_length {
            config.insert("model_max_length".into(), length.into());
        }
        if !wordpiece {
            return config;
        }
        if let Some(NormalizerWrapper::BertNormalizer(normalizer)) = self.inner.get_normalizer() {
            config.insert("do_lower_case".into(), normalizer.lowercase.into());
            config.insert(
                "strip_accents".into(),
                normalizer.strip_accents.map_or(Value::Null, Value::Bool),
            );
            config.insert(
                "tokenize_chinese_chars".into(),
                normalizer.handle_chinese_chars.into(),
            );
        }
        for (_, key, token) in self.special.roles() {
            let value = match self.token_to_id(token) {
                Some(_) => Value::String(token.to_owned()),
                None => Value::Null,
            };
            config.insert(key.into(), value);
        }
        config
            .entry("tokenizer_class")
            .or_insert_with(|| "BertTokenizer".into());
        config
            .entry("clean_up_tokenization_spaces")
            .or_insert(Value::Bool(true));
        config
    }

    /// `special_tokens_map.json`: the special tokens the vocabulary has.
    fn special_tokens_map(&self) -> Map<String, Value> {
        self.special
            .roles()
            .iter()
            .filter(|(_, _, token)| self.token_to_id(token).is_some())
            .map(|(_, key, token)| ((*key).to_owned(), Value::String((*token).to_owned())))
            .collect()
    }
}

/// Writes a JSON object, pretty-printed.
fn write_json(path: &Path, map: Map<String, Value>) -> Result<()> {
    let text =
        serde_json::to_string_pretty(&Value::Object(map)).map_err(|e| TokenizerError::Save {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    write_atomic(path, text.as_bytes())
}

/// Writes `bytes` to `path` atomically ([`burnish_fs::write_atomic`]).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    burnish_fs::write_atomic(path, bytes).map_err(|e| TokenizerError::io(path, e))
}
