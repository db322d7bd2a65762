//! The pre-training pipeline on real text with the real all-MiniLM-L6-v2 tokenizer
//! (`$BURNISH_ASSETS`, default `<workspace>/assets`): the VADER movie-review snippets
//! (`assets/vader-movies/train.tsv`) grouped into documents and written as a blank-line
//! separated corpus, then tokenized, packed, masked (token level and whole words), paired for
//! next-sentence prediction and batched.
//!
//! A missing asset fails the test: run `scripts/fetch-assets.sh`.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use burnish_data::{
    ColumnSpec, Corpus, CorpusOptions, DataError, Dataset, IS_NEXT, MaskedSequence, MaskingVocab,
    MlmMasker, MlmOptions, NOT_NEXT, NspOptions, NspPairs, PackOptions, Packer, PaddedBatch,
    PretrainSequence, ReadOptions, SpecialIds, TokenizedDocuments, TokenizedSentences, collate_clm,
    collate_mlm,
};
use burnish_tokenizer::{EncodeOptions, Tokenizer, TruncationStrategy};
use common::{asset, minilm_tokenizer};

/// A real corpus on disk, the documents it holds, and the tokenizer.
struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    documents: Vec<Vec<String>>,
    tokenizer: Tokenizer,
}

/// The 9,509 VADER training snippets in documents of 1 to 9 snippets (a fixed pattern),
/// written one snippet a line with a blank line between documents.
fn fixture() -> Fixture {
    let tokenizer = minilm_tokenizer();
    let tsv = asset("vader-movies/train.tsv");
    let dataset = Dataset::read(&tsv, &ReadOptions::new(ColumnSpec::new("sentence", None)))
        .expect("read the VADER snippets");
    let snippets: Vec<String> = dataset
        .records
        .into_iter()
        .map(|record| record.text.trim().to_owned())
        .collect();
    assert_eq!(snippets.len(), 9509);
    let mut documents = Vec::new();
    let mut rest = snippets.as_slice();
    let mut k = 0;
    while !rest.is_empty() {
        let size = (1 + (k * 7) % 9).min(rest.len());
        documents.push(rest[..size].to_vec());
        rest = &rest[size..];
        k += 1;
    }
    let text: Vec<String> = documents.iter().map(|d| d.join("\n")).collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vader.txt");
    std::fs::write(&path, text.join("\n\n") + "\n").unwrap();
    Fixture {
        _dir: dir,
        path,
        documents,
        tokenizer,
    }
}

impl Fixture {
    fn corpus(&self) -> Corpus {
        Corpus::new([&self.path], CorpusOptions::default()).unwrap()
    }

    fn specials(&self) -> SpecialIds {
        SpecialIds::from_tokenizer(&self.tokenizer).unwrap()
    }

    fn tokens(&self) -> TokenizedSentences<burnish_data::Sentences> {
        TokenizedSentences::new(self.tokenizer.clone(), self.corpus().sentences())
    }

    fn packed(&self, options: PackOptions) -> Vec<PretrainSequence> {
        Packer::new(self.tokens(), self.specials(), options)
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Each document's tokens, straight from the tokenizer (no special tokens).
    fn document_tokens(&self) -> Vec<Vec<u32>> {
        let bare = EncodeOptions {
            truncation: TruncationStrategy::DoNotTruncate,
            add_special_tokens: false,
            ..EncodeOptions::default()
        };
        self.documents
            .iter()
            .map(|document| {
                document
                    .iter()
                    .flat_map(|s| self.tokenizer.encode(s, &bare).unwrap().ids)
                    .collect()
            })
            .collect()
    }

    fn masker(&self, options: MlmOptions, seed: u64) -> MlmMasker {
        MlmMasker::from_tokenizer(&self.tokenizer, options, seed).unwrap()
    }
}

#[test]
fn tokenized_sentences_match_the_tokenizer_and_mark_word_starts() {
    let f = fixture();
    let sentences: Vec<_> = f.tokens().map(Result::unwrap).collect();
    let expected: Vec<&String> = f.documents.iter().flatten().collect();
    assert_eq!(sentences.len(), expected.len());
    let document_tokens = f.document_tokens();
    let mut continuations = 0;
    let mut by_document: Vec<Vec<u32>> = vec![Vec::new(); f.documents.len()];
    for sentence in &sentences {
        assert_eq!(sentence.ids.len(), sentence.word_starts.len());
        by_document[sentence.document as usize].extend(&sentence.ids);
        // For WordPiece, a token starts a word exactly when it is not a `##` continuation.
        for (&id, &start) in sentence.ids.iter().zip(&sentence.word_starts) {
            let token = f.tokenizer.id_to_token(id).unwrap();
            assert_eq!(
                start,
                !token.starts_with("##"),
                "{token} in line {}",
                sentence.line
            );
            continuations += usize::from(!start);
        }
    }
    assert_eq!(by_document, document_tokens);
    assert!(continuations > 5_000, "{continuations}");
}

/// Checks packed sequences against the documents' tokens: nothing lost, nothing repeated,
/// separators exactly at document boundaries (except at a sequence's start), full lengths.
fn check_packing(f: &Fixture, max_length: usize, cross_documents: bool) {
    let specials = f.specials();
    let sequences = f.packed(PackOptions {
        max_length,
        cross_documents,
    });
    let documents = f.document_tokens();
    let all: Vec<u32> = documents.concat();
    let boundaries: BTreeSet<usize> = documents
        .iter()
        .scan(0, |offset, d| {
            *offset += d.len();
            Some(*offset)
        })
        .filter(|&offset| offset < all.len())
        .collect();

    let mut content = Vec::with_capacity(all.len());
    let mut separators = Vec::new();
    let mut starts = BTreeSet::new();
    for (n, sequence) in sequences.iter().enumerate() {
        assert_eq!(sequence.index, n as u64);
        let len = sequence.len();
        if cross_documents && n + 1 < sequences.len() {
            assert_eq!(len, max_length, "sequence {n} of {}", sequences.len());
        }
        assert!(len <= max_length && len >= 3);
        assert_eq!(sequence.ids[0], specials.cls);
        assert_eq!(sequence.ids[len - 1], specials.sep);
        assert_eq!(sequence.word_ids[0], None);
        assert_eq!(sequence.word_ids[len - 1], None);
        assert!(sequence.type_ids.iter().all(|&t| t == 0));
        assert_eq!(sequence.next_sentence_label, None);
        starts.insert(content.len());
        for i in 1..len - 1 {
            if sequence.word_ids[i].is_none() {
                assert_eq!(sequence.ids[i], specials.sep);
                separators.push(content.len());
            } else {
                content.push(sequence.ids[i]);
            }
        }
        // Word ids number words 0, 1, 2, ... in order.
        let words: Vec<u32> = sequence.word_ids.iter().flatten().copied().collect();
        assert!(words.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1));
        assert_eq!(words.first(), Some(&0));
    }
    assert_eq!(content.len(), all.len());
    assert!(content == all, "the packed tokens differ from the corpus's");
    if cross_documents {
        // A separator at every document boundary, except one that falls at a sequence's start.
        let written: BTreeSet<usize> = separators.iter().copied().collect();
        assert_eq!(written.len(), separators.len(), "a separator twice");
        assert!(written.is_subset(&boundaries));
        for boundary in boundaries.difference(&written) {
            assert!(starts.contains(boundary), "no separator at {boundary}");
        }
        // Only the last sequence is short: the padding a batch needs is at most one row's.
        let real: usize = sequences.iter().map(PretrainSequence::len).sum();
        assert!(sequences.len() * max_length - real < max_length);
    } else {
        assert!(separators.is_empty());
        // Every boundary starts a sequence, and sequences only end early at boundaries.
        assert!(boundaries.is_subset(&starts));
        assert_eq!(sequences.len(), {
            let mut n = 0;
            for d in &documents {
                n += d.len().div_ceil(max_length - 2);
            }
            n
        });
    }
}

#[test]
fn packing_fills_every_sequence_and_loses_or_repeats_no_token() {
    let f = fixture();
    check_packing(&f, 128, true);
    check_packing(&f, 37, true);
    check_packing(&f, 128, false);
}

/// Masking statistics over many sequences.
#[derive(Debug, Default)]
struct Stats {
    candidates: usize,
    chosen: usize,
    masked: usize,
    random: usize,
    unchanged: usize,
    random_ids: BTreeSet<u32>,
}

/// Masks every sequence and checks the invariants that hold for each; returns the counts.
fn mask_all(
    masker: &MlmMasker,
    sequences: &[PretrainSequence],
    epoch: u64,
) -> (Stats, Vec<MaskedSequence>) {
    let vocab = masker.vocab();
    let mut stats = Stats::default();
    let mut all = Vec::with_capacity(sequences.len());
    for sequence in sequences {
        let masked = masker.mask(sequence, epoch);
        assert_eq!(masked.input_ids.len(), sequence.len());
        assert_eq!(masked.labels.len(), sequence.len());
        assert!(masked.masked_positions.windows(2).all(|w| w[0] < w[1]));
        assert!(
            !masked.masked_positions.is_empty(),
            "at least one per sequence"
        );
        let candidates = sequence.word_ids.iter().filter(|w| w.is_some()).count();
        stats.candidates += candidates;
        stats.chosen += masked.masked_positions.len();
        for i in 0..sequence.len() {
            let chosen = masked.masked_positions.binary_search(&i).is_ok();
            if sequence.word_ids[i].is_none() {
                assert!(!chosen, "a special token was chosen");
            }
            if !chosen {
                assert_eq!(masked.labels[i], -100);
                assert_eq!(masked.input_ids[i], sequence.ids[i]);
                continue;
            }
            assert_eq!(masked.labels[i], i64::from(sequence.ids[i]));
            let seen = masked.input_ids[i];
            if seen == vocab.mask_id() {
                stats.masked += 1;
            } else if seen == sequence.ids[i] {
                stats.unchanged += 1;
            } else {
                assert!(!vocab.excluded().contains(&seen), "random special {seen}");
                assert!(seen < vocab.vocab_size());
                stats.random += 1;
                stats.random_ids.insert(seen);
            }
        }
        all.push(masked);
    }
    (stats, all)
}

#[test]
fn token_masking_chooses_15_percent_with_80_10_10() {
    let f = fixture();
    let sequences = f.packed(PackOptions::default());
    assert!(sequences.len() > 1000, "{}", sequences.len());
    let masker = f.masker(MlmOptions::default(), 42);
    let (stats, _) = mask_all(&masker, &sequences, 0);
    let rate = stats.chosen as f64 / stats.candidates as f64;
    let chosen = stats.chosen as f64;
    let (mask, random, unchanged) = (
        stats.masked as f64 / chosen,
        stats.random as f64 / chosen,
        stats.unchanged as f64 / chosen,
    );
    eprintln!(
        "token-level MLM over {} sequences of 128: {} of {} candidate tokens chosen ({:.4}); \
         [MASK] {mask:.4}, random {random:.4} ({} distinct ids), unchanged {unchanged:.4}",
        sequences.len(),
        stats.chosen,
        stats.candidates,
        rate,
        stats.random_ids.len()
    );
    // The count is fixed per sequence: round(126 * 0.15) = 19 of 126, 15.08%.
    assert!((0.148..0.153).contains(&rate), "rate {rate}");
    // Binomial proportions over ~35,000 chosen tokens: sd 0.002 (80%), 0.0016 (10%).
    assert!((mask - 0.8).abs() < 0.012, "[MASK] {mask}");
    assert!((random - 0.1).abs() < 0.01, "random {random}");
    assert!((unchanged - 0.1).abs() < 0.01, "unchanged {unchanged}");
    // Random tokens are spread over the vocabulary, not a few ids.
    assert!(stats.random_ids.len() * 10 > stats.random * 8);
}

#[test]
fn whole_word_masking_masks_complete_words() {
    let f = fixture();
    let sequences = f.packed(PackOptions::default());
    let options = MlmOptions {
        whole_word: true,
        ..MlmOptions::default()
    };
    let (stats, masked) = mask_all(&f.masker(options, 42), &sequences, 0);
    let (_, token_level) = mask_all(&f.masker(MlmOptions::default(), 42), &sequences, 0);
    let mut multi_piece_words = 0;
    let mut partial_words_token_level = 0;
    for ((sequence, whole), tokens) in sequences.iter().zip(&masked).zip(&token_level) {
        let mut pieces: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, word) in sequence.word_ids.iter().enumerate() {
            if let Some(word) = word {
                pieces.entry(*word).or_default().push(i);
            }
        }
        let chosen: BTreeSet<usize> = whole.masked_positions.iter().copied().collect();
        let chosen_words: BTreeSet<u32> = chosen
            .iter()
            .map(|&i| sequence.word_ids[i].unwrap())
            .collect();
        for word in &chosen_words {
            let positions = &pieces[word];
            assert!(
                positions.iter().all(|p| chosen.contains(p)),
                "word {word} of sequence {} only partly chosen",
                sequence.index
            );
            multi_piece_words += usize::from(positions.len() > 1);
        }
        // The words are what the chosen positions make up, nothing else.
        let covered: usize = chosen_words.iter().map(|w| pieces[w].len()).sum();
        assert_eq!(covered, chosen.len());
        let token_chosen: BTreeSet<usize> = tokens.masked_positions.iter().copied().collect();
        for positions in pieces.values() {
            let n = positions
                .iter()
                .filter(|p| token_chosen.contains(p))
                .count();
            partial_words_token_level += usize::from(n > 0 && n < positions.len());
        }
    }
    let rate = stats.chosen as f64 / stats.candidates as f64;
    eprintln!(
        "whole-word MLM: {} of {} tokens chosen ({rate:.4}), {multi_piece_words} multi-piece \
         words masked whole; token-level masking cut {partial_words_token_level} words",
        stats.chosen, stats.candidates
    );
    assert!((0.14..0.153).contains(&rate), "rate {rate}");
    assert!(multi_piece_words > 500, "{multi_piece_words}");
    assert!(
        partial_words_token_level > 500,
        "{partial_words_token_level}"
    );
    let mask = stats.masked as f64 / stats.chosen as f64;
    assert!((mask - 0.8).abs() < 0.012, "[MASK] {mask}");
}

#[test]
fn masks_are_reproducible_per_seed_and_epoch_and_fresh_each_epoch() {
    let f = fixture();
    let sequences = f.packed(PackOptions::default());
    let masker = f.masker(MlmOptions::default(), 7);
    let again = f.masker(MlmOptions::default(), 7);
    let other_seed = f.masker(MlmOptions::default(), 8);
    let mut changed_by_epoch = 0;
    let mut changed_by_seed = 0;
    for sequence in &sequences {
        let first = masker.mask(sequence, 3);
        assert_eq!(first, again.mask(sequence, 3));
        assert_eq!(first, masker.mask(sequence, 3));
        changed_by_epoch +=
            usize::from(first.masked_positions != masker.mask(sequence, 4).masked_positions);
        changed_by_seed +=
            usize::from(first.masked_positions != other_seed.mask(sequence, 3).masked_positions);
    }
    // 19 of 126 positions: two independent draws agree with probability ~1e-22.
    assert_eq!(changed_by_epoch, sequences.len());
    assert_eq!(changed_by_seed, sequences.len());

    // Resuming: a new stream, skipped to sequence 500, masks it as the first stream did.
    let resumed: Vec<PretrainSequence> =
        Packer::new(f.tokens(), f.specials(), PackOptions::default())
            .unwrap()
            .skip(500)
            .take(3)
            .map(Result::unwrap)
            .collect();
    for sequence in &resumed {
        let original = &sequences[sequence.index as usize];
        assert_eq!(sequence, original);
        assert_eq!(masker.mask(sequence, 3), masker.mask(original, 3));
    }
}

/// Where token strings occur in the documents, to tell which documents a segment comes from.
struct DocumentIndex<'a> {
    documents: &'a [Vec<u32>],
    trigrams: HashMap<[u32; 3], Vec<usize>>,
}

impl<'a> DocumentIndex<'a> {
    fn new(documents: &'a [Vec<u32>]) -> Self {
        let mut trigrams: HashMap<[u32; 3], Vec<usize>> = HashMap::new();
        for (d, tokens) in documents.iter().enumerate() {
            for w in tokens.windows(3) {
                let list = trigrams.entry([w[0], w[1], w[2]]).or_default();
                if list.last() != Some(&d) {
                    list.push(d);
                }
            }
        }
        Self {
            documents,
            trigrams,
        }
    }

    /// Every (document, position) where `segment` (at least 3 tokens) occurs.
    fn find(&self, segment: &[u32]) -> Vec<(usize, usize)> {
        let key = [segment[0], segment[1], segment[2]];
        let mut found = Vec::new();
        for &d in self.trigrams.get(&key).into_iter().flatten() {
            let tokens = &self.documents[d];
            for p in 0..=tokens.len().saturating_sub(segment.len()) {
                if tokens[p..].starts_with(segment) {
                    found.push((d, p));
                }
            }
        }
        found
    }
}

#[test]
fn nsp_pairs_are_half_next_and_half_from_another_document() {
    let f = fixture();
    let documents = f.document_tokens();
    let index = DocumentIndex::new(&documents);
    let options = NspOptions {
        max_length: 64,
        pool_documents: 64,
        ..NspOptions::default()
    };
    let pairs = |seed, epoch| -> Vec<PretrainSequence> {
        let documents = TokenizedDocuments::new(f.tokens());
        NspPairs::new(documents, f.specials(), options, seed, epoch)
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let specials = f.specials();
    let all = pairs(11, 0);
    let (mut next, mut checked, mut short, mut short_targets) = (0, 0, 0, 0);
    for (n, pair) in all.iter().enumerate() {
        assert_eq!(pair.index, n as u64);
        assert!(pair.len() <= 64);
        short_targets += usize::from(pair.len() < 40);
        let seps: Vec<usize> = (0..pair.len())
            .filter(|&i| pair.word_ids[i].is_none())
            .collect();
        assert_eq!(seps.len(), 3, "[CLS], [SEP], [SEP]");
        assert_eq!(pair.ids[0], specials.cls);
        assert_eq!(
            (pair.ids[seps[1]], pair.ids[seps[2]]),
            (specials.sep, specials.sep)
        );
        assert_eq!(seps[2], pair.len() - 1);
        let (a, b) = (&pair.ids[1..seps[1]], &pair.ids[seps[1] + 1..seps[2]]);
        assert!(!a.is_empty() && !b.is_empty());
        let types: Vec<u32> = (0..pair.len()).map(|i| u32::from(i > seps[1])).collect();
        assert_eq!(pair.type_ids, types);
        let label = pair.next_sentence_label.expect("an NSP label");
        next += usize::from(label == IS_NEXT);
        if a.len() < 3 || b.len() < 3 {
            short += 1;
            continue;
        }
        checked += 1;
        let (found_a, found_b) = (index.find(a), index.find(b));
        assert!(
            !found_a.is_empty() && !found_b.is_empty(),
            "pair {n}: a segment not in the corpus"
        );
        if label == IS_NEXT {
            // B follows A in the same document.
            assert!(
                found_a.iter().any(|&(da, pa)| found_b
                    .iter()
                    .any(|&(db, pb)| db == da && pb >= pa + a.len())),
                "pair {n}: IsNext but B does not follow A"
            );
        } else {
            assert_eq!(label, NOT_NEXT);
            let a_documents: BTreeSet<usize> = found_a.iter().map(|&(d, _)| d).collect();
            assert!(
                found_b.iter().any(|(d, _)| !a_documents.contains(d)),
                "pair {n}: NotNext but B is from A's document"
            );
        }
    }
    let fraction = next as f64 / all.len() as f64;
    eprintln!(
        "NSP: {} pairs, {fraction:.4} IsNext, {checked} checked against the corpus ({short} \
         with a segment under 3 tokens), {short_targets} under 40 tokens",
        all.len()
    );
    assert!(all.len() > 3000, "{}", all.len());
    assert!((fraction - 0.5).abs() < 0.03, "IsNext fraction {fraction}");
    assert!(short * 10 < all.len(), "{short}");
    // Same seed and epoch, same pairs; another epoch, other pairs.
    assert_eq!(pairs(11, 0), all);
    let other = pairs(11, 1);
    let same = other.iter().zip(&all).filter(|(x, y)| x == y).count();
    assert!(
        same * 10 < all.len(),
        "{same} pairs unchanged across epochs"
    );
}

#[test]
fn batches_pad_and_flatten_masked_positions() {
    let f = fixture();
    let specials = f.specials();
    let documents = TokenizedDocuments::new(f.tokens());
    let options = NspOptions {
        max_length: 64,
        ..NspOptions::default()
    };
    let pairs: Vec<PretrainSequence> = NspPairs::new(documents, specials, options, 3, 0)
        .unwrap()
        .take(16)
        .map(Result::unwrap)
        .collect();
    let masker = f.masker(MlmOptions::default(), 3);
    let masked: Vec<MaskedSequence> = pairs.iter().map(|p| masker.mask(p, 0)).collect();
    let batch = collate_mlm(&masked, specials.pad);
    let seq_len = pairs.iter().map(PretrainSequence::len).max().unwrap();
    assert_eq!((batch.len(), batch.seq_len()), (16, seq_len));
    assert!(
        pairs.iter().any(|p| p.len() < seq_len),
        "some padding to test"
    );
    assert_eq!(
        batch.next_sentence_labels,
        Some(
            pairs
                .iter()
                .map(|p| p.next_sentence_label.unwrap())
                .collect()
        )
    );
    let mut expected_positions = Vec::new();
    for (row, (pair, m)) in pairs.iter().zip(&masked).enumerate() {
        let len = pair.len();
        assert_eq!(&batch.input_ids[row][..len], m.input_ids.as_slice());
        assert!(
            batch.input_ids[row][len..]
                .iter()
                .all(|&id| id == specials.pad)
        );
        assert_eq!(&batch.token_type_ids[row][..len], pair.type_ids.as_slice());
        assert!(batch.token_type_ids[row][len..].iter().all(|&t| t == 0));
        assert_eq!(batch.attention_mask[row].iter().sum::<u32>() as usize, len);
        assert!(batch.labels[row][len..].iter().all(|&l| l == -100));
        expected_positions.extend(m.masked_positions.iter().map(|&p| row * seq_len + p));
    }
    assert_eq!(batch.masked_positions, expected_positions);
    for (&flat, &label) in batch.masked_positions.iter().zip(&batch.masked_labels) {
        let (row, column) = (flat / seq_len, flat % seq_len);
        assert_eq!(batch.labels[row][column], i64::from(label));
        assert_eq!(pairs[row].ids[column], label);
    }
    let labelled = batch
        .labels
        .iter()
        .flatten()
        .filter(|&&l| l != -100)
        .count();
    assert_eq!(labelled, batch.masked_positions.len());
    assert_eq!(
        batch.real_tokens,
        pairs.iter().map(PretrainSequence::len).sum::<usize>()
    );
    assert_eq!(batch.padded_tokens, 16 * seq_len);

    // Causal LM: packed sequences, labels are the inputs, -100 on padding.
    let packed = f.packed(PackOptions::default());
    let tail = &packed[packed.len() - 3..];
    let batch = collate_clm(tail, specials.pad);
    assert_eq!(batch.seq_len(), 128);
    for (row, sequence) in tail.iter().enumerate() {
        for column in 0..128 {
            let expected = sequence.ids.get(column).map_or(-100, |&id| i64::from(id));
            assert_eq!(batch.labels[row][column], expected);
        }
    }
    assert!(batch.masked_positions.is_empty());
    assert_eq!(batch.next_sentence_labels, None);
}

#[test]
fn corpus_errors_reach_the_end_of_the_pipeline_with_file_and_line() {
    let f = fixture();
    let mut bytes = std::fs::read(&f.path).unwrap();
    let good_lines = bytes.iter().filter(|&&b| b == b'\n').count();
    bytes.extend_from_slice(b"caf\xe9 au lait\n");
    let path = f.path.with_file_name("broken.txt");
    std::fs::write(&path, bytes).unwrap();
    let corpus = Corpus::new([&path], CorpusOptions::default()).unwrap();
    let tokens = TokenizedSentences::new(f.tokenizer.clone(), corpus.sentences());
    let results: Vec<_> = Packer::new(tokens, f.specials(), PackOptions::default())
        .unwrap()
        .collect();
    let (last, good) = results.split_last().unwrap();
    assert!(good.len() > 1000 && good.iter().all(Result::is_ok));
    let error = last.as_ref().unwrap_err();
    assert!(matches!(error, DataError::BadRow(_)));
    let message = error.to_string();
    let expected = format!("{}:{}: invalid UTF-8", path.display(), good_lines + 1);
    assert!(message.starts_with(&expected), "{message}");

    // NSP needs a second document.
    let single = f.path.with_file_name("single.txt");
    std::fs::write(&single, "one document\nof two sentences\n").unwrap();
    let corpus = Corpus::new([&single], CorpusOptions::default()).unwrap();
    let documents = TokenizedDocuments::new(TokenizedSentences::new(
        f.tokenizer.clone(),
        corpus.sentences(),
    ));
    let mut pairs = NspPairs::new(documents, f.specials(), NspOptions::default(), 0, 0).unwrap();
    assert!(matches!(
        pairs.next(),
        Some(Err(DataError::TooFewDocuments { found: 1, .. }))
    ));
    assert!(pairs.next().is_none());

    // The special tokens come from the tokenizer.
    let vocab = MaskingVocab::from_tokenizer(&f.tokenizer).unwrap();
    assert_eq!(Some(vocab.mask_id()), f.tokenizer.mask_id());
    assert_eq!(vocab.vocab_size() as usize, f.tokenizer.vocab_size());
    for id in specials_of(&f.tokenizer) {
        assert!(vocab.excluded().contains(&id));
    }
}

/// The ids of the tokenizer's `[UNK]`, `[CLS]`, `[SEP]`, `[PAD]` and `[MASK]`.
fn specials_of(tokenizer: &Tokenizer) -> Vec<u32> {
    [
        tokenizer.unk_id(),
        tokenizer.cls_id(),
        tokenizer.sep_id(),
        tokenizer.pad_id(),
        tokenizer.mask_id(),
    ]
    .into_iter()
    .map(Option::unwrap)
    .collect()
}
