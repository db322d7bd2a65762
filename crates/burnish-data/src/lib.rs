//! Data for burnish: from labelled text files to padded batches.
//!
//! 1. Read a CSV, TSV, JSON Lines, Parquet or Arrow file into [`Record`]s that keep their source line
//!    ([`Dataset::read`], [`ReadOptions`], [`ColumnSpec`]); unreadable rows are [`BadRow`]s,
//!    an error or skipped and reported ([`BadRowPolicy`]).
//! 2. Build the [`Task`] and its [`LabelMap`] from the training records
//!    ([`Task::from_dataset`]); save it as Hugging Face's `id2label` / `label2id`.
//! 3. Tokenize records into [`Example`]s, truncated to a maximum length
//!    ([`tokenize_dataset`], [`TokenizeOptions`]).
//! 4. Plan seeded, length-bucketed batches per epoch ([`BatchPlan`]) or length-sorted
//!    evaluation batches ([`eval_batches`]), and pad each batch to its longest example
//!    ([`collate`]).
//! 5. Split a dataset without a validation file ([`train_valid_split`], [`stratified_split`]).
//!
//! Parquet and Arrow files ([`Columnar`]) are read as JSON Lines, one object per row
//! ([`to_json_lines`]), by every reader below too, `datasets`' class-label integers named.
//!
//! Named-entity files (CoNLL columns or JSON Lines) are read into [`TaggedSentence`]s with
//! their tags converted to one [`TagScheme`] ([`NerDataset::read`]); SQuAD files (JSON, or
//! flat JSON Lines records) into [`QaExample`]s ([`SquadDataset::read`]).
//!
//! Pre-training reads plain-text corpora as streams ([`Corpus`]: `.txt` or `.jsonl`, gzip or
//! not, with a [`HeldOutSplit`]), tokenizes their sentences ([`TokenizedSentences`]) and packs
//! them into full-length sequences ([`Packer`]) or makes next-sentence pairs ([`NspPairs`]),
//! masks them for MLM ([`MlmMasker`]: 80/10/10, whole-word option, fresh masks each epoch) and
//! pads them into [`PretrainBatch`]es ([`collate_mlm`], [`collate_clm`]).
//!
//! All randomness comes from [`Rng`], a SplitMix64 generator whose state is one `u64`, so plans
//! and splits are identical across platforms and runs, and a resumed run sees the same batches.
//!
//! This crate does not depend on burn: batches are plain vectors.

#![warn(missing_docs)]

mod batch;
mod columnar;
mod conll;
mod corpus;
mod delimited;
mod error;
mod examples;
mod labels;
mod lines;
mod mlm;
mod nsp;
mod packed;
mod pretrain;
mod qa_features;
mod reader;
mod rng;
mod split;
mod squad;
mod token_features;

pub use batch::{
    Batch, BatchPlan, BucketOptions, PaddedBatch, collate, eval_batches, restore_order,
};
pub use columnar::{Columnar, to_json_lines};
pub use conll::{
    NerDataset, NerFormat, NerReadOptions, TagScheme, TaggedSentence, convert_tags, detect_scheme,
};
pub use corpus::{
    Corpus, CorpusFormat, CorpusOptions, Document, DocumentSplit, Documents, HeldOutSplit, Part,
    Sentence, Sentences,
};
pub use error::{BadRow, DataError, Result};
pub use examples::{Example, Examples, TokenizeOptions, tokenize_dataset, tokenize_records};
pub use labels::{Label, LabelMap, Task};
pub use mlm::{MaskedSequence, MaskingVocab, MlmMasker, MlmOptions, collate_mlm};
pub use nsp::{IS_NEXT, NOT_NEXT, NspOptions, NspPairs, TokenizedDocument, TokenizedDocuments};
pub use packed::{PackedSequences, PackedWriter, SequenceStore};
pub use pretrain::{
    PackOptions, Packer, PretrainBatch, PretrainSequence, SpecialIds, TokenizedSentence,
    TokenizedSentences, collate_clm,
};
pub use qa_features::{
    QaFeature, QaFeatureOptions, QaFeatures, QaInput, answer_tokens, qa_features,
};
pub use reader::{
    BadRowPolicy, ColumnSpec, Dataset, Format, LabelKind, RawLabel, ReadOptions, Record,
};
pub use rng::{Permutation, Rng};
pub use split::{stratified_split, train_valid_split};
pub use squad::{Answer, QaExample, SquadDataset, SquadVersion, qa_inputs};
pub use token_features::{
    IGNORE_INDEX, SubwordLabels, TokenFeature, TokenFeatureOptions, TokenFeatures, WordsInput,
    tagged_features, token_features,
};
