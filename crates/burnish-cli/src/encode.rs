//! `burnish encode`: hidden states, pooled output and sentence embeddings for each input line.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burnish::HfModel;
use burnish::encoder::model::{BertInput, l2_normalize};
use burnish::encoder::precision::{Precision, cast_floats};
use burnish::encoder::{BertConfig, BertModel, CONFIG_FILE, Gpt2Model};
use burnish::heads::SentenceConfig;
use burnish::tokenizer::{EncodeOptions, Tokenizer, TruncationStrategy};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

/// Arguments of `burnish encode`.
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// Model folder (config.json, tokenizer.json or vocab.txt, model.safetensors or
    /// pytorch_model.bin), or a Hugging Face Hub id `ORG/NAME[@REVISION]`.
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// Text file: one input per line; a line with a TAB is a sentence pair `a<TAB>b`.
    #[arg(long)]
    input: PathBuf,
    /// Output JSON-lines file, one object per input line.
    #[arg(long)]
    output: PathBuf,
    /// Backend: flex, tch, tch-cuda, wgpu or cuda.
    #[arg(long, default_value = "flex")]
    backend: String,
    /// Float type to compute in: f32 (default), bf16 or f16 (the weights are cast after
    /// loading; about 1% and 0.1% relative difference from f32 on MiniLM's hidden states).
    #[arg(long, default_value = "f32")]
    dtype: String,
    /// Longest input in tokens (longer ones are truncated, longest-first for pairs). Defaults
    /// to a `sentence-transformers` folder's `max_seq_length`, else the longest input the
    /// model's positions cover.
    #[arg(long)]
    max_length: Option<usize>,
    /// Lines per forward pass.
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
}

/// Runs `burnish encode`.
/// The `--dtype` value (`f32`, `bf16`, `f16`) of `encode` and `bench`.
pub(crate) fn parse_dtype(name: &str) -> Result<Precision> {
    Precision::from_name(name).with_context(|| format!("--dtype {name}: expected f32, bf16 or f16"))
}

pub fn run(args: EncodeArgs) -> Result<()> {
    if args.batch_size == 0 {
        bail!("--batch-size must be positive");
    }
    let device = burnish::backend::device(&args.backend)?;
    let precision = parse_dtype(&args.dtype)?;
    let tokenizer = Tokenizer::from_dir(&args.model)?;
    // The folder's family picks the model: an encoder, or GPT-2's decoder (causal hidden
    // states after `ln_f`, no pooler).
    let family = BertConfig::from_file(args.model.join(CONFIG_FILE))?.family;
    let (model, config, report) = if family.is_decoder {
        let (model, config, report) = Gpt2Model::from_pretrained(&args.model, &device)?;
        let model = cast_floats(model, precision, &device)?;
        (Encoder::Gpt2(Box::new(model)), config, report)
    } else {
        let (model, config, report) = BertModel::from_pretrained(&args.model, &device)?;
        let model = cast_floats(model, precision, &device)?;
        (Encoder::Bert(Box::new(model)), config, report)
    };
    for name in &report.newly_initialized {
        eprintln!(
            "note: {name} is not in {}; freshly initialised",
            report.path.display()
        );
    }
    // A `sentence-transformers` folder says how its sentence embedding is pooled, whether it
    // is normalised, and its longest input; a plain folder gets mean pooling, normalised.
    let sentence = SentenceConfig::read(&args.model)?.unwrap_or_default();
    let max_length = args
        .max_length
        .unwrap_or(sentence.max_length(&config, None));
    if max_length > config.max_sequence_length() {
        bail!(
            "--max-length {max_length} exceeds the longest input the model's positions cover ({})",
            config.max_sequence_length()
        );
    }

    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let lines: Vec<&str> = text.lines().collect();
    let options = EncodeOptions {
        max_length: Some(max_length),
        truncation: TruncationStrategy::LongestFirst,
        ..EncodeOptions::default()
    };

    // Written whole or not at all: an error or an interrupt leaves no half file.
    let mut out = burnish::fs::AtomicFile::create(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let progress = ProgressBar::new(lines.len() as u64).with_style(
        ProgressStyle::with_template(
            "{spinner} encode [{bar:30}] {pos}/{len} lines {per_sec} eta {eta}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    let result = (|| -> Result<()> {
        for (chunk_index, chunk) in lines.chunks(args.batch_size).enumerate() {
            let mut encodings = Vec::with_capacity(chunk.len());
            for (i, line) in chunk.iter().enumerate() {
                let line_no = chunk_index * args.batch_size + i + 1;
                let (a, b) = match line.split_once('\t') {
                    Some((a, b)) => (a, Some(b)),
                    None => (*line, None),
                };
                let enc = match b {
                    Some(b) => tokenizer.encode_pair(a, b, &options),
                    None => tokenizer.encode(a, &options),
                }
                .with_context(|| format!("{}:{line_no}", args.input.display()))?;
                encodings.push(enc);
            }
            let len = encodings.iter().map(|e| e.ids.len()).max().unwrap_or(0);
            let pad = |v: &Vec<u32>, fill: u32| {
                let mut v = v.clone();
                v.resize(len, fill);
                v
            };
            let pad_id = tokenizer.pad_id().unwrap_or(0);
            let ids: Vec<Vec<u32>> = encodings.iter().map(|e| pad(&e.ids, pad_id)).collect();
            let types: Vec<Vec<u32>> = encodings.iter().map(|e| pad(&e.type_ids, 0)).collect();
            let mask: Vec<Vec<u32>> = encodings
                .iter()
                .map(|e| pad(&e.attention_mask, 0))
                .collect();
            let input = BertInput::from_rows(&ids, &types, &mask, &device);
            let attention_mask = input.attention_mask.clone();
            let (last_hidden_state, pooler_output) = match &model {
                Encoder::Bert(model) => {
                    let output = model.forward(input);
                    (output.last_hidden_state, output.pooler_output)
                }
                Encoder::Gpt2(model) => (model.forward(input), None),
            };
            let pooled = sentence
                .pooling
                .pool(last_hidden_state.clone(), attention_mask);
            let embeddings = if sentence.normalize {
                l2_normalize(pooled)
            } else {
                pooled
            };
            let hidden = to_vec(last_hidden_state.into_data())?;
            let pooled = pooler_output.map(|p| to_vec(p.into_data())).transpose()?;
            let embeddings = to_vec(embeddings.into_data())?;
            let width = config.hidden_size;
            for (row, enc) in encodings.iter().enumerate() {
                let n = enc.ids.len();
                let states: Vec<&[f32]> = (0..n)
                    .map(|t| {
                        let start = (row * len + t) * width;
                        &hidden[start..start + width]
                    })
                    .collect();
                let object = json!({
                    "input_ids": enc.ids,
                    "token_type_ids": enc.type_ids,
                    "last_hidden_state": states,
                    "pooler_output": pooled.as_ref().map(|p| &p[row * width..(row + 1) * width]),
                    "sentence_embedding": &embeddings[row * width..(row + 1) * width],
                });
                serde_json::to_writer(&mut out, &object)?;
                out.write_all(b"\n")?;
            }
            progress.inc(chunk.len() as u64);
        }
        Ok(())
    })();
    progress.finish_and_clear();
    result?;
    out.commit()
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!("wrote {} lines to {}", lines.len(), args.output.display());
    Ok(())
}

/// The model `encode` runs: an encoder family's, or GPT-2's decoder.
enum Encoder {
    Bert(Box<BertModel>),
    Gpt2(Box<Gpt2Model>),
}

fn to_vec(data: burnish::burn::tensor::TensorData) -> Result<Vec<f32>> {
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("cannot read tensor back: {e:?}"))
}
