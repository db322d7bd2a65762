//! The lines of a data file as every reader walks them: numbered from 1, without the `\r` of a
//! CRLF file; for JSON Lines, without blank lines, and refused when the file is a JSON array.

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{DataError, Result};

/// Each line of `data` with its 1-based number, a trailing `\r` removed (CRLF files read as LF
/// ones).
pub(crate) fn numbered_lines(data: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    data.split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, raw)| (i + 1, raw.strip_suffix(b"\r").unwrap_or(raw)))
}

/// Whether a line holds only white space.
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// The records of a JSON Lines file: its non-blank lines with their numbers.
///
/// # Errors
/// [`DataError::Malformed`] at the line of its `[` when the file is a JSON array, a common
/// mistake that would otherwise fail on every line; `expected` says what the reader takes
/// instead.
pub(crate) fn json_lines<'a>(
    data: &'a [u8],
    path: &Path,
    expected: &str,
) -> Result<impl Iterator<Item = (usize, &'a [u8])> + use<'a>> {
    if data.trim_ascii_start().starts_with(b"[") {
        let line = 1 + data
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .filter(|&&b| b == b'\n')
            .count();
        return Err(DataError::Malformed {
            path: path.to_owned(),
            line,
            reason: format!("this is a JSON array; expected {expected}"),
        });
    }
    Ok(numbered_lines(data).filter(|(_, raw)| !is_blank(raw)))
}

/// Parses one JSON Lines line into an object, or says why it is not one; `not_object` says
/// what a value of another kind is (readers name it differently in their messages).
pub(crate) fn parse_object(
    raw: &[u8],
    not_object: impl FnOnce(&Value) -> String,
) -> std::result::Result<Map<String, Value>, String> {
    let text = std::str::from_utf8(raw)
        .map_err(|e| format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()))?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(not_object(&other)),
        Err(e) => {
            // serde_json appends " at line 1 column N"; the line is ours, keep the column.
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(head, _)| head);
            Err(format!("invalid JSON at column {}: {message}", e.column()))
        }
    }
}
