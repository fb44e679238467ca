//! Atomic file writes: temp file in the same directory, fsync, rename.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `path` through `write` so that readers see either the old file or the whole new one.
///
/// `write` fills a buffered temp file created beside `path`; the temp file is then flushed,
/// fsynced and renamed onto `path`, and the directory is fsynced (best effort). On any error,
/// from `write` or from the file system, the temp file is removed and `path` is untouched.
/// File-system errors are turned into `E` by `io_err`.
pub fn write_atomic<E>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
    io_err: impl Fn(std::io::Error) -> E,
) -> Result<(), E> {
    let Some(name) = path.file_name() else {
        return Err(io_err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "expected a file path, found no file name",
        )));
    };
    let dir = parent_dir(path);
    let (temp_path, file) = create_temp(&dir, &name.to_string_lossy()).map_err(&io_err)?;
    let mut temp = TempFile {
        path: temp_path,
        keep: false,
    };
    let mut out = BufWriter::with_capacity(1 << 20, file);
    write(&mut out)?;
    out.flush().map_err(&io_err)?;
    let file = out.into_inner().map_err(|e| io_err(e.into_error()))?;
    file.sync_all().map_err(&io_err)?;
    drop(file);
    fs::rename(&temp.path, path).map_err(&io_err)?;
    temp.keep = true;
    // Persist the rename itself; not every platform can open a directory, so best effort.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A new, exclusive temp file in `dir`, named after the target file `name`.
fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, File)> {
    loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Removes the temp file when dropped (error or panic) unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            static N: AtomicU64 = AtomicU64::new(0);
            let path = std::env::temp_dir().join(format!(
                "capstan-io-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }

        fn entries(&self) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(&self.0)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn write_bytes(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        write_atomic(path, |out| out.write_all(bytes), |e| e)
    }

    #[test]
    fn writes_and_replaces() {
        let dir = TempDir::new("ok");
        let path = dir.0.join("a.txt");
        write_bytes(&path, b"first").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"first");
        write_bytes(&path, b"second, longer").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second, longer");
        assert_eq!(dir.entries(), vec!["a.txt"]);
    }

    #[test]
    fn failing_closure_leaves_no_temp_and_keeps_the_old_file() {
        let dir = TempDir::new("fail");
        let path = dir.0.join("a.txt");
        write_bytes(&path, b"old").unwrap();
        let e = write_atomic(
            &path,
            |out| {
                out.write_all(b"partial").map_err(|e| e.to_string())?;
                Err("boom".to_string())
            },
            |e| e.to_string(),
        )
        .unwrap_err();
        assert_eq!(e, "boom");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(dir.entries(), vec!["a.txt"]);

        // Not yet existing: still nothing left behind.
        let fresh = dir.0.join("b.txt");
        let e = write_atomic(&fresh, |_| Err("no"), |_| "io").unwrap_err();
        assert_eq!(e, "no");
        assert_eq!(dir.entries(), vec!["a.txt"]);
    }

    #[test]
    fn failing_rename_leaves_no_temp() {
        let dir = TempDir::new("rename");
        // Renaming a file onto a directory fails after the temp file was written.
        let target = dir.0.join("taken");
        fs::create_dir(&target).unwrap();
        assert!(write_bytes(&target, b"x").is_err());
        assert_eq!(dir.entries(), vec!["taken"]);
        assert!(target.is_dir());

        let e = write_bytes(&dir.0.join("no/such/dir/a.txt"), b"x").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn path_without_file_name_is_refused() {
        for path in ["/", "..", "a/.."] {
            let e = write_bytes(Path::new(path), b"x").unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{path}");
            assert!(e.to_string().contains("no file name"), "{e}");
        }
    }
}
