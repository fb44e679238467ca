//! `read_postgres` against the real PostgreSQL server (`CAPSTAN_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`): titanic loaded with COPY reads back equal to
//! the CSV, every supported type maps, unsupported types and bad queries are clear errors.
//! Without a server the tests skip with a note, except under `CI`, where they fail.

mod common;

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use capstan_frame::{Column, DataType, Field, Frame, ReadOptions, Schema, read, read_postgres};
use common::dataset;
use postgres::{Client, NoTls};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn base_url() -> String {
    std::env::var("CAPSTAN_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_string())
}

fn connect(url: &str) -> Result<Client, postgres::Error> {
    let mut config: postgres::Config = url.parse()?;
    config.connect_timeout(Duration::from_secs(5));
    config.notice_callback(|_| {});
    config.connect(NoTls)
}

/// Whether the server answers; panics under CI when it does not.
fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| match connect(&base_url()) {
        Ok(_) => true,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but the test PostgreSQL at {} cannot be reached: {e}",
                base_url()
            );
            eprintln!(
                "skipping PostgreSQL tests: cannot reach {} ({e})",
                base_url()
            );
            false
        }
    })
}

/// A private schema, dropped on drop (named and commented like capstan-store's test
/// schemas, so a stale one is swept by their next run).
struct PgSchema {
    name: String,
    client: Client,
}

impl PgSchema {
    fn new(test: &str) -> Option<PgSchema> {
        static N: AtomicU64 = AtomicU64::new(0);
        if !available() {
            return None;
        }
        let name = format!(
            "capstan_t_frame_{test}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut client = connect(&base_url()).expect("connect");
        client
            .batch_execute(&format!(
                "CREATE SCHEMA {name}; COMMENT ON SCHEMA {name} IS '{created}'"
            ))
            .expect("create schema");
        Some(PgSchema { name, client })
    }

    /// titanic.csv loaded with COPY into `<schema>.titanic`, an `id` column keeping file order.
    fn load_titanic(&mut self) {
        let s = &self.name;
        self.client
            .batch_execute(&format!(
                "CREATE TABLE {s}.titanic (id bigserial PRIMARY KEY, pclass smallint,
                 name text, sex varchar(10), age numeric, sibsp integer, parch bigint,
                 ticket text, fare double precision, cabin text, embarked text,
                 survived integer)"
            ))
            .expect("create table");
        let csv = std::fs::read(dataset("titanic")).expect("read titanic.csv");
        let mut writer = self
            .client
            .copy_in(&format!(
                "COPY {s}.titanic (pclass, name, sex, age, sibsp, parch, ticket, fare, cabin,
                 embarked, survived) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ))
            .expect("copy in");
        writer.write_all(&csv).expect("copy rows");
        assert_eq!(writer.finish().expect("copy done"), 891);
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let _ = self
            .client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

fn query(sql: &str) -> Result<Frame, capstan_frame::FrameError> {
    read_postgres(&base_url(), sql, &ReadOptions::default())
}

#[test]
fn titanic_from_postgres_equals_the_csv() {
    let Some(mut pg) = PgSchema::new("titanic") else {
        return;
    };
    pg.load_titanic();
    let sql = format!(
        "SELECT pclass, name, sex, age, sibsp, parch, ticket, fare, cabin, embarked, survived
         FROM {}.titanic ORDER BY id",
        pg.name
    );
    let from_pg = query(&sql).expect("query reads");
    let from_csv = read(&dataset("titanic"), &ReadOptions::default()).expect("csv reads");
    assert_eq!((from_pg.n_rows(), from_pg.n_cols()), (891, 11));
    assert_eq!(from_pg.schema(), from_csv.schema());
    assert_eq!(from_pg.require("age").expect("age").null_count(), 177);
    for (field, (a, b)) in from_pg
        .schema()
        .fields
        .iter()
        .zip(from_pg.columns().iter().zip(from_csv.columns()))
    {
        if let Some(i) = (0..a.len()).find(|&i| a.display_at(i) != b.display_at(i)) {
            panic!(
                "column '{}' row {}: {:?} from postgres, {:?} from csv",
                field.name,
                i + 1,
                a.display_at(i),
                b.display_at(i)
            );
        }
    }
    assert_eq!(from_pg, from_csv);

    // A forced schema converts losslessly, or says why not.
    let force = |name: &str, dtype| ReadOptions {
        schema: Some(Schema::new(vec![Field {
            name: name.to_string(),
            dtype,
            nullable: true,
        }])),
        ..ReadOptions::default()
    };
    let forced = read_postgres(&base_url(), &sql, &force("pclass", DataType::String))
        .expect("integers convert to text");
    assert_eq!(
        forced.require("pclass").expect("pclass").str_at(0),
        Some("3")
    );
    let err = read_postgres(&base_url(), &sql, &force("fare", DataType::Integer))
        .expect_err("fares have fractions")
        .to_string();
    assert!(
        err.contains("column 'fare'") && err.contains("is not a whole number"),
        "{err}"
    );
}

#[test]
fn every_supported_type_maps_and_nulls_survive() {
    let Some(mut pg) = PgSchema::new("types") else {
        return;
    };
    let s = pg.name.clone();
    pg.client
        .batch_execute(&format!(
            "CREATE DOMAIN {s}.positive AS integer CHECK (VALUE > 0);
             CREATE TABLE {s}.types (id int PRIMARY KEY, i2 int2, i4 int4, i8 int8,
                 f4 real, f8 float8, num numeric, b bool, t text, v varchar(20), c char(4),
                 n name, d date, ts timestamp, tz timestamptz, dom {s}.positive);
             SET TIME ZONE 'Europe/Paris';
             INSERT INTO {s}.types VALUES
               (1, -32768, 2147483647, 9007199254740993, 1.5, 0.1,
                12345.678901234567890123, true, 'a', 'héllo', 'ab', 'nm',
                '2024-02-29', '2024-02-29 10:11:12.5', '2024-02-29 10:11:12.5+02', 7),
               (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                NULL, NULL, NULL, NULL),
               (3, 7, -1, -9, -0.25, -1e10, -0.000001, false, '', '', '', '',
                '1969-12-31', '1900-01-01 00:00:00', '1970-01-01 00:00:00+00', 1)"
        ))
        .expect("create types");
    let frame = query(&format!(
        "SELECT i2, i4, i8, f4, f8, num, b, t, v, c, n, d, ts, tz, dom
         FROM {s}.types ORDER BY id"
    ))
    .expect("all types read");
    let dtypes: Vec<DataType> = frame.schema().fields.iter().map(|f| f.dtype).collect();
    use DataType::{Boolean, Date, Datetime, Float, Integer, String};
    assert_eq!(
        dtypes,
        [
            Integer, Integer, Integer, Float, Float, Float, Boolean, String, String, String,
            String, Date, Datetime, Datetime, Integer
        ]
    );
    // Row 2 is all NULL, in every column.
    for (field, column) in frame.schema().fields.iter().zip(frame.columns()) {
        assert!(column.is_null(1), "{} row 2", field.name);
        assert_eq!(column.null_count(), 1, "{}", field.name);
    }
    let text = |name: &str, row: usize| frame.require(name).expect(name).display_at(row);
    let expect = [
        ("i2", "-32768", "7"),
        ("i4", "2147483647", "-1"),
        ("i8", "9007199254740993", "-9"),
        ("f4", "1.5", "-0.25"),
        ("f8", "0.1", "-10000000000"),
        ("b", "true", "false"),
        ("t", "a", ""),
        ("v", "héllo", ""),
        ("c", "ab  ", "    "),
        ("n", "nm", ""),
        ("d", "2024-02-29", "1969-12-31"),
        ("ts", "2024-02-29T10:11:12.500", "1900-01-01T00:00:00"),
        // timestamptz is read in UTC, whatever the session's time zone.
        ("tz", "2024-02-29T08:11:12.500", "1970-01-01T00:00:00"),
        ("dom", "7", "1"),
    ];
    for (name, first, third) in expect {
        assert_eq!(text(name, 0).as_deref(), Some(first), "{name} row 1");
        assert_eq!(text(name, 2).as_deref(), Some(third), "{name} row 3");
    }
    // numeric: the nearest float to the exact decimal value.
    let Column::Float(num) = frame.require("num").expect("num") else {
        panic!("numeric reads as float");
    };
    let exact: f64 = "12345.678901234567890123".parse().expect("decimal");
    assert_eq!(num.value(0), exact);
    assert_eq!(num.value(2), -0.000001);
}

#[test]
fn unsupported_types_and_bad_queries_are_clear_errors() {
    if !available() {
        return;
    }
    let err = query("SELECT 1 AS ok, '{\"a\": 1}'::json AS payload")
        .expect_err("json is not a column type")
        .to_string();
    assert!(
        err.contains("column 'payload' has PostgreSQL type json")
            && err.contains("\"payload\"::text"),
        "{err}"
    );
    let err = query("SELECT gen_random_uuid() AS id")
        .expect_err("uuid is not a column type")
        .to_string();
    assert!(
        err.contains("column 'id' has PostgreSQL type uuid"),
        "{err}"
    );

    let err = query("SELECT * FROM capstan_no_such_table")
        .expect_err("no table")
        .to_string();
    assert!(
        err.starts_with(&base_url())
            && err.contains("query failed")
            && err.contains("\"capstan_no_such_table\" does not exist"),
        "{err}"
    );
    let err = query("SELECT 1 AS x WHERE false")
        .expect_err("no rows")
        .to_string();
    assert!(err.contains("no data: the query returned no rows"), "{err}");
    let err = query("SELECT 'infinity'::timestamp AS t")
        .expect_err("infinity")
        .to_string();
    assert!(
        err.contains("row 1, column 't': an infinite timestamp"),
        "{err}"
    );
    let err = query("SELECT 1 AS x, 2 AS x")
        .expect_err("duplicate names")
        .to_string();
    assert!(err.contains("duplicate column name 'x'"), "{err}");
}

#[test]
fn connection_errors_hide_the_password() {
    let url = "postgres://capstan:hunter2@127.0.0.1:1/test?connect_timeout=2";
    let err = read_postgres(url, "SELECT 1", &ReadOptions::default())
        .expect_err("nothing listens on port 1")
        .to_string();
    assert!(
        err.starts_with("postgres://capstan:***@127.0.0.1:1/test")
            && err.contains("cannot connect"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    let err = read_postgres(
        "postgres://u:pw@h/db?sslmode=bogus",
        "SELECT 1",
        &ReadOptions::default(),
    )
    .expect_err("bad url")
    .to_string();
    assert!(
        err.contains("invalid connection url") && !err.contains(":pw@"),
        "{err}"
    );
}
