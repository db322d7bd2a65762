//! Inference pipelines: text in, labels, entities, answers, words or vectors out.
//!
//! Each pipeline loads a model folder with `from_dir(path, &device)` and predicts with
//! `predict(&[...])`. Inputs are tokenized, truncated to the pipeline's maximum length (or read
//! in overlapping windows where the task allows it: token classification, question answering),
//! sorted by length into batches of `batch_size`, padded per batch, and the outputs are put
//! back in the inputs' order.

mod classify;
mod embed;
mod fill_mask;
mod question;
mod tokens;

pub use classify::{Classification, ClassifierModel, TextClassifier};
pub use embed::SentenceEmbedder;
pub use fill_mask::{FillMask, MaskFill};
pub use question::QuestionAnswerer;
pub use tokens::{TaggedText, TaggedWord, TokenClassifier, TokenInput};

use std::path::Path;

use burn::tensor::{Device, Tensor};
use burnish_data::{Example, Label, collate, eval_batches};
use burnish_encoder::LoadReport;
use burnish_encoder::model::BertInput;
use burnish_tokenizer::{EncodeOptions, Input, Tokenizer};

use crate::error::{Error, Result};

/// The batch size pipelines use unless told otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 32;

/// An error unless `report` says every parameter came from the checkpoint: a pipeline needs a
/// trained head, never a fresh one.
pub(crate) fn require_head(report: &LoadReport, dir: &Path, task: &'static str) -> Result<()> {
    if report.newly_initialized.is_empty() {
        Ok(())
    } else {
        Err(Error::MissingHead {
            dir: dir.to_path_buf(),
            task,
            missing: report.newly_initialized.clone(),
        })
    }
}

/// Checks a maximum length against the longest input the model takes.
pub(crate) fn check_max_length(max_length: usize, limit: usize) -> Result<usize> {
    if max_length == 0 || max_length > limit {
        return Err(Error::Setting {
            name: "max_length",
            reason: format!(
                "{max_length} is not in 1..={limit} (the longest input the model's positions \
                 cover)"
            ),
        });
    }
    Ok(max_length)
}

/// Tokenizes `inputs` (with special tokens, truncated to `max_length`, longest text first)
/// into unlabelled examples; a failure names the input's index.
pub(crate) fn encode_inputs(
    tokenizer: &Tokenizer,
    inputs: &[Input<'_>],
    max_length: usize,
) -> Result<Vec<Example>> {
    let options = EncodeOptions {
        max_length: Some(max_length),
        ..EncodeOptions::default()
    };
    inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let encoding = tokenizer
                .encode_input(*input, &options)
                .map_err(|e| Error::Input {
                    index,
                    reason: e.to_string(),
                })?;
            Ok(Example {
                ids: encoding.ids,
                type_ids: encoding.type_ids,
                label: Label::None,
                line: index + 1,
            })
        })
        .collect()
}

/// Runs `forward` on length-sorted, padded batches of `examples` and returns its rows in the
/// examples' order. `forward` gets the batch's example indices and its input, and returns one
/// output per row.
pub(crate) fn batched<T: Clone + Default>(
    examples: &[Example],
    batch_size: usize,
    pad_id: u32,
    device: &Device,
    mut forward: impl FnMut(&[usize], BertInput) -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    let lengths: Vec<usize> = examples.iter().map(Example::len).collect();
    let batches = eval_batches(&lengths, batch_size.max(1))?;
    let mut out = vec![T::default(); examples.len()];
    for indices in &batches {
        let refs: Vec<&Example> = indices.iter().map(|&i| &examples[i]).collect();
        let batch = collate(&refs, pad_id);
        let input = BertInput::from_rows(
            &batch.input_ids,
            &batch.token_type_ids,
            &batch.attention_mask,
            device,
        );
        for (&i, row) in indices.iter().zip(forward(indices, input)?) {
            out[i] = row;
        }
    }
    Ok(out)
}

/// The values of a float tensor, row-major.
pub(crate) fn values<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::TensorData(format!("{e:?}")))
}
