//! CSV text cut into chunks at record boundaries and tokenized chunk by chunk, so chunks
//! can be read in parallel and still give exactly the records, fields and line numbers of
//! one `csv` reader over the whole text (RFC 4180 quoting, `\n`, `\r` or `\r\n` ends a
//! record, blank lines skipped).
//!
//! A cut is made just after a `\n`. Whether that `\n` really ends a record (and is not
//! inside a quoted field) is only known by reading from the start, so each chunk is read
//! as if it started a record and reports whether it ended between records ([`ChunkEnd`]).
//! If chunk 0 starts a record (it does) and every chunk ends cleanly, every chunk started
//! a record and the chunked reading is the serial one; otherwise the caller rereads.

use std::ops::ControlFlow;

use csv_core::{ReadRecordResult, Reader as CoreReader, ReaderBuilder as CoreBuilder};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One record: its fields as spans of `buf`.
pub(crate) struct Record<'a> {
    buf: &'a [u8],
    spans: &'a [(usize, usize)],
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn field(&self, i: usize) -> &'a [u8] {
        let (a, b) = self.spans[i];
        &self.buf[a..b]
    }

    /// The fields in order.
    pub fn fields(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let buf = self.buf;
        self.spans.iter().map(move |&(a, b)| &buf[a..b])
    }
}

/// How reading one chunk ended.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkEnd {
    /// The chunk ended between two records (always so for the last chunk).
    pub clean: bool,
    /// The callback stopped the reading.
    pub stopped: bool,
    /// The chunk-local line (1 at the chunk's start) just after its last record, where a
    /// serial reader places the next record; `None` without records.
    pub line_after_last: Option<u64>,
    /// `\n` bytes in the chunk (when it was read to its end).
    pub newlines: u64,
}

/// Chunk starts: 0, then the first offset after a `\n` at or after each multiple of
/// `target`, never at a byte-order mark (a fresh reader would drop it). The last entry is
/// `data.len()`.
pub(crate) fn cut_points(data: &[u8], target: usize) -> Vec<usize> {
    let mut cuts = vec![0];
    let target = target.max(1);
    let mut from = target;
    while from < data.len() {
        let mut at = from;
        let cut = loop {
            match memchr::memchr(b'\n', &data[at..]) {
                Some(i) if !data[at + i + 1..].starts_with(UTF8_BOM) => break Some(at + i + 1),
                Some(i) => at += i + 1,
                None => break None,
            }
        };
        match cut {
            Some(c) if c < data.len() => {
                cuts.push(c);
                from = (c + target).max(from + target);
            }
            _ => break,
        }
    }
    cuts.push(data.len());
    cuts
}

/// The first record of `data` (the header) and the offset just after it, plus the line a
/// serial reader is at there; `None` when `data` holds no record.
pub(crate) fn first_record(data: &[u8], delimiter: u8) -> Option<(Vec<Vec<u8>>, usize, u64)> {
    let mut reader = Tokenizer::new(delimiter, false);
    match reader.next(data, 0, true) {
        Next::Record { end } => {
            let fields = reader.fields().map(<[u8]>::to_vec).collect();
            Some((fields, end, reader.core.line()))
        }
        _ => None,
    }
}

/// Reads the records of one chunk (which must start a record), calling `on_record` with
/// the chunk-local line of each (1 at the chunk's start) and the record.
pub(crate) fn tokenize(
    chunk: &[u8],
    delimiter: u8,
    last: bool,
    on_record: impl FnMut(u64, &Record<'_>) -> ControlFlow<()>,
) -> ChunkEnd {
    let plain =
        !matches!(delimiter, b'"' | b'\r' | b'\n') && memchr::memchr2(b'"', b'\r', chunk).is_none();
    if plain {
        tokenize_plain(chunk, delimiter, on_record)
    } else {
        tokenize_quoted(chunk, delimiter, last, on_record)
    }
}

/// Text without quotes or `\r`: records are the non-empty lines, fields split at the
/// delimiter, as `csv_core` reads them.
fn tokenize_plain(
    chunk: &[u8],
    delimiter: u8,
    mut on_record: impl FnMut(u64, &Record<'_>) -> ControlFlow<()>,
) -> ChunkEnd {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut line = 1;
    let mut record_line = 1;
    let mut any = false;
    let mut pos = 0;
    let n = chunk.len();
    while pos < n {
        if chunk[pos] == b'\n' {
            pos += 1;
            line += 1;
            continue;
        }
        spans.clear();
        let mut start = pos;
        let mut i = pos;
        while i < n {
            i = next_special(chunk, i, delimiter);
            if i >= n || chunk[i] == b'\n' {
                break;
            }
            spans.push((start, i));
            i += 1;
            start = i;
        }
        let i = i.min(n);
        spans.push((start, i));
        let record = Record {
            buf: chunk,
            spans: &spans,
        };
        if on_record(record_line, &record).is_break() {
            return ChunkEnd {
                clean: true,
                stopped: true,
                line_after_last: None,
                newlines: 0,
            };
        }
        any = true;
        if i < n {
            line += 1;
        }
        pos = i + 1;
        record_line = line;
    }
    ChunkEnd {
        clean: true,
        stopped: false,
        line_after_last: any.then_some(record_line),
        newlines: line - 1,
    }
}

/// The first offset from `i` on holding `delimiter` or `\n` (or one at or past the end),
/// eight bytes at a time.
#[inline]
fn next_special(chunk: &[u8], mut i: usize, delimiter: u8) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let delimiters = ONES * u64::from(delimiter);
    let newlines = ONES * u64::from(b'\n');
    while let Some(word) = chunk.get(i..i + 8) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let w = u64::from_le_bytes(bytes);
        // A high bit marks a byte equal to the delimiter or a newline; bits above the
        // first true match may be false, which `trailing_zeros` ignores.
        let d = w ^ delimiters;
        let l = w ^ newlines;
        let found = (d.wrapping_sub(ONES) & !d | l.wrapping_sub(ONES) & !l) & HIGHS;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < chunk.len() && chunk[i] != delimiter && chunk[i] != b'\n' {
        i += 1;
    }
    i
}

/// Any text, through `csv_core` (the `csv` crate's parser) with the `csv` crate's defaults.
fn tokenize_quoted(
    chunk: &[u8],
    delimiter: u8,
    last: bool,
    mut on_record: impl FnMut(u64, &Record<'_>) -> ControlFlow<()>,
) -> ChunkEnd {
    let mut reader = Tokenizer::new(delimiter, true);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut line_after_last = None;
    let mut pos = 0;
    loop {
        let line = reader.core.line();
        match reader.next(chunk, pos, last) {
            Next::Record { end } => {
                pos = end;
                spans.clear();
                let mut start = 0;
                for &e in &reader.ends[..reader.n_ends] {
                    spans.push((start, e));
                    start = e;
                }
                let buf = &reader.out[..reader.n_out];
                let record = Record { buf, spans: &spans };
                if on_record(line, &record).is_break() {
                    return ChunkEnd {
                        clean: true,
                        stopped: true,
                        line_after_last: None,
                        newlines: 0,
                    };
                }
                line_after_last = Some(reader.core.line());
            }
            Next::End => {
                return ChunkEnd {
                    clean: true,
                    stopped: false,
                    line_after_last,
                    newlines: reader.core.line() - 1,
                };
            }
            Next::Partial { empty } => {
                return ChunkEnd {
                    clean: empty,
                    stopped: false,
                    line_after_last,
                    newlines: reader.core.line() - 1,
                };
            }
        }
    }
}

/// What [`Tokenizer::next`] found.
enum Next {
    /// A record, ending at `end` in the input.
    Record { end: usize },
    /// The input ended (for good).
    End,
    /// The input (a chunk, not the end of the text) ended; `empty`: nothing of a next
    /// record was read, so the chunk ended between records.
    Partial { empty: bool },
}

/// A `csv_core` reader with room for one record.
struct Tokenizer {
    core: CoreReader,
    out: Vec<u8>,
    ends: Vec<usize>,
    n_out: usize,
    n_ends: usize,
}

impl Tokenizer {
    /// `mid_text`: the input does not start the text, so a byte-order mark there is data.
    fn new(delimiter: u8, mid_text: bool) -> Tokenizer {
        let mut core = CoreBuilder::new().delimiter(delimiter).build();
        if mid_text {
            // With no room for output the reader reads nothing, but counts as started
            // and so no longer drops a byte-order mark.
            let _ = core.read_record(b"x", &mut [], &mut [0]);
        }
        Tokenizer {
            core,
            out: vec![0; 1024],
            ends: vec![0; 32],
            n_out: 0,
            n_ends: 0,
        }
    }

    /// Reads the next record from `input[pos..]`. At the end of `input`, `at_end` says
    /// whether that is the end of the text.
    fn next(&mut self, input: &[u8], mut pos: usize, at_end: bool) -> Next {
        self.n_out = 0;
        self.n_ends = 0;
        if pos >= input.len() && !at_end {
            return Next::Partial { empty: true };
        }
        loop {
            let (res, n_in, n_out, n_ends) = self.core.read_record(
                &input[pos..],
                &mut self.out[self.n_out..],
                &mut self.ends[self.n_ends..],
            );
            pos += n_in;
            self.n_out += n_out;
            self.n_ends += n_ends;
            match res {
                ReadRecordResult::InputEmpty => {
                    if pos >= input.len() && !at_end {
                        return Next::Partial {
                            empty: self.n_out == 0 && self.n_ends == 0,
                        };
                    }
                }
                ReadRecordResult::OutputFull => {
                    let len = self.out.len();
                    self.out.resize(len * 2, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len();
                    self.ends.resize(len * 2, 0);
                }
                ReadRecordResult::Record => return Next::Record { end: pos },
                ReadRecordResult::End => return Next::End,
            }
        }
    }

    fn fields(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends[..self.n_ends].iter().map(move |&e| {
            let f = &self.out[start..e];
            start = e;
            f
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &[u8], cut: usize) -> Option<Vec<(u64, Vec<Vec<u8>>)>> {
        let cuts = cut_points(text, cut);
        let mut all = Vec::new();
        let mut base = 0;
        for (k, w) in cuts.windows(2).enumerate() {
            let last = k + 2 == cuts.len();
            let end = tokenize(&text[w[0]..w[1]], b',', last, |line, r| {
                let fields = (0..r.len()).map(|i| r.field(i).to_vec()).collect();
                all.push((line + base, fields));
                ControlFlow::Continue(())
            });
            if !end.clean {
                return None;
            }
            base += end.newlines;
        }
        Some(all)
    }

    #[test]
    fn cuts_follow_newlines_and_skip_byte_order_marks() {
        let text = b"ab\ncd\n\xEF\xBB\xBFx\nef\n";
        assert_eq!(cut_points(text, 1), vec![0, 3, 11, 14]);
        assert_eq!(cut_points(text, 100), vec![0, 14]);
        assert_eq!(cut_points(b"", 4), vec![0, 0]);
    }

    #[test]
    fn chunks_read_as_one_text() {
        let text = b"a,\"b\nc\",d\n\r\ne,f\r\n\n\"g\"\"h\",i\nj,k";
        let whole = records(text, usize::MAX).expect("one chunk is clean");
        assert_eq!(whole.len(), 4);
        assert_eq!(whole[1].1, vec![b"e".to_vec(), b"f".to_vec()]);
        assert_eq!(whole[2].1, vec![b"g\"h".to_vec(), b"i".to_vec()]);
        for cut in 1..text.len() {
            if let Some(chunked) = records(text, cut) {
                // Lines of first records in chunks are fixed by the caller; fields match.
                let fields: Vec<_> = chunked.iter().map(|r| &r.1).collect();
                assert_eq!(fields, whole.iter().map(|r| &r.1).collect::<Vec<_>>());
            }
        }
        // A cut inside the quoted field is detected.
        assert!(records(text, 3).is_none());
    }
}
