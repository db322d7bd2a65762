//! Long SQuAD contexts: every dev-v1.1 question whose answer lies past the first 384-token
//! window (all-MiniLM-L6-v2's tokenizer, stride 128) is answered from a later window. The
//! logits are those of a model that "knows" the answer only where a window holds it (a peak at
//! the labelled tokens, noise elsewhere), so the test checks what surrounds the model: windows,
//! offsets, the n-best search over all windows, and cutting the answer out of the context.

mod common;

use burnish_data::{QaFeatureOptions, SquadDataset, qa_features, qa_inputs};
use burnish_train::metrics::squad::{SquadGold, squad_v1};
use burnish_train::tasks::qa::{PostProcess, SpanLogits, best_answers};

#[test]
fn answers_in_later_windows_are_found() {
    let base = std::env::var_os("BURNISH_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| common::workspace().join("../shared/data"));
    let path = base.join("squad1.1/dev-v1.1.json");
    let model = std::env::var_os("BURNISH_ASSETS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| common::workspace().join("assets"))
        .join("all-MiniLM-L6-v2");
    if !path.is_file() || !model.is_dir() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{} or {} missing",
            path.display(),
            model.display()
        );
        eprintln!("note: skipping, SQuAD dev or MiniLM missing");
        return;
    }
    let tokenizer = burnish_tokenizer::Tokenizer::from_dir(&model).unwrap();
    let data = SquadDataset::read(&path).unwrap();
    let inputs = qa_inputs(&data.examples);
    let all = qa_features(&tokenizer, &inputs, QaFeatureOptions::default(), &path).unwrap();

    // The questions whose first window does not hold the answer but a later one does.
    let mut first_window = vec![None; data.examples.len()];
    for (i, f) in all.features.iter().enumerate() {
        first_window[f.example].get_or_insert(i);
    }
    let late: Vec<usize> = (0..data.examples.len())
        .filter(|&q| {
            let first = &all.features[first_window[q].unwrap()];
            !first.has_answer()
                && all
                    .features
                    .iter()
                    .any(|f| f.example == q && f.has_answer())
        })
        .collect();
    assert!(late.len() >= 5, "only {} late answers", late.len());

    // Their windows, renumbered, with logits that peak at the labels (a deterministic
    // pseudo-random background below the peak).
    let examples: Vec<_> = late.iter().map(|&q| data.examples[q].clone()).collect();
    let mut features = Vec::new();
    let mut logits = Vec::new();
    let mut noise = 0x2545_f491_4f6c_dd1du64;
    for (k, &q) in late.iter().enumerate() {
        for f in all.features.iter().filter(|f| f.example == q) {
            let mut next = || {
                noise ^= noise << 13;
                noise ^= noise >> 7;
                noise ^= noise << 17;
                (noise % 1000) as f32 / 1000.0
            };
            let mut start: Vec<f32> = (0..f.len()).map(|_| next()).collect();
            let mut end: Vec<f32> = (0..f.len()).map(|_| next()).collect();
            if f.has_answer() {
                start[f.start] = 8.0;
                end[f.end] = 8.0;
            }
            let mut f = f.clone();
            f.example = k;
            features.push(f);
            logits.push(SpanLogits { start, end });
        }
    }
    let contexts: Vec<&str> = examples.iter().map(|e| &*e.context).collect();
    let answers = best_answers(&features, &logits, &contexts, PostProcess::default());

    let golds: Vec<SquadGold> = examples
        .iter()
        .map(|e| SquadGold::new(e.id.clone(), e.answers.iter().map(|a| a.text.clone())))
        .collect();
    let predictions: std::collections::HashMap<String, String> = examples
        .iter()
        .zip(&answers)
        .map(|(e, a)| (e.id.clone(), a.text.clone()))
        .collect();
    let scores = squad_v1(&predictions, &golds).unwrap();
    eprintln!(
        "{} questions answered from a later window: EM {:.2}, F1 {:.2}",
        late.len(),
        scores.exact_match,
        scores.f1
    );
    // Token spans can only approximate an answer that ends inside a word; nearly all match.
    assert!(scores.f1 > 97.0, "F1 {}", scores.f1);
    for (e, a) in examples.iter().zip(&answers) {
        let gold = e.answer_span().unwrap();
        assert!(
            // It starts at the gold start (the end may be cut by the 30-token limit).
            a.byte_span.0 <= gold.0 && gold.0 < a.byte_span.1,
            "{:?}: answer {:?} at {:?}, gold {:?}",
            e.id,
            a.text,
            a.byte_span,
            gold
        );
        let chars: Vec<char> = e.context.chars().collect();
        let text: String = chars[a.start..a.end].iter().collect();
        assert_eq!(text, a.text);
    }
}
