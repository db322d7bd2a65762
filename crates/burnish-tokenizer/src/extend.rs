//! Vocabulary extension: the words of a domain corpus that the tokenizer shreds into many
//! pieces ([`WordCounts::split_words`]), added to the vocabulary as whole-word tokens
//! ([`Tokenizer::with_words`]).
//!
//! Words are counted as the model sees them: after the tokenizer's normaliser and
//! pre-tokenizer (`bert-base-uncased` lower-cases and strips accents; byte-level BPE maps bytes
//! to its alphabet, a leading space to `Ġ`), so an added token is exactly the text the model
//! matches. A WordPiece vocabulary gets the word as a token. A BPE vocabulary gets merges that
//! join the word's pieces left to right (`Ġgaz` + `prom`, then with the next piece), appended
//! after every existing merge so that they only ever join what the old vocabulary left split,
//! and each intermediate join as a token too. Unigram vocabularies are not extended.

use std::collections::HashMap;
use std::path::Path;

use tokenizers::models::ModelWrapper;
use tokenizers::models::bpe::BPE;
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
        let wordpiece = self.is_wordpiece();
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
                        .map(|t| match wordpiece {
                            true => t.strip_prefix("##").unwrap_or(t),
                            false => t,
                        })
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

    /// This tokenizer with `words` added to its vocabulary as whole-word tokens (a word
    /// already in the vocabulary is skipped), ids from the vocabulary's size on. Returns the new
    /// tokenizer and every token it added, in id order, each with the ids of the old pieces it
    /// joins (for a BPE vocabulary the intermediate joins come before the word).
    ///
    /// # Errors
    /// [`TokenizerError::ConfigField`] (naming `tokenizer.json`'s `model`) for a Unigram or
    /// WordLevel tokenizer.
    pub fn with_words(&self, words: &[SplitWord]) -> Result<(Tokenizer, Vec<SplitWord>)> {
        let invalid = |reason: String| TokenizerError::ConfigField {
            path: Path::new("tokenizer.json").to_path_buf(),
            field: "model".into(),
            reason,
        };
        let model = self.inner.get_model();
        // The model through its serialised form (`tokenizer.json`'s `model` object), edited
        // and read back: the builders want the `tokenizers` crate's own map types.
        let mut json = serde_json::to_value(model).map_err(|e| invalid(e.to_string()))?;
        let mut vocab: HashMap<String, u32> = tokenizers::Model::get_vocab(model);
        let mut next = vocab.values().max().map_or(0, |&m| m + 1);
        let mut added = Vec::new();
        let mut add =
            |token: String, pieces: &[u32], count: u64, vocab: &mut HashMap<String, u32>| {
                if vocab.contains_key(&token) {
                    return false;
                }
                vocab.insert(token.clone(), next);
                next += 1;
                added.push(SplitWord {
                    word: token,
                    count,
                    pieces: pieces.to_vec(),
                });
                true
            };
        match model {
            ModelWrapper::WordPiece(_) => {
                for word in words {
                    add(word.word.clone(), &word.pieces, word.count, &mut vocab);
                }
            }
            ModelWrapper::BPE(_) => {
                let merges = json["merges"]
                    .as_array_mut()
                    .ok_or_else(|| invalid("a BPE model without a merges list".into()))?;
                let mut known: std::collections::HashSet<(String, String)> = merges
                    .iter()
                    .filter_map(|m| match m {
                        serde_json::Value::Array(p) => Some((
                            p.first()?.as_str()?.to_string(),
                            p.get(1)?.as_str()?.to_string(),
                        )),
                        serde_json::Value::String(s) => s
                            .split_once(' ')
                            .map(|(a, b)| (a.to_string(), b.to_string())),
                        _ => None,
                    })
                    .collect();
                let legacy = merges.first().is_some_and(|m| m.is_string());
                for word in words {
                    if vocab.contains_key(&word.word) || word.pieces.len() < 2 {
                        continue;
                    }
                    let texts = word
                        .pieces
                        .iter()
                        .map(|&id| {
                            self.inner.id_to_token(id).ok_or_else(|| {
                                invalid(format!(
                                    "{}: piece id {id} is not in the vocabulary",
                                    word.word
                                ))
                            })
                        })
                        .collect::<Result<Vec<String>>>()?;
                    let mut joined = texts[0].clone();
                    for (k, piece) in texts.iter().enumerate().skip(1) {
                        let pair = (joined.clone(), piece.clone());
                        let merged = format!("{joined}{piece}");
                        if known.insert(pair.clone()) {
                            merges.push(match legacy {
                                true => serde_json::Value::String(format!("{} {}", pair.0, pair.1)),
                                false => serde_json::json!([pair.0, pair.1]),
                            });
                        }
                        add(merged.clone(), &word.pieces[..=k], word.count, &mut vocab);
                        joined = merged;
                    }
                }
            }
            _ => {
                return Err(invalid(
                    "only WordPiece and BPE vocabularies are extended (a Unigram model would \
                     need scores for the new words)"
                        .into(),
                ));
            }
        }
        json["vocab"] = serde_json::to_value(&vocab).map_err(|e| invalid(e.to_string()))?;
        let text = json.to_string();
        let extended: ModelWrapper = match model {
            ModelWrapper::WordPiece(_) => ModelWrapper::WordPiece(
                serde_json::from_str::<WordPiece>(&text).map_err(|e| invalid(e.to_string()))?,
            ),
            _ => ModelWrapper::BPE(
                serde_json::from_str::<BPE>(&text).map_err(|e| invalid(e.to_string()))?,
            ),
        };
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

        let the = SplitWord {
            word: "the".into(),
            count: 1,
            pieces: vec![5],
        };
        let (extended, added) = tokenizer.with_words(&[words[0].clone(), the]).unwrap();
        assert_eq!(added, [words[0].clone()]);
        assert_eq!(extended.token_to_id("tokenizer"), Some(13));
        let after = extended.count_words(texts).unwrap();
        assert_eq!(after.total_words, 7);
        assert_eq!(after.total_tokens, counts.total_tokens - 6);
        assert!(after.tokens_per_word() < counts.tokens_per_word());
    }
}
