//! `burnish export`: a model folder as an ONNX model (`burnish::export::export_onnx`).

use std::path::PathBuf;

use anyhow::{Result, bail};
use burnish::export::OnnxHead;
use clap::{Args, ValueEnum};

/// Arguments of `burnish export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A run folder of `burnish finetune`, or any model folder burnish loads (or a Hugging Face
    /// Hub id).
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// The format (ONNX only).
    #[arg(long, value_enum, default_value = "onnx")]
    format: FormatArg,
    /// The output file (`model.onnx`), written whole or not at all.
    #[arg(long)]
    out: PathBuf,
    /// The ONNX opset (17 or later).
    #[arg(long, default_value_t = 17)]
    opset: i64,
    /// What the graph outputs: `auto` reads it from the folder (its `architectures`; a
    /// sentence-transformers folder is an embedding model).
    #[arg(long, value_enum, default_value = "auto")]
    head: HeadArg,
    /// Quantise the linear layers to int8 (ONNX Runtime's dynamic quantisation: int8 weights,
    /// activations quantised at run time): about 4x smaller, faster on CPUs.
    #[arg(long, value_enum)]
    quantize: Option<QuantizeArg>,
    /// The backend that reads the weights.
    #[arg(long, default_value = "flex")]
    backend: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Onnx,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum QuantizeArg {
    Int8,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum HeadArg {
    Auto,
    Encoder,
    Embedding,
    Classification,
    Ner,
    Qa,
}

/// Runs `burnish export`.
pub fn run(args: ExportArgs) -> Result<()> {
    let FormatArg::Onnx = args.format;
    if args.opset < 17 {
        bail!("--opset {}: 17 or later (LayerNormalization)", args.opset);
    }
    let head = match args.head {
        HeadArg::Auto => OnnxHead::Auto,
        HeadArg::Encoder => OnnxHead::Encoder,
        HeadArg::Embedding => OnnxHead::Embedding,
        HeadArg::Classification => OnnxHead::SequenceClassification,
        HeadArg::Ner => OnnxHead::TokenClassification,
        HeadArg::Qa => OnnxHead::QuestionAnswering,
    };
    let options = burnish::onnx::Options {
        opset: args.opset,
        int8: matches!(args.quantize, Some(QuantizeArg::Int8)),
        ..Default::default()
    };
    let device = burnish::backend::device(&args.backend)?;
    let written = burnish::export::export_onnx(&args.model, head, &options, &device, &args.out)?;
    let size = std::fs::metadata(&args.out).map_or(0, |m| m.len());
    eprintln!(
        "wrote {} ({:?}{}, {:.1} MB)",
        args.out.display(),
        written,
        if options.int8 { ", int8" } else { "" },
        size as f64 / 1e6
    );
    Ok(())
}
