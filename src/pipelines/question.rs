//! [`QuestionAnswerer`]: extractive question answering over contexts of any length.

use std::path::Path;

use burn::tensor::Device;
use burnish_data::{QaExample, QaFeatureOptions, QaInput, qa_features, qa_inputs};
use burnish_encoder::BertConfig;
use burnish_encoder::HfModel;
use burnish_heads::BertForQuestionAnswering;
use burnish_tokenizer::Tokenizer;
use burnish_train::tasks::qa::{self, Answer, PostProcess, QaEval, best_answers};

use super::{DEFAULT_BATCH_SIZE, check_max_length, require_head};
use crate::error::{Error, Result};
use crate::pretrained::{SaveHf, max_length, pad_id};

/// The name inputs go by in messages of the data crate.
const INPUT: &str = "<input>";

/// A fine-tuned extractive question answering model with its tokenizer.
///
/// A context longer than a window is read in overlapping windows (`stride` tokens shared);
/// the best span over all windows is the answer, with its character offsets in the context,
/// its score (`start_logit + end_logit`) and its probability among the best candidates.
///
/// ```
/// # fn main() -> burnish::Result<()> {
/// use burnish::prelude::*;
///
/// let device = burnish::backend::device("flex")?;
/// // A (random-weight) BertForQuestionAnswering: the answer is some span of the context.
/// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-bert-qa");
/// let qa = QuestionAnswerer::from_dir(dir, &device)?;
/// let context = "The Eiffel Tower is in Paris. It was finished in 1889.";
/// let answers = qa.predict(&[("Where is the tower?", context)])?;
/// let answer = &answers[0];
/// assert!(!answer.text.is_empty());
/// assert_eq!(&context[answer.start..answer.end], answer.text); // ASCII: chars = bytes
/// assert!(answer.probability > 0.0 && answer.probability <= 1.0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct QuestionAnswerer {
    model: BertForQuestionAnswering,
    config: BertConfig,
    tokenizer: Tokenizer,
    device: Device,
    options: QaFeatureOptions,
    post: PostProcess,
    batch_size: usize,
}

impl QuestionAnswerer {
    /// Loads a fine-tuned question answering folder (`BertForQuestionAnswering` or the
    /// RoBERTa / DistilBERT equivalent).
    ///
    /// Windows are 384 tokens (or the longest the model takes, if shorter) sharing 128 tokens
    /// (a third of the window, if shorter); answers are at most 30 tokens, picked among the 20
    /// best starts and ends of each window, and a span is always given (SQuAD v1.1; see
    /// [`QuestionAnswerer::with_post_process`] for v2.0's "no answer").
    ///
    /// # Errors
    /// [`Error::Model`] / [`Error::Tokenizer`] for unreadable files, [`Error::MissingHead`] for
    /// a folder without a trained `qa_outputs` layer.
    pub fn from_dir(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let tokenizer = Tokenizer::from_dir(dir)?;
        let (model, config, report) = BertForQuestionAnswering::from_pretrained(dir, device)?;
        require_head(&report, dir, "question answering")?;
        Ok(Self::from_parts(model, config, tokenizer, device))
    }

    /// A question answerer from a model (on `device`, without autodiff), its configuration and
    /// tokenizer.
    pub fn from_parts(
        model: BertForQuestionAnswering,
        config: BertConfig,
        tokenizer: Tokenizer,
        device: &Device,
    ) -> Self {
        let window = max_length(&config, &tokenizer).min(384);
        let options = QaFeatureOptions {
            max_length: window,
            stride: 128.min(window / 3),
        };
        Self {
            model,
            config,
            tokenizer,
            device: device.clone(),
            options,
            post: PostProcess::default(),
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }

    /// Windows of `max_length` tokens sharing `stride` context tokens.
    ///
    /// # Errors
    /// [`Error::Setting`] for a window of 0 or more than the model takes, or a stride not
    /// smaller than the window.
    pub fn with_windows(mut self, max_length: usize, stride: usize) -> Result<Self> {
        let limit = max_length_of(&self.config, &self.tokenizer);
        let max_length = check_max_length(max_length, limit)?;
        if stride >= max_length {
            return Err(Error::Setting {
                name: "stride",
                reason: format!("{stride} is not smaller than the window of {max_length} tokens"),
            });
        }
        self.options = QaFeatureOptions { max_length, stride };
        Ok(self)
    }

    /// How answers are picked: candidates per window, longest answer, and for SQuAD v2.0-style
    /// models the null-score threshold above which the answer is empty.
    pub fn with_post_process(mut self, post: PostProcess) -> Self {
        self.post = post;
        self
    }

    /// Predicts `batch_size` windows per forward pass (default 32; 0 counts as 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// The windows.
    pub fn windows(&self) -> QaFeatureOptions {
        self.options
    }

    /// How answers are picked.
    pub fn post_process(&self) -> PostProcess {
        self.post
    }

    /// The model.
    pub fn model(&self) -> &BertForQuestionAnswering {
        &self.model
    }

    /// The configuration.
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

    /// Answers `(question, context)` pairs, one [`Answer`] each (an empty text for "no
    /// answer" under a null threshold).
    ///
    /// # Errors
    /// [`Error::Data`] for a question or context that cannot be tokenized.
    pub fn predict(&self, pairs: &[(&str, &str)]) -> Result<Vec<Answer>> {
        let inputs: Vec<QaInput<'_>> = pairs
            .iter()
            .enumerate()
            .map(|(i, &(question, context))| QaInput {
                question,
                context,
                answer: None,
                line: i + 1,
            })
            .collect();
        let features = qa_features(&self.tokenizer, &inputs, self.options, Path::new(INPUT))?;
        let logits = qa::predict_span_logits(
            &self.model,
            &features.features,
            self.batch_size,
            self.pad_id(),
            &self.device,
        );
        let contexts: Vec<&str> = pairs.iter().map(|&(_, c)| c).collect();
        Ok(best_answers(
            &features.features,
            &logits,
            &contexts,
            self.post,
        ))
    }

    /// Scores the model on SQuAD questions as the official script does: exact match and F1
    /// (v1.1, or v2.0 with its `HasAns` / `NoAns` breakdown when the post-processing has a
    /// null threshold), and the loss.
    ///
    /// # Errors
    /// [`Error::Data`] for a question that cannot be tokenized, [`Error::Evaluation`] for no
    /// questions.
    pub fn evaluate(&self, examples: &[QaExample]) -> Result<QaEval> {
        let inputs = qa_inputs(examples);
        let features = qa_features(&self.tokenizer, &inputs, self.options, Path::new(INPUT))?;
        qa::evaluate(
            &self.model,
            &features.features,
            examples,
            self.post,
            self.batch_size,
            self.pad_id(),
            &self.device,
        )
        .map_err(Error::Evaluation)
    }

    /// Saves the model as a Hugging Face folder that [`QuestionAnswerer::from_dir`] and
    /// `transformers`' `AutoModelForQuestionAnswering` load.
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
