//! A byte-level parser for delimited text (CSV, TSV) that keeps line numbers and recovers from
//! bad rows.
//!
//! With quoting on, it follows RFC 4180: a field that starts with `"` runs to the next lone `"`
//! (`""` inside is one quote, and line breaks inside belong to the field); a quote inside an
//! unquoted field is kept as a literal character, as Python's `csv` and pandas do. With quoting
//! off (GLUE-style TSV), every line is one row and quotes are ordinary characters.
//!
//! Rows end at `\n` or `\r\n`. Empty lines are skipped. Fields are bytes: UTF-8 is checked by the
//! caller, for the fields it uses.

/// One row: its fields and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawRow {
    /// The 1-based line the row starts on.
    pub line: usize,
    /// The fields, unquoted.
    pub fields: Vec<Vec<u8>>,
}

/// A row that could not be split into fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowError {
    /// The 1-based line the row starts on.
    pub line: usize,
    /// The 0-based index of the field where the problem is.
    pub field: usize,
    /// What is wrong.
    pub reason: String,
}

/// Splits delimited text into rows.
#[derive(Debug)]
pub(crate) struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    line: usize,
    delimiter: u8,
    quoting: bool,
}

impl<'a> Parser<'a> {
    /// A parser over `data` (a leading UTF-8 byte-order mark is skipped).
    pub fn new(data: &'a [u8], delimiter: u8, quoting: bool) -> Self {
        let pos = if data.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        Self {
            data,
            pos,
            line: 1,
            delimiter,
            quoting,
        }
    }

    /// Skips empty lines; false at the end of the data.
    fn skip_empty_lines(&mut self) -> bool {
        loop {
            match self.data.get(self.pos..) {
                Some([b'\n', ..]) => {
                    self.pos += 1;
                    self.line += 1;
                }
                Some([b'\r', b'\n', ..]) => {
                    self.pos += 2;
                    self.line += 1;
                }
                Some([b'\r']) => self.pos += 1,
                Some([]) | None => return false,
                Some(_) => return true,
            }
        }
    }

    /// Moves to the start of the line after the one starting at `start` (or to the end).
    fn resume_after_line(&mut self, start: usize, line: usize) {
        match self.data[start..].iter().position(|&b| b == b'\n') {
            Some(offset) => self.pos = start + offset + 1,
            None => self.pos = self.data.len(),
        }
        self.line = line + 1;
    }

    /// Reads one unquoted field, stopping before the delimiter or line end.
    fn unquoted(&mut self) -> Vec<u8> {
        let rest = &self.data[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == self.delimiter || b == b'\n')
            .unwrap_or(rest.len());
        let mut field = &rest[..end];
        // A `\r` right before the line end belongs to the line break.
        if matches!(rest.get(end), Some(b'\n') | None)
            && let Some(stripped) = field.strip_suffix(b"\r")
        {
            field = stripped;
        }
        self.pos += end;
        field.to_vec()
    }

    /// Reads one quoted field, the opening quote at `self.pos`; `Err(reason)` on bad quoting.
    fn quoted(&mut self) -> Result<Vec<u8>, String> {
        let mut field = Vec::new();
        let mut i = self.pos + 1;
        loop {
            let Some(offset) = self.data[i..].iter().position(|&b| b == b'"') else {
                return Err("a quoted field is never closed".to_owned());
            };
            let chunk = &self.data[i..i + offset];
            self.line += chunk.iter().filter(|&&b| b == b'\n').count();
            field.extend_from_slice(chunk);
            i += offset + 1;
            if self.data.get(i) == Some(&b'"') {
                field.push(b'"');
                i += 1;
                continue;
            }
            // The closing quote: only a delimiter or a line end may follow.
            match self.data.get(i..) {
                Some([]) | Some([b'\n', ..]) | Some([b'\r', b'\n', ..]) | Some([b'\r']) => {}
                Some([b, ..]) if *b == self.delimiter => {}
                Some([b, ..]) => {
                    return Err(format!(
                        "unexpected {} after the closing quote of a quoted field",
                        describe_byte(*b)
                    ));
                }
                None => {}
            }
            if self.data.get(i) == Some(&b'\r') {
                i += 1;
            }
            self.pos = i;
            return Ok(field);
        }
    }
}

impl Iterator for Parser<'_> {
    type Item = Result<RawRow, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.skip_empty_lines() {
            return None;
        }
        let start = self.pos;
        let line = self.line;
        let mut fields = Vec::new();
        loop {
            let field = if self.quoting && self.data.get(self.pos) == Some(&b'"') {
                match self.quoted() {
                    Ok(field) => field,
                    Err(reason) => {
                        // Report the row's first line and go on with the next line, which
                        // is where the next row starts if the stray quote was a typo.
                        let error = RowError {
                            line,
                            field: fields.len(),
                            reason,
                        };
                        self.resume_after_line(start, line);
                        return Some(Err(error));
                    }
                }
            } else {
                self.unquoted()
            };
            fields.push(field);
            match self.data.get(self.pos) {
                Some(&b) if b == self.delimiter => self.pos += 1,
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                    break;
                }
                _ => {
                    self.pos = self.data.len();
                    break;
                }
            }
        }
        Some(Ok(RawRow { line, fields }))
    }
}

/// A byte for a message: the character if printable ASCII, else its hex value.
fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        format!("character {:?}", char::from(b))
    } else {
        format!("byte 0x{b:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(data: &str, delimiter: u8, quoting: bool) -> Vec<Result<(usize, Vec<String>), usize>> {
        Parser::new(data.as_bytes(), delimiter, quoting)
            .map(|row| match row {
                Ok(row) => Ok((
                    row.line,
                    row.fields
                        .into_iter()
                        .map(|f| String::from_utf8(f).unwrap())
                        .collect(),
                )),
                Err(error) => Err(error.line),
            })
            .collect()
    }

    fn ok(line: usize, fields: &[&str]) -> Result<(usize, Vec<String>), usize> {
        Ok((line, fields.iter().map(|f| f.to_string()).collect()))
    }

    #[test]
    fn splits_quoted_csv() {
        let data = "a,b\n\"x, y\",\"say \"\"hi\"\"\"\r\nplain,\"multi\nline\"\n\nlast,\n";
        assert_eq!(
            rows(data, b',', true),
            vec![
                ok(1, &["a", "b"]),
                ok(2, &["x, y", "say \"hi\""]),
                ok(3, &["plain", "multi\nline"]),
                ok(6, &["last", ""]),
            ]
        );
    }

    #[test]
    fn last_row_without_newline_and_crlf() {
        assert_eq!(
            rows("a\tb\r\nc\td", b'\t', false),
            vec![ok(1, &["a", "b"]), ok(2, &["c", "d"])]
        );
        assert_eq!(rows("\"a\"", b',', true), vec![ok(1, &["a"])]);
        assert_eq!(rows("\"a\"\r\n", b',', true), vec![ok(1, &["a"])]);
        assert_eq!(rows("", b',', true), vec![]);
        assert_eq!(rows("\n\r\n", b',', true), vec![]);
    }

    #[test]
    fn quotes_are_literal_without_quoting_or_mid_field() {
        assert_eq!(
            rows("say \"hi\tthere\n", b'\t', false),
            vec![ok(1, &["say \"hi", "there"])]
        );
        assert_eq!(
            rows("5\" screen,x\n", b',', true),
            vec![ok(1, &["5\" screen", "x"])]
        );
    }

    #[test]
    fn bad_quoting_is_reported_and_parsing_resumes() {
        // Junk after a closing quote.
        assert_eq!(
            rows("a,b\n\"x\"y,1\nc,d\n", b',', true),
            vec![ok(1, &["a", "b"]), Err(2), ok(3, &["c", "d"])]
        );
        // A quote never closed: the row's first line is bad, the lines after it are read.
        assert_eq!(
            rows("a,b\n\"x,1\nc,d\ne,f\n", b',', true),
            vec![
                ok(1, &["a", "b"]),
                Err(2),
                ok(3, &["c", "d"]),
                ok(4, &["e", "f"])
            ]
        );
        let error = Parser::new(b"a,\"b\"c", b',', true)
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(error.field, 1);
        assert!(error.reason.contains("'c'"), "{}", error.reason);
    }

    #[test]
    fn skips_a_byte_order_mark() {
        assert_eq!(rows("\u{feff}a,b\n", b',', true), vec![ok(1, &["a", "b"])]);
    }
}
