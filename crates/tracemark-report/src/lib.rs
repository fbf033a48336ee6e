//! Self-contained HTML trace reports: one file a person can send to counsel, with the
//! verdict in one sentence, a timeline of the leak against the original, every
//! recipient's evidence against the threshold, the figures, and the method in plain
//! words. No scripts, no external resources: inline CSS and SVG only.
//!
//! ```
//! // Reports quote user-supplied titles and names; everything is escaped.
//! assert_eq!(tracemark_report::escape("<b>Q&A</b>"), "&lt;b&gt;Q&amp;A&lt;/b&gt;");
//! ```

use std::fmt::Write;

use tracemark_types::{FindingKind, Medium, TraceReport};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
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

/// The report's style sheet (served beside the fragment by the web UI).
pub const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}\
.verdict{font-size:1.15em;padding:1em;border-left:5px solid #555;background:#f6f6f6}\
.verdict.accused{border-color:#b00020}.finding{padding:.2em 1em;border-left:5px solid #999}table{border-collapse:collapse;width:100%}\
td,th{border:1px solid #ddd;padding:.3em .5em;text-align:left;font-variant-numeric:tabular-nums}\
th{background:#f0f0f0}.mono{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}\
.legend span{display:inline-block;width:1em;height:1em;vertical-align:middle;margin:0 .3em 0 1em}\
.leak-text{padding:1em;background:#fafafa;border:1px solid #ddd;line-height:1.9}\
.leak-text .genuine{background:#e8f5e9;border-bottom:2px solid #2e7d32}\
.leak-text .fabricated{background:#ffebee;border-bottom:2px solid #c62828}\
.leak-text .prose{color:#666}\
.leak-text .elided{background:#fff8e1;border:1px dashed #f9a825;padding:0 .3em;font-size:.85em}";

const GENUINE: &str = "#2e7d32";
const UNMATCHED: &str = "#c62828";
const MISSING: &str = "#f9a825";

/// Renders the report. `verifier_key` is the vault's public key (C2SP format), printed so
/// a reader can check the evidence bundle.
pub fn render_html(r: &TraceReport, verifier_key: &str) -> String {
    render_html_with_text(r, verifier_key, None)
}

/// [`render_html`], with the leaked text (when text was traced) shown word by word with
/// its genuine, unmatched and left-out parts marked. The text is the investigator's, not
/// the log's: the report's JSON holds only its hash and the word ranges.
pub fn render_html_with_text(
    r: &TraceReport,
    verifier_key: &str,
    leak_text: Option<&str>,
) -> String {
    let title = title(r);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n{}</body></html>\n",
        escape(&title),
        escape(&title),
        render_fragment_with_text(r, verifier_key, leak_text)
    )
}

/// The report's title.
pub fn title(r: &TraceReport) -> String {
    match &r.recording {
        Some(rec) => format!("Trace {} of a leak of \u{201c}{}\u{201d}", r.id, rec.title),
        None => format!("Trace {}", r.id),
    }
}

/// The report's body without the document around it (for a page that has its own),
/// styled by [`STYLE`]: the verdict, the timeline, the scores, the figures and the method.
pub fn render_fragment(r: &TraceReport, verifier_key: &str) -> String {
    render_fragment_with_text(r, verifier_key, None)
}

/// [`render_fragment`] with the leaked text marked up (see [`render_html_with_text`]).
pub fn render_fragment_with_text(
    r: &TraceReport,
    verifier_key: &str,
    leak_text: Option<&str>,
) -> String {
    let mut h = String::new();
    let accused = r.accused().count() > 0;
    let _ = writeln!(
        h,
        "<p class=\"verdict{}\" id=\"verdict\">{}</p>",
        if accused { " accused" } else { "" },
        escape(&r.verdict())
    );
    // Nobody accused: which of the two things happened, in one sentence (issue 14 item 6).
    if r.finding() != FindingKind::Accused {
        let _ = writeln!(
            h,
            "<p class=\"finding\" id=\"finding\" data-finding=\"{}\">{}</p>",
            r.finding().as_str(),
            escape(&r.finding_statement())
        );
    }
    if r.medium != Medium::Text {
        timeline(&mut h, r);
    }
    if r.text.is_some() {
        text_map(&mut h, r, leak_text);
    }
    scores(&mut h, r);
    figures(&mut h, r, verifier_key);
    method(&mut h, r);
    if r.text.is_some() {
        text_method(&mut h, r);
    }
    h
}

/// The leaked text's authenticity map: the words themselves when given, and the table.
fn text_map(h: &mut String, r: &TraceReport, leak_text: Option<&str>) {
    let Some(t) = &r.text else { return };
    h.push_str("<h2>The quoted text against the transcript</h2>\n");
    if let Some(text) = leak_text {
        let words: Vec<&str> = text.split_whitespace().collect();
        h.push_str("<p class=\"legend\"><span style=\"background:#e8f5e9;border-bottom:2px solid #2e7d32\"></span>in the transcript<span style=\"background:#ffebee;border-bottom:2px solid #c62828\"></span>inside quotes but in no transcript<span style=\"border:1px solid #ccc\"></span>the writer's own words<span style=\"background:#fff8e1;border:1px dashed #f9a825\"></span>transcript words left out</p>\n<div class=\"leak-text\" id=\"leak-text\">");
        let mut previous_end: Option<usize> = None;
        for s in &t.segments {
            if let (Some(end), Some((start, _))) = (previous_end, s.original)
                && t.missing.contains(&(end, start))
            {
                let _ = write!(
                    h,
                    "<span class=\"elided\" title=\"transcript words {end} to {start}\">[{} words left out]</span> ",
                    start - end
                );
            }
            let class = match (s.genuine, s.quoted) {
                (true, _) => "genuine",
                (false, true) => "fabricated",
                (false, false) => "prose",
            };
            let end = s.leak_end_word.min(words.len());
            let start = s.leak_start_word.min(end);
            let _ = write!(
                h,
                "<span class=\"{class}\" data-words=\"{}-{}\">{}</span> ",
                s.leak_start_word,
                s.leak_end_word,
                escape(&words[start..end].join(" "))
            );
            previous_end = s.original.map(|o| o.1);
        }
        h.push_str("</div>\n");
    }
    h.push_str(
        "<table><tr><th>leak words</th><th>where</th><th>status</th><th>transcript words</th></tr>",
    );
    for s in &t.segments {
        let (status, range) = match s.original {
            Some((a, b)) => ("genuine", format!("{a}\u{2013}{b}")),
            None if s.quoted => ("unmatched: in no transcript", String::new()),
            None => ("not in the transcript", String::new()),
        };
        let _ = write!(
            h,
            "<tr><td>{}\u{2013}{}</td><td>{}</td><td>{status}</td><td>{range}</td></tr>",
            s.leak_start_word,
            s.leak_end_word,
            if s.quoted {
                "inside quotes"
            } else {
                "outside quotes"
            }
        );
    }
    for (a, b) in &t.missing {
        let _ = write!(
            h,
            "<tr><td></td><td></td><td>left out inside the quote</td><td>{a}\u{2013}{b}</td></tr>"
        );
    }
    h.push_str("</table>\n<p>Word numbers count whitespace-separated words from 0; ranges include the first and exclude the last.</p>\n");
}

fn text_method(h: &mut String, r: &TraceReport) {
    let Some(t) = &r.text else { return };
    let _ = write!(
        h,
        "<h3>The transcript</h3>\n<p>Every recipient also received the transcript in a copy of their own: it differs from every other copy only in choices a transcriber makes (an optional comma, a dash or a comma, a full stop or a semicolon, a hyphen, a capitalised title, a number spelled or in figures), never in a word that was said. Each such site carries one symbol of a second code word, drawn independently of the audio's. tracemark aligned the quoted text to the transcript, read the {} sites it shows ({} more were seen in a form a retyping or a newspaper's house style could have produced, and were set aside rather than counted), and scored each recipient of the transcript as above.</p>\n",
        t.sites_read, t.sites_erased
    );
    if r.medium == Medium::AudioAndText {
        h.push_str("<p>The clip and the text were traced together. The two code words of a recipient are independent, so each recipient's two p-values (each corrected for its two score functions) were combined by Fisher's method, q(1 \u{2212} ln q) for their product q (Fisher 1925), which is again a valid bound, and then corrected for every recipient and recording.</p>\n");
    }
}

fn timeline(h: &mut String, r: &TraceReport) {
    h.push_str("<h2>What the leak contains</h2>\n");
    let Some(rec) = &r.recording else {
        h.push_str("<p>No part of the leak matches a recording of this vault.</p>\n");
        return;
    };
    let (w, left, bar) = (900.0, 90.0, 26.0);
    let scale_o = (w - left - 10.0) / rec.duration_s.max(1e-9);
    let scale_l = (w - left - 10.0) / r.leak_duration_s.max(1e-9);
    let _ = write!(
        h,
        "<svg id=\"timeline\" width=\"{w}\" height=\"150\" viewBox=\"0 0 {w} 150\" role=\"img\" aria-label=\"timeline of the leak against the original\" font-size=\"12\">\
<text x=\"0\" y=\"35\">original</text><text x=\"0\" y=\"125\">leak</text>\
<rect x=\"{left}\" y=\"18\" width=\"{}\" height=\"{bar}\" fill=\"#e0e0e0\"/>",
        rec.duration_s * scale_o
    );
    for (a, b) in &r.missing {
        let _ = write!(
            h,
            "<rect x=\"{:.1}\" y=\"18\" width=\"{:.1}\" height=\"{bar}\" fill=\"{MISSING}\"><title>missing from the leak: {a:.1}-{b:.1} s of the original</title></rect>",
            left + a * scale_o,
            (b - a) * scale_o
        );
    }
    for s in &r.segments {
        let x = left + s.leak_start_s * scale_l;
        let width = ((s.leak_end_s - s.leak_start_s) * scale_l).max(0.5);
        let colour = if s.genuine { GENUINE } else { UNMATCHED };
        let label = if s.genuine { "genuine" } else { "unmatched" };
        let _ = write!(
            h,
            "<rect x=\"{x:.1}\" y=\"108\" width=\"{width:.1}\" height=\"{bar}\" fill=\"{colour}\"><title>{label}: leak {:.1}-{:.1} s</title></rect>",
            s.leak_start_s, s.leak_end_s
        );
        if let Some((a, b)) = s.original {
            let _ = write!(
                h,
                "<rect x=\"{:.1}\" y=\"18\" width=\"{:.1}\" height=\"{bar}\" fill=\"{GENUINE}\" opacity=\"0.6\"/>\
<polygon points=\"{:.1},{} {:.1},{} {:.1},108 {x:.1},108\" fill=\"{GENUINE}\" opacity=\"0.15\"/>",
                left + a * scale_o,
                ((b - a) * scale_o).max(0.5),
                left + a * scale_o,
                18.0 + bar,
                left + b * scale_o,
                18.0 + bar,
                x + width,
            );
        }
    }
    let _ = write!(
        h,
        "<text x=\"{left}\" y=\"12\">0 s</text><text x=\"{:.1}\" y=\"12\" text-anchor=\"end\">{:.1} s</text>\
<text x=\"{left}\" y=\"148\">0 s</text><text x=\"{:.1}\" y=\"148\" text-anchor=\"end\">{:.1} s</text></svg>",
        left + rec.duration_s * scale_o,
        rec.duration_s,
        left + r.leak_duration_s * scale_l,
        r.leak_duration_s
    );
    let _ = write!(
        h,
        "\n<p class=\"legend\"><span style=\"background:{GENUINE}\"></span>genuine (matches the original)<span style=\"background:{UNMATCHED}\"></span>unmatched (inserted, synthesised or from elsewhere)<span style=\"background:{MISSING}\"></span>missing (cut from the original)</p>\n<table><tr><th>leak from (s)</th><th>to (s)</th><th>status</th><th>original from (s)</th><th>to (s)</th></tr>"
    );
    for s in &r.segments {
        let (a, b) = s.original.map_or((String::new(), String::new()), |(a, b)| {
            (format!("{a:.2}"), format!("{b:.2}"))
        });
        let _ = write!(
            h,
            "<tr><td>{:.2}</td><td>{:.2}</td><td>{}</td><td>{a}</td><td>{b}</td></tr>",
            s.leak_start_s,
            s.leak_end_s,
            if s.genuine { "genuine" } else { "unmatched" }
        );
    }
    for (a, b) in &r.missing {
        let _ = write!(
            h,
            "<tr><td colspan=\"2\"></td><td>missing</td><td>{a:.2}</td><td>{b:.2}</td></tr>"
        );
    }
    h.push_str("</table>\n");
}

fn scores(h: &mut String, r: &TraceReport) {
    h.push_str("<h2>Evidence against each recipient</h2>\n");
    if r.standings.is_empty() {
        if r.recipients_scored > 0 {
            let _ = writeln!(
                h,
                "<p>All {} issued recipients were scored; the leak carries no evidence against any of them (every bound is 1).</p>",
                r.recipients_scored
            );
        } else {
            h.push_str("<p>No copies of this recording were issued, or no recording was identified: nobody can be scored.</p>\n");
        }
        return;
    }
    if r.recipients_scored > r.standings.len() {
        let _ = writeln!(
            h,
            "<p>All {} issued recipients were scored; the {} with the strongest evidence are shown (the others' bounds are weaker, or 1).</p>",
            r.recipients_scored,
            r.standings.len()
        );
    }
    // Bars of -log10(corrected p), the threshold at -log10(bound).
    let strength = |p: f64| -p.max(1e-300).log10();
    let threshold = strength(r.bound);
    let max = r
        .standings
        .iter()
        .map(|s| strength(s.corrected_p_value))
        .fold(threshold * 1.5, f64::max);
    let (w, left, row) = (900.0, 160.0, 22.0);
    let height = row * r.standings.len() as f64 + 40.0;
    let scale = (w - left - 20.0) / max;
    let _ = write!(
        h,
        "<svg id=\"scores\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" role=\"img\" aria-label=\"evidence per recipient against the accusation threshold\" font-size=\"12\">"
    );
    for (i, s) in r.standings.iter().enumerate() {
        let y = 10.0 + i as f64 * row;
        let colour = if s.accused { UNMATCHED } else { "#78909c" };
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect x=\"{left}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>p &lt;= {:.2e}</title></rect>",
            left - 6.0,
            y + row * 0.6,
            escape(&s.name),
            strength(s.corrected_p_value) * scale,
            row * 0.7,
            s.corrected_p_value
        );
    }
    let tx = left + threshold * scale;
    let _ = write!(
        h,
        "<line x1=\"{tx:.1}\" y1=\"4\" x2=\"{tx:.1}\" y2=\"{:.1}\" stroke=\"#000\" stroke-dasharray=\"4 3\"/><text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">accusation threshold: p = {:.0e}</text></svg>",
        height - 22.0,
        height - 8.0,
        r.bound
    );
    h.push_str("\n<p>Bar length: the strength of the evidence, \u{2212}log<sub>10</sub> of the corrected p-value (the bound on the chance that an innocent recipient scores this high). Recipients whose bar crosses the dashed line are accused.</p>\n<table><tr><th>recipient</th><th>score</th><th>score function</th><th>p-value bound</th><th>corrected for all tests</th><th>blind payload</th><th>accused</th></tr>");
    for s in &r.standings {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{:.1}</td><td>{}</td><td>{:.2e}</td><td>{:.2e}</td><td>{}</td><td>{}</td></tr>",
            escape(&s.name),
            s.score,
            escape(&s.score_function),
            s.p_value,
            s.corrected_p_value,
            if s.payload_match {
                "matches this copy"
            } else {
                ""
            },
            if s.accused { "<b>yes</b>" } else { "no" }
        );
    }
    h.push_str("</table>\n");
}

fn figures(h: &mut String, r: &TraceReport, verifier_key: &str) {
    h.push_str("<h2>Figures</h2>\n<table>");
    let mut row = |k: &str, v: String| {
        let _ = write!(
            h,
            "<tr><th>{k}</th><td class=\"mono\">{}</td></tr>",
            escape(&v)
        );
    };
    row("trace id", r.id.to_string());
    row("medium", r.medium.as_str().to_string());
    row("leaked file SHA-256", r.leak_sha256.to_hex());
    if r.medium != Medium::Text {
        row("leak duration", format!("{:.2} s", r.leak_duration_s));
    }
    if let Some(t) = &r.text {
        if r.medium == Medium::AudioAndText {
            row("leaked text SHA-256", t.leak_sha256.to_hex());
        }
        row(
            "words in the leaked text",
            format!(
                "{} ({} found in the transcript)",
                t.leak_words, t.matched_words
            ),
        );
        row(
            "transcript variant sites read",
            format!(
                "{} of {} ({} set aside as erasures)",
                t.sites_read, t.sites, t.sites_erased
            ),
        );
        if let Some(n) = t.more_words_needed {
            row(
                "more quoted words needed for an accusation (estimate)",
                n.to_string(),
            );
        }
    }
    if let Some(rec) = &r.recording {
        row(
            "recording",
            format!("{} \u{201c}{}\u{201d}", rec.id, rec.title),
        );
        row("original SHA-256", rec.sha256.to_hex());
        row("original duration", format!("{:.2} s", rec.duration_s));
    }
    row("identified by", r.identified_by.clone());
    if let Some(speed) = r.speed {
        row(
            "speed of the leak relative to the original",
            format!("{speed:.4}"),
        );
    }
    row("codeword slots observed", r.slots_observed.to_string());
    if let Some(p) = r.watermark_p_value {
        row("watermark presence test, p-value bound", format!("{p:.2e}"));
    }
    if let Some(p) = &r.payload {
        row("blind payload decoded", p.clone());
    }
    row("issued recipients scored", r.recipients_scored.to_string());
    row("hypotheses corrected for", format!("{}", r.tests));
    row("false-accusation bound", format!("{:.0e}", r.bound));
    row(
        "vault public key (checks the evidence bundle)",
        verifier_key.to_string(),
    );
    h.push_str("</table>\n");
}

fn method(h: &mut String, r: &TraceReport) {
    let _ = write!(
        h,
        "<h2>Method</h2>\n<p>Every recipient received a copy of the recording carrying an inaudible watermark: every 80 ms of audio carries one symbol of a code word drawn at random for that recipient (a symmetric Tardos code; Tardos, J. ACM 2008; \u{160}kori\u{107} et al., Des. Codes Cryptogr. 2008). Who received which code word was recorded, when the copy was issued, in a signed append-only log that nobody can rewrite without detection.</p>\
<p>To trace the leak, tracemark first recognised the recording from its acoustic fingerprint (spectral landmarks; Wang, ISMIR 2003), which also shows which stretches of the leak are genuine, which match nothing in the original, and which parts of the original are missing. Over the genuine stretches it compared the leak with the original to read the symbols, and scored every recipient's code word against them twice: with the symmetric Tardos score, which assumes nothing about how the leak was made, and with the likelihood ratio of a single leaker at the symbol strength measured in the leak (Meerwald and Furon, IEEE TIFS 2012); each recipient keeps the stronger of the two, and both count as tests below.</p>\
<p>An innocent recipient's code word was drawn independently of the leak, so the probability that it scores this high can be bounded exactly, without any assumption about the audio (a Chernoff bound over the known code distribution). That bound was multiplied by the number of recipients, recordings and score functions tested ({}), so the chance that <em>anyone</em> innocent is accused is at most {:.0e}. A recipient is accused only when the corrected bound falls below it. Copies averaged or spliced by several recipients still point to at least one of them; audio that never carried a copy points to nobody.</p>\n",
        r.tests, r.bound
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(
            escape("<b onclick=\"x\">&'"),
            "&lt;b onclick=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
