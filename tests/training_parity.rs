//! Fine-tuning follows PyTorch step by step: burnish's [`Trainer`] trains the tiny QA fixture
//! for eight optimizer steps (two batches of question + context pairs, four epochs), dropout
//! off, and every step's loss and learning rate and every parameter at the end must match what
//! `scripts/make_train_reference.py` recorded from PyTorch + `transformers` doing the same with
//! `torch.optim.AdamW` (decay groups), `get_linear_schedule_with_warmup` and `clip_grad_norm_`.
//!
//! This covers what the forward parity tests cannot: the gradients of every operation
//! (attention, the fused softmax / LayerNorm / linear, GELU, embeddings, the span loss with an
//! ignored position), global-norm clipping, AdamW's bias correction and decoupled weight
//! decay on the right parameters, and the schedule's step indexing.
//!
//! Measured (`cargo test --features flex,tch,wgpu --test training_parity -- --nocapture`):
//! losses agree to 2.4e-7 (flex, tch) and 5.5e-6 (wgpu), parameters to 1.3e-7 (flex), 6e-8
//! (tch) and 6.8e-5 (wgpu), while training moves parameters by up to 4.2e-3. The tolerances
//! (2e-5 on the loss; 1e-5 on parameters, 2e-4 on WGPU, whose reductions round differently)
//! are far below what a real difference does: before the embeddings' padding row was kept out
//! of the gradient (as `nn.Embedding(padding_idx=...)` does), this test measured 1.9e-3 on the
//! loss and 4.0e-3 on the `[PAD]` embedding; weight decay 0.1 on a LayerNorm weight would
//! move it by about 3e-4.

mod common;

use std::path::Path;

use burnish::HfModel;
use burnish::backend::BackendKind;
use burnish::burn::tensor::Device;
use burnish::encoder::weights::Checkpoint;
use burnish::heads::BertForQuestionAnswering;
use burnish::train::tasks::qa::QaBatch;
use burnish::train::trainer::BatchSource;
use burnish::train::{TrainConfig, Trainer};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    recipe: Recipe,
    batches: Vec<RefBatch>,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
struct Recipe {
    epochs: usize,
    lr: f64,
    eps: f64,
    weight_decay: f64,
    warmup_ratio: f64,
    max_grad_norm: f64,
}

#[derive(Deserialize)]
struct RefBatch {
    input_ids: Vec<Vec<u32>>,
    token_type_ids: Vec<Vec<u32>>,
    attention_mask: Vec<Vec<u32>>,
    start_positions: Vec<usize>,
    end_positions: Vec<usize>,
}

#[derive(Deserialize)]
struct Step {
    loss: f64,
    lr: f64,
}

/// The reference batches, one per batch of every epoch, in order.
struct Fixed(Vec<QaBatch>);

impl BatchSource for Fixed {
    type Batch = QaBatch;

    fn plan(&self, _epoch: u64) -> Vec<Vec<usize>> {
        (0..self.0.len()).map(|i| vec![i]).collect()
    }

    fn collate(&self, indices: &[usize]) -> QaBatch {
        self.0[indices[0]].clone()
    }

    fn real_tokens(&self, batch: &QaBatch) -> usize {
        batch.real_tokens
    }
}

fn qa_batch(b: &RefBatch) -> QaBatch {
    QaBatch {
        input_ids: b.input_ids.clone(),
        token_type_ids: b.token_type_ids.clone(),
        attention_mask: b.attention_mask.clone(),
        starts: b.start_positions.clone(),
        ends: b.end_positions.clone(),
        real_tokens: b.attention_mask.iter().flatten().map(|&m| m as usize).sum(),
    }
}

/// The tiny QA fixture with both dropout probabilities set to `dropout`, in `dir`.
fn fixture_with_dropout(dir: &Path, dropout: f64) {
    let src = common::fixture("tiny-bert-qa");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    config["hidden_dropout_prob"] = dropout.into();
    config["attention_probs_dropout_prob"] = dropout.into();
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    std::fs::copy(src.join("model.safetensors"), dir.join("model.safetensors")).unwrap();
}

/// Trains on `device` with the given dropout probability and returns (per-step loss and lr from
/// the run's log, the final parameters by `transformers` name).
fn train(reference: &Reference, device: &Device, dropout: f64) -> (Vec<(f64, f64)>, Checkpoint) {
    let model_dir = tempfile::tempdir().unwrap();
    fixture_with_dropout(model_dir.path(), dropout);
    let (model, config, _) =
        BertForQuestionAnswering::from_pretrained(model_dir.path(), device).unwrap();
    let r = &reference.recipe;
    let train_config = TrainConfig {
        epochs: r.epochs,
        batch_size: 4,
        learning_rate: r.lr,
        eps: r.eps,
        weight_decay: r.weight_decay,
        warmup_ratio: r.warmup_ratio,
        max_grad_norm: Some(r.max_grad_norm),
        log_every: 1,
        metric: "loss".into(),
        ..TrainConfig::default()
    };
    let data = Fixed(reference.batches.iter().map(qa_batch).collect());
    let run = tempfile::tempdir().unwrap();
    let trainer = Trainer::new(train_config, run.path(), device).unwrap();
    let last = common::fit_keep_last(trainer, model, &data);
    let saved = tempfile::tempdir().unwrap();
    last.save_pretrained(&config, saved.path()).unwrap();
    let weights = Checkpoint::read_safetensors(&saved.path().join("model.safetensors")).unwrap();
    let steps = common::train_log(run.path());
    (steps, weights)
}

/// Parameters whose exact gradient is zero, so that what AdamW does with them is its reaction
/// to rounding noise (about 1e-9, which `m / sqrt(v)` turns into steps of the full learning
/// rate, in either direction, on both sides): the key biases (adding `q . b_k` to every score
/// of a query leaves its softmax unchanged), and the span head's bias and the last LayerNorm's
/// bias (each adds the same amount to every position's start or end logit, which the span
/// softmax ignores). Measured, they differ from PyTorch by up to 6e-4 while every other
/// parameter agrees to 2e-7.
fn zero_gradient(name: &str) -> bool {
    name.ends_with("attention.self.key.bias")
        || name == "qa_outputs.bias"
        || name == "bert.encoder.layer.1.output.LayerNorm.bias"
}

#[test]
fn qa_fine_tuning_steps_match_pytorch() {
    compare_with_pytorch(0.0);
}

/// The same with dropout layers active but (almost surely) dropping nothing: a probability of
/// 1e-9 takes the training-time code paths (attention probabilities materialised for dropout,
/// every `Dropout` sampling its mask and rescaling) that dropout 0 skips.
#[test]
fn qa_fine_tuning_steps_match_pytorch_through_the_dropout_paths() {
    compare_with_pytorch(1e-9);
}

fn compare_with_pytorch(dropout: f64) {
    let dir = common::fixture("reference");
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(dir.join("qa-train.json")).unwrap()).unwrap();
    let expected = Checkpoint::read_safetensors(&dir.join("qa-train.safetensors")).unwrap();
    let initial =
        Checkpoint::read_safetensors(&common::fixture("tiny-bert-qa").join("model.safetensors"))
            .unwrap();
    for (kind, device) in common::backends() {
        let (steps, weights) = train(&reference, &device, dropout);
        assert_eq!(steps.len(), reference.steps.len(), "{kind:?}: steps logged");
        let mut loss_diff = 0f64;
        for (i, ((loss, lr), want)) in steps.iter().zip(&reference.steps).enumerate() {
            assert!(
                (lr - want.lr).abs() <= 1e-12,
                "{kind:?} step {i}: lr {lr} against PyTorch's {}",
                want.lr
            );
            loss_diff = loss_diff.max((loss - want.loss).abs());
        }
        // Largest parameter difference from PyTorch, and how far PyTorch moved that tensor.
        let mut param_diff = (0f32, String::new());
        let mut moved = 0f32;
        for (name, want) in &expected.tensors {
            if zero_gradient(name) {
                continue;
            }
            let got = weights
                .tensors
                .get(name)
                .unwrap_or_else(|| panic!("{kind:?}: {name} not saved"));
            assert_eq!(got.shape(), want.shape(), "{kind:?}: {name} shape");
            let got = got.try_to_vec::<f32>().unwrap();
            let want = want.try_to_vec::<f32>().unwrap();
            let before = initial.tensors[name].try_to_vec::<f32>().unwrap();
            for ((g, w), b) in got.iter().zip(&want).zip(&before) {
                if (g - w).abs() > param_diff.0 {
                    param_diff = ((g - w).abs(), name.clone());
                }
                moved = moved.max((w - b).abs());
            }
        }
        println!(
            "{kind:?}, dropout {dropout}: max |loss diff| {loss_diff:.2e} over {} steps; max |parameter diff| \
             {:.2e} ({}); largest change PyTorch made to a parameter {moved:.2e}",
            steps.len(),
            param_diff.0,
            param_diff.1
        );
        // WGPU's reductions round differently (see the module docs).
        let tolerance = if kind == BackendKind::Wgpu {
            2e-4
        } else {
            1e-5
        };
        assert!(loss_diff < 2e-5, "{kind:?}: loss differs by {loss_diff}");
        assert!(
            param_diff.0 < tolerance,
            "{kind:?}: {} differs by {}",
            param_diff.1,
            param_diff.0
        );
        // The comparison means something only if training moved the weights well past it.
        assert!(
            moved > 1e-3,
            "PyTorch's steps changed the weights by {moved} at most"
        );
    }
}
