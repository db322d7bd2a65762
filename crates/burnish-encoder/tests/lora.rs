//! LoRA on Burn's reparameterisation: an adapted encoder starts as its base, only the adapters
//! get gradients, and the `peft` adapter folder round-trips (and merges) to the same outputs.

use burn::module::{Module, ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Tensor};
use burnish_encoder::family::{Family, bert::BERT, distilbert::DISTILBERT};
use burnish_encoder::lora::{self, LoraConfig};
use burnish_encoder::weights::Checkpoint;
use burnish_encoder::{BertConfig, BertInput, BertModel, NameMap};

fn tiny(family: &'static Family) -> BertConfig {
    BertConfig {
        family,
        vocab_size: 30,
        hidden_size: 8,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        intermediate_size: 12,
        max_position_embeddings: 16,
        hidden_dropout_prob: 0.0,
        attention_probs_dropout_prob: 0.0,
        ..BertConfig::default()
    }
}

fn input(device: &Device) -> BertInput {
    let ids = vec![vec![2, 5, 9, 3, 0], vec![2, 7, 3, 0, 0]];
    let types = vec![vec![0; 5]; 2];
    let mask = vec![vec![1, 1, 1, 1, 0], vec![1, 1, 1, 0, 0]];
    BertInput::from_rows(&ids, &types, &mask, device)
}

fn max_diff(a: Tensor<3>, b: Tensor<3>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

/// Gives every adapter's `b` random values (they start at zero), so the adapters matter.
struct RandomB {
    path: Vec<String>,
}

impl ModuleMapper for RandomB {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.into());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if !self.path.join(".").ends_with(".lora.b") {
            return param;
        }
        let (id, t, mapper) = param.consume();
        let random = Tensor::random(t.shape(), Distribution::Normal(0.0, 0.5), &t.device());
        Param::from_mapped_value(id, random, mapper)
    }
}

#[test]
fn an_adapted_encoder_starts_as_its_base_and_only_adapters_get_gradients() {
    let device = Device::flex().autodiff();
    device.seed(1);
    let base = BertModel::new(&tiny(&BERT), &device);
    let config = LoraConfig {
        r: 2,
        ..LoraConfig::default()
    };
    let (model, plan) = lora::apply(base.clone(), &config, &BERT).unwrap();
    // peft's default for BERT: query and value, in each of the two layers.
    assert_eq!(plan.adapted.len(), 4, "{plan:?}");
    assert!(
        plan.adapted
            .iter()
            .all(|p| p.ends_with("query.weight") || p.ends_with("value.weight"))
    );
    assert!(plan.trained.is_empty(), "{plan:?}");
    assert_eq!(plan.adapter_params, 4 * 2 * (8 + 8));
    let out = model.forward(input(&device)).last_hidden_state;
    let base_out = base.forward(input(&device)).last_hidden_state;
    assert!(max_diff(out.clone(), base_out) < 1e-6);

    let grads = GradientsParams::from_grads(out.sum().backward(), &model);
    let params = lora::float_params(&model);
    let with_grad: Vec<&String> = params
        .iter()
        .filter(|(p, _)| p.contains(".lora."))
        .map(|(p, _)| p)
        .collect();
    assert_eq!(with_grad.len(), 8, "{params:?}");
    // Every adapter factor has a gradient, nothing else does.
    assert_eq!(grads.len(), 8);
}

#[test]
fn targets_that_match_nothing_are_refused_with_the_modules_there_are() {
    let device = Device::flex();
    let base = BertModel::new(&tiny(&DISTILBERT), &device);
    let config = LoraConfig {
        target_modules: vec!["query".into()],
        ..LoraConfig::default()
    };
    let err = lora::apply(base, &config, &DISTILBERT)
        .unwrap_err()
        .to_string();
    assert!(err.contains("q_lin") && err.contains("query"), "{err}");
    let dropout = LoraConfig {
        lora_dropout: 0.1,
        ..LoraConfig::default()
    };
    let err = dropout.validate("x.toml".as_ref()).unwrap_err().to_string();
    assert!(
        err.contains("x.toml") && err.contains("lora_dropout"),
        "{err}"
    );
}

#[test]
fn the_peft_folder_round_trips_and_merges_to_the_same_outputs() {
    let device = Device::flex();
    for family in [&BERT, &DISTILBERT] {
        device.seed(2);
        let base = BertModel::new(&tiny(family), &device);
        let config = LoraConfig {
            r: 3,
            train_layer_norms: true,
            ..LoraConfig::default()
        };
        let (model, plan) = lora::apply(base.clone(), &config, family).unwrap();
        let model = model.map(&mut RandomB { path: Vec::new() });
        let adapted = model.forward(input(&device)).last_hidden_state;
        assert!(
            max_diff(
                adapted.clone(),
                base.forward(input(&device)).last_hidden_state
            ) > 1e-3
        );

        let dir = tempfile::tempdir().unwrap();
        let names = NameMap::new(family);
        lora::save_adapter(
            &model,
            &plan,
            &config,
            &names,
            "tiny",
            "FEATURE_EXTRACTION",
            dir.path(),
        )
        .unwrap();
        let saved = Checkpoint::read_safetensors(&dir.path().join(lora::ADAPTER_WEIGHTS_FILE))
            .unwrap()
            .tensors;
        let query = match family.model_type {
            "bert" => "base_model.model.encoder.layer.0.attention.self.query",
            _ => "base_model.model.transformer.layer.0.attention.q_lin",
        };
        // PyTorch's layout: lora_A [r, in], lora_B [out, r].
        assert_eq!(
            saved[&format!("{query}.lora_A.weight")].shape().to_vec(),
            vec![3, 8]
        );
        assert_eq!(
            saved[&format!("{query}.lora_B.weight")].shape().to_vec(),
            vec![8, 3]
        );
        // The LayerNorms trained fully, under their own names.
        let norm = match family.model_type {
            "bert" => "base_model.model.encoder.layer.1.output.LayerNorm.weight",
            _ => "base_model.model.transformer.layer.1.output_layer_norm.weight",
        };
        let shape = saved.get(norm).map(|t| t.shape().to_vec());
        assert_eq!(shape, Some(vec![8]), "{:?}", saved.keys());

        let (loaded, loaded_plan, loaded_config) =
            lora::load_adapter(base.clone(), dir.path(), &names).unwrap();
        assert_eq!(loaded_plan.adapted, plan.adapted);
        assert_eq!((loaded_config.r, loaded_config.lora_alpha), (3, 16.0));
        let reloaded = loaded.forward(input(&device)).last_hidden_state;
        assert!(
            max_diff(adapted.clone(), reloaded) < 1e-5,
            "{}",
            family.name
        );

        let merged = model
            .materialize()
            .forward(input(&device))
            .last_hidden_state;
        assert!(max_diff(adapted, merged) < 1e-5, "{}", family.name);
    }
}

#[test]
fn several_adapters_go_over_one_base_without_changing_it() {
    let device = Device::flex();
    device.seed(4);
    let base = BertModel::new(&tiny(&BERT), &device);
    let before = base.forward(input(&device)).last_hidden_state;
    let names = NameMap::new(&BERT);
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, dir) in dirs.iter().enumerate() {
        device.seed(10 + i as u64);
        let config = LoraConfig {
            r: 2,
            ..LoraConfig::default()
        };
        let (model, plan) = lora::apply(base.clone(), &config, &BERT).unwrap();
        let model = model.map(&mut RandomB { path: Vec::new() });
        lora::save_adapter(
            &model,
            &plan,
            &config,
            &names,
            "tiny",
            "FEATURE_EXTRACTION",
            dir.path(),
        )
        .unwrap();
    }
    // Each adapter over a clone of the one base (Burn's tensors are shared, not copied).
    let outputs: Vec<Tensor<3>> = dirs
        .iter()
        .map(|dir| {
            let (model, _, _) = lora::load_adapter(base.clone(), dir.path(), &names).unwrap();
            model.forward(input(&device)).last_hidden_state
        })
        .collect();
    assert!(max_diff(outputs[0].clone(), outputs[1].clone()) > 1e-3);
    assert!(max_diff(outputs[0].clone(), before.clone()) > 1e-3);
    let after = base.forward(input(&device)).last_hidden_state;
    assert_eq!(max_diff(before, after), 0.0);
}
