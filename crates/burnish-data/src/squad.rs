//! A reader for extractive question answering data: SQuAD JSON files (v1.1 and v2.0), and the
//! flat one-question-per-record layout of Hugging Face `datasets`, into [`QaExample`]s.
//!
//! - SQuAD JSON: `{"version": ..., "data": [{"title", "paragraphs": [{"context", "qas": [{"id",
//!   "question", "answers": [{"text", "answer_start"}], "is_impossible"?}]}]}]}`.
//! - Flat records, as JSON Lines (one per line) or as the list under `"data"` of a JSON file
//!   (what `transformers`' `run_qa.py` reads with `field="data"`): `{"id", "title"?, "context",
//!   "question", "answers": {"text": [...], "answer_start": [...]}}` (`answers` may also be a
//!   SQuAD list of `{"text", "answer_start"}`). Consecutive records with the same title form an
//!   article, as in the SQuAD file they come from.
//! - `answer_start` is a *character* offset into the context, as Python counts characters
//!   (Unicode code points, the same as Rust's `char`s); [`Answer::byte_span`] turns it into byte
//!   offsets, which the tokenizer's offsets use.
//! - A missing or mistyped field is an error naming the file and where the field is
//!   (`data[3].paragraphs[1].qas[0].answers`, or the line of a JSON Lines record), as is a
//!   question id used twice (predictions are keyed by id).
//! - An answer whose text is not the context's text at its offset is kept, and counted in
//!   [`SquadDataset::misaligned_answers`] (the SQuAD v1.1 dev file has none). Hugging Face's
//!   `run_qa.py` does not check, it labels the span at `answer_start` with the length of the
//!   text; `transformers`' older SQuAD processor (and Google's BERT `run_squad.py`) log "Could
//!   not find answer" and drop such a question from training. [`Answer::is_aligned`] tells
//!   them apart, so a caller can do either.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::conll::parse_object;
use crate::error::{BadRow, DataError, Result};
use crate::lines::json_lines;

/// The SQuAD version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SquadVersion {
    /// SQuAD 1.1: every question has an answer in its context.
    V1,
    /// SQuAD 2.0: some questions cannot be answered from their context
    /// ([`QaExample::is_impossible`]).
    V2,
}

/// One answer to a question: a piece of the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The answer's text, as in the file.
    pub text: String,
    /// Where it starts in the context, in characters (`answer_start`, as in the file).
    pub char_start: usize,
}

impl Answer {
    /// The answer's span in `context` as byte offsets `(start, end)`: from character
    /// [`Answer::char_start`], as many characters as [`Answer::text`] has. `None` if that runs
    /// past the end of the context.
    ///
    /// The span is where the file says the answer is; whether the context holds the answer's
    /// text there is [`Answer::is_aligned`].
    pub fn byte_span(&self, context: &str) -> Option<(usize, usize)> {
        let chars = self.text.chars().count();
        let mut offsets = context
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(context.len()));
        let start = offsets.nth(self.char_start)?;
        let end = match chars {
            0 => start,
            n => offsets.nth(n - 1)?,
        };
        Some((start, end))
    }

    /// Whether `context` holds [`Answer::text`] at [`Answer::char_start`].
    pub fn is_aligned(&self, context: &str) -> bool {
        self.byte_span(context)
            .is_some_and(|(start, end)| context[start..end] == self.text)
    }
}

/// One question, with its context and answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QaExample {
    /// The question's id (unique in the file).
    pub id: String,
    /// The 0-based index of its article in the file (in the dataset, after
    /// [`SquadDataset::articles_range`]).
    pub article: usize,
    /// The 0-based index of its paragraph (context) in the article.
    pub paragraph: usize,
    /// The article's title (empty if the file has none).
    pub title: String,
    /// The paragraph the answers are taken from, shared by the questions of a paragraph.
    pub context: Arc<str>,
    /// The question.
    pub question: String,
    /// The answers, as in the file: SQuAD dev files give several (by different annotators,
    /// often the same span), training files one; none for an impossible question.
    pub answers: Vec<Answer>,
    /// Whether the question cannot be answered from the context (SQuAD 2.0; in flat records
    /// without the field: a question without answers).
    pub is_impossible: bool,
    /// The 1-based line of the record in a JSON Lines file; `None` in a JSON file.
    pub line: Option<usize>,
}

impl QaExample {
    /// The byte span in the context of the first answer, the one training uses; `None` without
    /// answers, or when it runs past the end of the context. (Check [`Answer::is_aligned`] to
    /// leave out answers whose text is not at their offset.)
    pub fn answer_span(&self) -> Option<(usize, usize)> {
        self.answers.first()?.byte_span(&self.context)
    }
}

/// Each question as [`crate::qa_features`] takes it: labelled with its first answer's byte span
/// ([`QaExample::answer_span`]; `None` for an impossible question), and named in errors by its
/// file line, or else by its 1-based position in `examples`.
pub fn qa_inputs(examples: &[QaExample]) -> Vec<crate::QaInput<'_>> {
    examples
        .iter()
        .enumerate()
        .map(|(i, e)| crate::QaInput {
            question: &e.question,
            context: &e.context,
            answer: if e.is_impossible {
                None
            } else {
                e.answer_span()
            },
            line: e.line.unwrap_or(i + 1),
        })
        .collect()
}

/// The questions of one SQuAD file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SquadDataset {
    /// The file.
    pub path: PathBuf,
    /// Its SQuAD version: V2 if its `"version"` starts with `v2` (or `2`), or any question has
    /// an `is_impossible` field, or (flat records) any question has no answer.
    pub version: SquadVersion,
    /// The questions, in file order.
    pub examples: Vec<QaExample>,
    /// The number of articles (including any without questions).
    pub articles: usize,
    /// The number of answers whose text is not the context's text at their offset (or whose
    /// offset is past the end of the context); see [`Answer::is_aligned`].
    pub misaligned_answers: usize,
}

impl SquadDataset {
    /// Reads a SQuAD JSON file, or flat question records as JSON Lines (by the extension
    /// `.jsonl` or `.ndjson`, or by content: more than one JSON value in the file) or as the
    /// rows of a Parquet / Arrow file (`datasets`' `squad`: `id`, `title`, `context`,
    /// `question`, `answers {text, answer_start}`).
    ///
    /// # Errors
    /// [`DataError::Io`] if it cannot be read, [`DataError::Malformed`] if it is not JSON (with
    /// the line) or not a SQuAD document, [`DataError::JsonField`] for a missing or mistyped
    /// field of a JSON file or a repeated id (with its location), [`DataError::BadRow`] for the
    /// same in a JSON Lines record (with its line), [`DataError::Empty`] if there are no
    /// questions.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let columnar = crate::columnar::Columnar::from_path(path);
        let bytes = match columnar {
            Some(kind) => crate::columnar::to_json_lines(path, kind)?,
            None => std::fs::read(path).map_err(|source| DataError::Io {
                path: path.to_owned(),
                source,
            })?,
        };
        let data = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let mut builder = Builder::new(path);
        if columnar.is_some() || matches!(extension.as_deref(), Some("jsonl" | "ndjson")) {
            builder.lines(data)?;
        } else {
            match sniff(path, data)? {
                Content::Document(root) => builder.document(&root)?,
                Content::Lines => builder.lines(data)?,
            }
        }
        builder.finish()
    }

    /// The dataset of articles `range` only (0-based, as [`QaExample::article`]), renumbered
    /// from 0, e.g. `0..38` and `38..48` of SQuAD v1.1 dev for a small train / evaluation
    /// split by article. The parts of `range` past the last article are ignored (check
    /// [`SquadDataset::articles`] of the result).
    pub fn articles_range(&self, range: Range<usize>) -> Self {
        let start = range.start.min(self.articles);
        let end = range.end.clamp(start, self.articles);
        let examples: Vec<QaExample> = self
            .examples
            .iter()
            .filter(|example| (start..end).contains(&example.article))
            .map(|example| QaExample {
                article: example.article - start,
                ..example.clone()
            })
            .collect();
        Self {
            path: self.path.clone(),
            version: self.version,
            misaligned_answers: count_misaligned(&examples),
            examples,
            articles: end - start,
        }
    }

    /// Number of questions.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether there are no questions (never true for a dataset from [`SquadDataset::read`]).
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }
}

/// The number of answers not at their offset.
fn count_misaligned(examples: &[QaExample]) -> usize {
    examples
        .iter()
        .flat_map(|example| {
            example
                .answers
                .iter()
                .filter(|answer| !answer.is_aligned(&example.context))
        })
        .count()
}

/// What a file holds.
enum Content {
    /// One JSON document.
    Document(Value),
    /// JSON Lines.
    Lines,
}

/// Tells a JSON document from JSON Lines, by whether a second JSON value follows the first.
fn sniff(path: &Path, data: &[u8]) -> Result<Content> {
    let mut values = serde_json::Deserializer::from_slice(data).into_iter::<Value>();
    let first = match values.next() {
        None => {
            return Err(DataError::Empty {
                path: path.to_owned(),
                reason: "empty file".to_owned(),
            });
        }
        Some(Err(e)) => {
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(head, _)| head);
            return Err(DataError::Malformed {
                path: path.to_owned(),
                line: e.line(),
                reason: format!("invalid JSON at column {}: {message}", e.column()),
            });
        }
        Some(Ok(value)) => value,
    };
    if values.next().is_some() {
        return Ok(Content::Lines);
    }
    match &first {
        Value::Object(object) if object.contains_key("data") => Ok(Content::Document(first)),
        Value::Object(object) if object.contains_key("question") => Ok(Content::Lines),
        _ => Err(DataError::Malformed {
            path: path.to_owned(),
            line: 1,
            reason: "expected a SQuAD JSON object with a `data` list, or JSON Lines with one \
                     question record per line"
                .to_owned(),
        }),
    }
}

/// A missing or unusable field: where (a path like `qas[0].answers`) and why.
struct FieldError {
    field: String,
    reason: String,
}

type FieldResult<T> = std::result::Result<T, FieldError>;

/// `loc.name`, or `name` at the root.
fn join(loc: &str, name: &str) -> String {
    if loc.is_empty() {
        name.to_owned()
    } else {
        format!("{loc}.{name}")
    }
}

/// An error at `field`.
fn field_error(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// What kind of JSON value this is, for messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".to_owned(),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// The field `name` of the object at `loc`.
fn get<'v>(object: &'v Map<String, Value>, loc: &str, name: &str) -> FieldResult<&'v Value> {
    object
        .get(name)
        .ok_or_else(|| field_error(join(loc, name), "missing"))
}

fn as_object<'v>(value: &'v Value, loc: &str) -> FieldResult<&'v Map<String, Value>> {
    value.as_object().ok_or_else(|| {
        field_error(
            loc,
            format!("expected an object, found {}", describe(value)),
        )
    })
}

fn as_list<'v>(value: &'v Value, loc: &str) -> FieldResult<&'v [Value]> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| field_error(loc, format!("expected a list, found {}", describe(value))))
}

fn as_str<'v>(value: &'v Value, loc: &str) -> FieldResult<&'v str> {
    value
        .as_str()
        .ok_or_else(|| field_error(loc, format!("expected a string, found {}", describe(value))))
}

/// An optional title: missing or null is empty.
fn title_of(object: &Map<String, Value>, loc: &str) -> FieldResult<String> {
    match object.get("title") {
        None | Some(Value::Null) => Ok(String::new()),
        Some(value) => as_str(value, &join(loc, "title")).map(str::to_owned),
    }
}

/// A question id: a non-empty string, or an integer (kept as its decimal text).
fn id_of(object: &Map<String, Value>, loc: &str) -> FieldResult<String> {
    let field = join(loc, "id");
    match get(object, loc, "id")? {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        Value::String(_) => Err(field_error(field, "empty id")),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        other => Err(field_error(
            field,
            format!("expected a string, found {}", describe(other)),
        )),
    }
}

/// An `answer_start`: a non-negative integer (also written as `12.0`).
fn start_of(value: &Value, loc: &str) -> FieldResult<usize> {
    let start = match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x < 9.0e15)
                .map(|x| x as u64)
        }),
        _ => None,
    };
    start.and_then(|s| usize::try_from(s).ok()).ok_or_else(|| {
        field_error(
            loc,
            format!(
                "expected a non-negative integer (a character offset), found {}",
                describe(value)
            ),
        )
    })
}

/// An optional `is_impossible`: `None` if missing.
fn impossible_of(object: &Map<String, Value>, loc: &str) -> FieldResult<Option<bool>> {
    match object.get("is_impossible") {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(field_error(
            join(loc, "is_impossible"),
            format!("expected a boolean, found {}", describe(other)),
        )),
    }
}

/// A SQuAD list of answers, `[{"text", "answer_start"}]`, at `loc`.
fn answer_list(value: &Value, loc: &str) -> FieldResult<Vec<Answer>> {
    as_list(value, loc)?
        .iter()
        .enumerate()
        .map(|(i, answer)| {
            let loc = format!("{loc}[{i}]");
            let answer = as_object(answer, &loc)?;
            let text = as_str(get(answer, &loc, "text")?, &join(&loc, "text"))?;
            let start = start_of(
                get(answer, &loc, "answer_start")?,
                &join(&loc, "answer_start"),
            )?;
            Ok(Answer {
                text: text.to_owned(),
                char_start: start,
            })
        })
        .collect()
}

/// The answers of a flat record: Hugging Face's columns `{"text": [...], "answer_start":
/// [...]}`, or a SQuAD list.
fn flat_answers(value: &Value, loc: &str) -> FieldResult<Vec<Answer>> {
    let Value::Object(columns) = value else {
        return answer_list(value, loc);
    };
    let texts = as_list(get(columns, loc, "text")?, &join(loc, "text"))?;
    let starts = as_list(
        get(columns, loc, "answer_start")?,
        &join(loc, "answer_start"),
    )?;
    if texts.len() != starts.len() {
        return Err(field_error(
            loc,
            format!(
                "{} texts but {} answer_start values",
                texts.len(),
                starts.len()
            ),
        ));
    }
    texts
        .iter()
        .zip(starts)
        .enumerate()
        .map(|(i, (text, start))| {
            Ok(Answer {
                text: as_str(text, &format!("{loc}.text[{i}]"))?.to_owned(),
                char_start: start_of(start, &format!("{loc}.answer_start[{i}]"))?,
            })
        })
        .collect()
}

/// A flat question record, read.
struct FlatRecord {
    id: String,
    title: String,
    context: String,
    question: String,
    answers: Vec<Answer>,
    is_impossible: Option<bool>,
}

/// Reads a flat question record at `loc`.
fn flat_record(object: &Map<String, Value>, loc: &str) -> FieldResult<FlatRecord> {
    Ok(FlatRecord {
        id: id_of(object, loc)?,
        title: title_of(object, loc)?,
        context: as_str(get(object, loc, "context")?, &join(loc, "context"))?.to_owned(),
        question: as_str(get(object, loc, "question")?, &join(loc, "question"))?.to_owned(),
        answers: flat_answers(get(object, loc, "answers")?, &join(loc, "answers"))?,
        is_impossible: impossible_of(object, loc)?,
    })
}

/// Collects the questions of one file.
struct Builder<'a> {
    path: &'a Path,
    examples: Vec<QaExample>,
    /// Where each id was seen, for messages.
    ids: HashMap<String, String>,
    articles: usize,
    /// Whether a marker of SQuAD 2.0 was seen.
    v2: bool,
    /// Flat records: the last record's title and context (shared with the next record of
    /// the same paragraph), and the paragraph's index.
    last_title: Option<String>,
    last_context: Option<Arc<str>>,
    paragraph: usize,
}

impl<'a> Builder<'a> {
    fn new(path: &'a Path) -> Self {
        Self {
            path,
            examples: Vec::new(),
            ids: HashMap::new(),
            articles: 0,
            v2: false,
            last_title: None,
            last_context: None,
            paragraph: 0,
        }
    }

    /// The error of a field of a JSON document.
    fn json_error(&self, error: FieldError) -> DataError {
        DataError::JsonField {
            path: self.path.to_owned(),
            location: error.field,
            reason: error.reason,
        }
    }

    /// Remembers an id; an error if it was seen before.
    fn claim_id(&mut self, id: &str, here: String, field: String) -> FieldResult<()> {
        if let Some(first) = self.ids.get(id) {
            return Err(field_error(
                field,
                format!("id {id:?} is also the id of {first}"),
            ));
        }
        self.ids.insert(id.to_owned(), here);
        Ok(())
    }

    /// Reads a whole JSON document.
    fn document(&mut self, root: &Value) -> Result<()> {
        self.walk(root).map_err(|e| self.json_error(e))
    }

    fn walk(&mut self, root: &Value) -> FieldResult<()> {
        let root = as_object(root, "")?;
        match root.get("version") {
            Some(Value::String(v)) => self.v2 |= v.starts_with("v2") || v.starts_with('2'),
            Some(Value::Number(n)) => self.v2 |= n.to_string().starts_with('2'),
            _ => {}
        }
        let data = as_list(get(root, "", "data")?, "data")?;
        let flat = data
            .first()
            .and_then(Value::as_object)
            .is_some_and(|first| {
                !first.contains_key("paragraphs") && first.contains_key("question")
            });
        for (a, article) in data.iter().enumerate() {
            let loc = format!("data[{a}]");
            let article = as_object(article, &loc)?;
            if flat {
                let record = flat_record(article, &loc)?;
                self.push_flat(record, loc, None)?;
            } else {
                self.article(article, &loc)?;
            }
        }
        Ok(())
    }

    /// Reads one SQuAD article.
    fn article(&mut self, article: &Map<String, Value>, loc: &str) -> FieldResult<()> {
        let title = title_of(article, loc)?;
        let index = self.articles;
        self.articles += 1;
        let paragraphs_loc = join(loc, "paragraphs");
        let paragraphs = as_list(get(article, loc, "paragraphs")?, &paragraphs_loc)?;
        for (p, paragraph) in paragraphs.iter().enumerate() {
            let loc = format!("{paragraphs_loc}[{p}]");
            let paragraph = as_object(paragraph, &loc)?;
            let context: Arc<str> = Arc::from(as_str(
                get(paragraph, &loc, "context")?,
                &join(&loc, "context"),
            )?);
            let qas_loc = join(&loc, "qas");
            let qas = as_list(get(paragraph, &loc, "qas")?, &qas_loc)?;
            for (q, qa) in qas.iter().enumerate() {
                let loc = format!("{qas_loc}[{q}]");
                let qa = as_object(qa, &loc)?;
                let id = id_of(qa, &loc)?;
                self.claim_id(&id, loc.clone(), join(&loc, "id"))?;
                let question = as_str(get(qa, &loc, "question")?, &join(&loc, "question"))?;
                let answers = answer_list(get(qa, &loc, "answers")?, &join(&loc, "answers"))?;
                let is_impossible = impossible_of(qa, &loc)?;
                self.v2 |= is_impossible.is_some();
                self.examples.push(QaExample {
                    id,
                    article: index,
                    paragraph: p,
                    title: title.clone(),
                    context: Arc::clone(&context),
                    question: question.to_owned(),
                    answers,
                    is_impossible: is_impossible.unwrap_or(false),
                    line: None,
                });
            }
        }
        Ok(())
    }

    /// Adds a flat record: a new article when its title differs from the last record's, a new
    /// paragraph when its context does.
    fn push_flat(
        &mut self,
        record: FlatRecord,
        here: String,
        line: Option<usize>,
    ) -> FieldResult<()> {
        let id_field = if line.is_some() {
            "id".to_owned()
        } else {
            join(&here, "id")
        };
        self.claim_id(&record.id, here, id_field)?;
        self.v2 |= record.is_impossible.is_some() || record.answers.is_empty();
        let new_article = self.last_title.as_deref() != Some(record.title.as_str());
        if new_article {
            self.articles += 1;
            self.paragraph = 0;
            self.last_context = None;
            self.last_title = Some(record.title.clone());
        }
        let context = match &self.last_context {
            Some(last) if **last == *record.context => Arc::clone(last),
            _ => {
                if self.last_context.is_some() {
                    self.paragraph += 1;
                }
                let context: Arc<str> = Arc::from(record.context);
                self.last_context = Some(Arc::clone(&context));
                context
            }
        };
        let is_impossible = record.is_impossible.unwrap_or(record.answers.is_empty());
        self.examples.push(QaExample {
            id: record.id,
            article: self.articles - 1,
            paragraph: self.paragraph,
            title: record.title,
            context,
            question: record.question,
            answers: record.answers,
            is_impossible,
            line,
        });
        Ok(())
    }

    /// Reads JSON Lines of flat records.
    fn lines(&mut self, data: &[u8]) -> Result<()> {
        let expected = "a SQuAD JSON object, or JSON Lines (one question record per line)";
        for (line, raw) in json_lines(data, self.path, expected)? {
            let bad = |reason: String| {
                DataError::BadRow(BadRow {
                    path: self.path.to_owned(),
                    line,
                    reason,
                })
            };
            let object = parse_object(raw).map_err(bad)?;
            let pushed = flat_record(&object, "")
                .and_then(|record| self.push_flat(record, format!("line {line}"), Some(line)));
            if let Err(error) = pushed {
                return Err(DataError::BadRow(BadRow {
                    path: self.path.to_owned(),
                    line,
                    reason: format!("field `{}`: {}", error.field, error.reason),
                }));
            }
        }
        Ok(())
    }

    /// The dataset.
    fn finish(self) -> Result<SquadDataset> {
        if self.examples.is_empty() {
            return Err(DataError::Empty {
                path: self.path.to_owned(),
                reason: "no questions".to_owned(),
            });
        }
        Ok(SquadDataset {
            path: self.path.to_owned(),
            version: if self.v2 {
                SquadVersion::V2
            } else {
                SquadVersion::V1
            },
            misaligned_answers: count_misaligned(&self.examples),
            examples: self.examples,
            articles: self.articles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str, char_start: usize) -> Answer {
        Answer {
            text: text.to_owned(),
            char_start,
        }
    }

    #[test]
    fn byte_spans_count_characters_like_python() {
        // "é" is 2 bytes, "😀" 4 (one code point, as in Python 3; two in UTF-16).
        let context = "Café 😀 Zürich";
        let zurich = answer("Zürich", 7);
        assert_eq!(zurich.byte_span(context), Some((11, 18)));
        assert_eq!(&context[11..18], "Zürich");
        assert!(zurich.is_aligned(context));
        assert_eq!(answer("😀", 5).byte_span(context), Some((6, 10)));
        // Ends exactly at the end; one past it is out of range.
        assert_eq!(answer("h", 12).byte_span(context), Some((17, 18)));
        assert_eq!(answer("h!", 12).byte_span(context), None);
        assert_eq!(answer("", 13).byte_span(context), Some((18, 18)));
        assert_eq!(answer("x", 14).byte_span(context), None);
        // Misaligned: a span, but not the text.
        let wrong = answer("Café", 1);
        assert_eq!(wrong.byte_span(context), Some((1, 6)));
        assert!(!wrong.is_aligned(context));
    }
}
