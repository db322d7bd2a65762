//! Readers for named-entity data: CoNLL-style column files and JSON Lines, into
//! [`TaggedSentence`]s whose tags are all in one tagging scheme.
//!
//! - CoNLL files hold one token per line, in whitespace-separated columns (spaces or tabs): the
//!   token is the first column, the tag the last (or [`NerReadOptions::tag_column`]). A blank or
//!   whitespace-only line ends a sentence (WNUT files end sentences with a line holding one tab);
//!   `-DOCSTART-` lines are skipped. Every token line of a file must have as many columns as the
//!   first one, so a token with a space in it, or a missing column, is a [`BadRow`] rather than a
//!   silently misread tag.
//! - JSON Lines files hold one sentence per line: `{"tokens": [...], "tags": [...]}` (or
//!   `"ner_tags"`, as strings).
//! - A tag is `O` or `P-TYPE` with the prefix `P` one of `B`, `I`, `E`, `S` and a non-empty
//!   `TYPE` (`B-geo-loc` has the type `geo-loc`); anything else is a [`BadRow`].
//! - The file's [`TagScheme`] is given or detected ([`detect_scheme`]), and every sentence's tags
//!   are converted to the target scheme ([`convert_tags`]), IOB2 by default.
//! - Under [`BadRowPolicy::Skip`] the whole sentence holding a bad line is left out (a sentence
//!   missing a token would be wrong), and each bad line is reported in [`NerDataset::bad_rows`].

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{BadRow, DataError, Result};
use crate::lines::{self, is_blank, json_lines, numbered_lines};
use crate::reader::BadRowPolicy;

/// How the tags of named entities mark where an entity begins and ends.
///
/// With entity types `X` and `Y`, the four tokens of "Ann Lee Ann Paris" (two persons, then a
/// place) are tagged:
///
/// | scheme | tags |
/// | --- | --- |
/// | IOB1 | `I-X I-X B-X I-Y` |
/// | IOB2 | `B-X I-X B-X B-Y` |
/// | BIOES | `B-X E-X S-X S-Y` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagScheme {
    /// IOB1, the scheme of the original CoNLL-2003 release: entities are `I-X` throughout, and
    /// `B-X` only marks the first token of an entity that directly follows another entity of
    /// the same type `X`.
    Iob1,
    /// IOB2 (also called BIO): every entity starts with `B-X` and continues with `I-X`.
    #[default]
    #[serde(alias = "bio")]
    Iob2,
    /// BIOES (also called IOBES): a single-token entity is `S-X`; a longer one is `B-X`, then
    /// `I-X`, and ends with `E-X`.
    #[serde(alias = "iobes")]
    Bioes,
}

impl TagScheme {
    /// The scheme's name: `iob1`, `iob2` or `bioes` (as serialized).
    pub fn name(self) -> &'static str {
        match self {
            Self::Iob1 => "iob1",
            Self::Iob2 => "iob2",
            Self::Bioes => "bioes",
        }
    }

    /// Parses `iob1`, `iob2` or `bio`, `bioes` or `iobes` (case-insensitive); `None` for
    /// anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "iob1" => Some(Self::Iob1),
            "iob2" | "bio" => Some(Self::Iob2),
            "bioes" | "iobes" => Some(Self::Bioes),
            _ => None,
        }
    }

    /// Every tag this scheme can give entities of these types: `O` first, then per type (in the
    /// order given) its prefixes in the order `B`, `I` (IOB1 and IOB2) or `B`, `I`, `E`, `S`
    /// (BIOES).
    ///
    /// A label map built from this list knows every tag a sentence of these types can have,
    /// also the ones that happen not to occur in the training file.
    pub fn tags<S: AsRef<str>>(self, types: &[S]) -> Vec<String> {
        let prefixes: &[&str] = match self {
            Self::Iob1 | Self::Iob2 => &["B", "I"],
            Self::Bioes => &["B", "I", "E", "S"],
        };
        let mut tags = vec![OUTSIDE.to_owned()];
        for kind in types {
            for prefix in prefixes {
                tags.push(format!("{prefix}-{}", kind.as_ref()));
            }
        }
        tags
    }

    /// The tag prefixes this scheme uses, for messages.
    fn prefixes(self) -> &'static str {
        match self {
            Self::Iob1 | Self::Iob2 => "B-, I- or O",
            Self::Bioes => "B-, I-, E-, S- or O",
        }
    }
}

impl fmt::Display for TagScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The format of a named-entity file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NerFormat {
    /// CoNLL columns: one token per line, a blank line between sentences.
    Conll,
    /// JSON Lines: one sentence per line, `{"tokens": [...], "tags": [...]}`.
    Jsonl,
}

impl NerFormat {
    /// The format a file's extension names (case-insensitive): `.jsonl`, `.ndjson` and `.json`
    /// are JSON Lines, anything else (`.txt`, `.conll`, `.bio`, none, ...) CoNLL columns.
    pub fn from_path(path: &Path) -> Self {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("jsonl" | "ndjson" | "json") => Self::Jsonl,
            _ => Self::Conll,
        }
    }
}

/// How to read a named-entity file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NerReadOptions {
    /// The file's format; `None` to tell it from the extension ([`NerFormat::from_path`]).
    pub format: Option<NerFormat>,
    /// The scheme of the file's tags; `None` to detect it ([`detect_scheme`]). When given as
    /// IOB1 or IOB2, an `E-` or `S-` tag is a bad row.
    pub source_scheme: Option<TagScheme>,
    /// The scheme every sentence's tags are converted to (IOB2 by default).
    pub target_scheme: TagScheme,
    /// CoNLL: the 0-based column of the tag; `None` for the last column. (The token is
    /// column 0.) Not used for JSON Lines.
    pub tag_column: Option<usize>,
    /// What to do with lines that cannot be read.
    pub bad_rows: BadRowPolicy,
}

impl Default for NerReadOptions {
    /// Format from the extension, scheme detected, converted to IOB2, the tag in the last
    /// column, fail on the first bad line.
    fn default() -> Self {
        Self {
            format: None,
            source_scheme: None,
            target_scheme: TagScheme::Iob2,
            tag_column: None,
            bad_rows: BadRowPolicy::Fail,
        }
    }
}

/// One sentence: its tokens and one tag per token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedSentence {
    /// The tokens; never empty, no token empty.
    pub tokens: Vec<String>,
    /// The tags, as many as tokens.
    pub tags: Vec<String>,
    /// The 1-based line of its first token (JSON Lines: of its record).
    pub line: usize,
}

/// The sentences of one named-entity file, and the lines that were skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NerDataset {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: NerFormat,
    /// The sentences, in file order, their tags in [`NerDataset::target_scheme`].
    pub sentences: Vec<TaggedSentence>,
    /// The scheme of the file's tags, as given or detected.
    pub source_scheme: TagScheme,
    /// The scheme of the tags in [`NerDataset::sentences`].
    pub target_scheme: TagScheme,
    /// The lines that could not be read (only under [`BadRowPolicy::Skip`]), in file order;
    /// the sentences holding them are left out.
    pub bad_rows: Vec<BadRow>,
    /// Tags inconsistent with the source scheme, in file order: an `I-X` (or BIOES `E-X`)
    /// that does not continue an entity of type `X`. They are kept and read leniently, as
    /// `conlleval` and `seqeval` read them (as the start of an entity); callers can warn.
    pub inconsistent_tags: Vec<BadRow>,
}

impl NerDataset {
    /// Reads a named-entity file and converts its tags to `options.target_scheme`.
    ///
    /// # Errors
    /// [`DataError::Io`] if it cannot be read, [`DataError::BadRow`] for the first bad line
    /// under [`BadRowPolicy::Fail`] (too few or too many columns, an invalid tag, invalid UTF-8,
    /// a JSON record that is not `{"tokens": [...], "tags": [...]}` with as many tags as
    /// tokens), [`DataError::Malformed`] for a JSON array where JSON Lines were expected,
    /// [`DataError::Empty`] if no sentence is left, [`DataError::InvalidOptions`] for tag
    /// column 0 (the token's).
    pub fn read(path: impl AsRef<Path>, options: &NerReadOptions) -> Result<Self> {
        let path = path.as_ref();
        if options.tag_column == Some(0) {
            return Err(DataError::options(
                "the tag column cannot be column 0, the token's",
            ));
        }
        let columnar = crate::columnar::Columnar::from_path(path);
        let format = match columnar {
            Some(_) => NerFormat::Jsonl,
            None => options.format.unwrap_or_else(|| NerFormat::from_path(path)),
        };
        let data = match columnar {
            Some(kind) => crate::columnar::to_json_lines(path, kind)?,
            None => std::fs::read(path).map_err(|source| DataError::Io {
                path: path.to_owned(),
                source,
            })?,
        };
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&data);
        let mut reader = Reader {
            path,
            options,
            sentences: Vec::new(),
            bad_rows: Vec::new(),
        };
        match format {
            NerFormat::Conll => reader.conll(data)?,
            NerFormat::Jsonl => reader.jsonl(data)?,
        }
        let Reader {
            mut sentences,
            bad_rows,
            ..
        } = reader;
        if sentences.is_empty() {
            let reason = match bad_rows.first() {
                Some(first) => format!(
                    "no readable sentences: {} bad line{}, the first: line {}: {}",
                    bad_rows.len(),
                    if bad_rows.len() == 1 { "" } else { "s" },
                    first.line,
                    first.reason
                ),
                None => "no sentences".to_owned(),
            };
            return Err(DataError::Empty {
                path: path.to_owned(),
                reason,
            });
        }
        let source_scheme = options
            .source_scheme
            .unwrap_or_else(|| detect_scheme(&sentences));
        let inconsistent_tags = inconsistent_tags(path, format, &sentences, source_scheme);
        if source_scheme != options.target_scheme {
            for sentence in &mut sentences {
                sentence.tags = convert_tags(&sentence.tags, source_scheme, options.target_scheme);
            }
        }
        Ok(Self {
            path: path.to_owned(),
            format,
            sentences,
            source_scheme,
            target_scheme: options.target_scheme,
            bad_rows,
            inconsistent_tags,
        })
    }

    /// The tags that occur, each once: `O` first, then grouped by entity type (types sorted by
    /// name), each type's tags in the order `B`, `I`, `E`, `S` (CoNLL-2003 in IOB2: `O`,
    /// `B-LOC`, `I-LOC`, `B-MISC`, `I-MISC`, `B-ORG`, `I-ORG`, `B-PER`, `I-PER`).
    ///
    /// `O` is listed even if no token has it. For a label map that also holds the tags that do
    /// not occur in this file, see [`TagScheme::tags`] with [`NerDataset::entity_types`].
    pub fn tag_set(&self) -> Vec<String> {
        let mut entity_tags: BTreeSet<(&str, Prefix)> = BTreeSet::new();
        for tag in self.sentences.iter().flat_map(|s| &s.tags) {
            if let Some(Tag::Entity(prefix, kind)) = parse_tag(tag) {
                entity_tags.insert((kind, prefix));
            }
        }
        std::iter::once(OUTSIDE.to_owned())
            .chain(
                entity_tags
                    .into_iter()
                    .map(|(kind, prefix)| format!("{}-{kind}", prefix.letter())),
            )
            .collect()
    }

    /// The entity types that occur (`LOC`, `MISC`, ...), sorted by name.
    pub fn entity_types(&self) -> Vec<String> {
        let types: BTreeSet<&str> = self
            .sentences
            .iter()
            .flat_map(|s| &s.tags)
            .filter_map(|tag| match parse_tag(tag) {
                Some(Tag::Entity(_, kind)) => Some(kind),
                _ => None,
            })
            .collect();
        types.into_iter().map(str::to_owned).collect()
    }

    /// Number of sentences.
    pub fn len(&self) -> usize {
        self.sentences.len()
    }

    /// Whether there are no sentences (never true for a dataset from [`NerDataset::read`]).
    pub fn is_empty(&self) -> bool {
        self.sentences.is_empty()
    }

    /// Number of tokens in all sentences.
    pub fn token_count(&self) -> usize {
        self.sentences.iter().map(|s| s.tokens.len()).sum()
    }

    /// A message for skipped lines: their count and the first `max_shown`, one per line as
    /// `file:line: reason`; `None` when no line was skipped.
    pub fn bad_rows_summary(&self, max_shown: usize) -> Option<String> {
        BadRow::summary(&self.bad_rows, max_shown, "the sentences of ", "line")
    }
}

/// Converts one sentence's tags from one scheme to another.
///
/// The identity when `from == to`. Otherwise the tags are read as entities and written again:
///
/// - Reading is the same for every scheme, and lenient, as `conlleval` reads: `B-X` and `S-X`
///   begin an entity; `I-X` and `E-X` continue the entity of the previous token if it has type
///   `X` and is not closed, and begin one otherwise; `E-X` and `S-X` close their entity. (So
///   IOB1's `I-X` after `O` begins an entity, as does a stray `I-X` in IOB2.)
/// - Writing: IOB2 tags each entity `B-X I-X ...`; IOB1 `I-X I-X ...`, with `B-X` first only
///   when the entity directly follows another entity of type `X`; BIOES `S-X` for one token,
///   else `B-X I-X ... E-X`.
///
/// So IOB1 -> IOB2 turns an `I-X` that does not continue an `X` entity into `B-X`; IOB2 ->
/// BIOES turns single-token entities into `S-X` and ends longer ones with `E-X`; BIOES -> IOB2
/// turns `S-X` into `B-X` and `E-X` into `I-X`. The conversions agree with each other: for
/// well-formed tags, converting A -> B -> C gives what A -> C gives, and A -> B -> A gives the
/// tags back. Tags that are neither `O` nor `P-TYPE` become `O` (readers never produce them).
pub fn convert_tags(tags: &[String], from: TagScheme, to: TagScheme) -> Vec<String> {
    if from == to {
        return tags.to_vec();
    }
    let mut out = vec![OUTSIDE.to_owned(); tags.len()];
    let mut previous: Option<Span<'_>> = None;
    for span in entities(tags) {
        let kind = span.kind;
        let follows_same_type = previous.is_some_and(|p| p.end == span.start && p.kind == kind);
        for (i, tag) in out[span.start..span.end].iter_mut().enumerate() {
            let last = i + 1 == span.end - span.start;
            let prefix = match to {
                TagScheme::Iob2 => {
                    if i == 0 {
                        "B"
                    } else {
                        "I"
                    }
                }
                TagScheme::Iob1 => {
                    if i == 0 && follows_same_type {
                        "B"
                    } else {
                        "I"
                    }
                }
                TagScheme::Bioes => match (i == 0, last) {
                    (true, true) => "S",
                    (true, false) => "B",
                    (false, true) => "E",
                    (false, false) => "I",
                },
            };
            *tag = format!("{prefix}-{kind}");
        }
        previous = Some(span);
    }
    out
}

/// The continuation tags (`I-X`, and `E-X` in BIOES) that do not continue an entity of type
/// `X` under `scheme`, each with its line (CoNLL: the token's line; JSON Lines: the record's).
/// IOB1 has none: there `I-X` begins entities.
fn inconsistent_tags(
    path: &Path,
    format: NerFormat,
    sentences: &[TaggedSentence],
    scheme: TagScheme,
) -> Vec<BadRow> {
    let mut found = Vec::new();
    if scheme == TagScheme::Iob1 {
        return found;
    }
    for sentence in sentences {
        // The type of the open entity the previous token leaves, if any.
        let mut open: Option<&str> = None;
        for (i, tag) in sentence.tags.iter().enumerate() {
            match parse_tag(tag) {
                Some(Tag::Entity(prefix @ (Prefix::I | Prefix::E), kind)) => {
                    if open != Some(kind) {
                        let line = match format {
                            NerFormat::Conll => sentence.line + i,
                            NerFormat::Jsonl => sentence.line,
                        };
                        let before = match i {
                            0 => "at the start of the sentence".to_owned(),
                            _ => format!("after {}", sentence.tags[i - 1]),
                        };
                        found.push(BadRow {
                            path: path.to_owned(),
                            line,
                            reason: format!(
                                "{tag} {before} does not continue an entity (inconsistent {})",
                                scheme.name().to_uppercase()
                            ),
                        });
                    }
                    open = (prefix == Prefix::I).then_some(kind);
                }
                Some(Tag::Entity(Prefix::B, kind)) => open = Some(kind),
                _ => open = None,
            }
        }
    }
    found
}

/// Detects the tagging scheme of sentences.
///
/// The rule, in order:
/// 1. any `E-` or `S-` tag: BIOES (IOB1 and IOB2 have neither);
/// 2. some entity begins with `I-X` (at the start of a sentence, after `O` or after a tag of
///    another type), and no entity begins with `B-X` (every `B-X` directly follows a token of
///    type `X`): IOB1;
/// 3. otherwise IOB2: every entity begins with `B-`, or there are no entities (the schemes
///    then agree), or both kinds of beginning occur (a sloppy file; it is read as IOB2 with
///    lenient `I-` beginnings, which is also exactly how IOB1 would be read, see
///    [`convert_tags`]).
pub fn detect_scheme(sentences: &[TaggedSentence]) -> TagScheme {
    let mut i_begins = 0usize;
    let mut b_begins = 0usize;
    for sentence in sentences {
        let mut previous: Option<&str> = None;
        for tag in &sentence.tags {
            match parse_tag(tag) {
                Some(Tag::Entity(Prefix::E | Prefix::S, _)) => return TagScheme::Bioes,
                Some(Tag::Entity(prefix, kind)) => {
                    if previous != Some(kind) {
                        match prefix {
                            Prefix::I => i_begins += 1,
                            _ => b_begins += 1,
                        }
                    }
                    previous = Some(kind);
                }
                _ => previous = None,
            }
        }
    }
    if i_begins > 0 && b_begins == 0 {
        TagScheme::Iob1
    } else {
        TagScheme::Iob2
    }
}

/// The tag of tokens outside any entity.
const OUTSIDE: &str = "O";

/// The prefix of an entity tag, in the order tags are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prefix {
    B,
    I,
    E,
    S,
}

impl Prefix {
    fn letter(self) -> char {
        match self {
            Self::B => 'B',
            Self::I => 'I',
            Self::E => 'E',
            Self::S => 'S',
        }
    }
}

/// A tag, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag<'a> {
    /// `O`.
    Outside,
    /// `P-TYPE`.
    Entity(Prefix, &'a str),
}

/// Parses `O` or `P-TYPE` (`P` one of `B`, `I`, `E`, `S`; `TYPE` non-empty, without
/// whitespace); `None` for anything else.
fn parse_tag(tag: &str) -> Option<Tag<'_>> {
    if tag == OUTSIDE {
        return Some(Tag::Outside);
    }
    let (prefix, kind) = tag.split_once('-')?;
    let prefix = match prefix {
        "B" => Prefix::B,
        "I" => Prefix::I,
        "E" => Prefix::E,
        "S" => Prefix::S,
        _ => return None,
    };
    if kind.is_empty() || kind.contains(char::is_whitespace) {
        return None;
    }
    Some(Tag::Entity(prefix, kind))
}

/// Why a tag cannot be read in this (given) source scheme; `None` if it can.
fn check_tag(tag: &str, scheme: Option<TagScheme>) -> Option<String> {
    match parse_tag(tag) {
        None => Some(format!(
            "invalid tag {tag:?} (expected O or B-, I-, E-, S- followed by a type)"
        )),
        Some(Tag::Entity(Prefix::E | Prefix::S, _))
            if matches!(scheme, Some(TagScheme::Iob1 | TagScheme::Iob2)) =>
        {
            let scheme = scheme.unwrap_or_default();
            Some(format!(
                "tag {tag:?} is not an {} tag ({}); is the file BIOES?",
                scheme.name().to_ascii_uppercase(),
                scheme.prefixes()
            ))
        }
        Some(_) => None,
    }
}

/// One entity: tokens `start..end` of type `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span<'a> {
    start: usize,
    end: usize,
    kind: &'a str,
}

/// The entities of a sentence's tags, read leniently (see [`convert_tags`]).
fn entities(tags: &[String]) -> Vec<Span<'_>> {
    let mut spans = Vec::new();
    // The entity the next token may continue.
    let mut open: Option<Span<'_>> = None;
    for (i, tag) in tags.iter().enumerate() {
        let Some(Tag::Entity(prefix, kind)) = parse_tag(tag) else {
            spans.extend(open.take());
            continue;
        };
        match open.as_mut() {
            Some(span) if span.kind == kind && matches!(prefix, Prefix::I | Prefix::E) => {
                span.end = i + 1;
            }
            _ => {
                spans.extend(open.take());
                open = Some(Span {
                    start: i,
                    end: i + 1,
                    kind,
                });
            }
        }
        if matches!(prefix, Prefix::E | Prefix::S) {
            spans.extend(open.take());
        }
    }
    spans.extend(open);
    spans
}

/// The state of one read.
struct Reader<'a> {
    path: &'a Path,
    options: &'a NerReadOptions,
    sentences: Vec<TaggedSentence>,
    bad_rows: Vec<BadRow>,
}

/// The sentence being read from a CoNLL file.
#[derive(Default)]
struct Pending {
    tokens: Vec<String>,
    tags: Vec<String>,
    /// The line of its first line.
    line: usize,
    /// Whether one of its lines was bad (it is then left out).
    bad: bool,
}

impl Pending {
    fn is_started(&self) -> bool {
        self.bad || !self.tokens.is_empty()
    }
}

impl Reader<'_> {
    /// Handles a bad line: an error under `Fail`, remembered under `Skip`.
    fn bad(&mut self, line: usize, reason: String) -> Result<()> {
        let policy = self.options.bad_rows;
        policy.handle(self.path, line, reason, &mut self.bad_rows)
    }

    /// Ends the pending sentence: keeps it unless one of its lines was bad.
    fn finish(&mut self, pending: &mut Pending) {
        let sentence = std::mem::take(pending);
        if !sentence.bad && !sentence.tokens.is_empty() {
            self.sentences.push(TaggedSentence {
                tokens: sentence.tokens,
                tags: sentence.tags,
                line: sentence.line,
            });
        }
    }

    /// Reads CoNLL columns.
    fn conll(&mut self, data: &[u8]) -> Result<()> {
        let mut pending = Pending::default();
        // The number of columns of the first token line, and that line.
        let mut expected: Option<(usize, usize)> = None;
        for (line, raw) in numbered_lines(data) {
            if is_blank(raw) {
                self.finish(&mut pending);
                continue;
            }
            let text = match std::str::from_utf8(raw) {
                Ok(text) => text,
                Err(e) => {
                    let reason = format!("invalid UTF-8 at byte {} of the line", e.valid_up_to());
                    self.bad_in(&mut pending, line, reason)?;
                    continue;
                }
            };
            let columns: Vec<&str> = text
                .split([' ', '\t'])
                .filter(|column| !column.is_empty())
                .collect();
            if columns[0] == "-DOCSTART-" {
                self.finish(&mut pending);
                continue;
            }
            let needed = self.options.tag_column.map_or(2, |c| c + 1);
            if columns.len() < needed {
                let what = match self.options.tag_column {
                    Some(c) => format!("the tag in column {c} (0-based)"),
                    None => "a token and a tag".to_owned(),
                };
                let reason = format!(
                    "expected at least {needed} columns ({what}), found {}",
                    columns.len()
                );
                self.bad_in(&mut pending, line, reason)?;
                continue;
            }
            match expected {
                None => expected = Some((columns.len(), line)),
                Some((count, first)) if count != columns.len() => {
                    let reason = format!(
                        "expected {count} columns (as on line {first}), found {}",
                        columns.len()
                    );
                    self.bad_in(&mut pending, line, reason)?;
                    continue;
                }
                Some(_) => {}
            }
            let tag = match self.options.tag_column {
                Some(c) => columns[c],
                None => columns[columns.len() - 1],
            };
            if let Some(reason) = check_tag(tag, self.options.source_scheme) {
                self.bad_in(&mut pending, line, reason)?;
                continue;
            }
            if !pending.is_started() {
                pending.line = line;
            }
            pending.tokens.push(columns[0].to_owned());
            pending.tags.push(tag.to_owned());
        }
        self.finish(&mut pending);
        Ok(())
    }

    /// Handles a bad line inside the pending CoNLL sentence, which is then left out.
    fn bad_in(&mut self, pending: &mut Pending, line: usize, reason: String) -> Result<()> {
        if !pending.is_started() {
            pending.line = line;
        }
        pending.bad = true;
        self.bad(line, reason)
    }

    /// Reads JSON Lines.
    fn jsonl(&mut self, data: &[u8]) -> Result<()> {
        let expected = "JSON Lines (one sentence object per line)";
        for (line, raw) in json_lines(data, self.path, expected)? {
            match self.json_sentence(raw, line) {
                Ok(sentence) => self.sentences.push(sentence),
                Err(reason) => self.bad(line, reason)?,
            }
        }
        Ok(())
    }

    /// Reads one JSON Lines record, or says why it cannot be read.
    fn json_sentence(
        &self,
        raw: &[u8],
        line: usize,
    ) -> std::result::Result<TaggedSentence, String> {
        let object = parse_object(raw)?;
        let tokens = string_list(&object, "tokens", "token")?;
        let tag_field = ["tags", "ner_tags"]
            .into_iter()
            .find(|name| object.contains_key(*name))
            .ok_or("no field `tags` (or `ner_tags`)")?;
        let tags = string_list(&object, tag_field, "tag").map_err(|reason| {
            let numeric = object
                .get(tag_field)
                .and_then(Value::as_array)
                .is_some_and(|items| items.iter().any(Value::is_number));
            if numeric {
                format!(
                    "{reason}; tags must be written as their names (\"B-PER\"), not as class ids"
                )
            } else {
                reason
            }
        })?;
        if tokens.is_empty() {
            return Err("field `tokens`: no tokens".to_owned());
        }
        if tokens.len() != tags.len() {
            return Err(format!(
                "field `{tag_field}`: {} tags for {} tokens",
                tags.len(),
                tokens.len()
            ));
        }
        if let Some(i) = tokens.iter().position(|t| t.trim().is_empty()) {
            return Err(format!("field `tokens`: token {} is empty", i + 1));
        }
        for (i, tag) in tags.iter().enumerate() {
            if let Some(reason) = check_tag(tag, self.options.source_scheme) {
                return Err(format!("field `{tag_field}`: tag {}: {reason}", i + 1));
            }
        }
        Ok(TaggedSentence { tokens, tags, line })
    }
}

/// Parses one JSON Lines line into an object, or says why it is not one.
pub(crate) fn parse_object(raw: &[u8]) -> std::result::Result<Map<String, Value>, String> {
    lines::parse_object(raw, |_| "expected a JSON object".to_owned())
}

/// A field holding a list of strings; `item` names one for messages.
fn string_list(
    object: &Map<String, Value>,
    name: &str,
    item: &str,
) -> std::result::Result<Vec<String>, String> {
    let value = object
        .get(name)
        .ok_or_else(|| format!("no field `{name}`"))?;
    let Value::Array(items) = value else {
        return Err(format!("field `{name}`: expected a list of strings"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, value)| match value {
            Value::String(s) => Ok(s.clone()),
            other => Err(format!(
                "field `{name}`: {item} {} is {}, not a string",
                i + 1,
                match other {
                    Value::Null => "null".to_owned(),
                    Value::Number(n) => format!("the number {n}"),
                    Value::Bool(b) => format!("the boolean {b}"),
                    Value::Array(_) => "a list".to_owned(),
                    Value::Object(_) => "an object".to_owned(),
                    Value::String(_) => unreachable!("strings are matched above"),
                }
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;

    const SCHEMES: [TagScheme; 3] = [TagScheme::Iob1, TagScheme::Iob2, TagScheme::Bioes];

    fn tags(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    /// "Ann Lee Ann Paris . Bob Bob" in each scheme: two adjacent persons, a place, `O`, two
    /// adjacent single-token persons.
    fn example(scheme: TagScheme) -> Vec<String> {
        tags(match scheme {
            TagScheme::Iob1 => "I-PER I-PER B-PER I-LOC O I-PER B-PER",
            TagScheme::Iob2 => "B-PER I-PER B-PER B-LOC O B-PER B-PER",
            TagScheme::Bioes => "B-PER E-PER S-PER S-LOC O S-PER S-PER",
        })
    }

    #[test]
    fn converts_the_example_in_all_six_directions() {
        for from in SCHEMES {
            for to in SCHEMES {
                assert_eq!(
                    convert_tags(&example(from), from, to),
                    example(to),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn identity_when_the_schemes_agree_even_for_odd_tags() {
        let odd = tags("I-PER B-LOC weird E-X");
        for scheme in SCHEMES {
            assert_eq!(convert_tags(&odd, scheme, scheme), odd);
        }
    }

    #[test]
    fn documented_rules() {
        // IOB1 -> IOB2: an I-X that does not continue an X entity becomes B-X.
        assert_eq!(
            convert_tags(
                &tags("I-ORG I-PER O I-PER I-PER B-PER"),
                TagScheme::Iob1,
                TagScheme::Iob2
            ),
            tags("B-ORG B-PER O B-PER I-PER B-PER")
        );
        // IOB2 -> BIOES: S- for single tokens, E- for the last.
        assert_eq!(
            convert_tags(
                &tags("B-PER O B-LOC I-LOC I-LOC"),
                TagScheme::Iob2,
                TagScheme::Bioes
            ),
            tags("S-PER O B-LOC I-LOC E-LOC")
        );
        // BIOES -> IOB2: S -> B, E -> I.
        assert_eq!(
            convert_tags(
                &tags("S-PER O B-LOC I-LOC E-LOC"),
                TagScheme::Bioes,
                TagScheme::Iob2
            ),
            tags("B-PER O B-LOC I-LOC I-LOC")
        );
        // Leniency: stray I- begins an entity; an E- closes, so the next I- begins another.
        assert_eq!(
            convert_tags(&tags("O I-X E-X I-X"), TagScheme::Bioes, TagScheme::Iob2),
            tags("O B-X I-X B-X")
        );
        // Invalid tags read as O.
        assert_eq!(
            convert_tags(&tags("B-X junk I-X"), TagScheme::Iob2, TagScheme::Bioes),
            tags("S-X O S-X")
        );
    }

    /// Random well-formed sentences: every scheme's encoding of the same entities converts to
    /// every other's, and round trips.
    #[test]
    fn random_round_trips() {
        let mut rng = Rng::new(7);
        let kinds = ["PER", "LOC", "geo-loc"];
        for _ in 0..2000 {
            let len = 1 + rng.gen_index(12);
            // Random entities; adjacent ones of the same type happen often.
            let mut iob2 = Vec::with_capacity(len);
            let mut inside: Option<&str> = None;
            for _ in 0..len {
                let roll = rng.gen_index(4);
                match (roll, inside) {
                    (0, _) => {
                        iob2.push("O".to_owned());
                        inside = None;
                    }
                    (1, Some(kind)) => iob2.push(format!("I-{kind}")),
                    _ => {
                        let kind = kinds[rng.gen_index(kinds.len())];
                        iob2.push(format!("B-{kind}"));
                        inside = Some(kind);
                    }
                }
            }
            let encoded: Vec<Vec<String>> = SCHEMES
                .iter()
                .map(|&to| convert_tags(&iob2, TagScheme::Iob2, to))
                .collect();
            assert_eq!(encoded[1], iob2);
            for (a, from) in SCHEMES.iter().enumerate() {
                for (b, to) in SCHEMES.iter().enumerate() {
                    let converted = convert_tags(&encoded[a], *from, *to);
                    assert_eq!(converted, encoded[b], "{from} -> {to} of {iob2:?}");
                    assert_eq!(convert_tags(&converted, *to, *from), encoded[a]);
                }
            }
            // Detection on the encodings (IOB1 needs an entity that begins with I-).
            let sentence = |tags: &Vec<String>| TaggedSentence {
                tokens: vec!["w".to_owned(); tags.len()],
                tags: tags.clone(),
                line: 1,
            };
            let has_bioes_marks = encoded[2].iter().any(|t| t.starts_with(['E', 'S']));
            if has_bioes_marks {
                assert_eq!(detect_scheme(&[sentence(&encoded[2])]), TagScheme::Bioes);
            }
            if encoded[0].iter().any(|t| t.starts_with('I')) {
                assert_eq!(detect_scheme(&[sentence(&encoded[0])]), TagScheme::Iob1);
            }
            assert_eq!(detect_scheme(&[sentence(&encoded[1])]), TagScheme::Iob2);
        }
    }

    #[test]
    fn detection_rules() {
        let sentences = |lists: &[&str]| -> Vec<TaggedSentence> {
            lists
                .iter()
                .map(|s| TaggedSentence {
                    tokens: tags(s),
                    tags: tags(s),
                    line: 1,
                })
                .collect()
        };
        assert_eq!(detect_scheme(&sentences(&["O O", "O"])), TagScheme::Iob2);
        assert_eq!(detect_scheme(&sentences(&["B-X I-X O"])), TagScheme::Iob2);
        assert_eq!(
            detect_scheme(&sentences(&["I-X I-X B-X", "O I-Y"])),
            TagScheme::Iob1
        );
        // B- after another type begins an entity: not IOB1.
        assert_eq!(
            detect_scheme(&sentences(&["I-X", "I-Y B-X"])),
            TagScheme::Iob2
        );
        assert_eq!(
            detect_scheme(&sentences(&["B-X I-X", "S-Y"])),
            TagScheme::Bioes
        );
        assert_eq!(detect_scheme(&[]), TagScheme::Iob2);
    }

    #[test]
    fn scheme_names_parse_and_serialize() {
        for scheme in SCHEMES {
            assert_eq!(TagScheme::parse(scheme.name()), Some(scheme));
            let json = serde_json::to_string(&scheme).unwrap();
            assert_eq!(json, format!("\"{}\"", scheme.name()));
            assert_eq!(serde_json::from_str::<TagScheme>(&json).unwrap(), scheme);
        }
        assert_eq!(TagScheme::parse("BIO"), Some(TagScheme::Iob2));
        assert_eq!(TagScheme::parse("iobes"), Some(TagScheme::Bioes));
        assert_eq!(TagScheme::parse("bilou"), None);
        assert_eq!(
            serde_json::from_str::<TagScheme>("\"bio\"").unwrap(),
            TagScheme::Iob2
        );
        assert_eq!(
            TagScheme::Bioes.tags(&["LOC"]),
            ["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC"]
        );
        assert_eq!(TagScheme::Iob2.tags::<&str>(&[]), ["O"]);
    }

    #[test]
    fn tag_syntax() {
        assert_eq!(parse_tag("O"), Some(Tag::Outside));
        assert_eq!(
            parse_tag("B-geo-loc"),
            Some(Tag::Entity(Prefix::B, "geo-loc"))
        );
        for bad in ["", "o", "B", "B-", "X-PER", "b-PER", "B_PER", "I-A B"] {
            assert_eq!(parse_tag(bad), None, "{bad:?}");
        }
        assert!(check_tag("E-PER", Some(TagScheme::Iob2)).is_some());
        assert!(check_tag("E-PER", Some(TagScheme::Bioes)).is_none());
        assert!(check_tag("E-PER", None).is_none());
    }
}
