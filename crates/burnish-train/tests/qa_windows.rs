//! Long SQuAD contexts: every question of the committed SQuAD v1.1 dev slice
//! (`tests/fixtures/squad`, picked to hold 15 such questions) whose answer lies past the first
//! 384-token window (all-MiniLM-L6-v2's tokenizer from the assets folder, stride 128) is
//! answered from a later window. The logits are those of a model that "knows" the answer only
//! where a window holds it (a peak at the labelled tokens, noise elsewhere), so the test checks
//! what surrounds the model: windows, offsets, the n-best search over all windows, and cutting
//! the answer out of the context.

mod common;

use burnish_data::{QaFeatureOptions, SquadDataset, qa_features, qa_inputs};
use burnish_train::metrics::squad::{SquadGold, squad_v1};
use burnish_train::tasks::qa::{PostProcess, SpanLogits, best_answers};

#[test]
fn answers_in_later_windows_are_found() {
    let path = common::squad_slice();
    let model = common::asset("all-MiniLM-L6-v2");
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
    assert_eq!(
        late.len(),
        15,
        "questions answered only past the first window"
    );

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
    // Every answer is the labelled span, cut from the context at its tokens' offsets: exactly
    // the gold answer when it fits the 30-token answer limit (13 of the 15 here), else a piece
    // of it (two gold answers in Packet_switching are 32 and 37 tokens).
    let limit = PostProcess::default().max_answer_length;
    let mut cut = 0;
    for (k, (e, a)) in examples.iter().zip(&answers).enumerate() {
        let gold = e.answer_span().unwrap();
        let labelled = features
            .iter()
            .find(|f| f.example == k && f.has_answer())
            .unwrap();
        if labelled.end - labelled.start < limit {
            assert_eq!(a.byte_span, gold, "{:?}: answer {:?}", e.id, a.text);
            assert_eq!(a.text, e.answers[0].text, "{:?}", e.id);
        } else {
            cut += 1;
            // Too long to answer whole: a piece of it that keeps its first or its last token
            // (the two peaks), the other end where the noise is highest within the limit.
            let (start, end) = a.byte_span;
            assert!(
                gold.0 <= start
                    && end <= gold.1
                    && (start == gold.0 || end == gold.1)
                    && end - start < gold.1 - gold.0,
                "{:?}: answer {:?} at {:?}, gold {:?} (longer than {limit} tokens)",
                e.id,
                a.text,
                a.byte_span,
                gold
            );
        }
        let chars: Vec<char> = e.context.chars().collect();
        let text: String = chars[a.start..a.end].iter().collect();
        assert_eq!(text, a.text);
    }
    assert_eq!(cut, 2, "gold answers longer than {limit} tokens");
    assert!(scores.exact_match > 86.0 && scores.f1 > 96.0, "{scores:?}");
}
