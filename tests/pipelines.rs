//! The facade's pipelines and trainer against `transformers`' outputs and on real data.
//!
//! The pipelines tokenize, batch (several lengths in one batch, so padding is exercised) and
//! post-process; these tests check that what comes out equals what PyTorch + `transformers`
//! computed for the same texts (`scripts/make_reference.py`), and that the trainer fine-tunes
//! each task into a pipeline that evaluates and predicts. Every test holds
//! [`common::generator_lock`]: the trainings seed the backend's generator, which is shared
//! by the process's threads (as `torch.manual_seed` is).

mod common;

use burnish::prelude::*;
use burnish::tokenizer::{EncodeOptions, Input};
use burnish::train::tasks::classification::softmax;

/// `(text, text_pair, input_ids, logits rows)` of a reference file.
fn cases(path: &std::path::Path) -> Vec<serde_json::Value> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["cases"].as_array().unwrap().clone()
}

fn floats(v: &serde_json::Value) -> Vec<f32> {
    serde_json::from_value(v.clone()).unwrap()
}

#[test]
fn text_classifier_gives_transformers_logits_with_padding_and_pairs() {
    let _generator = common::generator_lock();
    let device = Device::flex();
    let dir = common::fixture("tiny-bert-bin");
    // Batches of 2 of inputs of different lengths: every batch is padded.
    let classifier = TextClassifier::from_dir(&dir, &device)
        .unwrap()
        .with_batch_size(2);
    assert_eq!(classifier.labels(), ["LABEL_0", "LABEL_1", "LABEL_2"]);
    let cases = cases(&dir.join("reference.json"));
    let inputs: Vec<Input<'_>> = cases
        .iter()
        .map(|c| match c["text_pair"].as_str() {
            Some(pair) => Input::Pair(c["text"].as_str().unwrap(), pair),
            None => Input::Single(c["text"].as_str().unwrap()),
        })
        .collect();
    assert!(inputs.iter().any(|i| matches!(i, Input::Pair(..))));
    let logits = classifier.logits(&inputs).unwrap();
    let predictions = classifier.predict_inputs(&inputs).unwrap();
    for ((case, ours), prediction) in cases.iter().zip(&logits).zip(&predictions) {
        let reference = floats(&case["logits"]);
        let diff = common::max_abs_diff(ours, &reference);
        assert!(diff <= 1e-4, "{}: logits differ by {diff}", case["text"]);
        let probs = softmax(&reference);
        let best = (0..probs.len())
            .max_by(|&a, &b| probs[a].total_cmp(&probs[b]))
            .unwrap();
        assert_eq!(prediction.label(), Some(format!("LABEL_{best}").as_str()));
        assert!((prediction.score().unwrap() - probs[best]).abs() <= 1e-4);
    }
}

#[test]
fn sentence_embedder_gives_sentence_transformers_embeddings_of_minilm() {
    let _generator = common::generator_lock();
    let dir = common::minilm();
    let device = Device::flex();
    let embedder = SentenceEmbedder::from_dir(&dir, &device)
        .unwrap()
        .with_batch_size(3);
    let cases: Vec<serde_json::Value> = cases(&common::fixture("reference/minilm.json"))
        .into_iter()
        .filter(|c| c["text_pair"].is_null())
        .collect();
    assert!(cases.len() >= 5);
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let embeddings = embedder.predict(&texts).unwrap();
    for (case, ours) in cases.iter().zip(&embeddings) {
        let reference = floats(&case["sentence_embedding"]);
        let diff = common::max_abs_diff(ours, &reference);
        assert!(
            diff <= 1e-4,
            "{}: embedding differs by {diff}",
            case["text"]
        );
    }
}

#[test]
fn fill_mask_ranks_tokens_by_transformers_probabilities() {
    let _generator = common::generator_lock();
    let device = Device::flex();
    let dir = common::fixture("tiny-bert-mlm");
    let fill = FillMask::from_dir(&dir, &device).unwrap().with_top_k(5);
    let mask_id = fill.tokenizer().mask_id().unwrap();
    // Single texts (a pair's reference logits come from both of its texts).
    let cases: Vec<serde_json::Value> = cases(&dir.join("reference.json"))
        .into_iter()
        .filter(|c| c["text_pair"].is_null())
        .collect();
    assert!(cases.len() >= 2);
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let predictions = fill.predict(&texts).unwrap();
    for (case, candidates) in cases.iter().zip(&predictions) {
        let ids: Vec<u32> = serde_json::from_value(case["input_ids"].clone()).unwrap();
        let at = ids.iter().position(|&i| i == mask_id).unwrap();
        let probs = softmax(&floats(&case["logits"][at]));
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        assert_eq!(candidates.len(), 5);
        for (candidate, &id) in candidates.iter().zip(&order) {
            assert_eq!(candidate.token_id as usize, id, "{}", case["text"]);
            assert!((candidate.score - probs[id]).abs() <= 1e-5);
            assert!(!candidate.sequence.contains("[MASK]"));
        }
    }
    // No mask, or two: an error naming the input.
    let err = fill
        .predict(&["no mask here", "[MASK] and [MASK]"])
        .unwrap_err();
    assert!(err.to_string().starts_with("input 0:"), "{err}");
}

#[test]
fn token_classifier_tags_each_word_at_its_first_subword_as_transformers_scores_it() {
    let _generator = common::generator_lock();
    let device = Device::flex();
    let dir = common::fixture("tiny-bert-ner");
    let ner = TokenClassifier::from_dir(&dir, &device)
        .unwrap()
        .with_batch_size(2);
    let cases: Vec<serde_json::Value> = cases(&dir.join("reference.json"))
        .into_iter()
        .filter(|c| c["text_pair"].is_null())
        .collect();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let tagged = ner.predict(&texts).unwrap();
    for (case, out) in cases.iter().zip(&tagged) {
        let text = case["text"].as_str().unwrap();
        let enc = ner
            .tokenizer()
            .encode(text, &EncodeOptions::default())
            .unwrap();
        let ids: Vec<u32> = serde_json::from_value(case["input_ids"].clone()).unwrap();
        assert_eq!(enc.ids, ids);
        let words = burnish::tokenizer::split_words(text);
        assert_eq!(out.words.len(), words.len());
        for (w, (word, (start, end))) in words.iter().enumerate() {
            let t = enc
                .word_ids
                .iter()
                .position(|&x| x == Some(w as u32))
                .unwrap();
            let probs = softmax(&floats(&case["logits"][t]));
            let best = (0..probs.len())
                .max_by(|&a, &b| probs[a].total_cmp(&probs[b]))
                .unwrap();
            let got = &out.words[w];
            assert_eq!(&got.text, word);
            assert_eq!(
                got.tag,
                ner.tags().name(best as u32).unwrap(),
                "{text}: {word}"
            );
            assert!((got.score - probs[best]).abs() <= 1e-4);
            assert_eq!(got.start, text[..*start].chars().count());
            assert_eq!(got.end, text[..*end].chars().count());
        }
        for entity in &out.entities {
            let chars: Vec<char> = text.chars().collect();
            let span: String = chars[entity.start..entity.end].iter().collect();
            assert_eq!(span, entity.text);
        }
    }
}

/// Tagged sentences in CoNLL format: "NAME lives in CITY ." with the entities tagged.
fn conll(path: &std::path::Path, n: usize) {
    let names = ["john", "mary", "peter", "anna"];
    let cities = ["paris", "london", "berlin", "rome"];
    let mut text = String::new();
    for i in 0..n {
        let (name, city) = (names[i % 4], cities[(i / 4) % 4]);
        text.push_str(&format!(
            "{name} B-PER\nlives O\nin O\n{city} B-LOC\n. O\n\n"
        ));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn trainer_fine_tunes_a_token_classifier_that_evaluates_predicts_and_reloads() {
    let _generator = common::generator_lock();
    let device = Device::flex();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("train.conll");
    conll(&file, 32);
    let data = NerDataset::read(&file, &NerReadOptions::default()).unwrap();
    let base = Pretrained::from_dir(common::fixture("tiny-bert"), &device).unwrap();
    let config = TrainConfig {
        epochs: 2,
        batch_size: 8,
        max_length: 16,
        learning_rate: 1e-3,
        ..TrainConfig::default()
    };
    let trained = Trainer::new(config, work.path().join("run"))
        .unwrap()
        .with_progress(false)
        .token_classifier(&base, &data, &data)
        .unwrap();
    let best_f1 = trained.report.best_metric("f1").unwrap();
    let ner = trained.model;
    assert_eq!(ner.tags().names(), ["O", "B-LOC", "B-PER"]);
    // The returned model is the best one by entity F1.
    let eval = ner.evaluate(&data.sentences).unwrap();
    assert!((eval.metrics["f1"] - best_f1).abs() < 1e-9);
    let out = ner.predict(&["mary lives in rome ."]).unwrap();
    assert_eq!(out[0].words.len(), 5);
    ner.save(work.path().join("model")).unwrap();
    let reloaded = TokenClassifier::from_dir(work.path().join("model"), &device).unwrap();
    assert_eq!(reloaded.tags(), ner.tags());
    // The tiny vocabulary spells words letter by letter: the sentence is 17 tokens, so with the
    // training length of 16 it is read in two windows, and the reloaded pipeline (the model's
    // 64 by default) must be told the same length to give the same predictions.
    assert_eq!(reloaded.max_length(), 64);
    let reloaded = reloaded.with_max_length(16).unwrap();
    assert_eq!(reloaded.predict(&["mary lives in rome ."]).unwrap(), out);
}

#[test]
fn trainer_fine_tunes_a_question_answerer_on_squad_questions() {
    let _generator = common::generator_lock();
    let path = common::asset("squad-fixture/squad.json");
    let device = Device::flex();
    let work = tempfile::tempdir().unwrap();
    let data = SquadDataset::read(&path).unwrap();
    let base = Pretrained::from_dir(common::fixture("tiny-bert"), &device).unwrap();
    let config = TrainConfig {
        epochs: 1,
        batch_size: 16,
        max_length: 64,
        ..TrainConfig::default()
    };
    let trained = Trainer::new(config, work.path().join("run"))
        .unwrap()
        .with_progress(false)
        .question_answerer(&base, &data, &data, 16)
        .unwrap();
    let report = &trained.report;
    assert!(report.best_metric("f1").is_some() && report.best_metric("exact_match").is_some());
    let qa = trained.model;
    assert_eq!(qa.windows().max_length, 64);
    assert_eq!(qa.windows().stride, 16);
    let eval = qa.evaluate(&data.examples).unwrap();
    assert!((eval.metrics["f1"] - report.best_metric("f1").unwrap()).abs() < 1e-9);
    // A context of several windows: the answer is a span of it, with character offsets.
    let example = &data.examples[0];
    let answers = qa
        .predict(&[(example.question.as_str(), &*example.context)])
        .unwrap();
    let chars: Vec<char> = example.context.chars().collect();
    let span: String = chars[answers[0].start..answers[0].end].iter().collect();
    assert_eq!(span, answers[0].text);
}

#[test]
fn pipelines_refuse_a_folder_without_their_head() {
    let _generator = common::generator_lock();
    let device = Device::flex();
    // tiny-bert is a bare encoder: no classifier, no QA outputs, no MLM head.
    let dir = common::fixture("tiny-bert");
    let err = QuestionAnswerer::from_dir(&dir, &device).unwrap_err();
    assert!(
        matches!(&err, Error::MissingHead { task: "question answering", missing, .. }
            if missing.iter().any(|m| m.contains("qa_outputs"))),
        "{err}"
    );
    let err = FillMask::from_dir(&dir, &device).unwrap_err();
    assert!(matches!(err, Error::MissingHead { .. }), "{err}");
    // And a folder without weights is an error naming it.
    let empty = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("config.json"), empty.path().join("config.json")).unwrap();
    let err = Pretrained::from_dir(empty.path(), &device).unwrap_err();
    assert!(err.to_string().contains("no weights found"), "{err}");
}

/// The facade's `Trainer::with_devices`: a token classifier trained on two replicas (each takes
/// half the sentences of a batch, its loss weighted by its share of the labelled tokens, which
/// differ between the halves) takes the single-device run's steps. Dropout is off so nothing
/// random is drawn after the head's initialisation. Measured: losses within 2.4e-7 over 12
/// steps; weighting the halves by rows instead (as for a loss with no single mean) makes them
/// differ by 2.7e-3.
#[test]
fn data_parallel_token_classifier_matches_one_device() {
    let _generator = common::generator_lock();
    let device = Device::flex();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("train.conll");
    // Sentences of 4 to 10 labelled words, so the two halves of a batch hold different numbers
    // of labelled tokens.
    let mut text = String::new();
    for i in 0..24 {
        text.push_str(&format!(
            "{} B-PER\nlives O\n",
            ["john", "mary", "ann"][i % 3]
        ));
        for word in ["in", "old", "rainy", "a", "b", "c"]
            .iter()
            .take((i * 5) % 7)
        {
            text.push_str(&format!("{word} O\n"));
        }
        text.push_str(&format!("{} B-LOC\n. O\n\n", ["rome", "oslo"][i % 2]));
    }
    std::fs::write(&file, text).unwrap();
    let data = NerDataset::read(&file, &NerReadOptions::default()).unwrap();
    let model_dir = work.path().join("tiny");
    std::fs::create_dir(&model_dir).unwrap();
    for entry in std::fs::read_dir(common::fixture("tiny-bert")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, model_dir.join(path.file_name().unwrap())).unwrap();
    }
    let config_path = model_dir.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    config["hidden_dropout_prob"] = 0.0.into();
    config["attention_probs_dropout_prob"] = 0.0.into();
    std::fs::write(&config_path, config.to_string()).unwrap();
    let train = |devices: &[Device], run: &str| {
        let base = Pretrained::from_dir(&model_dir, &device).unwrap();
        let config = TrainConfig {
            epochs: 2,
            batch_size: 8,
            max_length: 16,
            learning_rate: 1e-3,
            log_every: 1,
            // Shuffled, not length-bucketed, batches: their halves differ in length.
            bucketing: false,
            ..TrainConfig::default()
        };
        let trained = Trainer::new(config, work.path().join(run))
            .unwrap()
            .with_progress(false)
            .with_devices(devices)
            .token_classifier(&base, &data, &data)
            .unwrap();
        let losses: Vec<f64> = trained
            .report
            .state
            .train_loss
            .iter()
            .map(|(_, l)| *l)
            .collect();
        (
            losses,
            trained.model.evaluate(&data.sentences).unwrap().metrics["loss"],
        )
    };
    let (one_losses, one_eval) = train(std::slice::from_ref(&device), "one");
    let (two_losses, two_eval) = train(&[device.clone(), device.clone()], "two");
    assert_eq!(one_losses.len(), two_losses.len());
    let diff = one_losses
        .iter()
        .zip(&two_losses)
        .map(|(a, b)| (a - b).abs())
        .fold((one_eval - two_eval).abs(), f64::max);
    println!(
        "data-parallel NER: max |loss diff| {diff:.2e} over {} steps",
        one_losses.len()
    );
    assert!(diff < 1e-5, "{diff}");
}
