//! Layer-wise gradient checkpointing (`FineTune::checkpointed_grads`) gives the gradients of the
//! plain backward pass, for every head that supports it and every encoder family, with
//! dropout on (p = 0.3) and a padded row.
//!
//! The reference is the same forward recorded in one graph, with the backend's RNG seeded
//! before each stage exactly as `checkpointed_grads` seeds it (`stage_seed`). Had the
//! recomputation drawn other dropout masks than the first pass, or lost a gradient path (the
//! MLM decoder tied to the word embeddings; RoBERTa's positions), the gradients would differ.
//! Alone in its test binary: the RNG is process-wide.
//!
//! Measured (`cargo test -p burnish-train --test checkpointing -- --nocapture`): identical
//! gradients, bit for bit, for all six models. Seeding the recomputation of a layer with another
//! stage's seed makes them differ by 5e-2 to 4e-1 (largest gradients 0.3 to 1.2).

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_data::{Batch, Label, PretrainBatch};
use burnish_encoder::HfModel;
use burnish_encoder::model::{BertInput, BertModel, attention_bias};
use burnish_heads::{
    BertForMaskedLM, BertForQuestionAnswering, BertForSequenceClassification,
    BertForTokenClassification, MaskedTargets, ProblemType,
};
use burnish_train::checkpointing::{CheckpointedStep, stage_seed};
use burnish_train::fork_for_training;
use burnish_train::tasks::ner::TokenBatch;
use burnish_train::tasks::qa::QaBatch;
use burnish_train::trainer::FineTune;

const SEED: u64 = 11;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

/// A copy of a fixture with every dropout probability its config names set to 0.3.
fn with_dropout(name: &str) -> tempfile::TempDir {
    let src = fixture(name);
    let dir = tempfile::tempdir().unwrap();
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    for key in [
        "hidden_dropout_prob",
        "attention_probs_dropout_prob",
        "dropout",
        "attention_dropout",
        "seq_classif_dropout",
    ] {
        if config.get(key).is_some() {
            config[key] = 0.3.into();
        }
    }
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    std::fs::copy(
        src.join("model.safetensors"),
        dir.path().join("model.safetensors"),
    )
    .unwrap();
    dir
}

/// Three rows of 12 tokens, the second padded after 7 (pad id `pad`).
fn rows(pad: u32) -> (Vec<Vec<u32>>, Vec<Vec<u32>>) {
    let ids: Vec<Vec<u32>> = (0..3u32)
        .map(|r| {
            (0..12u32)
                .map(|p| {
                    if r == 1 && p >= 7 {
                        pad
                    } else {
                        5 + (r * 37 + p * 11) % 140
                    }
                })
                .collect()
        })
        .collect();
    let mask = (0..3)
        .map(|r| (0..12).map(|p| u32::from(r != 1 || p < 7)).collect())
        .collect();
    (ids, mask)
}

/// Per-token labels: `label(row, position)` at real tokens, else `-100` (ignored).
fn per_token(mask: &[Vec<u32>], label: impl Fn(usize, usize) -> Option<i64>) -> Vec<Vec<i64>> {
    mask.iter()
        .enumerate()
        .map(|(r, row)| {
            row.iter()
                .enumerate()
                .map(|(p, &m)| if m == 1 { label(r, p) } else { None }.unwrap_or(-100))
                .collect()
        })
        .collect()
}

fn input(ids: &[Vec<u32>], mask: &[Vec<u32>], device: &Device) -> BertInput {
    let types = vec![vec![0; 12]; ids.len()];
    BertInput::from_rows(ids, &types, mask, device)
}

/// The plain backward pass with the RNG seeded per stage as `checkpointed_grads` seeds it.
fn seeded_reference<M: Module>(
    model: &M,
    bert: &BertModel,
    input: BertInput,
    device: &Device,
    head_loss: impl FnOnce(Tensor<3>) -> Tensor<1>,
) -> GradientsParams {
    let bias = attention_bias(input.attention_mask, bert.encoder_heads());
    device.seed(stage_seed(SEED, 0));
    let mut hidden = bert
        .embeddings
        .forward(input.input_ids, input.token_type_ids);
    for (l, layer) in bert.encoder.layer.iter().enumerate() {
        device.seed(stage_seed(SEED, l + 1));
        hidden = layer.forward(hidden, bias.clone());
    }
    device.seed(stage_seed(SEED, bert.encoder.layer.len() + 1));
    GradientsParams::from_grads(head_loss(hidden).backward(), model)
}

/// Every parameter's gradient, by path, flattened (`None` where a parameter has none).
struct Collect<'a> {
    grads: &'a GradientsParams,
    path: Vec<String>,
    out: Vec<(String, Option<Vec<f32>>)>,
}

impl ModuleVisitor for Collect<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let grad = self.grads.get::<D>(param.id).map(|g| {
            g.into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .unwrap()
        });
        self.out.push((self.path.join("."), grad));
    }
}

fn by_path<M: Module>(model: &M, grads: &GradientsParams) -> Vec<(String, Option<Vec<f32>>)> {
    let mut visitor = Collect {
        grads,
        path: Vec::new(),
        out: Vec::new(),
    };
    model.visit(&mut visitor);
    visitor.out
}

/// Checkpointed against reference gradients: the same parameters get gradients, equal within
/// 1e-6 relative to the largest, and the loss is finite.
fn assert_same<M: Module>(
    what: &str,
    model: &M,
    got: (f64, Option<GradientsParams>),
    want: &GradientsParams,
) {
    let (loss, got) = got;
    assert!(loss.is_finite(), "{what}: loss {loss}");
    let got = by_path(model, &got.expect("finite loss: gradients"));
    let want = by_path(model, want);
    let scale = want
        .iter()
        .filter_map(|(_, g)| g.as_ref())
        .flatten()
        .fold(0f32, |m, v| m.max(v.abs()));
    assert!(scale > 0.0, "{what}: no gradient at all");
    let mut worst = (0f32, String::new());
    let mut with_grad = 0;
    for ((path, g), (_, w)) in got.iter().zip(&want) {
        match (g, w) {
            (Some(g), Some(w)) => {
                with_grad += 1;
                for (a, b) in g.iter().zip(w) {
                    if (a - b).abs() > worst.0 {
                        worst = ((a - b).abs(), path.clone());
                    }
                }
            }
            (None, None) => {}
            _ => panic!("{what}: {path} has a gradient on one side only"),
        }
    }
    println!(
        "{what}: {with_grad} parameters, max |diff| {:.2e} ({}) against max |grad| {scale:.2e}",
        worst.0, worst.1
    );
    assert!(
        worst.0 <= 1e-6 * scale,
        "{what}: {} differs by {}",
        worst.1,
        worst.0
    );
}

fn autodiff() -> Device {
    Device::flex().autodiff()
}

/// One test: the two parts seed the process-wide RNG, so they must not run side by side.
#[test]
fn checkpointed_gradients_equal_the_plain_backward_pass() {
    sequence_classifiers_of_every_family();
    token_classifier_question_answering_and_masked_lm();
}

fn sequence_classifiers_of_every_family() {
    for (name, pad) in [
        ("tiny-bert", 0),
        ("tiny-roberta", 1),
        ("tiny-distilbert", 0),
    ] {
        let dir = with_dropout(name);
        let plain = Device::flex();
        plain.seed(3);
        let (model, _, _) = BertForSequenceClassification::from_pretrained(
            dir.path(),
            Some(3),
            Some(ProblemType::SingleLabel),
            &plain,
        )
        .unwrap();
        let device = autodiff();
        let model = fork_for_training(model, &device);
        let (ids, mask) = rows(pad);
        let batch = Batch {
            token_type_ids: vec![vec![0; 12]; 3],
            attention_mask: mask.clone(),
            input_ids: ids.clone(),
            labels: vec![Label::Class(0), Label::Class(2), Label::Class(1)],
            real_tokens: 31,
            padded_tokens: 36,
        };
        let got = model
            .checkpointed_grads(
                &batch,
                CheckpointedStep {
                    device: &device,
                    seed: SEED,
                    weight: 1.0,
                    bf16: false,
                },
            )
            .unwrap();
        let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 2, 1], [3]), &device);
        let want = seeded_reference(
            &model,
            &model.bert,
            input(&ids, &mask, &device),
            &device,
            |h| {
                model.loss(
                    model.forward_hidden(h),
                    burnish_heads::ClassificationTargets::Classes(targets),
                )
            },
        );
        assert_same(name, &model, got, &want);
    }
}

fn token_classifier_question_answering_and_masked_lm() {
    let device = autodiff();
    let (ids, mask) = rows(0);

    let dir = with_dropout("tiny-bert-ner");
    let (model, _, _) =
        BertForTokenClassification::from_pretrained(dir.path(), None, &Device::flex()).unwrap();
    let model = fork_for_training(model, &device);
    let labels = per_token(&mask, |r, p| (p % 3 != 0).then_some(((r + p) % 5) as i64));
    let batch = TokenBatch {
        input_ids: ids.clone(),
        token_type_ids: vec![vec![0; 12]; 3],
        attention_mask: mask.clone(),
        labels: labels.clone(),
        real_tokens: 31,
    };
    let got = model
        .checkpointed_grads(
            &batch,
            CheckpointedStep {
                device: &device,
                seed: SEED,
                weight: 1.0,
                bf16: false,
            },
        )
        .unwrap();
    let flat: Vec<i64> = labels.iter().flatten().copied().collect();
    let label_tensor = Tensor::<2, Int>::from_data(TensorData::new(flat, [3, 12]), &device);
    let want = seeded_reference(
        &model,
        &model.bert,
        input(&ids, &mask, &device),
        &device,
        |h| model.loss(model.forward_hidden(h), label_tensor),
    );
    assert_same("tiny-bert-ner", &model, got, &want);

    let dir = with_dropout("tiny-bert-qa");
    let (model, _, _) =
        BertForQuestionAnswering::from_pretrained(dir.path(), &Device::flex()).unwrap();
    let model = fork_for_training(model, &device);
    let (starts, ends) = (vec![3usize, 0, 5], vec![4usize, 0, 9]);
    let batch = QaBatch {
        input_ids: ids.clone(),
        token_type_ids: vec![vec![0; 12]; 3],
        attention_mask: mask.clone(),
        starts: starts.clone(),
        ends: ends.clone(),
        real_tokens: 31,
    };
    let got = model
        .checkpointed_grads(
            &batch,
            CheckpointedStep {
                device: &device,
                seed: SEED,
                weight: 1.0,
                bf16: false,
            },
        )
        .unwrap();
    let pos = |v: &[usize]| {
        Tensor::<1, Int>::from_data(
            TensorData::new(v.iter().map(|&p| p as i64).collect::<Vec<_>>(), [v.len()]),
            &device,
        )
    };
    let want = seeded_reference(
        &model,
        &model.bert,
        input(&ids, &mask, &device),
        &device,
        |h| {
            let (s, e) = model.forward_hidden(h);
            model.loss(s, e, pos(&starts), pos(&ends))
        },
    );
    assert_same("tiny-bert-qa", &model, got, &want);

    let dir = with_dropout("tiny-bert-mlm");
    let (model, _, _) = BertForMaskedLM::from_pretrained(dir.path(), &Device::flex()).unwrap();
    let model = fork_for_training(model, &device);
    let labels = per_token(&mask, |r, p| (p % 4 == 1).then_some(i64::from(ids[r][p])));
    let mut masked = ids.clone();
    for (row, labels) in masked.iter_mut().zip(&labels) {
        for (id, &label) in row.iter_mut().zip(labels) {
            if label != -100 {
                *id = 4; // `[MASK]` in the fixture vocabulary
            }
        }
    }
    let batch = PretrainBatch {
        input_ids: masked.clone(),
        token_type_ids: vec![vec![0; 12]; 3],
        attention_mask: mask.clone(),
        labels: labels.clone(),
        ..PretrainBatch::default()
    };
    let got = model
        .checkpointed_grads(
            &batch,
            CheckpointedStep {
                device: &device,
                seed: SEED,
                weight: 1.0,
                bf16: false,
            },
        )
        .unwrap();
    let targets = MaskedTargets::from_label_rows(&labels, &device).unwrap();
    let want = seeded_reference(
        &model,
        &model.bert,
        input(&masked, &mask, &device),
        &device,
        |h| {
            model.loss(
                model.forward_masked_hidden(h, targets.positions),
                targets.labels,
            )
        },
    );
    assert_same("tiny-bert-mlm", &model, got, &want);
}
