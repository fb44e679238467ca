//! CSV reader: header row, quoting, any one-byte delimiter, per-column type inference.
//!
//! The text is cut into chunks at record boundaries (`csv_chunks`), chunks are read and
//! typed in parallel on the rayon pool (`csv_columns`), then joined in order. Records,
//! values, types, nulls, line numbers and errors are those of one serial pass.

use std::ops::ControlFlow;
use std::path::Path;

use rayon::prelude::*;

use crate::build::{row_of, shorten};
use crate::csv_chunks::{ChunkEnd, Record, cut_points, first_record, tokenize};
use crate::csv_columns::{ChunkColumn, final_type, join_column};
use crate::raw::{NullMatcher, TooLarge};
use crate::{DataType, Frame, FrameError, ReadOptions};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Chunks per pool thread (smaller chunks even out the threads' work).
const CHUNKS_PER_THREAD: usize = 4;
/// No chunk is made smaller than this.
const MIN_CHUNK: usize = 1 << 20;

pub(crate) fn read_csv(
    path: &Path,
    delimiter: u8,
    opts: &ReadOptions,
) -> Result<Frame, FrameError> {
    let data = read_file(path).map_err(|e| FrameError::io(path, e))?;
    let opts = ReadOptions {
        delimiter,
        ..opts.clone()
    };
    read_text(&data, path, &opts, None, chunk_size(data.len())).map_err(|e| match e {
        ReadBytesError::Frame(e) => e,
        // Unreachable: no row limit was given.
        ReadBytesError::TooManyRows { max } => FrameError::Invalid(format!("more than {max} rows")),
    })
}

/// The file's bytes; a large file is read in pieces on the rayon pool.
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        let file = std::fs::File::open(path)?;
        let size = file.metadata()?.len();
        if let Some(len) = usize::try_from(size).ok().filter(|&l| l >= 2 * MIN_CHUNK) {
            let piece = chunk_size(len);
            let mut data = vec![0u8; len];
            let read = data
                .par_chunks_mut(piece)
                .enumerate()
                .try_for_each(|(k, buf)| file.read_exact_at(buf, (k * piece) as u64));
            // A file that changed size while read is read again in one piece.
            let at_end = file.metadata()?.len() == size;
            if read.is_ok() && at_end {
                return Ok(data);
            }
        }
    }
    std::fs::read(path)
}

/// CSV text in memory (an HTTP body), read exactly as a `.csv` file is read by
/// [`read`](crate::read) with the same options: header row, quoting, null values, the types
/// `opts.schema` forces, inference for the other columns. `label` stands in for the path in
/// errors (row numbers are line numbers, the header being line 1). More than `max_rows`
/// data rows stop the read with [`ReadBytesError::TooManyRows`].
pub fn read_csv_bytes(
    bytes: &[u8],
    label: &Path,
    opts: &ReadOptions,
    max_rows: Option<usize>,
) -> Result<Frame, ReadBytesError> {
    read_text(bytes, label, opts, max_rows, chunk_size(bytes.len()))
}

/// Why in-memory text did not become a frame.
#[derive(Debug, thiserror::Error)]
pub enum ReadBytesError {
    /// More data rows than the caller allows.
    #[error("more than {max} rows")]
    TooManyRows { max: usize },
    #[error(transparent)]
    Frame(#[from] FrameError),
}

/// Target chunk length for `len` bytes of text: a few chunks per pool thread, one chunk
/// for small texts (spawning costs more than it saves).
fn chunk_size(len: usize) -> usize {
    let chunks = rayon::current_num_threads().max(1) * CHUNKS_PER_THREAD;
    (len / chunks + 1).max(MIN_CHUNK)
}

/// The chunks of the text after the header, read and checked.
struct Body<'a> {
    text: &'a [u8],
    /// Byte ranges of the chunks in `text`.
    ranges: Vec<(usize, usize)>,
    chunks: Vec<ChunkTable>,
}

/// One chunk's rows, typed per column.
struct ChunkTable {
    columns: Vec<ChunkColumn>,
    /// Line of each row: chunk-local while reading, then lines in the file.
    lines: Vec<u64>,
    /// A record with another field count than the header, after the rows: (line, fields).
    ragged: Option<(u64, usize)>,
    end: ChunkEnd,
}

/// Reads `data` (a whole CSV text) with chunks of about `chunk` bytes.
fn read_text(
    data: &[u8],
    path: &Path,
    opts: &ReadOptions,
    max_rows: Option<usize>,
    chunk: usize,
) -> Result<Frame, ReadBytesError> {
    let delimiter = opts.delimiter;
    let Some((header, start, header_line)) = first_record(data, delimiter) else {
        return Err(empty(path).into());
    };
    let names = header_names(&header, path)?;
    let forced: Vec<Option<DataType>> = names.iter().map(|n| opts.forced_type(n)).collect();
    let nulls = NullMatcher::new(&opts.null_values);
    let text = &data[start..];
    let cuts = cut_points(text, chunk);
    let ranges: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    let n = ranges.len();
    let read = |(a, b): (usize, usize), last: bool| {
        read_chunk(&text[a..b], delimiter, last, &forced, &nulls)
    };
    let parallel = n > 1;
    let jobs: Vec<(usize, (usize, usize))> = ranges.iter().copied().enumerate().collect();
    let chunks = map_all(jobs, parallel, |(k, r)| read(r, k + 1 == n));
    let mut body = Body {
        text,
        ranges,
        chunks,
    };
    body.reread_unclean(read);
    body.place_lines(header_line - 1, header_line);
    body.first_error(&names, &nulls, delimiter, path, max_rows)?;
    let n_rows: usize = body.chunks.iter().map(|c| c.lines.len()).sum();
    if n_rows == 0 {
        return Err(empty(path).into());
    }
    let dtypes: Vec<Option<DataType>> = (0..names.len())
        .map(|j| final_type(body.chunks.iter().map(|c| &c.columns[j]), forced[j]))
        .collect();
    // Errors by column, in column order, as when typing column by column.
    let bad: Vec<Option<FrameError>> = (0..names.len())
        .map(|j| bad_value(&body.chunks, j, &names[j], forced[j], path))
        .collect();
    body.fill_text(&dtypes, delimiter, &nulls, parallel);
    let lines: Vec<u64> = body
        .chunks
        .iter()
        .flat_map(|c| c.lines.iter().copied())
        .collect();
    let mut columns: Vec<Vec<ChunkColumn>> = names.iter().map(|_| Vec::new()).collect();
    for chunk in body.chunks {
        for (j, c) in chunk.columns.into_iter().enumerate() {
            columns[j].push(c);
        }
    }
    let jobs: Vec<_> = names
        .into_iter()
        .zip(columns)
        .zip(dtypes)
        .zip(bad)
        .collect();
    let built = map_all(jobs, parallel, |(((name, parts), dtype), bad)| match bad {
        Some(e) => Err(e),
        None => join_column(name, parts, dtype, &lines, path),
    });
    let built = built.into_iter().collect::<Result<Vec<_>, _>>()?;
    Frame::from_columns(built).map_err(ReadBytesError::from)
}

/// `f` over `items` in order, on the rayon pool when `parallel`.
fn map_all<I: Send, T: Send>(
    items: Vec<I>,
    parallel: bool,
    f: impl Fn(I) -> T + Sync + Send,
) -> Vec<T> {
    if parallel {
        items.into_par_iter().map(f).collect()
    } else {
        items.into_iter().map(f).collect()
    }
}

fn empty(path: &Path) -> FrameError {
    FrameError::Empty {
        path: path.to_path_buf(),
    }
}

/// Reads one chunk; it stops at a record with another field count than the header.
fn read_chunk(
    chunk: &[u8],
    delimiter: u8,
    last: bool,
    forced: &[Option<DataType>],
    nulls: &NullMatcher,
) -> ChunkTable {
    let rows = expected_rows(chunk);
    let mut columns: Vec<ChunkColumn> = forced.iter().map(|&f| ChunkColumn::new(f, rows)).collect();
    let mut lines = Vec::new();
    let mut ragged = None;
    let end = tokenize(chunk, delimiter, last, |line, record| {
        if record.len() != columns.len() {
            ragged = Some((line, record.len()));
            return ControlFlow::Break(());
        }
        for (column, field) in columns.iter_mut().zip(record.fields()) {
            column.push(field, nulls);
        }
        lines.push(line);
        ControlFlow::Continue(())
    });
    ChunkTable {
        columns,
        lines,
        ragged,
        end,
    }
}

/// Rows a chunk likely holds, from the lines in its first 64 KiB.
fn expected_rows(chunk: &[u8]) -> usize {
    const SAMPLE: usize = 1 << 16;
    let sample = &chunk[..chunk.len().min(SAMPLE)];
    let lines = memchr::memchr_iter(b'\n', sample).count().max(1);
    (chunk.len() / sample.len().max(1) + 1) * lines
}

impl Body<'_> {
    /// Makes every chunk start a record: a chunk that ended inside a record is read again
    /// together with the next chunk. Chunks after one stopped by a ragged record are
    /// dropped (the read ends there).
    fn reread_unclean(&mut self, read: impl Fn((usize, usize), bool) -> ChunkTable) {
        let mut k = 0;
        while k < self.chunks.len() {
            if self.chunks[k].end.stopped {
                self.chunks.truncate(k + 1);
                self.ranges.truncate(k + 1);
                return;
            }
            if !self.chunks[k].end.clean && k + 1 < self.chunks.len() {
                let joined = (self.ranges[k].0, self.ranges[k + 1].1);
                self.ranges.remove(k + 1);
                self.chunks.remove(k + 1);
                self.ranges[k] = joined;
                self.chunks[k] = read(joined, k + 1 == self.ranges.len());
                continue;
            }
            k += 1;
        }
    }

    /// Turns chunk-local lines into lines in the file. `newlines` counts the `\n` before
    /// the first chunk, `after_header` is where the serial reader placed the first record.
    fn place_lines(&mut self, mut newlines: u64, after_header: u64) {
        // A serial reader places a record at the line where the previous record ended
        // (blank lines after it are read with the next record).
        let mut after_last = after_header;
        for chunk in &mut self.chunks {
            for (r, line) in chunk.lines.iter_mut().enumerate() {
                *line = if r == 0 { after_last } else { *line + newlines };
            }
            if let Some((line, _)) = &mut chunk.ragged {
                *line = if chunk.lines.is_empty() {
                    after_last
                } else {
                    *line + newlines
                };
            }
            if let Some(l) = chunk.end.line_after_last {
                after_last = l + newlines;
            }
            newlines += chunk.end.newlines;
        }
    }

    /// The reading errors in the order a serial reader meets them: more rows than
    /// `max_rows`, a column's text over 2 GiB, a ragged record.
    fn first_error(
        &self,
        names: &[String],
        nulls: &NullMatcher,
        delimiter: u8,
        path: &Path,
        max_rows: Option<usize>,
    ) -> Result<(), ReadBytesError> {
        let limit = u64::try_from(i32::MAX).unwrap_or(u64::MAX);
        let mut text_bytes = vec![0u64; names.len()];
        let mut before = 0;
        for (k, chunk) in self.chunks.iter().enumerate() {
            let rows = chunk.lines.len();
            let records = rows + usize::from(chunk.ragged.is_some());
            // Record index (in the chunk) of the record that is one too many.
            let too_many = max_rows
                .and_then(|max| max.checked_sub(before))
                .filter(|&i| i < records);
            let over = chunk
                .columns
                .iter()
                .zip(&text_bytes)
                .any(|(c, &b)| b + c.text_bytes > limit);
            let too_large = if over {
                self.text_over_limit(k, &text_bytes, limit, nulls, delimiter)
            } else {
                None
            };
            match (too_many, too_large) {
                (Some(i), Some((r, _))) if i <= r => {
                    return Err(ReadBytesError::TooManyRows { max: before + i });
                }
                (Some(i), None) => return Err(ReadBytesError::TooManyRows { max: before + i }),
                (_, Some((_, j))) => return Err(TooLarge::error(path, &names[j]).into()),
                (None, None) => {}
            }
            if let Some((line, found)) = chunk.ragged {
                return Err(FrameError::Ragged {
                    path: path.to_path_buf(),
                    row: usize::try_from(line).unwrap_or(usize::MAX),
                    expected: names.len(),
                    found,
                }
                .into());
            }
            for (b, c) in text_bytes.iter_mut().zip(&chunk.columns) {
                *b += c.text_bytes;
            }
            before += rows;
        }
        Ok(())
    }

    /// The row and column of chunk `k` where a column's text first passes `limit`, cell
    /// by cell in file order, the columns holding `before` bytes before the chunk.
    fn text_over_limit(
        &self,
        k: usize,
        before: &[u64],
        limit: u64,
        nulls: &NullMatcher,
        delimiter: u8,
    ) -> Option<(usize, usize)> {
        let mut bytes = before.to_vec();
        let mut found = None;
        let mut row = 0;
        self.retokenize(k, delimiter, |record| {
            for (j, b) in bytes.iter_mut().enumerate() {
                let field = record.field(j);
                if !nulls.matches(field) {
                    *b += field.len() as u64;
                    if *b > limit {
                        found = Some((row, j));
                        return ControlFlow::Break(());
                    }
                }
            }
            row += 1;
            ControlFlow::Continue(())
        });
        found
    }

    /// Reads chunk `k` again (its rows, in order, all with the header's field count).
    fn retokenize(
        &self,
        k: usize,
        delimiter: u8,
        mut on_row: impl FnMut(&Record<'_>) -> ControlFlow<()>,
    ) {
        let (a, b) = self.ranges[k];
        let rows = self.chunks[k].lines.len();
        let mut seen = 0;
        tokenize(
            &self.text[a..b],
            delimiter,
            k + 1 == self.ranges.len(),
            |_, record| {
                if seen == rows {
                    return ControlFlow::Break(());
                }
                seen += 1;
                on_row(record)
            },
        );
    }

    /// Gives every string column the text of all its rows: rows typed before the column
    /// turned to text, and chunks where it did not.
    fn fill_text(
        &mut self,
        dtypes: &[Option<DataType>],
        delimiter: u8,
        nulls: &NullMatcher,
        parallel: bool,
    ) {
        let wanted: Vec<Vec<(usize, usize)>> = self
            .chunks
            .iter()
            .map(|chunk| {
                chunk
                    .columns
                    .iter()
                    .zip(dtypes)
                    .enumerate()
                    .filter_map(|(j, (c, &t))| {
                        let rows = c.missing_text(t.unwrap_or(DataType::Float));
                        (rows > 0).then_some((j, rows))
                    })
                    .collect()
            })
            .collect();
        let jobs: Vec<(usize, &Vec<(usize, usize)>)> = wanted.iter().enumerate().collect();
        let texts = map_all(jobs, parallel, |(k, want)| {
            self.leading_texts(k, want, delimiter, nulls)
        });
        for ((chunk, want), texts) in self.chunks.iter_mut().zip(&wanted).zip(texts) {
            for (&(j, _), (data, offsets)) in want.iter().zip(texts) {
                chunk.columns[j].prepend_text(data, offsets);
            }
        }
    }

    /// For each `(column, rows)`: the texts of the first `rows` rows of chunk `k`.
    fn leading_texts(
        &self,
        k: usize,
        want: &[(usize, usize)],
        delimiter: u8,
        nulls: &NullMatcher,
    ) -> Vec<(Vec<u8>, Vec<usize>)> {
        let mut texts: Vec<(Vec<u8>, Vec<usize>)> =
            want.iter().map(|_| (Vec::new(), vec![0])).collect();
        let Some(most) = want.iter().map(|&(_, rows)| rows).max() else {
            return texts;
        };
        let mut row = 0;
        self.retokenize(k, delimiter, |record| {
            for (&(j, rows), (data, offsets)) in want.iter().zip(&mut texts) {
                if row < rows {
                    let field = record.field(j);
                    if !nulls.matches(field) {
                        data.extend_from_slice(field);
                    }
                    offsets.push(data.len());
                }
            }
            row += 1;
            if row == most {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        texts
    }
}

/// The first cell of column `j` that does not parse as the type `forced` names.
fn bad_value(
    chunks: &[ChunkTable],
    j: usize,
    name: &str,
    forced: Option<DataType>,
    path: &Path,
) -> Option<FrameError> {
    let dtype = forced?;
    chunks.iter().find_map(|chunk| {
        let (row, text) = chunk.columns[j].failure()?;
        Some(FrameError::BadValue {
            path: path.to_path_buf(),
            row: row_of(&chunk.lines, row),
            column: name.to_string(),
            expected: dtype.name().to_string(),
            value: shorten(&String::from_utf8_lossy(text)),
        })
    })
}

/// Header names as UTF-8, without a byte-order mark, each name once.
fn header_names(record: &[Vec<u8>], path: &Path) -> Result<Vec<String>, FrameError> {
    let mut names: Vec<String> = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        let field = if i == 0 {
            field.strip_prefix(UTF8_BOM).unwrap_or(field)
        } else {
            field
        };
        let name = std::str::from_utf8(field).map_err(|_| {
            FrameError::format(
                path,
                format!(
                    "header column {}: expected utf-8 text, found '{}'",
                    i + 1,
                    String::from_utf8_lossy(field)
                ),
            )
        })?;
        if let Some(first) = names.iter().position(|n| n == name) {
            return Err(FrameError::format(
                path,
                format!(
                    "header: duplicate column name '{name}' (columns {} and {})",
                    first + 1,
                    i + 1
                ),
            ));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{ColumnPlan, TEXT_CANDIDATES, build_columns};
    use crate::raw::{RawColumn, RawTable};
    use crate::{Column, Field, Schema};

    /// The serial reader the chunked one replaced (one `csv` reader, then `build.rs`),
    /// kept as the oracle the chunked reader must match.
    fn serial(
        bytes: &[u8],
        path: &Path,
        opts: &ReadOptions,
        max_rows: Option<usize>,
    ) -> Result<Frame, ReadBytesError> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(opts.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut record = csv::ByteRecord::new();
        let more = |reader: &mut csv::Reader<&[u8]>, record: &mut csv::ByteRecord| {
            reader.read_byte_record(record).expect("reading memory")
        };
        if !more(&mut reader, &mut record) {
            return Err(empty(path).into());
        }
        let header: Vec<Vec<u8>> = record.iter().map(<[u8]>::to_vec).collect();
        let names = header_names(&header, path)?;
        let mut columns: Vec<RawColumn> = names.into_iter().map(RawColumn::new).collect();
        let nulls = NullMatcher::new(&opts.null_values);
        let mut lines = Vec::new();
        while more(&mut reader, &mut record) {
            if max_rows.is_some_and(|max| lines.len() >= max) {
                return Err(ReadBytesError::TooManyRows { max: lines.len() });
            }
            let line = record.position().map_or(0, |p| p.line());
            if record.len() != columns.len() {
                return Err(FrameError::Ragged {
                    path: path.to_path_buf(),
                    row: usize::try_from(line).expect("small"),
                    expected: columns.len(),
                    found: record.len(),
                }
                .into());
            }
            for (column, field) in columns.iter_mut().zip(record.iter()) {
                let pushed = if nulls.matches(field) {
                    column.push_null()
                } else {
                    column.push(field)
                };
                pushed.map_err(|_| TooLarge::error(path, &column.name))?;
            }
            lines.push(line);
        }
        if lines.is_empty() {
            return Err(empty(path).into());
        }
        let plans: Vec<ColumnPlan> = columns
            .iter()
            .map(|c| ColumnPlan {
                forced: opts.forced_type(&c.name),
                candidates: TEXT_CANDIDATES,
            })
            .collect();
        let built = build_columns(RawTable { columns, lines }, &plans, path, 1)?;
        Frame::from_columns(built).map_err(ReadBytesError::from)
    }

    /// Everything a frame holds, floats as bits, values under nulls included.
    fn canonical(frame: &Frame) -> Vec<String> {
        let mut out = vec![format!("{:?}", frame.schema())];
        for column in frame.columns() {
            let nulls: Vec<bool> = (0..column.len()).map(|i| column.is_null(i)).collect();
            out.push(format!("{:?} {nulls:?}", column.dtype()));
            out.push(match column {
                Column::Integer(a) => format!("{:?}", a.values().to_vec()),
                Column::Float(a) => {
                    let bits: Vec<u64> = a.values().iter().map(|x| x.to_bits()).collect();
                    format!("{bits:?}")
                }
                Column::Boolean(a) => format!("{:?}", a.values().iter().collect::<Vec<_>>()),
                Column::String(a) => format!("{:?} {:?}", a.offsets(), a.values().as_slice()),
                Column::Date(a) => format!("{:?}", a.values().to_vec()),
                Column::Datetime(a) => format!("{:?}", a.values().to_vec()),
            });
        }
        out
    }

    fn outcome(r: &Result<Frame, ReadBytesError>) -> Result<Vec<String>, String> {
        match r {
            Ok(frame) => Ok(canonical(frame)),
            Err(e) => Err(e.to_string()),
        }
    }

    fn assert_same(text: &[u8], opts: &ReadOptions, max_rows: Option<usize>, chunk: usize) {
        let path = Path::new("t.csv");
        let want = outcome(&serial(text, path, opts, max_rows));
        let got = outcome(&read_text(text, path, opts, max_rows, chunk));
        assert_eq!(
            got,
            want,
            "chunk {chunk}, max_rows {max_rows:?}, opts {opts:?}, text {:?}",
            String::from_utf8_lossy(text)
        );
    }

    #[test]
    fn real_files_read_as_serially() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        let mut seen = 0;
        for dir in std::fs::read_dir(&data).expect("shared data") {
            let dir = dir.expect("entry").path();
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for file in entries {
                let file = file.expect("entry").path();
                if file.extension().is_none_or(|e| e != "csv") {
                    continue;
                }
                let text = std::fs::read(&file).expect("readable");
                for chunk in [1 << 12, 100_003, usize::MAX / 2] {
                    assert_same(&text, &ReadOptions::default(), None, chunk);
                }
                seen += 1;
            }
        }
        assert!(
            seen >= 10,
            "only {seen} csv files found in {}",
            data.display()
        );
    }

    /// A small deterministic generator (xorshift).
    struct Dice(u64);

    impl Dice {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    const FAMILIES: &[&[&str]] = &[
        &["12", "-0", "+7", " 3 ", "0", "-45", "007"],
        &[
            "1.5",
            "-0.0",
            "1e300",
            "0.1",
            ".5",
            "2.",
            "-3",
            "9007199254740993",
            "1E-7",
        ],
        &["true", "FALSE", " True ", "false"],
        &["2024-02-29", "1970-01-01", "1969-12-31"],
        &["2024-01-01T10:11:12", "1970-01-01 00:00:01.5", "2024-02-29"],
        &[
            "abc",
            "a b",
            "\"x,y\"",
            "\"l1\nl2\"",
            "\"say \"\"hi\"\"\"",
            "ab\"c",
            "é",
        ],
    ];
    const ODD: &[&str] = &[
        "",
        "",
        "NA",
        "inf",
        "NaN",
        "x",
        "\u{feff}1",
        "1.5",
        "7",
        "true",
        "2024-01-01",
        "9223372036854775808",
        "\"\"",
        "\"3\"",
        "\"a\r\nb\"",
    ];

    fn random_text(dice: &mut Dice) -> (Vec<u8>, Vec<usize>) {
        let n_cols = 1 + dice.below(4);
        let families: Vec<usize> = (0..n_cols).map(|_| dice.below(FAMILIES.len())).collect();
        let terminators = ["\n", "\n", "\r\n", "\r"];
        let term = terminators[dice.below(terminators.len())];
        let mut text = Vec::new();
        if dice.below(5) == 0 {
            text.extend_from_slice(b"\xEF\xBB\xBF");
        }
        let header: Vec<String> = (0..n_cols).map(|j| format!("c{j}")).collect();
        text.extend_from_slice(header.join(",").as_bytes());
        let rows = dice.below(60);
        for _ in 0..rows {
            text.extend_from_slice(term.as_bytes());
            if dice.below(15) == 0 {
                text.extend_from_slice(term.as_bytes());
            }
            let mut cols = n_cols;
            if dice.below(80) == 0 {
                cols = if dice.below(2) == 0 {
                    cols + 1
                } else {
                    cols - 1
                };
            }
            let cells: Vec<&[u8]> = (0..cols)
                .map(|j| {
                    let family = families.get(j).map_or(0, |&f| f);
                    match dice.below(12) {
                        0 => dice.pick(ODD).as_bytes(),
                        1 if dice.below(20) == 0 => b"\xff\xfe".as_slice(),
                        _ => dice.pick(FAMILIES[family]).as_bytes(),
                    }
                })
                .collect();
            text.extend_from_slice(&cells.join(&b","[..]));
        }
        if dice.below(2) == 0 {
            text.extend_from_slice(term.as_bytes());
        }
        (text, families)
    }

    #[test]
    fn generated_texts_read_as_serially() {
        let mut dice = Dice(0x2545_F491_4F6C_DD1D);
        let types = [
            DataType::Integer,
            DataType::Float,
            DataType::Boolean,
            DataType::String,
            DataType::Date,
            DataType::Datetime,
        ];
        for _ in 0..3000 {
            let (text, families) = random_text(&mut dice);
            let mut opts = ReadOptions::default();
            if dice.below(4) == 0 {
                opts.null_values = vec![String::new(), "NA".to_string()];
            }
            if dice.below(4) == 0 {
                let mut fields = Vec::new();
                for j in 0..families.len() {
                    if dice.below(2) == 0 {
                        fields.push(Field {
                            name: format!("c{j}"),
                            dtype: types[dice.below(types.len())],
                            nullable: true,
                        });
                    }
                }
                opts.schema = Some(Schema::new(fields));
            }
            let max_rows = (dice.below(5) == 0).then(|| dice.below(40));
            for chunk in [1, 2 + dice.below(40), 1 << 20] {
                assert_same(&text, &opts, max_rows, chunk);
            }
        }
    }

    #[test]
    fn odd_texts_read_as_serially() {
        let texts: &[&[u8]] = &[
            b"",
            b"\n\n",
            b"\xEF\xBB\xBF",
            b"a,b",
            b"a,b\n",
            b"a,b\r\n\r\n",
            b"a,a\n1,2\n",
            b"\xffa,b\n1,2\n",
            b"a\n\n\n1\n\n2\n\n",
            b"a\r\n1\r\n\xEF\xBB\xBF2\r\n",
            b"a\n\"1\n2\n3\"\n4\n\"5\n",
            b"a,b\n1,2\n3\n4,5\n",
            b"a,b\n1,2\n3,4,5\n",
            b"a\n1\n-0\n1.5\n",
            b"a\n-0\nx\n",
            b"a\n2024-01-01\n2024-01-01T00:00:01\n",
            b"a\n\n\n\n",
            b"a;b\n1;2\n",
        ];
        for text in texts {
            for chunk in [1, 3, 1 << 20] {
                assert_same(text, &ReadOptions::default(), None, chunk);
                assert_same(text, &ReadOptions::default(), Some(1), chunk);
            }
        }
    }
}
