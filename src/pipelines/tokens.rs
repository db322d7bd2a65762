//! [`TokenClassifier`]: tags per word and entities with character offsets (NER).

use std::path::Path;

use burn::tensor::Device;
use burnish_data::{
    LabelMap, TaggedSentence, TokenFeatureOptions, WordsInput, tagged_features, token_features,
};
use burnish_encoder::{BertConfig, CONFIG_FILE};
use burnish_heads::BertForTokenClassification;
use burnish_tokenizer::{Tokenizer, split_words};
use burnish_train::tasks::ner::{
    self, Entity, NerEval, entities, predict_token_logits, word_predictions,
};
use serde::Serialize;

use super::{DEFAULT_BATCH_SIZE, check_max_length, require_head};
use crate::error::{Error, Result};
use crate::pretrained::{SaveHf, max_length, pad_id};

/// The name inputs go by in messages of the data crate.
const INPUT: &str = "<input>";

/// One input of [`TokenClassifier::predict_inputs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenInput<'a> {
    /// Raw text, split into words as BERT's pre-tokenizer does (at whitespace, and each
    /// punctuation character a word of its own: how CoNLL-style data is split).
    Text(&'a str),
    /// Words already split (the text is the words joined by single spaces).
    Words(&'a [String]),
}

/// A word of a [`TaggedText`] with its tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaggedWord {
    /// The word.
    pub text: String,
    /// Its first character in the text (Unicode scalar values, as Python counts).
    pub start: usize,
    /// One past its last character.
    pub end: usize,
    /// The predicted tag (`B-PER`, `O`, ...), read at the word's first sub-word.
    pub tag: String,
    /// The tag's softmax probability.
    pub score: f32,
}

/// The prediction for one input: its words with their tags, and the entities they form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaggedText {
    /// The text.
    pub text: String,
    /// Its words, in order; sub-words are merged back into words.
    pub words: Vec<TaggedWord>,
    /// The entities the tags form (read as `seqeval` reads them), with character offsets into
    /// the text and the mean probability of their words' tags.
    pub entities: Vec<Entity>,
}

/// A fine-tuned token classifier (named-entity recognition) with its tokenizer and tags.
///
/// A sentence longer than the maximum length is read in several windows, split between
/// words; each word is tagged once.
///
/// ```
/// # fn main() -> burnish::Result<()> {
/// use burnish::prelude::*;
///
/// let device = burnish::backend::device("flex")?;
/// // A (random-weight) BertForTokenClassification with tags O, B-PER, I-PER, B-LOC, I-LOC.
/// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-bert-ner");
/// let ner = TokenClassifier::from_dir(dir, &device)?;
/// let out = ner.predict(&["John lives in Paris."])?;
/// let words: Vec<&str> = out[0].words.iter().map(|w| w.text.as_str()).collect();
/// assert_eq!(words, ["John", "lives", "in", "Paris", "."]);
/// assert_eq!((out[0].words[3].start, out[0].words[3].end), (14, 19));
/// for entity in &out[0].entities {
///     assert_eq!(&out[0].text[entity.start..entity.end], entity.text); // ASCII: chars = bytes
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TokenClassifier {
    model: BertForTokenClassification,
    config: BertConfig,
    tokenizer: Tokenizer,
    tags: LabelMap,
    device: Device,
    max_length: usize,
    batch_size: usize,
}

impl TokenClassifier {
    /// Loads a fine-tuned token classifier folder (`BertForTokenClassification` or the
    /// RoBERTa / DistilBERT equivalent); its tags come from `config.json`'s `id2label`.
    ///
    /// # Errors
    /// [`Error::Model`] / [`Error::Tokenizer`] for unreadable files, [`Error::Setting`] for an
    /// unusable `id2label`, [`Error::MissingHead`] for a folder without a trained classifier.
    pub fn from_dir(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let config = BertConfig::from_file(dir.join(CONFIG_FILE))?;
        let tags = LabelMap::from_hf_config(&serde_json::Value::Object(config.extra.clone()))
            .map_err(|e| Error::Setting {
                name: "id2label",
                reason: format!("{}: {e}", dir.join(CONFIG_FILE).display()),
            })?;
        let tokenizer = Tokenizer::from_dir(dir)?;
        let (model, config, report) =
            BertForTokenClassification::from_pretrained(dir, Some(tags.len()), device)?;
        require_head(&report, dir, "token classification")?;
        Ok(Self::from_parts(model, config, tokenizer, tags, device))
    }

    /// A token classifier from a model (on `device`, without autodiff), its configuration,
    /// tokenizer and tags.
    pub fn from_parts(
        model: BertForTokenClassification,
        config: BertConfig,
        tokenizer: Tokenizer,
        tags: LabelMap,
        device: &Device,
    ) -> Self {
        let mut config = config;
        if let Some(map) = tags.to_hf_json().as_object() {
            config.extra.extend(map.clone());
        }
        let max_length = max_length(&config, &tokenizer);
        Self {
            model,
            config,
            tokenizer,
            tags,
            device: device.clone(),
            max_length,
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }

    /// Reads sentences in windows of at most `max_length` tokens (default: the longest the
    /// model takes).
    ///
    /// # Errors
    /// [`Error::Setting`] for 0 or more than the model takes.
    pub fn with_max_length(mut self, max_length: usize) -> Result<Self> {
        let limit = max_length_of(&self.config, &self.tokenizer);
        self.max_length = check_max_length(max_length, limit)?;
        Ok(self)
    }

    /// Predicts `batch_size` windows per forward pass (default 32; 0 counts as 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// The tags, in id order.
    pub fn tags(&self) -> &LabelMap {
        &self.tags
    }

    /// The model.
    pub fn model(&self) -> &BertForTokenClassification {
        &self.model
    }

    /// The configuration (with the tags).
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The device the model runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The padding id.
    pub fn pad_id(&self) -> u32 {
        pad_id(&self.config, &self.tokenizer)
    }

    /// The most tokens a window has.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Tags the words of raw texts and reads the entities.
    ///
    /// # Errors
    /// [`Error::Data`] if a word cannot be tokenized.
    pub fn predict(&self, texts: &[&str]) -> Result<Vec<TaggedText>> {
        let inputs: Vec<TokenInput<'_>> = texts.iter().map(|t| TokenInput::Text(t)).collect();
        self.predict_inputs(&inputs)
    }

    /// Tags sentences given as words.
    ///
    /// # Errors
    /// As [`TokenClassifier::predict`].
    pub fn predict_words(&self, sentences: &[Vec<String>]) -> Result<Vec<TaggedText>> {
        let inputs: Vec<TokenInput<'_>> = sentences.iter().map(|s| TokenInput::Words(s)).collect();
        self.predict_inputs(&inputs)
    }

    /// Tags texts and sentences of words.
    ///
    /// # Errors
    /// As [`TokenClassifier::predict`].
    pub fn predict_inputs(&self, inputs: &[TokenInput<'_>]) -> Result<Vec<TaggedText>> {
        let sentences: Vec<Words> = inputs.iter().map(|&i| Words::new(i)).collect();
        let words_inputs: Vec<WordsInput<'_>> = sentences
            .iter()
            .enumerate()
            .map(|(i, s)| WordsInput {
                words: &s.words,
                tags: None,
                line: i + 1,
            })
            .collect();
        let options = TokenFeatureOptions::new(self.max_length);
        let features = token_features(&self.tokenizer, &words_inputs, &options, Path::new(INPUT))?;
        let logits = predict_token_logits(
            &self.model,
            &features.features,
            self.batch_size,
            self.pad_id(),
            &self.device,
        );
        let counts: Vec<usize> = sentences.iter().map(|s| s.words.len()).collect();
        let outside = self.tags.id("O").unwrap_or(0);
        let predicted = word_predictions(&features.features, &logits, &counts, outside);
        Ok(sentences
            .into_iter()
            .zip(predicted)
            .map(|(sentence, predicted)| {
                let tags: Vec<String> = predicted
                    .iter()
                    .map(|w| self.tags.name(w.tag).unwrap_or("O").to_owned())
                    .collect();
                let scores: Vec<f32> = predicted.iter().map(|w| w.score).collect();
                let found = entities(&sentence.text, &sentence.spans, &tags, &scores);
                let chars = |byte: usize| sentence.text[..byte].chars().count();
                let words = sentence
                    .words
                    .iter()
                    .zip(&sentence.spans)
                    .zip(tags.into_iter().zip(scores))
                    .map(|((word, &(a, b)), (tag, score))| TaggedWord {
                        text: word.clone(),
                        start: chars(a),
                        end: chars(b),
                        tag,
                        score,
                    })
                    .collect();
                TaggedText {
                    text: sentence.text,
                    words,
                    entities: found,
                }
            })
            .collect())
    }

    /// Scores the classifier on tagged sentences (tags in the model's scheme, IOB2 for
    /// burnish's models): entity precision, recall and F1 (micro, and per type, as `seqeval`
    /// computes them), word accuracy and the loss.
    ///
    /// # Errors
    /// [`Error::Data`] for a tag the model does not know (naming the sentence's line),
    /// [`Error::Evaluation`] for no sentences.
    pub fn evaluate(&self, sentences: &[TaggedSentence]) -> Result<NerEval> {
        let options = TokenFeatureOptions::new(self.max_length);
        let path = Path::new(INPUT);
        let features = tagged_features(&self.tokenizer, sentences, &self.tags, &options, path)?;
        let gold: Vec<Vec<String>> = sentences.iter().map(|s| s.tags.clone()).collect();
        ner::evaluate(
            &self.model,
            &features.features,
            &gold,
            &self.tags,
            self.batch_size,
            self.pad_id(),
            &self.device,
        )
        .map_err(Error::Evaluation)
    }

    /// Saves the classifier as a Hugging Face model folder (`config.json` with the tags as
    /// `id2label` / `label2id`, weights, tokenizer files) that [`TokenClassifier::from_dir`]
    /// and `transformers`' `AutoModelForTokenClassification` load.
    ///
    /// # Errors
    /// [`Error::Model`] / [`Error::Tokenizer`] naming the file that could not be written.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        self.model.save_hf(&self.config, dir)?;
        self.tokenizer.save_dir(dir)?;
        Ok(())
    }
}

/// The longest window a model and tokenizer take.
fn max_length_of(config: &BertConfig, tokenizer: &Tokenizer) -> usize {
    max_length(config, tokenizer)
}

/// One input as words with their byte spans in its text.
struct Words {
    text: String,
    words: Vec<String>,
    spans: Vec<(usize, usize)>,
}

impl Words {
    fn new(input: TokenInput<'_>) -> Self {
        match input {
            TokenInput::Text(text) => {
                let (words, spans) = split_words(text).into_iter().unzip();
                Self {
                    text: text.to_owned(),
                    words,
                    spans,
                }
            }
            TokenInput::Words(tokens) => {
                let mut text = String::new();
                let mut spans = Vec::with_capacity(tokens.len());
                for (i, token) in tokens.iter().enumerate() {
                    if i > 0 {
                        text.push(' ');
                    }
                    spans.push((text.len(), text.len() + token.len()));
                    text.push_str(token);
                }
                Self {
                    text,
                    words: tokens.to_vec(),
                    spans,
                }
            }
        }
    }
}
