//! The profile as one self-contained HTML page for people who do not read JSON: inline CSS,
//! inline SVG charts, no script, nothing fetched. Every piece of user data (column names,
//! values, the source) is escaped.

use std::fmt::Write as _;

use capstan_frame::DataType;

use super::findings::{measure_words, percent};
use super::{ColumnProfile, Histogram, Profile, ValueCount};

const STYLE: &str = "
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;background:#f6f7f9;color:#1d2430}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 10px;border-bottom:1px solid #d9dde3;padding-bottom:6px}
.sub{color:#5b6472;margin:0 0 16px;word-break:break-all}
.overview p{font-size:16px;line-height:1.5;margin:6px 0}
ul.findings{padding:0;list-style:none}ul.findings li{background:#fff;border-left:4px solid #e0a100;padding:10px 14px;margin:6px 0;border-radius:4px}
ul.findings li.leakage_suspect,ul.findings li.mostly_missing{border-left-color:#c62828}
ul.findings li .kind{display:inline-block;font-size:12px;color:#5b6472;min-width:130px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px}
.card{background:#fff;border-radius:6px;padding:14px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card h3{margin:0 0 6px;font-size:16px;word-break:break-all}
.badge{display:inline-block;font-size:12px;background:#e8ecf2;border-radius:10px;padding:1px 8px;margin-right:4px}
.badge.warn{background:#fde7c2}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;text-align:right}th{color:#5b6472;font-weight:600}
td.l,th.l{text-align:left}
.stats td:first-child{text-align:left;color:#5b6472}
.heat td{min-width:42px;font-variant-numeric:tabular-nums}
.heat th.rot{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left;max-height:140px;overflow:hidden}
.bar{display:inline-block;height:10px;background:#3b6fb6;border-radius:2px;vertical-align:middle}
.note{color:#5b6472;font-size:13px}
svg text{font-size:10px;fill:#5b6472}
";

/// The whole report.
pub fn render(p: &Profile) -> String {
    let mut h = String::with_capacity(64 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(h, "<title>Data profile: {}</title>", esc(&p.source));
    let _ = write!(h, "<style>{STYLE}</style></head><body><main>");
    let _ = write!(
        h,
        "<h1>Data profile</h1><p class=\"sub\">{}</p>",
        esc(&p.source)
    );
    overview(&mut h, p);
    findings(&mut h, p);
    target(&mut h, p);
    columns(&mut h, p);
    correlations(&mut h, p);
    h.push_str("</main></body></html>\n");
    h
}

fn overview(h: &mut String, p: &Profile) {
    h.push_str("<section class=\"overview\"><h2>Overview</h2>");
    let _ = write!(
        h,
        "<p>The table has <b>{}</b> rows and <b>{}</b> columns ({}).</p>",
        thousands(p.n_rows),
        thousands(p.n_cols),
        type_counts(&p.columns)
    );
    let cells = p.n_rows * p.n_cols;
    let missing: usize = p.columns.iter().map(|c| c.missing).sum();
    let with_missing = p.columns.iter().filter(|c| c.missing > 0).count();
    if missing == 0 {
        h.push_str("<p>No value is missing.</p>");
    } else {
        let _ = write!(
            h,
            "<p><b>{}</b> of {} cells ({}) are missing, in {} of the {} columns.</p>",
            thousands(missing),
            thousands(cells),
            percent(missing, cells),
            with_missing,
            p.n_cols
        );
    }
    if p.duplicate_rows == 0 {
        h.push_str("<p>No row is an exact repeat of another.</p>");
    } else {
        let _ = write!(
            h,
            "<p><b>{}</b> rows ({}) are exact repeats of an earlier row.</p>",
            thousands(p.duplicate_rows),
            percent(p.duplicate_rows, p.n_rows)
        );
    }
    if let Some(t) = &p.target {
        if t.classes.is_empty() {
            let _ = write!(
                h,
                "<p>The target <b>{}</b> is a number to predict.</p>",
                esc(&t.name)
            );
        } else {
            let total: usize = t.classes.iter().map(|c| c.count).sum();
            let parts: Vec<String> = t
                .classes
                .iter()
                .take(12)
                .map(|c| {
                    format!(
                        "<b>{}</b> {} ({})",
                        esc(&c.value),
                        thousands(c.count),
                        percent(c.count, total)
                    )
                })
                .collect();
            let more = if t.classes.len() > 12 {
                format!(" and {} more", t.classes.len() - 12)
            } else {
                String::new()
            };
            let _ = write!(
                h,
                "<p>The target <b>{}</b> has {} classes: {}{more}.</p>",
                esc(&t.name),
                t.classes.len(),
                parts.join(", ")
            );
        }
    }
    h.push_str("</section>");
}

fn type_counts(columns: &[ColumnProfile]) -> String {
    let kinds = [
        (DataType::Integer, "whole-number"),
        (DataType::Float, "decimal"),
        (DataType::Boolean, "yes/no"),
        (DataType::String, "text"),
        (DataType::Date, "date"),
        (DataType::Datetime, "date-time"),
    ];
    let parts: Vec<String> = kinds
        .iter()
        .filter_map(|(t, words)| {
            let n = columns.iter().filter(|c| c.dtype == *t).count();
            (n > 0).then(|| format!("{n} {words}"))
        })
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

fn findings(h: &mut String, p: &Profile) {
    h.push_str("<section><h2>What to look at first</h2>");
    if p.findings.is_empty() {
        h.push_str("<p>Nothing stood out: no constant, identifier-like or mostly empty column, no repeated rows, no suspicious predictor.</p>");
    } else {
        h.push_str("<ul class=\"findings\">");
        for f in &p.findings {
            let _ = write!(
                h,
                "<li class=\"{}\"><span class=\"kind\">{}</span> {}</li>",
                esc(&f.kind),
                esc(&kind_words(&f.kind)),
                esc(&f.message)
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</section>");
}

fn kind_words(kind: &str) -> String {
    match kind {
        "duplicate_rows" => "Repeated rows".into(),
        "mostly_missing" => "Mostly missing".into(),
        "constant" => "Constant".into(),
        "id_like" => "Identifier".into(),
        "leakage_suspect" => "Possible leak".into(),
        "high_correlation" => "Redundant".into(),
        other => other.replace('_', " "),
    }
}

fn target(h: &mut String, p: &Profile) {
    let Some(t) = &p.target else { return };
    let _ = write!(
        h,
        "<section><h2>What relates to the target <i>{}</i></h2>",
        esc(&t.name)
    );
    h.push_str(
        "<p class=\"note\">Strongest first. Each measure runs from 0 (no relation) to 1 \
        (the column alone gives the answer); Pearson r runs from -1 to 1 and ranks by its size. \
        Single-feature AUC is 0.5 for no relation.</p>",
    );
    h.push_str("<table><tr><th class=\"l\">column</th><th class=\"l\">measure</th><th>value</th><th class=\"l\"></th></tr>");
    for f in &t.features {
        let (value, bar) = match f.value {
            Some(v) => {
                let strength = super::target::strength(&f.measure, v).min(1.0);
                (
                    format!("{v:.4}"),
                    format!(
                        "<span class=\"bar\" style=\"width:{:.0}px\"></span>",
                        strength * 200.0
                    ),
                )
            }
            None => ("n/a".into(), String::new()),
        };
        let _ = write!(
            h,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{value}</td><td class=\"l\">{bar}</td></tr>",
            esc(&f.column),
            esc(measure_words(&f.measure))
        );
    }
    h.push_str("</table></section>");
}

fn columns(h: &mut String, p: &Profile) {
    h.push_str("<section><h2>Columns</h2><div class=\"cards\">");
    for c in &p.columns {
        card(h, c, p.n_rows);
    }
    h.push_str("</div></section>");
}

fn card(h: &mut String, c: &ColumnProfile, n_rows: usize) {
    let _ = write!(
        h,
        "<div class=\"card\"><h3>{}</h3><span class=\"badge\">{}</span>",
        esc(&c.name),
        c.dtype
    );
    let miss_class = if c.missing * 2 > n_rows {
        "badge warn"
    } else {
        "badge"
    };
    let _ = write!(
        h,
        "<span class=\"{miss_class}\">{} missing</span><span class=\"badge\">{} distinct</span>",
        percent(c.missing, n_rows),
        thousands(c.distinct)
    );
    if let Some(s) = &c.numeric {
        h.push_str("<table class=\"stats\">");
        let rows = [
            ("mean", Some(s.mean)),
            ("std", s.std),
            ("min", Some(s.min)),
            ("25%", Some(s.q25)),
            ("median", Some(s.q50)),
            ("75%", Some(s.q75)),
            ("max", Some(s.max)),
        ];
        for pair in rows.chunks(2) {
            h.push_str("<tr>");
            for (label, v) in pair {
                let _ = write!(
                    h,
                    "<td>{label}</td><td>{}</td>",
                    v.map_or("n/a".into(), num)
                );
            }
            if pair.len() == 1 {
                let _ = write!(h, "<td>zeros</td><td>{}</td>", thousands(s.zeros));
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>");
        if c.top_values.is_empty() || c.dtype != DataType::Boolean {
            histogram_svg(h, &s.histogram);
        }
    }
    if let Some((lo, hi)) = &c.time_range {
        let _ = write!(h, "<p>From <b>{}</b> to <b>{}</b>.</p>", esc(lo), esc(hi));
    }
    if !c.top_values.is_empty() && (c.numeric.is_none() || c.dtype == DataType::Boolean) {
        top_values_svg(h, &c.top_values, c.count);
    } else if !c.top_values.is_empty() {
        let parts: Vec<String> = c
            .top_values
            .iter()
            .take(5)
            .map(|v| format!("{} ({})", esc(&v.value), thousands(v.count)))
            .collect();
        let _ = write!(
            h,
            "<p class=\"note\">Most frequent: {}</p>",
            parts.join(", ")
        );
    }
    h.push_str("</div>");
}

/// Bars of equal width, heights by count, with the range under them.
fn histogram_svg(h: &mut String, hist: &Histogram) {
    let (w, ht) = (300.0, 90.0);
    let max = hist.counts.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return;
    }
    let n = hist.counts.len() as f64;
    let bw = w / n;
    let _ = write!(
        h,
        "<svg width=\"{w}\" height=\"{}\" viewBox=\"0 0 {w} {}\" role=\"img\">",
        ht + 14.0,
        ht + 14.0
    );
    for (i, &count) in hist.counts.iter().enumerate() {
        let bh = (count as f64 / max as f64) * ht;
        let _ = write!(
            h,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#3b6fb6\"><title>{} to {}: {}</title></rect>",
            i as f64 * bw + 0.5,
            ht - bh,
            (bw - 1.0).max(0.5),
            bh,
            num(hist.edges[i]),
            num(hist.edges[i + 1]),
            thousands(count as usize)
        );
    }
    if let (Some(lo), Some(hi)) = (hist.edges.first(), hist.edges.last()) {
        let _ = write!(
            h,
            "<text x=\"0\" y=\"{}\">{}</text><text x=\"{w}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            ht + 12.0,
            num(*lo),
            ht + 12.0,
            num(*hi)
        );
    }
    h.push_str("</svg>");
}

/// Horizontal bars of the most frequent values.
fn top_values_svg(h: &mut String, top: &[ValueCount], count: usize) {
    let max = top.iter().map(|v| v.count).max().unwrap_or(0);
    if max == 0 {
        return;
    }
    let row = 16.0;
    // label, bar, then "3,555 (50.5%)" (about 80 px) must fit the 320 px card width
    let (label_w, bar_w) = (120.0, 100.0);
    let ht = row * top.len() as f64;
    let _ = write!(
        h,
        "<svg width=\"320\" height=\"{ht}\" viewBox=\"0 0 320 {ht}\" role=\"img\">"
    );
    for (i, v) in top.iter().enumerate() {
        let y = i as f64 * row;
        let bw = v.count as f64 / max as f64 * bar_w;
        let label: String = if v.value.chars().count() > 22 {
            v.value.chars().take(21).chain(['…']).collect()
        } else {
            v.value.clone()
        };
        let _ = write!(
            h,
            "<text x=\"0\" y=\"{:.1}\"><title>{}</title>{}</text><rect x=\"{label_w}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"#3b6fb6\"/><text x=\"{:.1}\" y=\"{:.1}\">{} ({})</text>",
            y + 12.0,
            esc(&v.value),
            esc(&label),
            y + 3.0,
            row - 5.0,
            label_w + bw + 4.0,
            y + 12.0,
            thousands(v.count),
            percent(v.count, count)
        );
    }
    h.push_str("</svg>");
}

fn correlations(h: &mut String, p: &Profile) {
    let c = &p.correlations;
    if c.numeric_columns.len() >= 2 {
        h.push_str("<section><h2>How numeric columns move together</h2>");
        h.push_str(
            "<p class=\"note\">Pearson correlation on the rows where both are present: \
            1 = rise together, -1 = one rises as the other falls, 0 = no straight-line relation. \
            Blue is positive, red negative; the stronger, the darker.</p>",
        );
        heatmap(h, &c.numeric_columns, &c.pearson);
        h.push_str("</section>");
    }
    if c.categorical_columns.len() >= 2 {
        h.push_str("<section><h2>How text columns go together</h2>");
        h.push_str("<p class=\"note\">Cramér's V: 0 = independent, 1 = one column determines the other.</p>");
        heatmap(h, &c.categorical_columns, &c.cramers_v);
        h.push_str("</section>");
    }
}

fn heatmap(h: &mut String, names: &[String], m: &[Vec<Option<f64>>]) {
    h.push_str("<div style=\"overflow-x:auto\"><table class=\"heat\"><tr><th></th>");
    for n in names {
        let _ = write!(h, "<th class=\"rot\">{}</th>", esc(n));
    }
    h.push_str("</tr>");
    for (i, n) in names.iter().enumerate() {
        let _ = write!(h, "<tr><th class=\"l\">{}</th>", esc(n));
        for v in &m[i] {
            match v {
                Some(v) => {
                    let a = v.abs().min(1.0);
                    let (r, g, b) = if *v >= 0.0 {
                        (59, 111, 182)
                    } else {
                        (198, 40, 40)
                    };
                    let fg = if a > 0.55 { "#fff" } else { "#1d2430" };
                    let _ = write!(
                        h,
                        "<td style=\"background:rgba({r},{g},{b},{a:.2});color:{fg}\">{v:.2}</td>"
                    );
                }
                None => h.push_str("<td class=\"note\">–</td>"),
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</table></div>");
}

/// HTML-escapes text for element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// 1234567 -> "1,234,567".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A number for people: whole numbers with separators, others with about 4 significant
/// digits, very large or small ones in scientific notation.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let a = x.abs();
    if x.fract() == 0.0 && a < 1e15 {
        let s = thousands(a as usize);
        return if x < 0.0 { format!("-{s}") } else { s };
    }
    if a >= 1e6 || (a > 0.0 && a < 1e-3) {
        return format!("{x:.3e}");
    }
    let decimals = if a >= 100.0 {
        2
    } else if a >= 1.0 {
        3
    } else {
        4
    };
    let s = format!("{x:.decimals$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn formats_numbers_for_people() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(num(-2500.0), "-2,500");
        assert_eq!(num(1.23456), "1.235");
        assert_eq!(num(0.000012), "1.200e-5");
    }
}
