//! Number formatting for the human summary of a fitted pipeline.

/// Up to six decimals, trailing zeros trimmed: 37, 38.581647, -0.5.
pub(crate) fn num(x: f64) -> String {
    let s = format!("{x:.6}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn trims() {
        assert_eq!(super::num(37.0), "37");
        assert_eq!(super::num(-0.5), "-0.5");
        assert_eq!(super::num(1.0 / 3.0), "0.333333");
    }
}
