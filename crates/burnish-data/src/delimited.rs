//! Delimited text (CSV, TSV) split into rows by the `csv` crate, with line numbers and recovery
//! from badly quoted rows.
//!
//! With quoting on, fields follow RFC 4180: a field that starts with `"` runs to the next lone `"`
//! (`""` inside is one quote, and line breaks inside belong to the field); a quote inside an
//! unquoted field is a literal character, as in Python's `csv` and pandas. With quoting off
//! (GLUE-style TSV), every line is one row and quotes are ordinary characters.
//!
//! The `csv` crate has no strict mode (BurntSushi/rust-csv#77): it reads `"a"b` as `ab` and lets
//! a quote that is never closed swallow the rest of the file. So each row's bytes are checked
//! here too ([`check_quoting`]); a badly quoted row is a [`RowError`] and reading goes on at the
//! next line, where the next row starts if the stray quote was a typo.
//!
//! Rows end at `\n`, `\r\n` or `\r`. Empty lines are skipped, and so is a leading UTF-8 byte-order
//! mark. Fields are bytes: UTF-8 is checked by the caller, for the fields it uses.

use csv::ByteRecord;

/// One row: its fields and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawRow {
    /// The 1-based line the row starts on.
    pub line: usize,
    /// The fields, unquoted.
    pub fields: ByteRecord,
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
pub(crate) struct Parser<'a> {
    data: &'a [u8],
    builder: csv::ReaderBuilder,
    reader: csv::Reader<&'a [u8]>,
    /// Where `reader`'s input starts in `data` (it restarts after a badly quoted row).
    offset: usize,
    /// A byte offset in `data` and the 1-based line it is on, moved forward row by row.
    counted: (usize, usize),
    delimiter: u8,
    quoting: bool,
}

impl<'a> Parser<'a> {
    /// A parser over `data` (a leading UTF-8 byte-order mark is skipped).
    pub fn new(data: &'a [u8], delimiter: u8, quoting: bool) -> Self {
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let mut builder = csv::ReaderBuilder::new();
        builder
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .quoting(quoting);
        Self {
            data,
            reader: builder.from_reader(data),
            builder,
            offset: 0,
            counted: (0, 1),
            delimiter,
            quoting,
        }
    }

    /// The offset of the reader in `data`.
    fn byte_offset(&self) -> usize {
        self.offset + self.reader.position().byte() as usize
    }

    /// The line `pos` is on; `pos` never moves backwards from one call to the next.
    fn line_at(&mut self, pos: usize) -> usize {
        let (from, line) = self.counted;
        let line = line + self.data[from..pos].iter().filter(|&&b| b == b'\n').count();
        self.counted = (pos, line);
        line
    }

    /// Starts reading again at the line after the one `pos` is on.
    fn restart_after_line(&mut self, pos: usize) {
        self.offset = match self.data[pos..].iter().position(|&b| b == b'\n') {
            Some(end) => pos + end + 1,
            None => self.data.len(),
        };
        self.reader = self.builder.from_reader(&self.data[self.offset..]);
    }
}

impl Iterator for Parser<'_> {
    type Item = Result<RawRow, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let before = self.byte_offset();
        let mut fields = ByteRecord::new();
        let read = self.reader.read_byte_record(&mut fields);
        let end = self.byte_offset();
        // The csv reader skips empty lines before a row: the row starts after them.
        let skipped = self.data[before..end]
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        let start = before + skipped;
        let line = self.line_at(start);
        match read {
            Ok(false) => None,
            // Reading from memory with flexible row lengths does not fail; report it if it does.
            Err(error) => Some(Err(RowError {
                line,
                field: 0,
                reason: error.to_string(),
            })),
            Ok(true) => {
                let checked = if self.quoting {
                    check_quoting(&self.data[start..end], self.delimiter)
                } else {
                    Ok(())
                };
                match checked {
                    Ok(()) => Some(Ok(RawRow { line, fields })),
                    Err((field, reason)) => {
                        self.restart_after_line(start);
                        Some(Err(RowError {
                            line,
                            field,
                            reason,
                        }))
                    }
                }
            }
        }
    }
}

/// Checks the quoting of one row's bytes as RFC 4180 wants it: a quoted field must be closed,
/// and only a delimiter or the row's end may follow its closing quote. `Err` holds the 0-based
/// field and the reason.
fn check_quoting(row: &[u8], delimiter: u8) -> Result<(), (usize, String)> {
    let (mut i, mut field) = (0, 0);
    loop {
        if row.get(i) == Some(&b'"') {
            // Past the closing quote, stepping over doubled quotes.
            i += 1;
            loop {
                let Some(quote) = row[i..].iter().position(|&b| b == b'"') else {
                    return Err((field, "a quoted field is never closed".to_owned()));
                };
                i += quote + 1;
                if row.get(i) != Some(&b'"') {
                    break;
                }
                i += 1;
            }
            match row.get(i) {
                None | Some(b'\n' | b'\r') => return Ok(()),
                Some(&b) if b == delimiter => {}
                Some(&b) => {
                    return Err((
                        field,
                        format!(
                            "unexpected {} after the closing quote of a quoted field",
                            describe_byte(b)
                        ),
                    ));
                }
            }
        } else {
            match row[i..]
                .iter()
                .position(|&b| b == delimiter || b == b'\n' || b == b'\r')
            {
                Some(end) if row[i + end] == delimiter => i += end,
                _ => return Ok(()),
            }
        }
        // Past the delimiter, to the next field.
        i += 1;
        field += 1;
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
                        .iter()
                        .map(|f| String::from_utf8(f.to_vec()).unwrap())
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
        assert_eq!(
            rows("\r\n\r\na,b\r\n\r\n\r\nc,d\r\n", b',', true),
            vec![ok(3, &["a", "b"]), ok(6, &["c", "d"])]
        );
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
        // A quoted line break before the bad quote: reading resumes on the row's second line.
        assert_eq!(
            rows("a,b\n\"x\ny\"z,1\n\"c\",d\n", b',', true),
            vec![
                ok(1, &["a", "b"]),
                Err(2),
                ok(3, &["y\"z", "1"]),
                ok(4, &["c", "d"])
            ]
        );
        let error = Parser::new(b"a,\"b\"c", b',', true)
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(error.field, 1);
        assert!(error.reason.contains("'c'"), "{}", error.reason);
        let error = Parser::new(b"a,b,\"c\n", b',', true)
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(
            (error.field, error.reason.as_str()),
            (2, "a quoted field is never closed")
        );
    }

    #[test]
    fn skips_a_byte_order_mark() {
        assert_eq!(rows("\u{feff}a,b\n", b',', true), vec![ok(1, &["a", "b"])]);
        assert_eq!(
            rows("\u{feff}\"a\",b\n", b',', true),
            vec![ok(1, &["a", "b"])]
        );
    }
}
