//! Loading: `tokenizer.json`, or the BERT WordPiece pipeline from `vocab.txt`, or RoBERTa's
//! byte-level BPE pipeline from `vocab.json` + `merges.txt`.

use std::io::BufRead;
use std::path::Path;

use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::ModelWrapper;
use tokenizers::models::bpe::BPE;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::processors::roberta::RobertaProcessing;
use tokenizers::{AddedToken, Model, Tokenizer as HfTokenizer};

use crate::Tokenizer;
use crate::config::{
    BertTokenizerOptions, ConfigFile, SPECIAL_TOKENS_MAP_FILE, SpecialTokens, TOKENIZER_CONFIG_FILE,
};
use crate::error::{HfError, Result, TokenizerError};

/// RoBERTa's byte-level BPE vocabulary (JSON: token -> id).
pub const BPE_VOCAB_FILE: &str = "vocab.json";
/// RoBERTa's byte-level BPE merges (one pair a line).
pub const BPE_MERGES_FILE: &str = "merges.txt";

/// Name of the Hugging Face fast-tokenizer file.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// Name of the BERT WordPiece vocabulary file (one token a line, the line number is the id).
pub const VOCAB_FILE: &str = "vocab.txt";

/// SentencePiece model files of Hugging Face folders (XLM-RoBERTa's and CamemBERT's
/// `sentencepiece.bpe.model`, T5's / ALBERT's `spiece.model`, Llama's `tokenizer.model`): not
/// read (their `tokenizer.json` is), named in the error when it is missing.
pub const SENTENCEPIECE_FILES: &[&str] =
    &["sentencepiece.bpe.model", "spiece.model", "tokenizer.model"];

/// The prefix WordPiece puts on tokens that continue a word.
pub(crate) const CONTINUING_SUBWORD_PREFIX: &str = "##";

impl Tokenizer {
    /// Loads the tokenizer of a model folder in the Hugging Face layout.
    ///
    /// With a `tokenizer.json`, that file defines the pipeline; `tokenizer_config.json` and
    /// `special_tokens_map.json`, when present, add the special tokens' names and
    /// `model_max_length`. Without one, the BERT WordPiece pipeline is built from `vocab.txt` and
    /// the options in those two files, as [`Tokenizer::from_vocab`] does.
    ///
    /// # Errors
    /// [`TokenizerError::DirNotFound`] if `dir` is not a folder,
    /// [`TokenizerError::SentencePieceOnly`] if it has a SentencePiece model
    /// ([`SENTENCEPIECE_FILES`]) but no `tokenizer.json`,
    /// [`TokenizerError::NoTokenizerFiles`] if it has neither `tokenizer.json` nor `vocab.txt`,
    /// and the errors of [`Tokenizer::from_file`] / [`Tokenizer::from_vocab`] or of the
    /// configuration files.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(TokenizerError::DirNotFound {
                dir: dir.to_path_buf(),
            });
        }
        let config = ConfigFile::read_if_exists(&dir.join(TOKENIZER_CONFIG_FILE))?;
        let special_map = ConfigFile::read_if_exists(&dir.join(SPECIAL_TOKENS_MAP_FILE))?;

        let tokenizer_json = dir.join(TOKENIZER_FILE);
        let vocab = dir.join(VOCAB_FILE);
        let mut tokenizer = if tokenizer_json.is_file() {
            let mut tokenizer = Self::from_file(&tokenizer_json)?;
            if let Some(config) = &config {
                tokenizer.special.update_from(config)?;
                if let Some(length) = config.model_max_length()? {
                    tokenizer.model_max_length = Some(length);
                }
            }
            if let Some(map) = &special_map {
                tokenizer.special.update_from(map)?;
            }
            tokenizer
        } else if dir.join(BPE_VOCAB_FILE).is_file() && dir.join(BPE_MERGES_FILE).is_file() {
            let mut special = SpecialTokens::roberta();
            for file in [&config, &special_map].into_iter().flatten() {
                special.update_from(file)?;
            }
            let mut tokenizer = Self::from_bpe_files(
                &dir.join(BPE_VOCAB_FILE),
                &dir.join(BPE_MERGES_FILE),
                &special,
            )?;
            if let Some(config) = &config {
                tokenizer.model_max_length = config.model_max_length()?;
            }
            tokenizer
        } else if vocab.is_file() {
            let options =
                BertTokenizerOptions::from_config_files(config.as_ref(), special_map.as_ref())?;
            Self::from_vocab(&vocab, &options)?
        } else if let Some(file) = SENTENCEPIECE_FILES
            .iter()
            .find(|file| dir.join(file).is_file())
        {
            return Err(TokenizerError::SentencePieceOnly {
                dir: dir.to_path_buf(),
                file: (*file).to_owned(),
            });
        } else {
            return Err(TokenizerError::NoTokenizerFiles {
                dir: dir.to_path_buf(),
            });
        };
        tokenizer.config_json = config.map(|c| c.map);
        Ok(tokenizer)
    }

    /// Loads a Hugging Face `tokenizer.json`.
    ///
    /// The special tokens' names are taken from the file where it says them (the WordPiece
    /// model's unknown token, a `BertProcessing` or `RobertaProcessing` post-processor's
    /// `[CLS]`/`[SEP]` (`<s>`/`</s>`), the padding's
    /// token) and are the BERT defaults otherwise; `model_max_length` is unknown
    /// ([`Tokenizer::from_dir`] reads it from `tokenizer_config.json`). Truncation and padding
    /// settings in the file are ignored when encoding (they are per call here) but kept when
    /// saving.
    ///
    /// # Errors
    /// [`TokenizerError::Io`] if the file cannot be read, [`TokenizerError::Json`] if it is not
    /// valid JSON or not a tokenizer's JSON (with line and column),
    /// [`TokenizerError::InvalidTokenizer`] if the `tokenizers` crate rejects it otherwise.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| TokenizerError::io(path, e))?;
        // Syntax first: `tokenizers` 0.22 panics (instead of failing) on some malformed JSON
        // inside the decoder (found by crates/burnish-tokenizer/tests/fuzz.rs).
        let json = serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|source| {
            TokenizerError::Json {
                path: path.to_path_buf(),
                source,
            }
        })?;
        check_templates(path, "post_processor", &json["post_processor"])?;
        let mut inner = HfTokenizer::from_bytes(&bytes).map_err(|e| invalid_json(path, e))?;

        let file_truncation = inner.get_truncation().cloned();
        let file_padding = inner.get_padding().cloned();
        inner
            .with_truncation(None)
            .map_err(|source| TokenizerError::InvalidTokenizer {
                path: path.to_path_buf(),
                source,
            })?;
        inner.with_padding(None);

        let mut special = SpecialTokens::default();
        if let ModelWrapper::WordPiece(model) = inner.get_model() {
            special.unk.clone_from(&model.unk_token);
        }
        match inner.get_post_processor() {
            Some(PostProcessorWrapper::Bert(processor)) => {
                special.cls = processor.get_cls_copy().0;
                special.sep = processor.get_sep_copy().0;
            }
            // RoBERTa's `<s> A </s>` / `<s> A </s></s> B </s>` (all token types 0).
            Some(PostProcessorWrapper::Roberta(processor)) => {
                special.cls = processor.get_cls_copy().0;
                special.sep = processor.get_sep_copy().0;
            }
            _ => {}
        }
        if let Some(padding) = &file_padding {
            special.pad.clone_from(&padding.pad_token);
        }

        Ok(Self::assemble(
            inner,
            special,
            None,
            (file_truncation, file_padding),
        ))
    }

    /// Builds RoBERTa's byte-level BPE pipeline from `vocab.json` + `merges.txt`, as
    /// `transformers`' `RobertaTokenizerFast` does without a `tokenizer.json`: the byte-level
    /// pre-tokenizer (no prefix space) and decoder, `<s> A </s>` / `<s> A </s></s> B </s>` with
    /// one token type and trimmed offsets (`RobertaProcessing`), and the special tokens of
    /// `special` that are in the vocabulary registered as special (the mask token takes the
    /// space before it, as RoBERTa's `<mask>`).
    ///
    /// # Errors
    /// [`TokenizerError::InvalidTokenizer`] if the files cannot be read as a BPE model,
    /// [`TokenizerError::MissingSpecialToken`] if the `cls` or `sep` token is not in the
    /// vocabulary.
    pub fn from_bpe_files(
        vocab_json: &Path,
        merges_txt: &Path,
        special: &SpecialTokens,
    ) -> Result<Self> {
        let model = BPE::from_file(&vocab_json.to_string_lossy(), &merges_txt.to_string_lossy())
            .build()
            .map_err(|source| TokenizerError::InvalidTokenizer {
                path: vocab_json.to_path_buf(),
                source,
            })?;
        let required = |role: &'static str, token: &str| {
            model
                .token_to_id(token)
                .ok_or_else(|| TokenizerError::MissingSpecialToken {
                    path: vocab_json.to_path_buf(),
                    role,
                    token: token.to_owned(),
                })
        };
        let cls_id = required("cls", &special.cls)?;
        let sep_id = required("sep", &special.sep)?;
        let added: Vec<AddedToken> = special
            .roles()
            .iter()
            .filter(|(_, _, token)| model.token_to_id(token).is_some())
            .map(|(_, _, token)| AddedToken::from(*token, true).lstrip(*token == special.mask))
            .collect();
        let mut inner = HfTokenizer::new(model);
        inner.with_pre_tokenizer(Some(ByteLevel::new(false, true, true)));
        inner.with_decoder(Some(ByteLevel::default()));
        inner.with_post_processor(Some(
            RobertaProcessing::new((special.sep.clone(), sep_id), (special.cls.clone(), cls_id))
                .trim_offsets(true)
                .add_prefix_space(false),
        ));
        inner.add_special_tokens(&added);
        Ok(Self::assemble(inner, special.clone(), None, (None, None)))
    }

    /// Builds the BERT WordPiece pipeline from a `vocab.txt`, as `transformers`'
    /// `BertTokenizerFast` does: `BertNormalizer` (clean text, CJK spacing, lowercasing and
    /// accent stripping per `options`), `BertPreTokenizer` (whitespace and punctuation),
    /// WordPiece (`##` continuations, the unknown token, `max_input_chars_per_word`), the
    /// post-processor `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]` with type ids 0 for A and its
    /// `[SEP]`, 1 for B and its `[SEP]`, and the WordPiece decoder.
    ///
    /// Line `n` (from 0) of the file is the token with id `n`; a token that appears twice keeps
    /// its last id, as in `transformers`. The special tokens found in the vocabulary are
    /// registered as special, so `[MASK]` in a text is one token; `[PAD]` and `[MASK]` may be
    /// missing (their accessors then return `None`).
    ///
    /// # Errors
    /// [`TokenizerError::Io`] / [`TokenizerError::Line`] if the file cannot be read or a line is
    /// not UTF-8, [`TokenizerError::EmptyVocab`] if it has no tokens,
    /// [`TokenizerError::MissingSpecialToken`] if the unknown, `[CLS]` or `[SEP]` token is not in
    /// it.
    pub fn from_vocab(vocab_txt: impl AsRef<Path>, options: &BertTokenizerOptions) -> Result<Self> {
        let path = vocab_txt.as_ref();
        let special = &options.special_tokens;
        let model = read_vocab(path, special, options.max_input_chars_per_word)?;
        let required = |role: &'static str, token: &str| {
            model
                .token_to_id(token)
                .ok_or_else(|| TokenizerError::MissingSpecialToken {
                    path: path.to_path_buf(),
                    role,
                    token: token.to_owned(),
                })
        };
        required("unk", &special.unk)?;
        let cls_id = required("cls", &special.cls)?;
        let sep_id = required("sep", &special.sep)?;
        let present: Vec<String> = special
            .roles()
            .iter()
            .filter(|(_, _, token)| model.token_to_id(token).is_some())
            .map(|(_, _, token)| (*token).to_owned())
            .collect();

        let mut inner = bert_pipeline(
            model,
            BertNormalizer::new(
                true,
                options.tokenize_chinese_chars,
                options.strip_accents,
                options.lowercase,
            ),
        );
        inner.with_post_processor(Some(BertProcessing::new(
            (special.sep.clone(), sep_id),
            (special.cls.clone(), cls_id),
        )));
        let added: Vec<AddedToken> = present
            .into_iter()
            .map(|token| AddedToken::from(token, true))
            .collect();
        inner.add_special_tokens(&added);

        Ok(Self::assemble(
            inner,
            special.clone(),
            options.model_max_length,
            (None, None),
        ))
    }
}

/// A WordPiece model with the BERT normaliser, pre-tokenizer and decoder (no post-processor yet:
/// it needs the trained ids of `[CLS]` and `[SEP]`).
pub(crate) fn bert_pipeline(model: WordPiece, normalizer: BertNormalizer) -> HfTokenizer {
    let mut inner = HfTokenizer::new(model);
    inner
        .with_normalizer(Some(normalizer))
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_decoder(Some(WordPieceDecoder::new(
            CONTINUING_SUBWORD_PREFIX.into(),
            true,
        )));
    inner
}

/// Reads a `vocab.txt` into a WordPiece model: one token a line (trailing whitespace removed),
/// the line number is the id; a repeated token keeps its last id. Empty files and lines that
/// are not UTF-8 are errors.
fn read_vocab(
    path: &Path,
    special: &SpecialTokens,
    max_input_chars_per_word: usize,
) -> Result<WordPiece> {
    let bytes = std::fs::read(path).map_err(|e| TokenizerError::io(path, e))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(TokenizerError::EmptyVocab {
            path: path.to_path_buf(),
        });
    }
    // Check each line first, to name the bad one; then let `tokenizers` read the vocabulary.
    for (index, line) in bytes.lines().enumerate() {
        line.map_err(|source| TokenizerError::Line {
            path: path.to_path_buf(),
            line: index + 1,
            source,
        })?;
    }
    let invalid = |source| TokenizerError::InvalidTokenizer {
        path: path.to_path_buf(),
        source,
    };
    WordPiece::builder()
        .vocab(WordPiece::read_bytes(&bytes).map_err(invalid)?)
        .unk_token(special.unk.clone())
        .continuing_subword_prefix(CONTINUING_SUBWORD_PREFIX.into())
        .max_input_chars_per_word(max_input_chars_per_word)
        .build()
        .map_err(invalid)
}

/// Classifies an error of `tokenizers::Tokenizer::from_bytes`: JSON errors keep their line and
/// column.
/// Checks that a `TemplateProcessing` post-processor (also inside a `Sequence`) only uses
/// special tokens it defines: `tokenizers` 0.22 checks that when a template is built, not when
/// one is read, and then panics encoding with it (found by tests/fuzz.rs).
fn check_templates(path: &Path, field: &str, processor: &serde_json::Value) -> Result<()> {
    match processor["type"].as_str() {
        Some("TemplateProcessing") => {
            let defined = &processor["special_tokens"];
            for template in ["single", "pair"] {
                let pieces = processor[template].as_array().into_iter().flatten();
                for id in pieces.filter_map(|p| p["SpecialToken"]["id"].as_str()) {
                    if defined.get(id).is_none() {
                        return Err(TokenizerError::ConfigField {
                            path: path.to_path_buf(),
                            field: format!("{field}.{template}"),
                            reason: format!(
                                "the template uses the special token {id:?}, which its \
                                 `special_tokens` does not define"
                            ),
                        });
                    }
                }
            }
            Ok(())
        }
        Some("Sequence") => {
            let processors = processor["processors"].as_array().into_iter().flatten();
            for (i, inner) in processors.enumerate() {
                check_templates(path, &format!("{field}.processors[{i}]"), inner)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn invalid_json(path: &Path, error: HfError) -> TokenizerError {
    match error.downcast::<serde_json::Error>() {
        Ok(source) => TokenizerError::Json {
            path: path.to_path_buf(),
            source: *source,
        },
        Err(source) => TokenizerError::InvalidTokenizer {
            path: path.to_path_buf(),
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An XLM-RoBERTa folder with only `sentencepiece.bpe.model` says how to write
    /// `tokenizer.json`.
    #[test]
    fn a_sentencepiece_model_without_tokenizer_json_says_how_to_convert_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sentencepiece.bpe.model"), b"\x0a\x0b").unwrap();
        std::fs::write(dir.path().join("config.json"), b"{}").unwrap();
        let err = Tokenizer::from_dir(dir.path()).unwrap_err();
        assert!(
            matches!(&err, TokenizerError::SentencePieceOnly { file, .. }
                if file == "sentencepiece.bpe.model"),
            "{err}"
        );
        let message = err.to_string();
        for part in [
            "sentencepiece.bpe.model",
            "no tokenizer.json",
            "XLMRobertaTokenizerFast.from_pretrained(dir).save_pretrained(dir)",
        ] {
            assert!(message.contains(part), "{message}");
        }
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
    }
}
