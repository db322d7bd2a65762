//! `burnish pretrain` end to end on real text (vader-movies review sentences from the assets of
//! `scripts/fetch-assets.sh`, grouped into documents): MLM from scratch with a tokenizer trained on the corpus learns (held-out loss
//! falls between epochs and below the uniform baseline), the folder loads in `transformers` as
//! `BertForMaskedLM` with nothing missing and fine-tunes with `burnish finetune`; MLM+NSP and
//! CLM run; continuing a checkpoint without an MLM head says the head is new; `--eval-only`
//! reproduces a run's held-out loss without training.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use burnish::train::{LogEvent, Metrics};
use common::{log_events, python, review_corpus, reviews, root};

fn burnish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(args)
        .output()
        .expect("run burnish")
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const TINY: [&str; 8] = [
    "--layers",
    "2",
    "--hidden",
    "64",
    "--heads",
    "2",
    "--max-length",
    "64",
];

#[test]
fn mlm_from_scratch_learns_and_transformers_loads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = review_corpus(tmp.path(), 3000);
    let run = tmp.path().join("mlm");
    let mut args = vec![
        "pretrain",
        "--objective",
        "mlm",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--vocab-size",
        "1500",
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--lr",
        "2e-3",
        "--warmup-ratio",
        "0.05",
        "--quiet",
    ];
    args.extend(TINY);
    ok(&burnish(&args));
    for file in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "vocab.txt",
        "metrics.json",
        "log.jsonl",
        "training.png",
        "training_config.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    // Two held-out evaluations (one per epoch): the loss falls, and ends below the uniform
    // guess ln(1500) = 7.31 (a real pre-training run is in docs/benchmarks.md).
    let evals: Vec<Metrics> = log_events(&run)
        .into_iter()
        .filter_map(|e| match e {
            LogEvent::Eval { metrics, .. } => Some(metrics),
            _ => None,
        })
        .collect();
    assert_eq!(evals.len(), 2, "{evals:?}");
    assert!(evals[1]["loss"] < evals[0]["loss"], "{evals:?}");
    let metrics = read_json(&run.join("metrics.json"));
    let fv = &metrics["final_validation"];
    assert!(fv["loss"].as_f64().unwrap() < 7.0, "{fv}");
    // The unigram model of the same held-out tokens: a sane cross-entropy, below uniform.
    let unigram = metrics["unigram_baseline_loss"].as_f64().unwrap();
    assert!(unigram > 1.0 && unigram < 1500f64.ln(), "{unigram}");
    assert!(fv["accuracy"].as_f64().unwrap() > 0.0, "{fv}");
    assert!((fv["perplexity"].as_f64().unwrap() - fv["loss"].as_f64().unwrap().exp()).abs() < 1e-6);
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["architectures"][0], "BertForMaskedLM");
    assert_eq!(config["vocab_size"], 1500);

    // transformers loads it as BertForMaskedLM with nothing missing or unexpected.
    let python = python();
    let script = r#"
import sys, json
from transformers import BertForMaskedLM, AutoTokenizer
model, info = BertForMaskedLM.from_pretrained(sys.argv[1], output_loading_info=True)
tok = AutoTokenizer.from_pretrained(sys.argv[1])
print(json.dumps({k: sorted(v) for k, v in info.items() if k != "error_msgs"}))
"#;
    let out = Command::new(&python)
        .args(["-c", script])
        .arg(&run)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["missing_keys", "unexpected_keys", "mismatched_keys"] {
        assert_eq!(info[key], serde_json::json!([]), "{key}: {info}");
    }

    // Its model card, as the Hub's library reads it: a fill-mask model trained from scratch,
    // its held-out metrics in the model index.
    let out = Command::new(&python)
        .arg(common::root().join("scripts/check_ecosystem.py"))
        .args(["card", run.join("README.md").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let card: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(card["pipeline_tag"], "fill-mask", "{card}");
    assert_eq!(card["base_model"], serde_json::Value::Null, "{card}");
    let results = card["eval_results"].as_array().unwrap();
    let loss = results.iter().find(|r| r["metric_type"] == "loss").unwrap();
    assert!((loss["metric_value"].as_f64().unwrap() - fv["loss"].as_f64().unwrap()).abs() < 1e-12);
    assert_eq!(loss["dataset_name"], "held-out split");

    // The pre-trained folder fine-tunes.
    let dev = reviews("test");
    let finetuned = tmp.path().join("cls");
    ok(&burnish(&[
        "finetune",
        "--model",
        run.to_str().unwrap(),
        "--train",
        dev.to_str().unwrap(),
        "--text-column",
        "sentence",
        "--max-train-rows",
        "200",
        "--epochs",
        "1",
        "--max-length",
        "64",
        "--out",
        finetuned.to_str().unwrap(),
        "--quiet",
    ]));
    assert!(finetuned.join("model.safetensors").is_file());
}

#[test]
fn nsp_clm_and_continued_pretraining_run() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = review_corpus(tmp.path(), 1500);
    let model = root().join("tests/fixtures/tiny-bert");
    // Continued MLM from a BertModel checkpoint: the head is new, and said so.
    let run = tmp.path().join("continued");
    let stderr = ok(&burnish(&[
        "pretrain",
        "--corpus",
        corpus.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--max-length",
        "48",
        "--max-sequences",
        "64",
        "--out",
        run.to_str().unwrap(),
        "--quiet",
    ]));
    assert!(
        stderr.contains("newly initialised") && stderr.contains("cls.predictions"),
        "{stderr}"
    );
    // --eval-only on the result, with the same split and masks, reproduces the run's final
    // held-out loss and trains and saves nothing.
    let eval_dir = tmp.path().join("eval-only");
    ok(&burnish(&[
        "pretrain",
        "--eval-only",
        "--corpus",
        corpus.to_str().unwrap(),
        "--model",
        run.to_str().unwrap(),
        "--max-length",
        "48",
        "--max-sequences",
        "64",
        "--out",
        eval_dir.to_str().unwrap(),
        "--quiet",
    ]));
    let trained = read_json(&run.join("metrics.json"));
    let evaluated = read_json(&eval_dir.join("metrics.json"));
    assert_eq!(evaluated["eval_only"], true);
    for key in ["loss", "accuracy"] {
        let a = trained["final_validation"][key].as_f64().unwrap();
        let b = evaluated["final_validation"][key].as_f64().unwrap();
        assert!((a - b).abs() < 1e-5, "{key}: run {a}, --eval-only {b}");
    }
    assert_eq!(
        trained["unigram_baseline_loss"],
        evaluated["unigram_baseline_loss"]
    );
    assert!(!eval_dir.join("model.safetensors").exists());
    assert!(!eval_dir.join("log.jsonl").exists());
    let out = burnish(&[
        "pretrain",
        "--eval-only",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        tmp.path().join("no-model").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--eval-only evaluates a checkpoint"));
    for (objective, extra) in [("mlm+nsp", "nsp_accuracy"), ("clm", "perplexity")] {
        let run = tmp.path().join(objective.replace('+', "-"));
        let mut args = vec![
            "pretrain",
            "--objective",
            objective,
            "--corpus",
            corpus.to_str().unwrap(),
            "--tokenizer",
            model.to_str().unwrap(),
            "--max-sequences",
            "64",
            "--out",
            run.to_str().unwrap(),
            "--quiet",
        ];
        args.extend(TINY);
        ok(&burnish(&args));
        let metrics = read_json(&run.join("metrics.json"));
        assert!(
            metrics["final_validation"][extra].is_number(),
            "{objective}: {metrics}"
        );
        let config = read_json(&run.join("config.json"));
        let expected = if objective == "clm" {
            "BertLMHeadModel"
        } else {
            "BertForPreTraining"
        };
        assert_eq!(config["architectures"][0], expected);
    }
    // A bad objective is refused with the accepted names.
    let out = burnish(&[
        "pretrain",
        "--objective",
        "xlnet",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        tmp.path().join("x").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'xlnet'") && stderr.contains("possible values: mlm, mlm+nsp, clm"),
        "{stderr}"
    );
}

// ---- a corpus on disk, not in memory --------------------------------------------------------

/// Words of the tiny-bert fixture's vocabulary, so the generated text is mostly whole-word
/// tokens.
const WORDS: [&str; 56] = [
    "the", "an", "and", "of", "to", "in", "on", "is", "it", "was", "for", "with", "this", "that",
    "what", "where", "did", "yes", "no", "quick", "brown", "fox", "jump", "over", "lazy", "dog",
    "cat", "sit", "mat", "sleep", "hello", "world", "run", "play", "twice", "cafe", "good", "bad",
    "movie", "great", "model", "token", "word", "piece", "rust", "burn", "bert", "text", "train",
    "test", "data", "new", "york", "paris", "tokyo", "jumped",
];

/// Writes a generated corpus of about `mib` MiB: documents of 2-9 sentences of 4-19 words
/// (from a seeded generator), separated by blank lines. Returns its size in bytes.
fn generated_corpus(path: &Path, mib: u64, seed: u64) -> u64 {
    use std::io::Write;
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % n as u64) as usize
    };
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut written = 0u64;
    let mut line = String::new();
    while written < mib << 20 {
        for _ in 0..2 + next(8) {
            line.clear();
            for w in 0..4 + next(16) {
                if w > 0 {
                    line.push(' ');
                }
                line.push_str(WORDS[next(WORDS.len())]);
            }
            line.push_str(".\n");
            file.write_all(line.as_bytes()).unwrap();
            written += line.len() as u64;
        }
        file.write_all(b"\n").unwrap();
        written += 1;
    }
    file.flush().unwrap();
    written
}

/// `burnish pretrain` MLM from scratch, tiny sizes, with the tiny-bert tokenizer.
fn small_pretrain_args<'a>(corpus: &'a str, out: &'a str, tokenizer: &'a str) -> Vec<&'a str> {
    let mut args = vec![
        "pretrain",
        "--corpus",
        corpus,
        "--tokenizer",
        tokenizer,
        "--out",
        out,
        "--layers",
        "1",
        "--hidden",
        "16",
        "--heads",
        "2",
        "--max-length",
        "64",
        "--batch-size",
        "8",
        "--held-out",
        "0.01",
        "--quiet",
    ];
    args.extend(["--backend", "flex"]);
    args
}

/// Pre-training reads its corpus through a packed file on disk: the peak memory of a run on a
/// large generated corpus exceeds that of a run on a 1 MiB corpus by far less than the corpus
/// (and than the packed sequences held in memory, about 16 bytes a token, which is what
/// `burnish pretrain` used to need). The size is `BURNISH_PRETRAIN_CORPUS_MIB` (default 24);
/// `scripts/bench_stream_memory.sh pretrain` runs it at several GB (docs/reliability.md).
#[test]
fn pretraining_memory_does_not_grow_with_the_corpus() {
    let mib: u64 = std::env::var("BURNISH_PRETRAIN_CORPUS_MIB")
        .ok()
        .map(|v| {
            v.parse()
                .expect("BURNISH_PRETRAIN_CORPUS_MIB: a number of MiB")
        })
        .unwrap_or(24);
    let tokenizer = root().join("tests/fixtures/tiny-bert");
    let tokenizer = tokenizer.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for (name, size) in [("small", 1), ("large", mib)] {
        let corpus = tmp.path().join(format!("{name}.txt"));
        let bytes = generated_corpus(&corpus, size, 7);
        let out = tmp.path().join(name);
        let mut args =
            small_pretrain_args(corpus.to_str().unwrap(), out.to_str().unwrap(), tokenizer);
        args.extend(["--max-steps", "3"]);
        let started = std::time::Instant::now();
        let stderr = ok(&burnish(&args));
        let seconds = started.elapsed().as_secs_f64();
        assert!(stderr.contains("packed"), "{stderr}");
        let metrics = read_json(&out.join("metrics.json"));
        let rss = metrics["peak_rss_bytes"].as_u64().expect("peak_rss_bytes");
        let sequences = metrics["train_sequences"].as_u64().unwrap();
        assert_eq!(metrics["steps"].as_u64(), Some(3), "{metrics}");
        // The packed corpus is removed once the run is finished.
        assert!(!out.join("packed").exists());
        eprintln!(
            "{name}: corpus {bytes} bytes, {sequences} training sequences of 64 tokens, peak RSS \
             {rss} bytes, {seconds:.1} s"
        );
        runs.push((bytes, sequences, rss));
        std::fs::remove_file(&corpus).unwrap();
    }
    let (small, large) = (runs[0], runs[1]);
    // The whole corpus was packed (not only what 3 steps use).
    assert!(
        large.1 as f64 >= small.1 as f64 * (mib as f64) * 0.8,
        "{runs:?}"
    );
    let growth = large.2.saturating_sub(small.2);
    let corpus_growth = large.0 - small.0;
    let in_memory = (large.1 - small.1) * 64 * 16;
    assert!(
        growth < corpus_growth / 4,
        "peak RSS grew by {growth} bytes for {corpus_growth} more bytes of corpus"
    );
    assert!(growth < in_memory / 16, "{growth} vs {in_memory}");
}

/// Kill -9 during packing, then after the first checkpoint: each time the same command goes
/// on (packing again after the first kill, reusing the packed file after the second), and the
/// result equals an uninterrupted run within 1e-6 (flex).
#[test]
fn a_killed_pretraining_run_resumes_to_the_uninterrupted_weights() {
    let tokenizer = root().join("tests/fixtures/tiny-bert");
    let tokenizer = tokenizer.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus.txt");
    generated_corpus(&corpus, 6, 11);
    let corpus = corpus.to_str().unwrap();
    let steps = [
        "--max-steps",
        "12",
        "--checkpoint-every",
        "2",
        "--seed",
        "3",
    ];
    let reference = tmp.path().join("reference");
    let mut args = small_pretrain_args(corpus, reference.to_str().unwrap(), tokenizer);
    args.extend(steps);
    ok(&burnish(&args));

    let run = tmp.path().join("run");
    let mut args = small_pretrain_args(corpus, run.to_str().unwrap(), tokenizer);
    args.extend(steps);
    let spawn = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_burnish"))
            .args(args)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let wait_for = |child: &mut std::process::Child, what: &dyn Fn() -> bool| {
        let started = std::time::Instant::now();
        while !what() {
            assert!(
                child.try_wait().unwrap().is_none(),
                "the run ended before the moment to kill it"
            );
            assert!(started.elapsed().as_secs() < 600, "timed out");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    };
    let packed = run.join("packed");
    // 1. During packing: only a temporary file, never a partial `train.bin`.
    let mut child = spawn(&args);
    wait_for(&mut child, &|| {
        std::fs::read_dir(&packed).is_ok_and(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(".train.bin"))
        })
    });
    assert!(!packed.join("train.bin").exists());
    // 2. After the first checkpoint.
    let mut child = spawn(&args);
    wait_for(&mut child, &|| {
        run.join("checkpoint/trainer_state.json").is_file()
    });
    assert!(packed.join("train.bin").is_file());
    // 3. To the end: the packed corpus is reused, not packed again.
    let stderr = ok(&burnish(&args));
    assert!(
        stderr.contains("reusing the") && !stderr.contains("tokens) into"),
        "{stderr}"
    );
    let a = burnish::encoder::weights::Checkpoint::read_safetensors(&run.join("model.safetensors"))
        .unwrap()
        .tensors;
    let b = burnish::encoder::weights::Checkpoint::read_safetensors(
        &reference.join("model.safetensors"),
    )
    .unwrap()
    .tensors;
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, ta) in &a {
        let va = ta.clone().convert::<f32>().try_into_vec::<f32>().unwrap();
        let vb = b[name]
            .clone()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap();
        let worst = va
            .iter()
            .zip(&vb)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(worst <= 1e-6, "{name}: {worst}");
    }
    let metrics = read_json(&run.join("metrics.json"));
    assert_eq!(metrics["steps"].as_u64(), Some(12), "{metrics}");
}

/// `--train-only embeddings` (the first stage after a vocabulary extension) moves the word
/// embeddings and the tied decoder's bias and nothing else.
#[test]
fn train_only_embeddings_leaves_every_other_weight_as_it_was() {
    use burnish::encoder::weights::Checkpoint;
    let tmp = tempfile::tempdir().unwrap();
    let corpus = review_corpus(tmp.path(), 400);
    let model = root().join("tests/fixtures/tiny-bert-mlm");
    let run = tmp.path().join("embeddings-only");
    ok(&burnish(&[
        "pretrain",
        "--corpus",
        corpus.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--train-only",
        "embeddings",
        "--lr",
        "1e-2",
        "--max-length",
        "48",
        "--max-sequences",
        "64",
        "--out",
        run.to_str().unwrap(),
        "--quiet",
    ]));
    let before = Checkpoint::from_dir(&model).unwrap().tensors;
    let after = Checkpoint::read_safetensors(&run.join("model.safetensors"))
        .unwrap()
        .tensors;
    let mut moved = Vec::new();
    for (name, new) in &after {
        let Some(old) = before.get(name) else {
            continue;
        };
        let (a, b) = (
            old.clone().convert::<f32>().try_into_vec::<f32>().unwrap(),
            new.clone().convert::<f32>().try_into_vec::<f32>().unwrap(),
        );
        if a.iter().zip(&b).any(|(x, y)| x != y) {
            moved.push(name.clone());
        }
    }
    moved.sort();
    assert_eq!(
        moved,
        [
            "bert.embeddings.word_embeddings.weight",
            "cls.predictions.bias"
        ],
        "{:?}",
        after.keys()
    );
}
