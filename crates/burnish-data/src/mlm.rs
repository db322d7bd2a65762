//! Masked language modelling: which tokens of a sequence to hide, and what the model sees in
//! their place ([`MlmMasker`]).

use burnish_tokenizer::Tokenizer;

use crate::error::{DataError, Result};
use crate::pretrain::{PretrainBatch, PretrainSequence, item_rng, padded};
use crate::rng::Rng;
use crate::token_features::IGNORE_INDEX;

/// The [`item_rng`] purpose of masking.
const MASKING: u64 = 1;

/// What masking replaces tokens with: the `[MASK]` id, and the vocabulary random tokens are
/// drawn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskingVocab {
    mask_id: u32,
    vocab_size: u32,
    /// Ids random replacement never draws, sorted and distinct.
    excluded: Vec<u32>,
}

impl MaskingVocab {
    /// Random tokens from `0..vocab_size` without the `excluded` ids.
    ///
    /// # Errors
    /// [`DataError::InvalidOptions`] if `mask_id` is not below `vocab_size` or no id is left
    /// to draw.
    pub fn new(
        mask_id: u32,
        vocab_size: u32,
        excluded: impl IntoIterator<Item = u32>,
    ) -> Result<Self> {
        if mask_id >= vocab_size {
            return Err(DataError::options(format!(
                "the [MASK] id {mask_id} is not in the vocabulary of {vocab_size} tokens"
            )));
        }
        let mut excluded: Vec<u32> = excluded.into_iter().filter(|&id| id < vocab_size).collect();
        excluded.sort_unstable();
        excluded.dedup();
        if excluded.len() >= vocab_size as usize {
            return Err(DataError::options(
                "every token of the vocabulary is excluded from random replacement",
            ));
        }
        Ok(Self {
            mask_id,
            vocab_size,
            excluded,
        })
    }

    /// The tokenizer's `[MASK]` and vocabulary (added tokens included), without its special
    /// tokens: `[UNK]`, `[CLS]`, `[SEP]`, `[PAD]`, `[MASK]` and any added token marked special.
    ///
    /// # Errors
    /// [`DataError::MissingSpecialToken`] if the vocabulary has no mask token.
    pub fn from_tokenizer(tokenizer: &Tokenizer) -> Result<Self> {
        let special = tokenizer.special_tokens();
        let mask_id = tokenizer
            .mask_id()
            .ok_or_else(|| DataError::MissingSpecialToken {
                token: special.mask.clone(),
                purpose: "masked language modelling".to_owned(),
            })?;
        let vocab_size = u32::try_from(tokenizer.vocab_size())
            .map_err(|_| DataError::options("the vocabulary has more than 2^32 tokens"))?;
        let mut excluded: Vec<u32> = [
            tokenizer.unk_id(),
            tokenizer.cls_id(),
            tokenizer.sep_id(),
            tokenizer.pad_id(),
            Some(mask_id),
        ]
        .into_iter()
        .flatten()
        .collect();
        excluded.extend(
            tokenizer
                .hf()
                .get_added_tokens_decoder()
                .into_iter()
                .filter(|(_, token)| token.special)
                .map(|(id, _)| id),
        );
        Self::new(mask_id, vocab_size, excluded)
    }

    /// The `[MASK]` id.
    pub fn mask_id(&self) -> u32 {
        self.mask_id
    }

    /// The number of ids (random tokens are below it).
    pub fn vocab_size(&self) -> u32 {
        self.vocab_size
    }

    /// The ids random replacement never draws, sorted.
    pub fn excluded(&self) -> &[u32] {
        &self.excluded
    }

    /// A random token: uniform over the vocabulary without the excluded ids.
    pub fn random_token(&self, rng: &mut Rng) -> u32 {
        loop {
            // Below vocab_size, a u32.
            let id = rng.gen_below(u64::from(self.vocab_size)) as u32;
            if self.excluded.binary_search(&id).is_err() {
                return id;
            }
        }
    }
}

/// How tokens are masked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MlmOptions {
    /// The fraction of the candidate (non-special) tokens to choose.
    pub mlm_probability: f64,
    /// The probability that a chosen token becomes `[MASK]`.
    pub mask_replace_prob: f64,
    /// The probability that a chosen token becomes a random token (the rest stay unchanged).
    pub random_replace_prob: f64,
    /// Choose whole words and mask all their pieces.
    pub whole_word: bool,
    /// The most tokens to choose per sequence (Google's `max_predictions_per_seq`, 20 for 128
    /// tokens); `None` for no limit.
    pub max_predictions: Option<usize>,
}

impl Default for MlmOptions {
    /// BERT's 15% with 80/10/10, token level, no limit.
    fn default() -> Self {
        Self {
            mlm_probability: 0.15,
            mask_replace_prob: 0.8,
            random_replace_prob: 0.1,
            whole_word: false,
            max_predictions: None,
        }
    }
}

/// A sequence after masking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedSequence {
    /// The ids the model sees (`[MASK]`, random or unchanged at the chosen positions).
    pub input_ids: Vec<u32>,
    /// Segment ids (as the sequence's).
    pub token_type_ids: Vec<u32>,
    /// The original id at the chosen positions, [`IGNORE_INDEX`] (-100) elsewhere.
    pub labels: Vec<i64>,
    /// The chosen positions, increasing.
    pub masked_positions: Vec<usize>,
    /// The sequence's NSP label, for sentence pairs.
    pub next_sentence_label: Option<u32>,
}

/// Masks pre-training sequences for masked language modelling.
///
/// BERT's recipe (Devlin et al. 2019, section 3.1), with `transformers`' options:
/// - Of the tokens that are not special tokens, `mlm_probability` (15%) are chosen. The count
///   is fixed per sequence, `max(1, round(n * mlm_probability))` of the `n` candidates (at most
///   [`MlmOptions::max_predictions`]), as Google's `create_pretraining_data.py` and
///   `transformers`' whole-word collator compute it, except that they count the special tokens
///   in `n` too; `transformers`' token-level collator instead draws each token independently
///   with probability 15%, which has the same mean. At least one token is chosen whenever the
///   sequence has a candidate.
/// - Each chosen token becomes `[MASK]` with probability 80% (`mask_replace_prob`), a random
///   token with probability 10% (`random_replace_prob`), and stays unchanged otherwise.
///   Random tokens are drawn uniformly from the vocabulary **without its special tokens**
///   ([`MaskingVocab`]); `transformers` (and Google's script) draw from the whole vocabulary,
///   so a `[CLS]`, `[SEP]`, `[PAD]` or `[MASK]` can appear in the text there. With ~30,000
///   tokens and five special ones the difference is a 0.02% change of the distribution, and
///   never showing the model a fake `[SEP]` or a `[MASK]` that is not a mask is cleaner.
/// - Labels are the original ids at the chosen positions and `-100` elsewhere (the loss
///   ignores them); the chosen positions are also returned as a list, so the model can run
///   its vocabulary projection only there.
/// - **Whole-word masking** (`transformers`' `DataCollatorForWholeWordMask`, Google's
///   `do_whole_word_mask`): words are chosen instead of tokens, in random order, and all
///   their pieces are masked; a word that would take the count past the target is skipped.
///   The 80/10/10 decision is still made per token, as in both implementations. If every word
///   is longer than the target, the first word in the random order is masked anyway.
///
/// Masks are a pure function of `(seed, epoch, sequence index)`: fresh in every epoch, yet the
/// same when a run is repeated or resumed, whatever the order batches are formed in.
#[derive(Debug, Clone, PartialEq)]
pub struct MlmMasker {
    options: MlmOptions,
    vocab: MaskingVocab,
    seed: u64,
}

impl MlmMasker {
    /// A masker with these options, replacement vocabulary and seed.
    ///
    /// # Errors
    /// [`DataError::InvalidOptions`] if a probability is not in `[0, 1]`, the two replacement
    /// probabilities add up to more than 1, or `max_predictions` is 0.
    pub fn new(options: MlmOptions, vocab: MaskingVocab, seed: u64) -> Result<Self> {
        for (name, p) in [
            ("mlm_probability", options.mlm_probability),
            ("mask_replace_prob", options.mask_replace_prob),
            ("random_replace_prob", options.random_replace_prob),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(DataError::options(format!("{name} {p} is not in [0, 1]")));
            }
        }
        if options.mask_replace_prob + options.random_replace_prob > 1.0 + 1e-12 {
            return Err(DataError::options(format!(
                "mask_replace_prob {} + random_replace_prob {} is more than 1",
                options.mask_replace_prob, options.random_replace_prob
            )));
        }
        if options.max_predictions == Some(0) {
            return Err(DataError::options("max_predictions is 0"));
        }
        Ok(Self {
            options,
            vocab,
            seed,
        })
    }

    /// A masker with the tokenizer's `[MASK]` and vocabulary ([`MaskingVocab::from_tokenizer`]).
    ///
    /// # Errors
    /// As [`MaskingVocab::from_tokenizer`] and [`MlmMasker::new`].
    pub fn from_tokenizer(tokenizer: &Tokenizer, options: MlmOptions, seed: u64) -> Result<Self> {
        Self::new(options, MaskingVocab::from_tokenizer(tokenizer)?, seed)
    }

    /// The options.
    pub fn options(&self) -> &MlmOptions {
        &self.options
    }

    /// The replacement vocabulary.
    pub fn vocab(&self) -> &MaskingVocab {
        &self.vocab
    }

    /// How many tokens are chosen among `candidates` non-special tokens:
    /// `max(1, round(candidates * mlm_probability))`, at most `max_predictions` and
    /// `candidates` (0 when there is none or `mlm_probability` is 0).
    pub fn num_to_mask(&self, candidates: usize) -> usize {
        if candidates == 0 || self.options.mlm_probability <= 0.0 {
            return 0;
        }
        // At most `candidates`, so the conversion back is exact.
        let target = (candidates as f64 * self.options.mlm_probability).round() as usize;
        let target = target.clamp(1, candidates);
        self.options
            .max_predictions
            .map_or(target, |limit| target.min(limit))
    }

    /// Masks `sequence` for epoch `epoch`: a pure function of the masker's seed, `epoch`,
    /// [`PretrainSequence::index`] and the sequence's tokens.
    ///
    /// Only tokens with a word id are candidates, so the `[CLS]`/`[SEP]` this crate inserts
    /// are never chosen.
    ///
    /// # Panics
    /// If the sequence's `word_ids` is shorter than its `ids` (sequences from [`Packer`] and
    /// [`NspPairs`] never are).
    ///
    /// [`Packer`]: crate::Packer
    /// [`NspPairs`]: crate::NspPairs
    pub fn mask(&self, sequence: &PretrainSequence, epoch: u64) -> MaskedSequence {
        let mut rng = item_rng(self.seed, MASKING, epoch, sequence.index);
        let candidates: Vec<usize> = (0..sequence.len())
            .filter(|&i| sequence.word_ids[i].is_some())
            .collect();
        let target = self.num_to_mask(candidates.len());
        let mut chosen = if self.options.whole_word {
            choose_words(&candidates, &sequence.word_ids, target, &mut rng)
        } else {
            choose_tokens(candidates, target, &mut rng)
        };
        chosen.sort_unstable();

        let mut input_ids = sequence.ids.clone();
        let mut labels = vec![IGNORE_INDEX; sequence.len()];
        let mask_below = self.options.mask_replace_prob;
        let random_below = mask_below + self.options.random_replace_prob;
        for &position in &chosen {
            labels[position] = i64::from(sequence.ids[position]);
            let draw = rng.gen_f64();
            if draw < mask_below {
                input_ids[position] = self.vocab.mask_id;
            } else if draw < random_below {
                input_ids[position] = self.vocab.random_token(&mut rng);
            }
        }
        MaskedSequence {
            input_ids,
            token_type_ids: sequence.type_ids.clone(),
            labels,
            masked_positions: chosen,
            next_sentence_label: sequence.next_sentence_label,
        }
    }
}

/// `target` of the candidate positions, uniformly at random (a partial Fisher-Yates shuffle).
fn choose_tokens(mut candidates: Vec<usize>, target: usize, rng: &mut Rng) -> Vec<usize> {
    let n = candidates.len();
    for i in 0..target.min(n) {
        let j = i + rng.gen_index(n - i);
        candidates.swap(i, j);
    }
    candidates.truncate(target);
    candidates
}

/// Whole words of the candidates, in random order, skipping any word that would take the
/// count past `target`; the first word in that order if none fits.
fn choose_words(
    candidates: &[usize],
    word_ids: &[Option<u32>],
    target: usize,
    rng: &mut Rng,
) -> Vec<usize> {
    if target == 0 {
        return Vec::new();
    }
    // Words as runs of consecutive candidate positions with the same word id.
    let mut words: Vec<&[usize]> = Vec::new();
    let mut start = 0;
    for i in 1..=candidates.len() {
        let ends = i == candidates.len()
            || candidates[i] != candidates[i - 1] + 1
            || word_ids[candidates[i]] != word_ids[candidates[i - 1]];
        if ends {
            words.push(&candidates[start..i]);
            start = i;
        }
    }
    rng.shuffle(&mut words);
    let mut chosen = Vec::with_capacity(target);
    for word in &words {
        if chosen.len() >= target {
            break;
        }
        if chosen.len() + word.len() > target {
            continue;
        }
        chosen.extend_from_slice(word);
    }
    if chosen.is_empty()
        && let Some(first) = words.first()
    {
        chosen.extend_from_slice(first);
    }
    chosen
}

/// Pads masked sequences (from [`MlmMasker::mask`](crate::MlmMasker::mask)) to the longest of
/// them, and flattens their masked positions.
///
/// # Panics
/// If some sequences are sentence pairs (with an NSP label) and others not.
pub fn collate_mlm(sequences: &[MaskedSequence], pad_id: u32) -> PretrainBatch {
    let seq_len = sequences
        .iter()
        .map(|s| s.input_ids.len())
        .max()
        .unwrap_or(0);
    let nsp = sequences.iter().map(|s| s.next_sentence_label);
    let mut batch = PretrainBatch::with_rows(sequences.len(), seq_len, nsp);
    for (row, sequence) in sequences.iter().enumerate() {
        batch.push_inputs(
            &sequence.input_ids,
            &sequence.token_type_ids,
            seq_len,
            pad_id,
        );
        batch
            .labels
            .push(padded(&sequence.labels, seq_len, IGNORE_INDEX));
        for &position in &sequence.masked_positions {
            batch.masked_positions.push(row * seq_len + position);
            // Labels at masked positions are original token ids, so they fit a u32.
            batch
                .masked_labels
                .push(u32::try_from(sequence.labels[position]).unwrap_or(0));
        }
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequence(word_ids: &[Option<u32>], index: u64) -> PretrainSequence {
        PretrainSequence {
            ids: (0..word_ids.len() as u32).map(|i| 1000 + i).collect(),
            type_ids: vec![0; word_ids.len()],
            word_ids: word_ids.to_vec(),
            next_sentence_label: None,
            index,
        }
    }

    fn masker(options: MlmOptions) -> MlmMasker {
        let vocab = MaskingVocab::new(103, 30_522, [0, 100, 101, 102, 103]).unwrap();
        MlmMasker::new(options, vocab, 42).unwrap()
    }

    #[test]
    fn counts_follow_the_probability_with_at_least_one() {
        let m = masker(MlmOptions::default());
        assert_eq!(m.num_to_mask(0), 0);
        assert_eq!(m.num_to_mask(1), 1);
        assert_eq!(m.num_to_mask(3), 1);
        assert_eq!(m.num_to_mask(126), 19);
        let limited = masker(MlmOptions {
            max_predictions: Some(5),
            ..MlmOptions::default()
        });
        assert_eq!(limited.num_to_mask(126), 5);
        let none = masker(MlmOptions {
            mlm_probability: 0.0,
            ..MlmOptions::default()
        });
        assert_eq!(none.num_to_mask(126), 0);
    }

    #[test]
    fn a_single_long_word_is_masked_whole_even_past_the_target() {
        let m = masker(MlmOptions {
            whole_word: true,
            ..MlmOptions::default()
        });
        let s = sequence(&[None, Some(0), Some(0), Some(0), None], 0);
        let masked = m.mask(&s, 0);
        assert_eq!(masked.masked_positions, vec![1, 2, 3]);
        assert_eq!(masked.labels, vec![-100, 1001, 1002, 1003, -100]);
    }

    #[test]
    fn bad_options_are_errors() {
        let vocab = MaskingVocab::new(103, 30_522, []).unwrap();
        let bad = |options| MlmMasker::new(options, vocab.clone(), 0).is_err();
        assert!(bad(MlmOptions {
            mlm_probability: 1.5,
            ..MlmOptions::default()
        }));
        assert!(bad(MlmOptions {
            mask_replace_prob: 0.95,
            ..MlmOptions::default()
        }));
        assert!(bad(MlmOptions {
            max_predictions: Some(0),
            ..MlmOptions::default()
        }));
        assert!(MaskingVocab::new(5, 5, []).is_err());
        assert!(MaskingVocab::new(0, 2, [0, 1]).is_err());
    }

    #[test]
    fn random_tokens_avoid_the_excluded_ids() {
        let vocab = MaskingVocab::new(3, 6, [0, 1, 3, 3, 99]).unwrap();
        assert_eq!(vocab.excluded(), &[0, 1, 3]);
        let mut rng = Rng::new(1);
        let mut seen = [0usize; 6];
        for _ in 0..3000 {
            seen[vocab.random_token(&mut rng) as usize] += 1;
        }
        assert_eq!((seen[0], seen[1], seen[3]), (0, 0, 0));
        assert!(seen[2] > 900 && seen[4] > 900 && seen[5] > 900, "{seen:?}");
    }
}
