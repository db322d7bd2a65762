//! `burnish pretrain`: masked LM, masked LM + NSP, or causal LM on plain-text corpora, from
//! scratch or continued from a checkpoint.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burnish::HfModel;
use burnish::burn::tensor::Device;
use burnish::data::{
    Corpus, CorpusOptions, HeldOutSplit, MlmMasker, MlmOptions, NspOptions, NspPairs, PackOptions,
    PackedSequences, Packer, Part, SpecialIds, TokenizedDocuments, TokenizedSentences,
};
use burnish::encoder::config::BertConfig;
use burnish::encoder::family::{Family, bert::BERT};
use burnish::heads::{BertForMaskedLM, BertForPreTraining, BertLMHeadModel, Gpt2LMHeadModel};
use burnish::tokenizer::{
    ByteLevelBpeTrainOptions, Tokenizer, WordPieceTrainOptions, train_byte_level_bpe,
    train_wordpiece,
};
use burnish::train::TrainConfig;
use burnish::train::schedule::ScheduleKind;
use burnish::train::tasks::pretrain::{self, Objective, PretrainBatches, PretrainModel};
use burnish::train::trainer::FineTune;
use clap::Args;
use serde::Serialize;

use crate::args::ObjectiveArg;
use crate::run_dir;
use crate::runtime::{
    exit_if_interrupted, make_trainer, prepare_out_dir_keeping, primary_device, print_summary,
    run_metrics,
};

/// Arguments of `burnish pretrain`.
#[derive(Debug, Args)]
pub struct PretrainArgs {
    /// The pre-training objective.
    #[arg(long, value_enum, default_value = "mlm")]
    objective: ObjectiveArg,
    /// Corpus files: `.txt` (documents separated by blank lines), `.jsonl` (a `text` per line),
    /// either gzip-compressed or not.
    #[arg(long, required = true, num_args = 1..)]
    corpus: Vec<PathBuf>,
    /// Run directory to write (resumed if it holds an unfinished run).
    #[arg(long)]
    out: PathBuf,
    /// Replace an existing finished run directory.
    #[arg(long)]
    overwrite: bool,
    /// Continue pre-training this checkpoint (a folder or a Hugging Face Hub id; its tokenizer
    /// too); without it, a new model of the sizes below.
    #[arg(long)]
    pub(crate) model: Option<PathBuf>,
    /// From scratch: a `config.json` with the sizes (flags below override it; its
    /// `model_type` picks the family unless --family is given).
    #[arg(long)]
    config: Option<PathBuf>,
    /// From scratch: the architecture, `bert` (an encoder; any objective) or `gpt2` (a
    /// decoder, `--objective clm`; without --tokenizer a byte-level BPE tokenizer is trained on
    /// the corpus). The size flags below set GPT-2's `n_layer`, `n_embd`, `n_head`, `n_inner`,
    /// `n_positions` for it.
    #[arg(long, value_parser = ["bert", "gpt2"])]
    family: Option<String>,
    /// From scratch: encoder layers.
    #[arg(long)]
    layers: Option<usize>,
    /// From scratch: hidden size.
    #[arg(long)]
    hidden: Option<usize>,
    /// From scratch: attention heads.
    #[arg(long)]
    heads: Option<usize>,
    /// From scratch: feed-forward size (default 4 x hidden).
    #[arg(long)]
    intermediate: Option<usize>,
    /// From scratch: position embeddings (at least --max-length).
    #[arg(long)]
    max_positions: Option<usize>,
    /// From scratch: a tokenizer folder; without it, a WordPiece tokenizer (byte-level BPE for
    /// --family gpt2) is trained on the corpus first.
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Vocabulary size of a tokenizer trained on the corpus.
    #[arg(long, default_value_t = 8000)]
    vocab_size: usize,
    /// Keep case when training a tokenizer.
    #[arg(long)]
    cased: bool,
    /// Tokens per packed sequence.
    #[arg(long, default_value_t = 128)]
    max_length: usize,
    /// Fraction of the documents held out for evaluation.
    #[arg(long, default_value_t = 0.05)]
    held_out: f64,
    /// Use at most this many training sequences.
    #[arg(long)]
    max_sequences: Option<usize>,
    /// Fraction of tokens predicted by MLM.
    #[arg(long, default_value_t = 0.15)]
    mlm_probability: f64,
    /// Mask whole words (all their sub-words) instead of single tokens.
    #[arg(long)]
    whole_word: bool,
    /// Epochs.
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// End after this many optimizer steps (or after --epochs, whichever comes first).
    #[arg(long)]
    max_steps: Option<usize>,
    /// Batch size.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 1e-4)]
    lr: f64,
    /// Warmup fraction.
    #[arg(long, default_value_t = 0.06)]
    warmup_ratio: f64,
    /// AdamW weight decay.
    #[arg(long, default_value_t = 0.01)]
    weight_decay: f64,
    /// Evaluate on the held-out part every N steps (and at each epoch end).
    #[arg(long)]
    eval_every: Option<usize>,
    /// Train only the parameters whose path contains one of these (comma-separated), the rest
    /// frozen; `embeddings` is the word embeddings and the tied MLM decoder's bias: the rows a
    /// vocabulary extension added settle in before everything trains (a first, short run).
    #[arg(long, value_delimiter = ',')]
    train_only: Vec<String>,
    /// Write a resumable checkpoint every N steps.
    #[arg(long)]
    checkpoint_every: Option<usize>,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Backend: flex, tch, tch-cuda, wgpu or cuda.
    #[arg(long, default_value = "flex")]
    backend: String,
    /// Recompute each encoder layer in the backward pass instead of keeping its activations
    /// (layer-wise gradient checkpointing; the MLM objective): much less memory for long
    /// sequences, about a third more compute.
    #[arg(long)]
    gradient_checkpointing: bool,
    /// Mixed precision: forward and backward in bf16, weights, optimizer and loss in f32
    /// (`transformers`' `--bf16`). For devices that multiply bf16 natively (recent GPUs and
    /// CPUs with AMX / AVX-512 BF16).
    #[arg(long)]
    bf16: bool,
    /// Train data-parallel on these devices of the backend (`--devices 0,1`: CUDA devices 0
    /// and 1); `--batch-size` is the global batch.
    #[arg(long, value_delimiter = ',')]
    devices: Vec<usize>,
    /// Only evaluate the `--model` checkpoint on the held-out part of the corpus (the same
    /// split and masks a training run with these flags evaluates on): writes `metrics.json`
    /// (held-out loss, perplexity, accuracy, the unigram baseline) and trains and saves nothing.
    #[arg(long)]
    eval_only: bool,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
}

/// How a pre-training run was made (`training_config.json`).
#[derive(Debug, Serialize)]
struct PretrainInfo<'a> {
    task: &'static str,
    objective: &'static str,
    corpus: &'a [PathBuf],
    base_model: Option<&'a Path>,
    max_length: usize,
    held_out: f64,
    mlm_probability: f64,
    whole_word: bool,
    train: &'a TrainConfig,
}

impl PretrainArgs {
    fn train_config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch_size,
            learning_rate: self.lr,
            warmup_ratio: self.warmup_ratio,
            schedule: ScheduleKind::Linear,
            weight_decay: self.weight_decay,
            eval_every: self.eval_every,
            checkpoint_every: self.checkpoint_every,
            metric: "loss".into(),
            seed: self.seed,
            max_length: self.max_length,
            bucketing: false,
            max_steps: self.max_steps,
            gradient_checkpointing: self.gradient_checkpointing,
            bf16: self.bf16,
            train_only: self
                .train_only
                .iter()
                .flat_map(|p| match p.as_str() {
                    "embeddings" => {
                        vec!["word_embeddings".to_string(), "cls.predictions.bias".into()]
                    }
                    other => vec![other.to_string()],
                })
                .collect(),
            ..TrainConfig::default()
        }
    }

    /// The config of a model trained from scratch, of the family `--family` (else the
    /// `--config` file's `model_type`, else BERT), sized to `tokenizer`'s vocabulary. `None`
    /// is the size check before the tokenizer exists: it sizes to the planned `--vocab-size`
    /// and leaves GPT-2's special token ids, which only the tokenizer knows, at 0.
    fn scratch_config(&self, tokenizer: Option<&Tokenizer>) -> Result<BertConfig> {
        let vocab_size = tokenizer.map_or(self.vocab_size.max(1000), Tokenizer::vocab_size);
        let file = match &self.config {
            Some(path) => Some(
                serde_json::from_str::<serde_json::Value>(
                    &std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                )
                .with_context(|| format!("{}", path.display()))?,
            ),
            None => None,
        };
        let family = self.scratch_family(file.as_ref());
        // The config's field names: the family's for BERT's (GPT-2's `n_layer`, ...).
        let [layers, hidden, heads, inner, positions] = [
            "num_hidden_layers",
            "hidden_size",
            "num_attention_heads",
            "intermediate_size",
            "max_position_embeddings",
        ]
        .map(|field| family.config_field(field));
        let mut json = file.unwrap_or_else(|| {
            let defaults = [
                (layers, 4),
                (hidden, 256),
                (heads, 4),
                (inner, 1024),
                (positions, 512),
            ];
            serde_json::Value::Object(
                defaults
                    .into_iter()
                    .map(|(key, value)| (key.to_string(), value.into()))
                    .collect(),
            )
        });
        let set = |json: &mut serde_json::Value, key: &str, value: Option<usize>| {
            if let Some(v) = value {
                json[key] = v.into();
            }
        };
        set(&mut json, layers, self.layers);
        set(&mut json, hidden, self.hidden);
        set(&mut json, heads, self.heads);
        let intermediate = self.intermediate.or_else(|| self.hidden.map(|h| 4 * h));
        set(&mut json, inner, intermediate);
        set(&mut json, positions, self.max_positions);
        json["vocab_size"] = vocab_size.into();
        json["model_type"] = family.model_type.into();
        if family.is_decoder {
            match tokenizer {
                // GPT-2's documents start and end with its one special token; batches pad with
                // the tokenizer's padding token (or that one).
                Some(tokenizer) => {
                    let (bos, eos) = (tokenizer.cls_id(), tokenizer.sep_id());
                    set(&mut json, "bos_token_id", bos.map(|i| i as usize));
                    set(&mut json, "eos_token_id", eos.map(|i| i as usize));
                    set(
                        &mut json,
                        "pad_token_id",
                        tokenizer.pad_id().or(eos).map(|i| i as usize),
                    );
                }
                // The size check before the tokenizer exists: its special ids are not known
                // yet, and GPT-2's defaults (50256) need not fit the vocabulary to be trained.
                None => {
                    for key in ["bos_token_id", "eos_token_id", "pad_token_id"] {
                        json[key] = 0.into();
                    }
                }
            }
        }
        let where_ = self
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from("--layers/--hidden/--heads"));
        let config = BertConfig::from_json_str(&json.to_string(), &where_)?;
        // A new model has no weights to check the sizes against: check them against the
        // machine (training holds the weights, their gradients and AdamW's two moments).
        let params = config.num_encoder_parameters();
        let needed = params.saturating_mul(4 * 4);
        if let Some(memory) = burnish::train::memory::total_memory_bytes()
            && needed > memory
        {
            let h = config.hidden_size as u64;
            let embeddings = (config.vocab_size as u64).saturating_mul(h);
            let positions = (config.max_position_embeddings as u64).saturating_mul(h);
            let field = if embeddings >= positions && embeddings.saturating_mul(2) >= params {
                "vocab_size"
            } else if positions.saturating_mul(2) >= params {
                "max_position_embeddings"
            } else if config.num_hidden_layers > 1 {
                "num_hidden_layers"
            } else {
                "intermediate_size"
            };
            bail!(
                "{}: invalid config field `{field}`: the model would have {params} parameters; \
                 training it needs about {:.1} GB (weights, gradients and AdamW's moments in \
                 f32), more than this machine's {:.1} GB",
                where_.display(),
                needed as f64 / 1e9,
                memory as f64 / 1e9
            );
        }
        Ok(config)
    }

    /// The family of a model from scratch: `--family`, else the `--config` file's
    /// `model_type` when it is a decoder's (GPT-2), else BERT.
    fn scratch_family(&self, file: Option<&serde_json::Value>) -> &'static Family {
        let named = self
            .family
            .as_deref()
            .or_else(|| file?.get("model_type")?.as_str());
        named
            .and_then(Family::from_model_type)
            .filter(|family| family.is_decoder)
            .unwrap_or(&BERT)
    }
}

/// The tokenizer: the checkpoint's, the given one, or one trained on the corpus (saved in the
/// run directory).
fn tokenizer(args: &PretrainArgs, decoder: bool) -> Result<Tokenizer> {
    if let Some(dir) = args.model.as_ref().or(args.tokenizer.as_ref()) {
        return Ok(Tokenizer::from_dir(dir)?);
    }
    let saved = args.out.join("tokenizer.json");
    if saved.is_file() {
        // A resumed run keeps the tokenizer it trained.
        return Ok(Tokenizer::from_dir(&args.out)?);
    }
    if decoder {
        eprintln!(
            "training a {}-token byte-level BPE tokenizer on the corpus",
            args.vocab_size
        );
        let options = ByteLevelBpeTrainOptions {
            vocab_size: args.vocab_size,
            show_progress: !args.quiet,
            ..ByteLevelBpeTrainOptions::default()
        };
        let mut tokenizer = train_byte_level_bpe(&args.corpus, &options)?;
        tokenizer.set_model_max_length(Some(args.max_length.max(1024)));
        tokenizer.save_dir(&args.out)?;
        return Ok(tokenizer);
    }
    eprintln!(
        "training a {}-token WordPiece tokenizer on the corpus",
        args.vocab_size
    );
    let options = WordPieceTrainOptions {
        vocab_size: args.vocab_size,
        lowercase: !args.cased,
        show_progress: !args.quiet,
        ..WordPieceTrainOptions::default()
    };
    let mut tokenizer = train_wordpiece(&args.corpus, &options)?;
    tokenizer.set_model_max_length(Some(args.max_length.max(512)));
    tokenizer.save_dir(&args.out)?;
    Ok(tokenizer)
}

/// The folder of a run directory holding its packed corpus.
const PACKED_DIR: &str = "packed";

/// Files `burnish pretrain` writes into the run directory before the first checkpoint: a run
/// killed then keeps them when it starts over.
const OWN_FILES: [&str; 5] = [
    PACKED_DIR,
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// FNV-1a, 64 bits: a stable hash for the packed files' keys.
fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// What the packed sequences of `part` depend on, hashed: the format, the objective, the
/// options that shape sequences, the corpus files (path, size, modification time) and the
/// tokenizer (its vocabulary, special tokens and how it tokenizes a probe text). A file
/// written under another key is stale and packed again.
fn packing_key(
    args: &PretrainArgs,
    objective: Objective,
    tokenizer: &Tokenizer,
    part: Part,
    limit: Option<usize>,
) -> Result<u64> {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut add = |text: &str| h = fnv1a(fnv1a(h, text.as_bytes()), &[0]);
    add("burnish-packed-1");
    add(objective.name());
    add(&format!(
        "{} {} {} {:?} {:?}",
        args.max_length,
        args.held_out.to_bits(),
        args.seed,
        limit,
        part
    ));
    for path in &args.corpus {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos());
        add(&format!("{} {} {modified:?}", path.display(), meta.len()));
    }
    for id in 0..tokenizer.vocab_size() as u32 {
        add(&tokenizer.id_to_token(id).unwrap_or_default());
    }
    let special = SpecialIds::from_tokenizer(tokenizer)?;
    add(&format!("{special:?}"));
    let probe = tokenizer
        .encode(
            "Hello, World! Caf\u{e9} na\u{ef}ve \u{4e2d}\u{6587} 1234 don't",
            &burnish::tokenizer::EncodeOptions::default(),
        )
        .map(|e| format!("{:?}", e.ids))
        .unwrap_or_default();
    add(&probe);
    Ok(h)
}

/// The packed (or paired) sequences of one part of the corpus, in `RUN/packed/PART.bin`: the
/// file of an earlier attempt of this run if it was written from the same corpus, tokenizer
/// and options, else the corpus streamed through tokenization and packing into a new file.
fn sequences(
    args: &PretrainArgs,
    objective: Objective,
    tokenizer: &Tokenizer,
    part: Part,
    limit: Option<usize>,
    vocab_size: usize,
) -> Result<PackedSequences> {
    let dir = args.out.join(PACKED_DIR);
    let name = match part {
        Part::Train => "train",
        Part::HeldOut => "held_out",
    };
    let path = dir.join(format!("{name}.bin"));
    let key = packing_key(args, objective, tokenizer, part, limit)?;
    if path.is_file() {
        match PackedSequences::open(&path) {
            Ok(packed) if packed.key() == key => {
                eprintln!(
                    "reusing the {} packed {name} sequences in {}",
                    packed.len(),
                    path.display()
                );
                return Ok(packed);
            }
            Ok(_) => eprintln!(
                "note: {} was packed from another corpus, tokenizer or options: packing again",
                path.display()
            ),
            Err(error) => eprintln!("note: {error}: packing again"),
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Left by a packing that was killed.
    crate::runtime::remove_temporary_files(&dir)?;
    let started = Instant::now();
    let corpus = Corpus::new(args.corpus.iter().cloned(), CorpusOptions::default())?;
    let split = HeldOutSplit::new(args.held_out, args.seed)?;
    let sentences = corpus.sentences().part(split, part);
    let tokenized = TokenizedSentences::new(tokenizer.clone(), sentences);
    let special = SpecialIds::from_tokenizer(tokenizer)?;
    let packed = match objective {
        Objective::MlmNsp => {
            let options = NspOptions {
                max_length: args.max_length,
                ..NspOptions::default()
            };
            let pairs = NspPairs::new(
                TokenizedDocuments::new(tokenized),
                special,
                options,
                args.seed,
                0,
            )?;
            PackedSequences::write(&path, key, vocab_size, pairs, limit)?
        }
        Objective::Mlm | Objective::Clm => {
            let options = PackOptions {
                max_length: args.max_length,
                cross_documents: true,
            };
            let packer = Packer::new(tokenized, special, options)?;
            PackedSequences::write(&path, key, vocab_size, packer, limit)?
        }
    };
    eprintln!(
        "packed {} {name} sequences ({} tokens) into {} in {:.1} s",
        packed.len(),
        packed.num_tokens(),
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(packed)
}

/// What `burnish pretrain` needs of a model.
trait PretrainHead: FineTune<burnish::data::PretrainBatch> + PretrainModel {
    fn save(&self, config: &BertConfig, dir: &Path) -> burnish::encoder::Result<()>;
}

impl PretrainHead for BertForMaskedLM {
    fn save(&self, config: &BertConfig, dir: &Path) -> burnish::encoder::Result<()> {
        self.save_pretrained(config, dir)
    }
}

impl PretrainHead for BertForPreTraining {
    fn save(&self, config: &BertConfig, dir: &Path) -> burnish::encoder::Result<()> {
        self.save_pretrained(config, dir)
    }
}

impl PretrainHead for BertLMHeadModel {
    fn save(&self, config: &BertConfig, dir: &Path) -> burnish::encoder::Result<()> {
        self.save_pretrained(config, dir)
    }
}

impl PretrainHead for Gpt2LMHeadModel {
    fn save(&self, config: &BertConfig, dir: &Path) -> burnish::encoder::Result<()> {
        self.save_pretrained(config, dir)
    }
}

/// Runs `burnish pretrain`.
pub fn run(args: PretrainArgs) -> Result<()> {
    let objective = args.objective.objective();
    if args.model.is_some()
        && (args.config.is_some() || args.tokenizer.is_some() || args.family.is_some())
    {
        bail!(
            "--model continues a checkpoint (its family too); --config, --tokenizer and \
             --family are for a new model"
        );
    }
    // A decoder (GPT-2), from a checkpoint or from scratch, trains only as a causal LM.
    let decoder = match &args.model {
        Some(dir) => {
            BertConfig::from_file(dir.join(burnish::encoder::CONFIG_FILE))?
                .family
                .is_decoder
        }
        None => {
            // An unreadable --config is reported when the model is built.
            let file = args
                .config
                .as_ref()
                .and_then(|path| std::fs::read_to_string(path).ok())
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
            args.scratch_family(file.as_ref()).is_decoder
        }
    };
    if decoder && objective != Objective::Clm {
        bail!(
            "a GPT-2 model is a decoder: it pre-trains with --objective clm, not {}",
            objective.name()
        );
    }
    if args.model.is_none() {
        // Sizes a model cannot have fail before anything is written (checked again with the
        // tokenizer's vocabulary below).
        args.scratch_config(None)?;
    }
    if args.eval_only && args.model.is_none() {
        bail!("--eval-only evaluates a checkpoint: give it with --model");
    }
    let device = primary_device(&args.backend, &args.devices)?;
    let resuming = prepare_out_dir_keeping(&args.out, args.overwrite, &OWN_FILES)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let tokenizer = tokenizer(&args, decoder)?;
    // New weights follow the seed (a model from scratch, a new head).
    device.seed(args.seed);
    match objective {
        Objective::Mlm => {
            let (model, config) = match &args.model {
                Some(dir) => load(BertForMaskedLM::from_pretrained(dir, &device), resuming)?,
                None => {
                    let config = args.scratch_config(Some(&tokenizer))?;
                    (BertForMaskedLM::new(&config, &device), config)
                }
            };
            train(
                &args, objective, &tokenizer, model, config, &device, resuming,
            )
        }
        Objective::MlmNsp => {
            let (model, config) = match &args.model {
                Some(dir) => load(BertForPreTraining::from_pretrained(dir, &device), resuming)?,
                None => {
                    let config = args.scratch_config(Some(&tokenizer))?;
                    (BertForPreTraining::new(&config, &device), config)
                }
            };
            train(
                &args, objective, &tokenizer, model, config, &device, resuming,
            )
        }
        Objective::Clm if decoder => {
            let (model, config) = match &args.model {
                Some(dir) => load(Gpt2LMHeadModel::from_pretrained(dir, &device), resuming)?,
                None => {
                    let config = args.scratch_config(Some(&tokenizer))?;
                    (Gpt2LMHeadModel::new(&config, &device), config)
                }
            };
            train(
                &args, objective, &tokenizer, model, config, &device, resuming,
            )
        }
        Objective::Clm => {
            let (model, config) = match &args.model {
                Some(dir) => load(BertLMHeadModel::from_pretrained(dir, &device), resuming)?,
                None => {
                    let config = args.scratch_config(Some(&tokenizer))?;
                    (BertLMHeadModel::new(&config, &device), config)
                }
            };
            train(
                &args, objective, &tokenizer, model, config, &device, resuming,
            )
        }
    }
}

/// A loaded checkpoint, with `transformers`' note about new head weights.
fn load<M>(
    loaded: burnish::encoder::Result<(M, BertConfig, burnish::encoder::weights::LoadReport)>,
    resuming: bool,
) -> Result<(M, BertConfig)> {
    let (model, config, report) = loaded?;
    if !report.newly_initialized.is_empty() && !resuming {
        eprintln!(
            "note: the checkpoint has no weights for {}: newly initialised (train the model \
             before using its predictions)",
            report.newly_initialized.join(", ")
        );
    }
    Ok((model, config))
}

fn train<M: PretrainHead>(
    args: &PretrainArgs,
    objective: Objective,
    tokenizer: &Tokenizer,
    model: M,
    config: BertConfig,
    device: &Device,
    resuming: bool,
) -> Result<()> {
    let started = Instant::now();
    if args.max_length > config.max_sequence_length() {
        bail!(
            "--max-length {} exceeds the longest input the model's positions cover ({})",
            args.max_length,
            config.max_sequence_length()
        );
    }
    if tokenizer.vocab_size() > config.vocab_size {
        bail!(
            "the tokenizer has {} tokens but the model's vocab_size is {}",
            tokenizer.vocab_size(),
            config.vocab_size
        );
    }
    let cfg = args.train_config();
    let vocab_size = tokenizer.vocab_size().max(config.vocab_size);
    let train_seqs = sequences(
        args,
        objective,
        tokenizer,
        Part::Train,
        args.max_sequences,
        vocab_size,
    )?;
    let held_seqs = sequences(args, objective, tokenizer, Part::HeldOut, None, vocab_size)?;
    if train_seqs.is_empty() || held_seqs.is_empty() {
        bail!(
            "the corpus gave {} training and {} held-out sequences; both must be non-empty \
             (a larger corpus, or another --held-out fraction)",
            train_seqs.len(),
            held_seqs.len()
        );
    }
    let masker = match objective {
        Objective::Clm => None,
        _ => Some(MlmMasker::from_tokenizer(
            tokenizer,
            MlmOptions {
                mlm_probability: args.mlm_probability,
                whole_word: args.whole_word,
                ..MlmOptions::default()
            },
            args.seed,
        )?),
    };
    let unigram = unigram_baseline(&train_seqs, &held_seqs, masker.as_ref(), config.vocab_size)?;
    let pad_id = tokenizer.pad_id().unwrap_or(config.pad_token_id as u32);
    let eval_batch = cfg.batch_size.max(32);
    if args.eval_only {
        return evaluate_only(
            args,
            objective,
            &model,
            &held_seqs,
            masker.as_ref(),
            unigram,
            pad_id,
            device,
            started,
        );
    }
    let batches = PretrainBatches::new(
        &train_seqs,
        masker.as_ref(),
        cfg.batch_size,
        cfg.seed,
        pad_id,
    )?;
    let trainer = make_trainer(
        &cfg,
        &args.out,
        &args.backend,
        &args.devices,
        args.quiet,
        resuming,
    )?;
    eprintln!(
        "pre-training ({}) on {} sequences of up to {} tokens ({} held out), {} parameters in \
         {} layers, backend {}",
        objective.name(),
        train_seqs.len(),
        args.max_length,
        held_seqs.len(),
        model.num_params(),
        config.num_hidden_layers,
        args.backend
    );
    let mut evaluate =
        |m: &M| pretrain::evaluate(m, &held_seqs, masker.as_ref(), eval_batch, pad_id, device);
    let result = trainer.fit(model, &batches, &mut evaluate)?;
    exit_if_interrupted(&result, &args.out);

    let best = result.model.valid();
    best.save(&config, &args.out)?;
    tokenizer.save_dir(&args.out)?;
    let final_metrics = pretrain::evaluate(
        &best,
        &held_seqs,
        masker.as_ref(),
        eval_batch,
        pad_id,
        device,
    )
    .map_err(anyhow::Error::msg)?;
    let info = PretrainInfo {
        task: "pretrain",
        objective: objective.name(),
        corpus: &args.corpus,
        base_model: args.model.as_deref(),
        max_length: args.max_length,
        held_out: args.held_out,
        mlm_probability: args.mlm_probability,
        whole_word: args.whole_word,
        train: &cfg,
    };
    run_dir::write_json(&args.out.join(run_dir::TRAINING_CONFIG), &info)?;
    let mut metrics = run_metrics(&result, &final_metrics, started, &args.backend);
    metrics["unigram_baseline_loss"] = unigram.into();
    metrics["train_sequences"] = train_seqs.len().into();
    metrics["held_out_sequences"] = held_seqs.len().into();
    let card = crate::card::Card::pretrain(
        objective.name(),
        args.model.as_deref(),
        &args.corpus,
        serde_json::to_value(&cfg)?,
    );
    run_dir::write_card(&args.out, &card, &metrics)?;
    run_dir::write_json(&args.out.join(run_dir::METRICS), &metrics)?;
    // The run is finished: the packed corpus (about 3 bytes a token) is not needed any more.
    drop((train_seqs, held_seqs));
    let packed = args.out.join(PACKED_DIR);
    std::fs::remove_dir_all(&packed)
        .with_context(|| format!("cannot remove {}", packed.display()))?;
    eprintln!(
        "held-out: loss {:.4} (unigram baseline {unigram:.4}), perplexity {:.2}, token accuracy \
         {:.4}{}",
        final_metrics["loss"],
        final_metrics["perplexity"],
        final_metrics["accuracy"],
        final_metrics
            .get("nsp_accuracy")
            .map(|a| format!(", NSP accuracy {a:.4}"))
            .unwrap_or_default()
    );
    print_summary(&cfg, &result, started, &args.out);
    Ok(())
}

/// `--eval-only`: the checkpoint's held-out metrics, printed and written to `metrics.json`.
#[allow(clippy::too_many_arguments)]
fn evaluate_only<M: PretrainHead>(
    args: &PretrainArgs,
    objective: Objective,
    model: &M,
    held_out: &PackedSequences,
    masker: Option<&MlmMasker>,
    unigram: f64,
    pad_id: u32,
    device: &Device,
    started: Instant,
) -> Result<()> {
    eprintln!(
        "evaluating {} ({}) on {} held-out sequences, backend {}",
        args.model.as_deref().unwrap_or(Path::new("?")).display(),
        objective.name(),
        held_out.len(),
        args.backend
    );
    let metrics = pretrain::evaluate(
        model,
        held_out,
        masker,
        args.batch_size.max(32),
        pad_id,
        device,
    )
    .map_err(anyhow::Error::msg)?;
    let json = serde_json::json!({
        "eval_only": true,
        "objective": objective.name(),
        "base_model": args.model,
        "final_validation": metrics,
        "unigram_baseline_loss": unigram,
        "held_out_sequences": held_out.len(),
        "wall_seconds": started.elapsed().as_secs_f64(),
        "backend": args.backend,
    });
    run_dir::write_json(&args.out.join(run_dir::METRICS), &json)?;
    eprintln!(
        "held-out: loss {:.4} (unigram baseline {unigram:.4}), perplexity {:.2}, token accuracy \
         {:.4}{}",
        metrics["loss"],
        metrics["perplexity"],
        metrics["accuracy"],
        metrics
            .get("nsp_accuracy")
            .map(|a| format!(", NSP accuracy {a:.4}"))
            .unwrap_or_default()
    );
    eprintln!("wrote {}", args.out.join(run_dir::METRICS).display());
    Ok(())
}

/// The held-out loss of a model that knows only token frequencies: the mean cross-entropy of
/// the held-out predicted tokens (masked as in evaluation; for causal LM every next token)
/// under the training sequences' unigram distribution (add-one smoothed over the vocabulary).
/// A pre-trained model's loss should fall well below it.
fn unigram_baseline(
    train: &PackedSequences,
    held_out: &PackedSequences,
    masker: Option<&MlmMasker>,
    vocab_size: usize,
) -> Result<f64> {
    let mut counts = vec![1.0f64; vocab_size];
    for sequence in train.iter() {
        for id in sequence?.content_ids() {
            if let Some(c) = counts.get_mut(id as usize) {
                *c += 1.0;
            }
        }
    }
    let total: f64 = counts.iter().sum();
    let mut sum = 0.0;
    let mut n = 0usize;
    let mut add = |id: u32| {
        sum -= (counts.get(id as usize).copied().unwrap_or(1.0) / total).ln();
        n += 1;
    };
    for sequence in held_out.iter() {
        let sequence = sequence?;
        match masker {
            Some(masker) => masker
                .mask(&sequence, 0)
                .labels
                .into_iter()
                .filter(|&l| l >= 0)
                .for_each(|l| add(l as u32)),
            None => sequence.ids[1..].iter().for_each(|&id| add(id)),
        }
    }
    Ok(sum / n.max(1) as f64)
}
