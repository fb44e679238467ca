//! Untrusted input never panics: random small CSV and JSON lines files read to Ok or Err.

mod common;

use capstan_frame::{DataType, Field, ReadOptions, Schema, read};
use common::{scratch_dir, write_file};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, items: &[&'a [u8]]) -> &'a [u8] {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const CSV_PIECES: &[&[u8]] = &[
    b"a",
    b",",
    b"\n",
    b"\r\n",
    b"\"",
    b"1",
    b"-2.5",
    b"true",
    b"2024-01-01",
    b"2024-01-01T00:00:00",
    b"\xff",
    b"\xef\xbb\xbf",
    b"",
    b" ",
    b"9999999999999999999",
    b"NaN",
    b"{",
    b"}",
    b":",
    b"[",
];

const JSON_PIECES: &[&[u8]] = &[
    b"{\"a\":1}",
    b"{\"b\":\"x\"}",
    b"{\"a\":null}",
    b"{\"a\":1.5,\"b\":true}",
    b"\n",
    b"{",
    b"}",
    b"\"",
    b"[1]",
    b"{\"a\":{\"c\":1}}",
    b"\xff",
    b"{\"a\":\"2024-01-01\"}",
    b"18446744073709551615",
];

#[test]
fn random_inputs_never_panic() {
    let dir = scratch_dir("no_panic");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let forced = ReadOptions {
        schema: Some(Schema::new(vec![
            Field {
                name: "a".into(),
                dtype: DataType::Integer,
                nullable: true,
            },
            Field {
                name: "1".into(),
                dtype: DataType::Datetime,
                nullable: true,
            },
        ])),
        ..ReadOptions::default()
    };
    for case in 0..400 {
        let (pieces, name) = if case % 2 == 0 {
            (CSV_PIECES, "t.csv")
        } else {
            (JSON_PIECES, "t.jsonl")
        };
        let n = 1 + rng.next() % 40;
        let text: Vec<u8> = (0..n).flat_map(|_| rng.pick(pieces).to_vec()).collect();
        let path = write_file(&dir, name, &text);
        let opts = if case % 3 == 0 {
            &forced
        } else {
            &ReadOptions::default()
        };
        let _ = read(&path, opts);
    }
}
