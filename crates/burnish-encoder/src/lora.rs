//! LoRA: low-rank adapters on frozen weights (Hu et al., 2021,
//! <https://arxiv.org/abs/2106.09685>), and the adapter folder of Hugging Face `peft`.
//!
//! The adapters are Burn's own ([`burn::module::Lora`]): each adapted weight `W` (`[d_in,
//! d_out]` in Burn's layout) becomes `W + (alpha / r) a b` with `a: [d_in, r]`, `b: [r,
//! d_out]`, composed where the weight is read, so no model code changes. [`apply`] freezes every
//! other parameter except the task head (and, optionally, the LayerNorms): the frozen weights
//! get neither gradients nor optimizer state. `b` starts at zero, so an adapted model starts as
//! the base model.
//!
//! What Burn's LoRA does not do, and why: it composes on the weight, not on the activations, so
//! `peft`'s `lora_dropout` (dropout on the adapter's input) has no place to go; a non-zero
//! `lora_dropout` is refused. `a` starts from `N(0, 1/r)` (`peft`: Kaiming-uniform); both start
//! the adapter's output at zero.
//!
//! The `peft` folder ([`save_adapter`], [`load_adapter`]) mirrors
//! `peft/src/peft/utils/save_and_load.py`
//! (<https://github.com/huggingface/peft/blob/main/src/peft/utils/save_and_load.py>):
//! `adapter_config.json` and `adapter_model.safetensors` with
//! `base_model.model.<module>.lora_A.weight` (`[r, in]`, PyTorch's layout: `a` transposed),
//! `...lora_B.weight` (`[out, r]`) and the fully trained modules' tensors under their own
//! names (`base_model.model.classifier.weight`; their modules listed in `modules_to_save`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use burn::module::{Lora, Module, ModuleMapper, ModuleVisitor, Param, ParamGroup};
use burn::store::ModuleSnapshot;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{EncoderError, Result};
use crate::family::Family;
use crate::weights::{Checkpoint, LEGACY_LAYER_NORM, NameMap, float_tensors_as, transpose_2d};

/// The adapter settings file of a `peft` adapter folder.
pub const ADAPTER_CONFIG_FILE: &str = "adapter_config.json";
/// The adapter weights file of a `peft` adapter folder.
pub const ADAPTER_WEIGHTS_FILE: &str = "adapter_model.safetensors";
/// `peft`'s prefix on every saved name.
const PEFT_PREFIX: &str = "base_model.model.";

/// LoRA settings, in `peft`'s `LoraConfig` names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoraConfig {
    /// The adapters' rank.
    pub r: usize,
    /// The adapters' output is scaled by `lora_alpha / r`.
    pub lora_alpha: f64,
    /// Dropout on the adapters' input: 0 only (see the module docs).
    pub lora_dropout: f64,
    /// The modules adapted, `transformers` module names matched as suffixes (`query` adapts
    /// every `...attention.self.query`); empty: the family's default (`peft`'s).
    pub target_modules: Vec<String>,
    /// Also train every LayerNorm fully (they join `modules_to_save`).
    pub train_layer_norms: bool,
}

impl Default for LoraConfig {
    /// `r` 8 and `lora_alpha` 16 (a scale of 2), the family's default targets.
    fn default() -> Self {
        Self {
            r: 8,
            lora_alpha: 16.0,
            lora_dropout: 0.0,
            target_modules: Vec::new(),
            train_layer_norms: false,
        }
    }
}

impl LoraConfig {
    /// The modules adapted in `family`: [`LoraConfig::target_modules`], else the family's
    /// default.
    pub fn targets(&self, family: &'static Family) -> Vec<String> {
        if self.target_modules.is_empty() {
            family
                .heads
                .lora_targets
                .iter()
                .map(|t| t.to_string())
                .collect()
        } else {
            self.target_modules.clone()
        }
    }

    /// Checks the values: `(field, reason)` of the first bad one (a zero rank, a non-positive
    /// alpha, a non-zero dropout).
    ///
    /// # Errors
    /// The field and why its value is refused.
    pub fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        if self.r == 0 {
            return Err(("r", "the LoRA rank must be at least 1".into()));
        }
        if !(self.lora_alpha.is_finite() && self.lora_alpha > 0.0) {
            return Err(("lora_alpha", format!("{} is not positive", self.lora_alpha)));
        }
        if self.lora_dropout != 0.0 {
            return Err((
                "lora_dropout",
                format!(
                    "{}: Burn's LoRA composes the adapter into the weight, where dropout on \
                     the adapter's input cannot apply; use 0 (hidden dropout still applies)",
                    self.lora_dropout
                ),
            ));
        }
        Ok(())
    }

    /// [`LoraConfig::check`] as an error naming `path`, the settings' origin.
    ///
    /// # Errors
    /// [`EncoderError::ConfigValue`] naming `path` and the field.
    pub fn validate(&self, path: &Path) -> Result<()> {
        self.check()
            .map_err(|(field, reason)| EncoderError::ConfigValue {
                path: path.to_path_buf(),
                field,
                reason,
            })
    }
}

/// What [`apply`] did: burnish parameter paths.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoraPlan {
    /// The adapted weights (`...query.weight`): frozen, with an adapter each.
    pub adapted: Vec<String>,
    /// The parameters trained fully (the task head, LayerNorms if asked).
    pub trained: Vec<String>,
    /// Parameters trained: adapters plus [`LoraPlan::trained`].
    pub trainable_params: usize,
    /// The adapters' parameters.
    pub adapter_params: usize,
    /// Every parameter of the base model (adapters not counted).
    pub base_params: usize,
}

impl std::fmt::Display for LoraPlan {
    /// `peft`'s `print_trainable_parameters` line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all = self.base_params + self.adapter_params;
        write!(
            f,
            "trainable params: {} || all params: {all} || trainable%: {:.4}",
            self.trainable_params,
            100.0 * self.trainable_params as f64 / all.max(1) as f64
        )
    }
}

/// Every float parameter of `model`: burnish path and shape.
pub fn float_params<M: Module>(model: &M) -> Vec<(String, Vec<usize>)> {
    struct Paths {
        path: Vec<String>,
        out: Vec<(String, Vec<usize>)>,
    }
    impl ModuleVisitor for Paths {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.out
                .push((self.path.join("."), param.lazy_shape().to_vec()));
        }
    }
    let mut paths = Paths {
        path: Vec::new(),
        out: Vec::new(),
    };
    model.visit(&mut paths);
    paths.out
}

/// Whether `module` (a `transformers` module name) is one of `targets` (`peft`'s rule: the
/// whole name, or its last segments).
fn matches_target(module: &str, targets: &[String]) -> bool {
    targets
        .iter()
        .any(|t| module == t || module.ends_with(&format!(".{t}")))
}

/// Attaches LoRA adapters to `model`'s `config` targets in `family`'s encoder and freezes every
/// other parameter except the task head (every parameter outside the encoder) and, with
/// [`LoraConfig::train_layer_norms`], the LayerNorms.
///
/// # Errors
/// [`EncoderError::ConfigValue`] for settings [`LoraConfig::validate`] refuses, a decoder
/// family (GPT-2's `Conv1D` layout is not supported yet) or targets that match no weight (the
/// message lists the encoder's modules).
pub fn apply<M: Module>(
    model: M,
    config: &LoraConfig,
    family: &'static Family,
) -> Result<(M, LoraPlan)> {
    let origin = Path::new("<lora settings>");
    config.validate(origin)?;
    let refuse = |field, reason: String| EncoderError::ConfigValue {
        path: origin.to_path_buf(),
        field,
        reason,
    };
    if family.is_decoder {
        return Err(refuse(
            "target_modules",
            format!("LoRA on {} is not supported yet", family.name),
        ));
    }
    let names = NameMap::new(family);
    let targets = config.targets(family);
    let params = float_params(&model);
    // The encoder's parameters: under `bert.` in a head model, everything in a bare encoder.
    let base = format!("{}.", family.weights.burnish_base);
    let bare = !params.iter().any(|(p, _)| p.starts_with(&base));
    let mut plan = LoraPlan::default();
    let mut modules = BTreeSet::new();
    for (path, shape) in &params {
        plan.base_params += shape.iter().product::<usize>();
        let in_encoder = bare || path.starts_with(&base);
        if in_encoder
            && shape.len() == 2
            && let Some(module) = names.burn_to_hf(path).strip_suffix(".weight")
        {
            let last = module.rsplit('.').next().unwrap_or(module).to_string();
            modules.insert(last);
            if matches_target(module, &targets) && !module.contains("embeddings") {
                plan.adapted.push(path.clone());
                plan.adapter_params += config.r * (shape[0] + shape[1]);
                plan.trainable_params += config.r * (shape[0] + shape[1]);
                continue;
            }
        }
        if !in_encoder || (config.train_layer_norms && is_layer_norm(path)) {
            plan.trained.push(path.clone());
            plan.trainable_params += shape.iter().product::<usize>();
        }
    }
    if plan.adapted.is_empty() {
        return Err(refuse(
            "target_modules",
            format!(
                "{targets:?} match no weight of the {} encoder (its modules: {})",
                family.name,
                modules.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let lora = Lora::new(config.r, config.lora_alpha)
        .set_param_group(ParamGroup::from_paths(plan.adapted.clone()));
    let model = model.apply_lora(lora);
    let model = if plan.trained.is_empty() {
        model
    } else {
        model.unfreeze_group(ParamGroup::from_paths(plan.trained.clone()))
    };
    Ok((model, plan))
}

/// The adapters of `model` (attached by [`apply`]): `(adapted weight's burnish path, a, b)`.
fn adapters<M: Module>(model: &M) -> Vec<(String, TensorData, TensorData)> {
    struct Collect {
        path: Vec<String>,
        factors: BTreeMap<String, (Option<TensorData>, Option<TensorData>)>,
    }
    impl ModuleVisitor for Collect {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let path = self.path.join(".");
            let (weight, factor) = match path.rsplit_once(".lora.") {
                Some(split) => split,
                None => return,
            };
            let entry = self.factors.entry(weight.to_string()).or_default();
            let data = param.val().into_data().convert::<f32>();
            match factor {
                "a" => entry.0 = Some(data),
                "b" => entry.1 = Some(data),
                _ => {}
            }
        }
    }
    let mut collect = Collect {
        path: Vec::new(),
        factors: BTreeMap::new(),
    };
    model.visit(&mut collect);
    collect
        .factors
        .into_iter()
        .filter_map(|(path, (a, b))| Some((path, a?, b?)))
        .collect()
}

/// What `peft` calls the task (`task_type`) of a `transformers` class
/// (`BertForSequenceClassification`: `SEQ_CLS`); `FEATURE_EXTRACTION` for an encoder.
pub fn peft_task_type(class: &str) -> &'static str {
    [
        ("ForSequenceClassification", "SEQ_CLS"),
        ("ForTokenClassification", "TOKEN_CLS"),
        ("ForQuestionAnswering", "QUESTION_ANS"),
    ]
    .iter()
    .find(|(suffix, _)| class.ends_with(suffix))
    .map_or("FEATURE_EXTRACTION", |(_, task)| task)
}

/// The top-level modules of `family`'s head model outside the encoder, and the LayerNorms
/// when trained: `peft`'s `modules_to_save` for `plan`.
fn modules_to_save(plan: &LoraPlan, names: &NameMap) -> Vec<String> {
    let mut modules = BTreeSet::new();
    for path in &plan.trained {
        let hf = names.burn_to_hf(path);
        let module = hf.rsplit_once('.').map_or(hf.as_str(), |(m, _)| m);
        let name = if is_layer_norm(path) {
            // A LayerNorm goes by its own name (`LayerNorm`, DistilBERT's `sa_layer_norm`).
            module.rsplit('.').next()
        } else {
            // A head module by its top-level one (`classifier`, `pre_classifier`).
            module.split('.').next()
        };
        modules.insert(name.unwrap_or(module).to_string());
    }
    modules.into_iter().collect()
}

/// The `transformers` name of a burnish parameter path, as the saved weights name it (a
/// LayerNorm's `gamma` / `beta` are `weight` / `bias`).
fn hf_name(path: &str, names: &NameMap) -> String {
    let hf = names.burn_to_hf(path);
    if !is_layer_norm(path) {
        return hf;
    }
    LEGACY_LAYER_NORM
        .iter()
        .find_map(|(burn, pt)| {
            hf.strip_suffix(&format!(".{burn}"))
                .map(|m| format!("{m}.{pt}"))
        })
        .unwrap_or(hf)
}

/// The burnish parameter path of a `transformers` name ([`hf_name`]'s inverse).
fn burn_path(name: &str, names: &NameMap) -> String {
    let path = names.hf_to_burn(name);
    if !is_layer_norm(&path) {
        return path;
    }
    LEGACY_LAYER_NORM
        .iter()
        .find_map(|(burn, pt)| {
            path.strip_suffix(&format!(".{pt}"))
                .map(|m| format!("{m}.{burn}"))
        })
        .unwrap_or(path)
}

/// Whether a burnish parameter path is a LayerNorm's.
fn is_layer_norm(path: &str) -> bool {
    path.contains("layer_norm")
}

/// Writes `model`'s adapters and fully trained modules as a `peft` adapter folder `dir`
/// (`adapter_config.json`, `adapter_model.safetensors`), named as `names` names the model's
/// parameters. `base_model` goes to `base_model_name_or_path`; `task_type` is `peft`'s
/// ([`peft_task_type`]).
///
/// # Errors
/// [`EncoderError::Serialize`] / [`EncoderError::Io`] naming the file; nothing is half-written
/// (each file is written whole or not at all).
pub fn save_adapter<M: Module + ModuleSnapshot>(
    model: &M,
    plan: &LoraPlan,
    config: &LoraConfig,
    names: &NameMap,
    base_model: &str,
    task_type: &str,
    dir: &Path,
) -> Result<()> {
    let weights_path = dir.join(ADAPTER_WEIGHTS_FILE);
    let ser = |reason: String| EncoderError::Serialize {
        path: weights_path.clone(),
        reason,
    };
    let mut tensors: Vec<(String, TensorData)> = Vec::new();
    for (path, a, b) in adapters(model) {
        let hf = names.burn_to_hf(&path);
        let module = hf.strip_suffix(".weight").unwrap_or(&hf);
        let a = transpose_2d(&a).map_err(|e| ser(format!("{path}.lora.a: {e}")))?;
        let b = transpose_2d(&b).map_err(|e| ser(format!("{path}.lora.b: {e}")))?;
        tensors.push((format!("{PEFT_PREFIX}{module}.lora_A.weight"), a));
        tensors.push((format!("{PEFT_PREFIX}{module}.lora_B.weight"), b));
    }
    if tensors.len() != 2 * plan.adapted.len() {
        return Err(ser(format!(
            "{} adapters found for {} adapted weights",
            tensors.len() / 2,
            plan.adapted.len()
        )));
    }
    // The fully trained tensors under their own names (`peft` drops the
    // `modules_to_save.default.` segment its wrapper adds in memory).
    let saved = modules_to_save(plan, names);
    let trained: BTreeSet<String> = plan.trained.iter().map(|p| hf_name(p, names)).collect();
    for (name, data) in float_tensors_as(model, names).map_err(ser)? {
        if trained.contains(&name) {
            tensors.push((format!("{PEFT_PREFIX}{name}"), data));
        }
    }
    // Only fields `peft`'s `LoraConfig` knows (it warns on any other).
    let adapter_config = serde_json::json!({
        "peft_type": "LORA",
        "task_type": task_type,
        "base_model_name_or_path": base_model,
        "r": config.r,
        "lora_alpha": config.lora_alpha,
        "lora_dropout": config.lora_dropout,
        "target_modules": config.targets(names.family),
        "modules_to_save": saved,
        "bias": "none",
        "fan_in_fan_out": false,
        "use_rslora": false,
        "use_dora": false,
        "init_lora_weights": true,
        "inference_mode": true,
        "layers_to_transform": null,
        "layers_pattern": null,
        "rank_pattern": {},
        "alpha_pattern": {},
        "revision": null,
    });
    std::fs::create_dir_all(dir).map_err(|source| EncoderError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    crate::weights::write_safetensors(&weights_path, &tensors)?;
    let text = serde_json::to_string_pretty(&adapter_config).map_err(|e| ser(e.to_string()))?;
    let config_path = dir.join(ADAPTER_CONFIG_FILE);
    burnish_fs::write_atomic(&config_path, text.as_bytes()).map_err(|source| EncoderError::Io {
        path: config_path,
        source,
    })
}

/// Reads a `peft` LoRA adapter folder and puts it on `model` (a base model, its task head
/// already built): the adapters attached as [`apply`] attaches them, their values and the
/// `modules_to_save` tensors read from the folder. Returns the model, the plan and the
/// settings.
///
/// # Errors
/// [`EncoderError::ConfigJson`] / [`EncoderError::ConfigValue`] naming `adapter_config.json`
/// and the field (a non-LoRA adapter, `use_rslora` / DoRA / per-layer patterns, a regex
/// `target_modules`); [`EncoderError::MissingTensors`] when the weights lack an adapter the
/// settings imply; [`EncoderError::ShapeMismatch`] naming the tensor.
pub fn load_adapter<M: Module>(
    model: M,
    dir: &Path,
    names: &NameMap,
) -> Result<(M, LoraPlan, LoraConfig)> {
    let config = read_adapter_config(dir)?;
    let (model, plan) = apply(model, &config, names.family)?;
    let weights_path = dir.join(ADAPTER_WEIGHTS_FILE);
    let bad_tensor = |key: &str, reason: String| EncoderError::Serialize {
        path: weights_path.clone(),
        reason: format!("{key}: {reason}"),
    };
    let mut values: BTreeMap<String, TensorData> = BTreeMap::new();
    for (name, data) in read_adapter_weights(dir)? {
        let factor = [(".lora_A.weight", "a"), (".lora_B.weight", "b")]
            .into_iter()
            .find_map(|(suffix, f)| name.strip_suffix(suffix).map(|m| (m.to_string(), f)));
        // burnish's layout: `a` `[in, r]`, `b` `[r, out]`, a head's `nn.Linear` weights
        // `[in, out]`: each matrix transposed from PyTorch's.
        let transposed = if data.shape().len() == 2 && name.ends_with(".weight") {
            transpose_2d(&data).map_err(|reason| bad_tensor(&name, reason))?
        } else {
            data
        };
        let path = match factor {
            Some((module, f)) => {
                format!("{}.lora.{f}", names.hf_to_burn(&format!("{module}.weight")))
            }
            None => burn_path(&name, names),
        };
        values.insert(path, transposed);
    }
    let mut expected: Vec<String> = plan
        .adapted
        .iter()
        .flat_map(|p| [format!("{p}.lora.a"), format!("{p}.lora.b")])
        .collect();
    expected.retain(|p| !values.contains_key(p));
    if !expected.is_empty() {
        return Err(EncoderError::MissingTensors {
            path: weights_path,
            tensors: expected.iter().map(|p| names.burn_to_hf(p)).collect(),
        });
    }
    let trained: BTreeSet<&String> = plan.trained.iter().collect();
    let unexpected = values
        .keys()
        .find(|p| !p.contains(".lora.") && !trained.contains(p));
    if let Some(path) = unexpected {
        return Err(EncoderError::Serialize {
            path: weights_path,
            reason: format!(
                "{} is not a parameter of this model's head (modules_to_save)",
                names.burn_to_hf(path)
            ),
        });
    }
    let mut setter = SetByPath {
        path: Vec::new(),
        values,
        mismatched: Vec::new(),
    };
    let model = model.map(&mut setter);
    if let Some((tensor, expected, found)) = setter.mismatched.into_iter().next() {
        return Err(EncoderError::ShapeMismatch {
            path: weights_path,
            tensor: names.burn_to_hf(&tensor),
            expected,
            found,
        });
    }
    if let Some(path) = setter.values.keys().next() {
        return Err(EncoderError::Serialize {
            path: weights_path,
            reason: format!(
                "{} matches no parameter of the model",
                names.burn_to_hf(path)
            ),
        });
    }
    Ok((model, plan, config))
}

/// The tensors of an adapter folder's `adapter_model.safetensors`, as f32 in PyTorch's layout,
/// by `transformers` name: `<module>.lora_A.weight` / `<module>.lora_B.weight` for the
/// adapters, the plain name (`classifier.weight`) for a `modules_to_save` tensor (`peft`'s
/// `base_model.model.` prefix and `modules_to_save.[default.]` segment removed).
///
/// # Errors
/// [`EncoderError::Io`] / [`EncoderError::Safetensors`] naming the file.
pub fn read_adapter_weights(dir: &Path) -> Result<BTreeMap<String, TensorData>> {
    let checkpoint = Checkpoint::read_safetensors(&dir.join(ADAPTER_WEIGHTS_FILE))?;
    Ok(checkpoint
        .tensors
        .into_iter()
        .map(|(key, data)| {
            let name = key.strip_prefix(PEFT_PREFIX).unwrap_or(&key);
            let name = match name.split_once(".modules_to_save.") {
                Some((module, rest)) => {
                    format!("{module}.{}", rest.strip_prefix("default.").unwrap_or(rest))
                }
                None => name.to_string(),
            };
            (name, data.convert::<f32>())
        })
        .collect())
}

/// Replaces the values of the float parameters at the given burnish paths (keeping each one's
/// gradient setting and device); a shape that differs is recorded, not applied.
struct SetByPath {
    path: Vec<String>,
    values: BTreeMap<String, TensorData>,
    mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
}

impl ModuleMapper for SetByPath {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.path.join(".");
        let Some(data) = self.values.remove(&path) else {
            return param;
        };
        let (id, tensor, mapper) = param.consume();
        let expected = tensor.dims().to_vec();
        if data.shape().to_vec() != expected {
            self.mismatched
                .push((path, expected, data.shape().to_vec()));
            return Param::from_mapped_value(id, tensor, mapper);
        }
        let require_grad = tensor.is_require_grad();
        let mut value =
            Tensor::<D>::from_data(data.convert_dtype(tensor.dtype()), &tensor.device());
        if require_grad {
            value = value.require_grad();
        }
        Param::from_mapped_value(id, value, mapper)
    }
}

/// The settings of a `peft` LoRA adapter folder (`adapter_config.json`), as [`LoraConfig`].
///
/// # Errors
/// [`EncoderError::Io`] / [`EncoderError::ConfigJson`] / [`EncoderError::ConfigValue`] naming
/// `adapter_config.json` and the field: a non-LoRA adapter, rsLoRA, DoRA, `fan_in_fan_out`,
/// per-module ranks or layers, a regular-expression `target_modules`.
pub fn read_adapter_config(dir: &Path) -> Result<LoraConfig> {
    let config_path = dir.join(ADAPTER_CONFIG_FILE);
    let text = std::fs::read_to_string(&config_path).map_err(|source| EncoderError::Io {
        path: config_path.clone(),
        source,
    })?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| EncoderError::ConfigJson {
            path: config_path.clone(),
            source,
        })?;
    let bad = |field: &'static str, reason: String| EncoderError::ConfigValue {
        path: config_path.clone(),
        field,
        reason,
    };
    let field = |name: &str| json.get(name).filter(|v| !v.is_null());
    if field("peft_type").and_then(|v| v.as_str()) != Some("LORA") {
        return Err(bad(
            "peft_type",
            format!("{:?}: only LORA adapters load", field("peft_type")),
        ));
    }
    for flag in ["use_rslora", "use_dora", "fan_in_fan_out"] {
        if field(flag).and_then(|v| v.as_bool()) == Some(true) {
            return Err(bad("use_rslora", format!("{flag}: true is not supported")));
        }
    }
    for pattern in ["rank_pattern", "alpha_pattern"] {
        if field(pattern)
            .and_then(|v| v.as_object())
            .is_some_and(|m| !m.is_empty())
        {
            return Err(bad(
                "rank_pattern",
                format!("{pattern}: per-module ranks are not supported"),
            ));
        }
    }
    if field("layers_to_transform").is_some() {
        return Err(bad(
            "layers_to_transform",
            "adapters on some layers only are not supported".into(),
        ));
    }
    let r = field("r")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| bad("r", "missing or not a positive integer".into()))? as usize;
    let lora_alpha = field("lora_alpha")
        .and_then(|v| v.as_f64())
        .ok_or_else(|| bad("lora_alpha", "missing or not a number".into()))?;
    let target_modules = match field("target_modules") {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("target_modules", "not a list of names".into()))?,
        Some(other) => {
            return Err(bad(
                "target_modules",
                format!("{other}: a regular expression is not supported; list module names"),
            ));
        }
        None => Vec::new(),
    };
    let saved: Vec<String> = field("modules_to_save")
        .and_then(|v| v.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    // What the adapter trained beyond the adapters: a LayerNorm name among modules_to_save.
    let train_layer_norms = saved
        .iter()
        .any(|m| m.to_lowercase().contains("layer_norm") || m.contains("LayerNorm"));
    Ok(LoraConfig {
        r,
        lora_alpha,
        lora_dropout: 0.0,
        target_modules,
        train_layer_norms,
    })
}
