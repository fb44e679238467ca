//! Plain aligned text tables for the terminal.

/// Renders rows under a header, each column padded to its widest cell.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let n = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
        &mut out,
    );
    for row in rows {
        line(row.iter().take(n).map(String::as_str).collect(), &mut out);
    }
    out
}

/// A confusion matrix with true classes as rows and predicted classes as columns.
pub fn confusion(classes: &[String], matrix: &[Vec<u64>]) -> String {
    let mut header = vec!["true \\ predicted"];
    header.extend(classes.iter().map(String::as_str));
    let rows: Vec<Vec<String>> = classes
        .iter()
        .zip(matrix)
        .map(|(class, counts)| {
            let mut row = vec![class.clone()];
            row.extend(counts.iter().map(u64::to_string));
            row
        })
        .collect();
    render(&header, &rows)
}

/// A metric value with enough digits to compare runs.
pub fn metric(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.abs() >= 1000.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}
