//! Vocabulary extension: the words of a domain corpus that the tokenizer shreds into many
//! pieces ([`WordCounts::split_words`]), added to a WordPiece vocabulary as whole-word tokens
//! ([`Tokenizer::with_words`]).
//!
//! Words are counted as the model sees them: after the tokenizer's normaliser and
//! pre-tokenizer (`bert-base-uncased` lower-cases and strips accents), so an added token is
//! exactly the text the WordPiece model matches. Byte-level BPE vocabularies are not extended
//! yet (their words would need merges, not only tokens).

use std::collections::HashMap;
use std::path::Path;

use tokenizers::models::ModelWrapper;
use tokenizers::models::wordpiece::WordPiece;

use crate::Tokenizer;
use crate::error::{Result, TokenizerError};

/// A word of the corpus and how the tokenizer splits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitWord {
    /// The word as the model sees it (normalised).
    pub word: String,
    /// Its occurrences in the corpus.
    pub count: u64,
    /// The ids of its pieces (`tok`, `##en`, `##izer`).
    pub pieces: Vec<u32>,
}

/// Word and token counts of a corpus under one tokenizer.
#[derive(Debug, Clone, Default)]
pub struct WordCounts {
    /// Every word split into two pieces or more, with its pieces and count.
    words: HashMap<String, SplitWord>,
    /// Words seen (every occurrence).
    pub total_words: u64,
    /// Tokens they make (special tokens not counted).
    pub total_tokens: u64,
}

impl WordCounts {
    /// Tokens per word over the corpus.
    pub fn tokens_per_word(&self) -> f64 {
        self.total_tokens as f64 / self.total_words.max(1) as f64
    }

    /// The `n` words whose whole-word tokens would save the most tokens over the corpus
    /// (occurrences times pieces beyond the first), among those seen at least `min_count`
    /// times; ties by the word, so the choice is deterministic.
    pub fn split_words(&self, n: usize, min_count: u64) -> Vec<SplitWord> {
        let mut words: Vec<&SplitWord> = self
            .words
            .values()
            .filter(|w| w.count >= min_count)
            .collect();
        let saved = |w: &SplitWord| w.count * (w.pieces.len() as u64 - 1);
        words.sort_by(|a, b| saved(b).cmp(&saved(a)).then_with(|| a.word.cmp(&b.word)));
        words.into_iter().take(n).cloned().collect()
    }
}

impl Tokenizer {
    /// Counts the words of `texts` and their tokens (no special tokens), keeping every word
    /// the tokenizer splits into two pieces or more (none of them unknown).
    ///
    /// # Errors
    /// [`TokenizerError::Encode`] if the `tokenizers` crate fails on a text.
    pub fn count_words<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> Result<WordCounts> {
        let unk = self.unk_id();
        let mut counts = WordCounts::default();
        for text in texts {
            let encoding = self
                .unprocessed
                .encode(text, false)
                .map_err(|source| TokenizerError::Encode { input: 0, source })?;
            counts.total_tokens += encoding.get_ids().len() as u64;
            let (ids, tokens, word_ids) = (
                encoding.get_ids(),
                encoding.get_tokens(),
                encoding.get_word_ids(),
            );
            let mut start = 0;
            while start < ids.len() {
                let mut end = start + 1;
                while end < ids.len()
                    && word_ids[end] == word_ids[start]
                    && word_ids[start].is_some()
                {
                    end += 1;
                }
                counts.total_words += 1;
                let pieces = &ids[start..end];
                if pieces.len() > 1 && !pieces.iter().any(|id| Some(*id) == unk) {
                    let word: String = tokens[start..end]
                        .iter()
                        .map(|t| t.strip_prefix("##").unwrap_or(t))
                        .collect();
                    counts
                        .words
                        .entry(word.clone())
                        .or_insert_with(|| SplitWord {
                            word,
                            count: 0,
                            pieces: pieces.to_vec(),
                        })
                        .count += 1;
                }
                start = end;
            }
        }
        Ok(counts)
    }

    /// This tokenizer with `words` added to its WordPiece vocabulary as whole-word tokens,
    /// ids from the vocabulary's size on, in order (a word already in the vocabulary is
    /// skipped). Returns the new tokenizer and the words it added.
    ///
    /// # Errors
    /// [`TokenizerError::ConfigField`] (naming `tokenizer.json`'s `model`) for a tokenizer
    /// that is not WordPiece.
    pub fn with_words(&self, words: &[String]) -> Result<(Tokenizer, Vec<String>)> {
        let ModelWrapper::WordPiece(model) = self.inner.get_model() else {
            return Err(TokenizerError::ConfigField {
                path: Path::new("tokenizer.json").to_path_buf(),
                field: "model".into(),
                reason: "only WordPiece vocabularies are extended (byte-level BPE and \
                         Unigram would need merges or scores for the new words)"
                    .into(),
            });
        };
        let mut vocab = tokenizers::Model::get_vocab(model);
        let mut next = vocab.values().max().map_or(0, |&m| m + 1);
        let mut added = Vec::new();
        for word in words {
            if vocab.contains_key(word) {
                continue;
            }
            vocab.insert(word.clone(), next);
            next += 1;
            added.push(word.clone());
        }
        // The model through its serialised form (`tokenizer.json`'s `model` object): the
        // builder wants the `tokenizers` crate's own map type.
        let invalid = |reason: String| TokenizerError::ConfigField {
            path: Path::new("tokenizer.json").to_path_buf(),
            field: "model".into(),
            reason,
        };
        let mut json = serde_json::to_value(model).map_err(|e| invalid(e.to_string()))?;
        json["vocab"] = serde_json::to_value(&vocab).map_err(|e| invalid(e.to_string()))?;
        let extended: WordPiece =
            serde_json::from_str(&json.to_string()).map_err(|e| invalid(e.to_string()))?;
        let mut inner = self.inner.clone();
        inner.with_model(extended);
        let mut tokenizer = Tokenizer::assemble(
            inner,
            self.special.clone(),
            self.model_max_length,
            (self.file_truncation.clone(), self.file_padding.clone()),
        );
        tokenizer.config_json = self.config_json.clone();
        Ok((tokenizer, added))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BertTokenizerOptions;

    fn tiny() -> Tokenizer {
        let dir = tempfile::tempdir().unwrap();
        let vocab = dir.path().join("vocab.txt");
        let tokens = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "tok", "##en", "##izer", "is",
            "un", "##kind", "a",
        ];
        std::fs::write(&vocab, tokens.join("\n") + "\n").unwrap();
        Tokenizer::from_vocab(&vocab, &BertTokenizerOptions::default()).unwrap()
    }

    #[test]
    fn split_words_are_ranked_by_tokens_saved_and_added_whole() {
        let tokenizer = tiny();
        let texts = ["the tokenizer is unkind", "a tokenizer", "Tokenizer"];
        let counts = tokenizer.count_words(texts).unwrap();
        // 7 words in 14 tokens: tokenizer (3 pieces, 3 times), unkind (2 pieces, once).
        assert_eq!(counts.total_words, 7);
        assert_eq!(counts.total_tokens, 14);
        let words = counts.split_words(5, 1);
        assert_eq!(
            words.iter().map(|w| w.word.as_str()).collect::<Vec<_>>(),
            ["tokenizer", "unkind"]
        );
        assert_eq!(words[0].count, 3);
        assert_eq!(words[0].pieces, [6, 7, 8]);
        assert!(
            counts
                .split_words(5, 2)
                .iter()
                .all(|w| w.word == "tokenizer")
        );

        let (extended, added) = tokenizer
            .with_words(&["tokenizer".into(), "the".into()])
            .unwrap();
        assert_eq!(added, ["tokenizer"]);
        assert_eq!(extended.token_to_id("tokenizer"), Some(13));
        let after = extended.count_words(texts).unwrap();
        assert_eq!(after.total_words, 7);
        assert_eq!(after.total_tokens, counts.total_tokens - 6);
        assert!(after.tokens_per_word() < counts.tokens_per_word());
    }
}
