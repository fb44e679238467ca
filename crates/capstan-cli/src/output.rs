//! Writing results to stdout; a closed pipe (`capstan runs list | head`) ends quietly.

use std::io::{ErrorKind, Write};

/// Writes `text` to stdout. Exits 0 when the reader has gone away, 1 on other write errors.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(crate::exit::OK);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(crate::exit::FAILURE);
    }
}

/// `println!` to stdout through [`out`].
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::out("\n")
    };
    ($($arg:tt)*) => {
        $crate::output::out(&format!("{}\n", format_args!($($arg)*)))
    };
}
