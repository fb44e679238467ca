//! Dataset versions on real data: the same table as CSV, re-saved CSV and Parquet has one
//! version; one changed cell changes exactly that column's chunk; appended rows keep the
//! earlier full chunks; ignoring row order makes shuffled rows equal.

use std::path::{Path, PathBuf};

use capstan_frame::{Column, Frame, ReadOptions};
use capstan_io::rng::Rng;
use capstan_quality::version::{
    CHUNK_ROWS, DatasetVersion, VersionOptions, dataset_version, short,
};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../../shared/data/{name}/{name}.csv"))
}

fn read(path: &Path) -> Frame {
    capstan_frame::read(path, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn version(frame: &Frame) -> DatasetVersion {
    dataset_version(frame, &VersionOptions::default())
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "capstan-quality-version-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `frame` with column `c` replaced by `column`.
fn with_column(frame: &Frame, c: usize, column: Column) -> Frame {
    let columns = frame
        .schema()
        .fields
        .iter()
        .zip(frame.columns())
        .enumerate()
        .map(|(i, (f, col))| {
            let col = if i == c { column.clone() } else { col.clone() };
            (f.name.clone(), col)
        })
        .collect();
    Frame::from_columns(columns).expect("same shape")
}

#[test]
fn csv_resaved_csv_and_parquet_have_one_version() {
    let scratch = Scratch::new("formats");
    for name in ["adult", "titanic", "california_housing"] {
        let frame = read(&data(name));
        let v = version(&frame);
        assert_eq!(v.version.len(), 64);
        assert!(
            v.version
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(short(&v.version).len(), 12);
        assert_eq!((v.n_rows, v.n_cols()), (frame.n_rows(), frame.n_cols()));

        let csv = scratch.0.join(format!("{name}.csv"));
        let parquet = scratch.0.join(format!("{name}.parquet"));
        capstan_frame::write_csv(&frame, &csv).expect("write csv");
        capstan_frame::write_parquet(&frame, &parquet).expect("write parquet");
        let from_csv = read(&csv);
        let from_parquet = read(&parquet);
        assert_eq!(from_csv.schema().fields.len(), frame.n_cols());
        assert_eq!(
            version(&from_csv).version,
            v.version,
            "{name}: re-saved csv"
        );
        assert_eq!(version(&from_parquet).version, v.version, "{name}: parquet");
        assert_eq!(
            version(&from_parquet).columns,
            v.columns,
            "{name}: chunk hashes"
        );
    }
}

#[test]
fn line_endings_and_quoting_do_not_change_the_version() {
    let scratch = Scratch::new("quoting");
    let path = data("adult");
    let text = std::fs::read_to_string(&path).expect("read adult");
    assert!(
        !text.contains('"'),
        "adult has no quotes, so splitting on commas is exact"
    );
    let quoted: String = text
        .lines()
        .map(|line| {
            let cells: Vec<String> = line.split(',').map(|c| format!("\"{c}\"")).collect();
            cells.join(",") + "\r\n"
        })
        .collect();
    let copy = scratch.0.join("adult.csv");
    std::fs::write(&copy, quoted).expect("write copy");
    assert_ne!(
        capstan_frame::file_sha256(&copy).expect("hash copy"),
        capstan_frame::file_sha256(&path).expect("hash adult")
    );
    assert_eq!(version(&read(&copy)).version, version(&read(&path)).version);
}

#[test]
fn one_changed_cell_changes_exactly_its_chunk() {
    // 245057 rows: four chunks per column.
    let frame = read(&data("skin_segmentation"));
    let base = version(&frame);
    assert_eq!(
        base.columns[0].chunks.len(),
        frame.n_rows().div_ceil(CHUNK_ROWS)
    );
    assert_eq!(base.columns[0].chunks.len(), 4);
    let mut rng = Rng::new(7);
    for _ in 0..12 {
        let c = rng.below(frame.n_cols() as u64) as usize;
        let r = rng.below(frame.n_rows() as u64) as usize;
        let col = &frame.columns()[c];
        // Another row holding a different value: its value goes into row r.
        let s = (0..frame.n_rows())
            .map(|k| (r + 1 + k * 7919) % frame.n_rows())
            .find(|&s| col.display_at(s) != col.display_at(r))
            .expect("the column has two values");
        let mut idx: Vec<usize> = (0..frame.n_rows()).collect();
        idx[r] = s;
        let changed = version(&with_column(&frame, c, col.take(&idx)));
        assert_ne!(changed.version, base.version, "cell ({r}, {c})");
        for (k, (a, b)) in base.columns.iter().zip(&changed.columns).enumerate() {
            let differing: Vec<usize> = (0..a.chunks.len())
                .filter(|&j| a.chunks[j] != b.chunks[j])
                .collect();
            let expected = if k == c {
                vec![r / CHUNK_ROWS]
            } else {
                Vec::new()
            };
            assert_eq!(differing, expected, "cell ({r}, {c}), column {k}");
        }
    }
}

#[test]
fn appending_rows_keeps_the_earlier_full_chunks() {
    let frame = read(&data("skin_segmentation"));
    let full = version(&frame);
    let mut rng = Rng::new(11);
    for _ in 0..4 {
        let n = CHUNK_ROWS + rng.below((frame.n_rows() - CHUNK_ROWS) as u64) as usize;
        let prefix = version(&frame.take(&(0..n).collect::<Vec<_>>()));
        assert_ne!(prefix.version, full.version);
        let whole_chunks = n / CHUNK_ROWS;
        for (a, b) in prefix.columns.iter().zip(&full.columns) {
            assert_eq!(
                a.chunks[..whole_chunks],
                b.chunks[..whole_chunks],
                "prefix {n}"
            );
            if n % CHUNK_ROWS != 0 {
                assert_ne!(a.chunks[whole_chunks], b.chunks[whole_chunks], "prefix {n}");
            }
        }
    }
}

#[test]
fn ignoring_row_order_makes_shuffles_equal() {
    let frame = read(&data("adult"));
    let unordered = VersionOptions {
        ignore_row_order: true,
    };
    let base = dataset_version(&frame, &unordered);
    assert!(base.row_order_ignored);
    assert_ne!(base.version, version(&frame).version);
    let mut idx: Vec<usize> = (0..frame.n_rows()).collect();
    Rng::new(3).shuffle(&mut idx);
    let shuffled = frame.take(&idx);
    assert_ne!(version(&shuffled).version, version(&frame).version);
    let again = dataset_version(&shuffled, &unordered);
    assert_eq!(again.version, base.version);
    assert_eq!(again.columns, base.columns);
    // A different multiset of rows (one row twice, one missing) differs.
    idx[0] = idx[1];
    let other = dataset_version(&frame.take(&idx), &unordered);
    assert_ne!(other.version, base.version);
}

#[test]
fn column_names_and_types_are_part_of_the_version() {
    let frame = read(&data("titanic"));
    let base = version(&frame);
    let renamed = Frame::from_columns(
        frame
            .schema()
            .fields
            .iter()
            .zip(frame.columns())
            .enumerate()
            .map(|(i, (f, c))| {
                let name = if i == 0 {
                    format!("{}_x", f.name)
                } else {
                    f.name.clone()
                };
                (name, c.clone())
            })
            .collect(),
    )
    .expect("renamed");
    let renamed = version(&renamed);
    assert_ne!(renamed.version, base.version);
    assert_eq!(renamed.columns[0].chunks, base.columns[0].chunks);
    let dropped = version(&frame.drop_columns(&[frame.schema().fields[0].name.as_str()]));
    assert_ne!(dropped.version, base.version);
    // The same rows read again give the same version (determinism across thread counts is
    // by construction: hashes are collected in column and chunk order).
    assert_eq!(version(&read(&data("titanic"))).version, base.version);
}
