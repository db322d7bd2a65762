//! Sentence embeddings as `sentence-transformers` computes and trains them: an encoder, a
//! pooling of its last hidden states, an optional L2 normalisation ([`SentenceEncoder`]), the
//! folder layout `SentenceTransformer(path)` loads ([`SentenceConfig`]), and the contrastive
//! losses ([`multiple_negatives_ranking_loss`], [`cosent_loss`], [`matryoshka`]).
//!
//! Mirrors `sentence_transformers/models/{Pooling,Normalize}.py` and
//! `sentence_transformers/losses/{MultipleNegativesRankingLoss,MultipleNegativesSymmetricRankingLoss,CoSENTLoss,MatryoshkaLoss}.py`
//! (<https://github.com/UKPLab/sentence-transformers>, v5.1).

use std::fmt;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_encoder::model::{BertInput, BertModel, l2_normalize, mean_pool};
use burnish_encoder::weights::LoadReport;
use burnish_encoder::{BertConfig, EncoderError, HfModel, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::loss::cross_entropy;

/// How the token states become one vector (`1_Pooling/config.json`'s `pooling_mode_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// The mean over real tokens (`pooling_mode_mean_tokens`).
    #[default]
    Mean,
    /// The first token (`pooling_mode_cls_token`).
    Cls,
    /// The last real token (`pooling_mode_lasttoken`; rows padded on the right).
    LastToken,
}

impl Pooling {
    /// Every pooling, by its name (`mean`, `cls`, `last_token`).
    pub const ALL: [Pooling; 3] = [Pooling::Mean, Pooling::Cls, Pooling::LastToken];

    /// The name on the command line and in `training_config.json`.
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::Cls => "cls",
            Pooling::LastToken => "last_token",
        }
    }

    /// The `1_Pooling/config.json` key that is `true` for this pooling.
    fn key(self) -> &'static str {
        match self {
            Pooling::Mean => "pooling_mode_mean_tokens",
            Pooling::Cls => "pooling_mode_cls_token",
            Pooling::LastToken => "pooling_mode_lasttoken",
        }
    }

    /// Pools `[B, S, H]` hidden states over a `[B, S]` mask (1 = real token) to `[B, H]`.
    pub fn pool(self, hidden: Tensor<3>, attention_mask: Tensor<2, Int>) -> Tensor<2> {
        let [batch, _, width] = hidden.dims();
        match self {
            Pooling::Mean => mean_pool(hidden, attention_mask),
            Pooling::Cls => hidden.narrow(1, 0, 1).reshape([batch, width]),
            Pooling::LastToken => {
                // The last real token of a right-padded row: (real tokens - 1).
                let last = attention_mask.sum_dim(1).sub_scalar(1).clamp_min(0);
                let index = last.unsqueeze_dim::<3>(2).expand([batch, 1, width]);
                hidden.gather(1, index).reshape([batch, width])
            }
        }
    }
}

impl fmt::Display for Pooling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A sentence embedding model: `normalize?(pool(encoder(x)))`, `[B, S]` ids to `[B, H]`.
#[derive(Module, Debug)]
pub struct SentenceEncoder {
    /// The encoder (saved as the bare model folder at the root of the folder).
    pub bert: BertModel,
    /// How token states are pooled.
    #[module(skip)]
    pub pooling: Pooling,
    /// Whether embeddings are divided by their L2 norm (a `Normalize` module).
    #[module(skip)]
    pub normalize: bool,
    /// The training objective (set by the trainer from its config, not saved).
    #[module(skip)]
    pub loss: EmbeddingLoss,
}

impl SentenceEncoder {
    /// An embedding model on `bert`, trained with the default objective (MNRL).
    pub fn new(bert: BertModel, pooling: Pooling, normalize: bool) -> Self {
        Self {
            bert,
            pooling,
            normalize,
            loss: EmbeddingLoss::default(),
        }
    }

    /// Loads a model folder's encoder with the pooling and normalisation of its
    /// `sentence-transformers` modules ([`SentenceConfig::read`]; a plain model folder gets
    /// the default, mean pooling + normalisation), and that configuration.
    ///
    /// # Errors
    /// As [`BertModel::from_pretrained`] and [`SentenceConfig::read`].
    pub fn from_pretrained(
        dir: impl AsRef<Path>,
        device: &Device,
    ) -> Result<(Self, SentenceConfig, BertConfig, LoadReport)> {
        let dir = dir.as_ref();
        let sentence = SentenceConfig::read(dir)?.unwrap_or_default();
        let (bert, config, report) = BertModel::from_pretrained(dir, device)?;
        let model = Self::new(bert, sentence.pooling, sentence.normalize);
        Ok((model, sentence, config, report))
    }

    /// The embedding of each row: `[B, S]` inputs to `[B, H]`.
    pub fn forward(&self, input: BertInput) -> Tensor<2> {
        let mask = input.attention_mask.clone();
        let hidden = self.bert.forward(input).last_hidden_state;
        let pooled = self.pooling.pool(hidden, mask);
        if self.normalize {
            l2_normalize(pooled)
        } else {
            pooled
        }
    }
}

/// The `sentence-transformers` modules around the encoder of a folder: `modules.json`,
/// `sentence_bert_config.json`, `1_Pooling/config.json`, `2_Normalize/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentenceConfig {
    /// How token states are pooled.
    pub pooling: Pooling,
    /// Whether a `Normalize` module follows the pooling.
    pub normalize: bool,
    /// `max_seq_length`: the longest input in tokens (longer ones are truncated).
    pub max_seq_length: Option<usize>,
}

impl Default for SentenceConfig {
    /// Mean pooling, normalised (the recipe of `all-MiniLM-L6-v2`), the model's own length.
    fn default() -> Self {
        Self {
            pooling: Pooling::Mean,
            normalize: true,
            max_seq_length: None,
        }
    }
}

/// The file listing a `sentence-transformers` folder's modules.
pub const MODULES_FILE: &str = "modules.json";
const SBERT_CONFIG: &str = "sentence_bert_config.json";
const POOLING_DIR: &str = "1_Pooling";
const NORMALIZE_DIR: &str = "2_Normalize";
const TRANSFORMER: &str = "sentence_transformers.models.Transformer";
const POOLING: &str = "sentence_transformers.models.Pooling";
const NORMALIZE: &str = "sentence_transformers.models.Normalize";

impl SentenceConfig {
    /// Reads the modules of a `sentence-transformers` folder, or `None` for a plain model
    /// folder (no `modules.json`). The encoder must be the folder itself (a `Transformer`
    /// module at path `""`), followed by one `Pooling` and optionally a `Normalize`.
    ///
    /// # Errors
    /// [`EncoderError::ConfigJson`] / [`EncoderError::ConfigValue`] naming the file and field
    /// for unreadable files, a pooling mode burnish does not compute (max, weighted mean,
    /// mean-sqrt-len) or a module it does not run (`Dense`, ...).
    pub fn read(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(MODULES_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        let modules = read_json(&path)?;
        let modules = modules
            .as_array()
            .ok_or_else(|| value_error(&path, "modules", "expected a list of modules".into()))?;
        let mut config = Self {
            normalize: false,
            ..Self::default()
        };
        let mut pooling = None;
        for (i, module) in modules.iter().enumerate() {
            let kind = module.get("type").and_then(Value::as_str).unwrap_or("");
            let sub = module.get("path").and_then(Value::as_str).unwrap_or("");
            match kind {
                TRANSFORMER if i == 0 && sub.is_empty() => {}
                POOLING if i == 1 => pooling = Some(Self::read_pooling(&dir.join(sub))?),
                NORMALIZE if i == 2 => config.normalize = true,
                _ => {
                    return Err(value_error(
                        &path,
                        "type",
                        format!(
                            "module {i} is `{kind}` at `{sub}`: burnish reads a Transformer at \
                             the folder's root, a Pooling and an optional Normalize"
                        ),
                    ));
                }
            }
        }
        config.pooling = pooling.ok_or_else(|| {
            value_error(
                &path,
                "modules",
                "no sentence_transformers.models.Pooling module".into(),
            )
        })?;
        let sbert = dir.join(SBERT_CONFIG);
        if sbert.is_file() {
            config.max_seq_length = read_json(&sbert)?
                .get("max_seq_length")
                .and_then(Value::as_u64)
                .map(|n| n as usize);
        }
        Ok(Some(config))
    }

    /// The longest input in tokens: `max_seq_length`, else `fallback`, else what `config`'s
    /// positions cover; never more than they cover.
    pub fn max_length(&self, config: &BertConfig, fallback: Option<usize>) -> usize {
        let positions = config.max_sequence_length();
        self.max_seq_length
            .or(fallback)
            .map_or(positions, |n| n.min(positions))
    }

    fn read_pooling(dir: &Path) -> Result<Pooling> {
        let path = dir.join("config.json");
        let json = read_json(&path)?;
        let on = |key: &str| json.get(key).and_then(Value::as_bool).unwrap_or(false);
        let modes: Vec<&str> = json
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, v)| k.starts_with("pooling_mode_") && v.as_bool() == Some(true))
            .map(|(k, _)| k.as_str())
            .collect();
        match Pooling::ALL.iter().find(|p| on(p.key())) {
            Some(&pooling) if modes.len() == 1 => Ok(pooling),
            _ => Err(value_error(
                &path,
                "pooling_mode",
                format!(
                    "modes {modes:?}: burnish computes exactly one of {}",
                    Pooling::ALL.map(Pooling::key).join(", ")
                ),
            )),
        }
    }

    /// Writes the modules into `dir`, beside the encoder's model folder, for an encoder of
    /// `hidden_size` (each file written whole; a stale `2_Normalize/` is left alone, since
    /// `modules.json` decides).
    ///
    /// # Errors
    /// [`EncoderError::Io`] naming the file that could not be written.
    pub fn write(&self, dir: &Path, hidden_size: usize) -> Result<()> {
        let mut modules = vec![
            json!({"idx": 0, "name": "0", "path": "", "type": TRANSFORMER}),
            json!({"idx": 1, "name": "1", "path": POOLING_DIR, "type": POOLING}),
        ];
        if self.normalize {
            modules.push(json!({"idx": 2, "name": "2", "path": NORMALIZE_DIR, "type": NORMALIZE}));
            create_dir(&dir.join(NORMALIZE_DIR))?;
        }
        let mut pooling = json!({
            "word_embedding_dimension": hidden_size,
            "pooling_mode_cls_token": false,
            "pooling_mode_mean_tokens": false,
            "pooling_mode_max_tokens": false,
            "pooling_mode_mean_sqrt_len_tokens": false,
            "pooling_mode_weightedmean_tokens": false,
            "pooling_mode_lasttoken": false,
            "include_prompt": true,
        });
        pooling[self.pooling.key()] = true.into();
        create_dir(&dir.join(POOLING_DIR))?;
        write_json(&dir.join(POOLING_DIR).join("config.json"), &pooling)?;
        write_json(
            &dir.join(SBERT_CONFIG),
            &json!({"max_seq_length": self.max_seq_length, "do_lower_case": false}),
        )?;
        write_json(
            &dir.join("config_sentence_transformers.json"),
            &json!({
                "model_type": "SentenceTransformer",
                "prompts": {},
                "default_prompt_name": null,
                "similarity_fn_name": "cosine",
            }),
        )?;
        write_json(&dir.join(MODULES_FILE), &Value::from(modules))
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|source| EncoderError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| EncoderError::ConfigJson {
        path: path.to_owned(),
        source,
    })
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    burnish_fs::write_atomic(path, text.as_bytes()).map_err(|source| EncoderError::Io {
        path: path.to_owned(),
        source,
    })
}

fn create_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|source| EncoderError::Io {
        path: path.to_owned(),
        source,
    })
}

fn value_error(path: &Path, field: &'static str, reason: String) -> EncoderError {
    EncoderError::ConfigValue {
        path: PathBuf::from(path),
        field,
        reason,
    }
}

/// Cosine similarity of every row of `a` `[N, D]` with every row of `b` `[M, D]`: `[N, M]`
/// (`sentence_transformers.util.cos_sim`).
pub fn cos_sim(a: Tensor<2>, b: Tensor<2>) -> Tensor<2> {
    l2_normalize(a).matmul(l2_normalize(b).transpose())
}

/// Multiple-negatives ranking loss (InfoNCE with in-batch negatives): row `i` of `anchors`
/// `[B, D]` should be closest to row `i` of `candidates` `[B * (1 + k), D]` (the `B` positives,
/// then any hard negatives), all other candidates being its negatives. Cross-entropy over
/// `scale * cos_sim` (`scale` 20 in `sentence-transformers`). `symmetric` adds the same loss
/// from each positive back to the anchors and averages the two
/// (`MultipleNegativesSymmetricRankingLoss`).
pub fn multiple_negatives_ranking_loss(
    anchors: Tensor<2>,
    candidates: Tensor<2>,
    scale: f32,
    symmetric: bool,
) -> Tensor<1> {
    let [batch, _] = anchors.dims();
    let device = anchors.device();
    let scores = cos_sim(anchors, candidates).mul_scalar(scale);
    let targets = range_targets(batch, &device);
    let forward = cross_entropy(scores.clone(), targets.clone());
    if !symmetric {
        return forward;
    }
    let backward = cross_entropy(scores.narrow(1, 0, batch).transpose(), targets);
    (forward + backward).div_scalar(2.0)
}

/// `0, 1, ..., n - 1` as class targets.
fn range_targets(n: usize, device: &Device) -> Tensor<1, Int> {
    let ids: Vec<i64> = (0..n as i64).collect();
    Tensor::from_data(TensorData::new(ids, [n]), device)
}

/// CoSENT loss for scored pairs (`CoSENTLoss`): with `s_i = scale * cos(a_i, b_i)`,
/// `log(1 + sum over pairs with label_i < label_j of exp(s_i - s_j))` (`scale` 20 in
/// `sentence-transformers`). `a`, `b` `[N, D]`, `labels` `[N]`.
pub fn cosent_loss(a: Tensor<2>, b: Tensor<2>, labels: Tensor<1>, scale: f32) -> Tensor<1> {
    let [n, _] = a.dims();
    let device = a.device();
    let scores = (l2_normalize(a) * l2_normalize(b))
        .sum_dim(1)
        .reshape([n])
        .mul_scalar(scale);
    // diff[i, j] = s_i - s_j, kept where label_i < label_j.
    let diff = scores.clone().unsqueeze_dim::<2>(1) - scores.unsqueeze_dim::<2>(0);
    let ordered = labels
        .clone()
        .unsqueeze_dim::<2>(1)
        .lower(labels.unsqueeze_dim::<2>(0));
    let diff = diff.mask_fill(ordered.bool_not(), -1e12);
    let all = Tensor::cat(vec![Tensor::zeros([1], &device), diff.reshape([n * n])], 0);
    // logsumexp over everything, stably.
    let max = all.clone().max().detach();
    (all - max.clone()).exp().sum().log() + max
}

/// The Matryoshka loss (`MatryoshkaLoss`): `loss` of the embeddings truncated to each of `dims`
/// (their first `d` values), weighted by `weights` (1 each when empty) and summed. `embeddings`
/// are the model's outputs the base loss reads (anchors, candidates, ...).
///
/// # Panics
/// If `weights` is neither empty nor as long as `dims`.
pub fn matryoshka(
    embeddings: &[Tensor<2>],
    dims: &[usize],
    weights: &[f32],
    loss: impl Fn(&[Tensor<2>]) -> Tensor<1>,
) -> Tensor<1> {
    assert!(
        weights.is_empty() || weights.len() == dims.len(),
        "one Matryoshka weight per dimension"
    );
    let mut total: Option<Tensor<1>> = None;
    for (i, &dim) in dims.iter().enumerate() {
        let truncated: Vec<Tensor<2>> = embeddings
            .iter()
            .map(|e| e.clone().narrow(1, 0, dim.min(e.dims()[1])))
            .collect();
        let weight = weights.get(i).copied().unwrap_or(1.0);
        let term = loss(&truncated).mul_scalar(weight);
        total = Some(match total {
            Some(t) => t + term,
            None => term,
        });
    }
    total.unwrap_or_else(|| loss(embeddings))
}

/// The objective of an embedding run (`TrainConfig::embedding`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddingLoss {
    /// Which loss.
    pub loss: LossKind,
    /// The factor on cosine similarities (`scale` in `sentence-transformers`: 20).
    pub scale: f32,
    /// MNRL only: average with the loss from each positive back to the anchors
    /// (`MultipleNegativesSymmetricRankingLoss`).
    pub symmetric: bool,
    /// Matryoshka: also train the embeddings truncated to these dimensions (empty: off).
    pub matryoshka_dims: Vec<usize>,
    /// One weight per Matryoshka dimension (empty: 1 each).
    pub matryoshka_weights: Vec<f32>,
}

impl Default for EmbeddingLoss {
    fn default() -> Self {
        Self {
            loss: LossKind::Mnrl,
            scale: 20.0,
            symmetric: false,
            matryoshka_dims: Vec::new(),
            matryoshka_weights: Vec::new(),
        }
    }
}

/// The contrastive losses of `sentence-transformers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Multiple-negatives ranking (in-batch negatives, optional hard negatives): pairs.
    Mnrl,
    /// CoSENT: scored pairs.
    Cosent,
}

impl EmbeddingLoss {
    /// The loss of a batch's embeddings: `anchors` `[B, D]`, `candidates` `[C, D]` (the `B`
    /// positives first), `scores` `[B]` for CoSENT.
    ///
    /// # Panics
    /// CoSENT without `scores` (an embedding run reads them whenever its loss is CoSENT).
    pub fn compute(
        &self,
        anchors: Tensor<2>,
        candidates: Tensor<2>,
        scores: Option<Tensor<1>>,
    ) -> Tensor<1> {
        let base = |e: &[Tensor<2>]| match self.loss {
            LossKind::Mnrl => multiple_negatives_ranking_loss(
                e[0].clone(),
                e[1].clone(),
                self.scale,
                self.symmetric,
            ),
            LossKind::Cosent => {
                let [batch, _] = e[0].dims();
                let positives = e[1].clone().narrow(0, 0, batch);
                let scores = scores.clone().expect("CoSENT batches carry scores");
                cosent_loss(e[0].clone(), positives, scores, self.scale)
            }
        };
        let embeddings = [anchors, candidates];
        if self.matryoshka_dims.is_empty() {
            base(&embeddings)
        } else {
            matryoshka(
                &embeddings,
                &self.matryoshka_dims,
                &self.matryoshka_weights,
                base,
            )
        }
    }
}
