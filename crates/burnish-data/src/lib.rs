//! Data for burnish: from labelled text files to padded batches.
//!
//! 1. Read a CSV, TSV or JSON Lines file into [`Record`]s that keep their source line
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
//! All randomness comes from [`Rng`], a SplitMix64 generator whose state is one `u64`, so plans
//! and splits are identical across platforms and runs, and a resumed run sees the same batches.
//!
//! This crate does not depend on burn: batches are plain vectors.

#![warn(missing_docs)]

mod batch;
mod delimited;
mod error;
mod examples;
mod labels;
mod reader;
mod rng;
mod split;

pub use batch::{Batch, BatchPlan, BucketOptions, collate, eval_batches, restore_order};
pub use error::{BadRow, DataError, Result};
pub use examples::{Example, Examples, Label, TokenizeOptions, tokenize_dataset, tokenize_records};
pub use labels::{LabelMap, Task};
pub use reader::{
    BadRowPolicy, ColumnSpec, Dataset, Format, LabelKind, RawLabel, ReadOptions, Record,
};
pub use rng::Rng;
pub use split::{stratified_split, train_valid_split};
