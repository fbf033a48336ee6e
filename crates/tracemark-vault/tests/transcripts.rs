//! Transcripts through the vault (issue 13): stored with their recording, one marked copy
//! per recipient, traced from quotes retyped into an article, with the log covering it.

mod common;

use std::path::Path;

use tracemark_vault::{DEFAULT_BOUND, Delivery, Medium, TraceReport, Vault, VaultError};

fn corpus_transcript() -> Vec<u8> {
    std::fs::read(tracemark_testkit::corpus_dir().join("transcripts/nixon-kissinger-telcons.txt"))
        .expect("the corpus transcript (../shared/corpus/transcripts)")
}

/// What retyping a quote does: straight quotes and apostrophes, `--` for dashes, `...`
/// for the ellipsis, single spaces.
fn retype(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{2018}' | '\u{2019}' => out.push('\''),
            '\u{201c}' | '\u{201d}' => out.push('"'),
            '\u{2014}' | '\u{2013}' => out.push_str("--"),
            '\u{2026}' => out.push_str("..."),
            c => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `words` consecutive words of `text` from word `from`, retyped, quoted inside prose.
fn article(text: &str, from: usize, words: usize) -> String {
    let retyped = retype(text);
    let quote: Vec<&str> = retyped.split_whitespace().skip(from).take(words).collect();
    format!(
        "The newspaper obtained the record of the calls. In one of them, the two men discussed the region at length. \"{}\" The White House declined to comment on the record when asked on Tuesday.",
        quote.join(" ")
    )
}

const RECIPIENTS: usize = 20;

/// A vault with the demo call and its transcript, issued to 20 recipients (flac + txt).
fn issued(
    dir: &Path,
) -> (
    Vault,
    tracemark_vault::Recording,
    Vec<tracemark_vault::IssuedCopy>,
) {
    let v = common::init_with_clock(dir, common::fixed_clock).expect("init");
    let names: Vec<String> = (0..RECIPIENTS).map(|i| format!("Embassy {i:02}")).collect();
    v.add_recipients(&names).expect("recipients");
    let (recording, transcript) = v
        .ingest_with_transcript(
            common::demo_audio(),
            "call.flac",
            "Calls of 1970",
            Some(&corpus_transcript()),
        )
        .expect("ingest");
    let transcript = transcript.expect("attached");
    assert_eq!(transcript.recording_id, recording.id);
    assert!(transcript.sites > 50, "{} sites", transcript.sites);
    let copies = v
        .issue(
            recording.id.as_str(),
            &names,
            Delivery::parse("flac").expect("flac"),
            |_, _| {},
        )
        .expect("issue");
    (v, recording, copies)
}

fn text_copy<'a>(copies: &'a [tracemark_vault::IssuedCopy], name: &str) -> &'a str {
    let c = copies
        .iter()
        .find(|c| c.recipient.name == name && c.extension == "txt")
        .expect("a text copy");
    std::str::from_utf8(&c.bytes).expect("UTF-8")
}

fn accused(r: &TraceReport) -> Vec<String> {
    r.accused().map(|s| s.name.clone()).collect()
}

#[test]
fn every_recipient_gets_a_text_copy_of_their_own_and_a_retyped_quote_names_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let (v, recording, copies) = issued(dir.path());
    let original = String::from_utf8(corpus_transcript()).expect("UTF-8");

    // One flac and one txt per recipient; every txt differs, only in the transcriber's
    // choices.
    assert_eq!(copies.len(), 2 * RECIPIENTS);
    let texts: Vec<&str> = (0..RECIPIENTS)
        .map(|i| text_copy(&copies, &format!("Embassy {i:02}")))
        .collect();
    for (i, t) in texts.iter().enumerate() {
        assert_ne!(*t, original.as_str(), "copy {i} is the original");
        let changed = tracemark_textmark::changed_word_fraction(&original, t);
        assert!(changed <= 0.03, "copy {i} changed {changed} of its words");
        for u in &texts[..i] {
            assert_ne!(t, u, "two recipients share a copy");
        }
    }
    let issued = v.issuances_of(recording.id.as_str()).expect("issuances");
    assert_eq!(
        issued.iter().filter(|i| i.format == "txt").count(),
        RECIPIENTS
    );

    // The whole transcript of Embassy 07, retyped and quoted in an article: named.
    let leak = article(texts[7], 0, 100_000);
    let r = v
        .trace(leak.as_bytes(), "article.txt", DEFAULT_BOUND)
        .expect("trace");
    assert_eq!(r.medium, Medium::Text);
    assert_eq!(r.recording.as_ref().map(|x| &x.id), Some(&recording.id));
    assert_eq!(
        accused(&r),
        vec!["Embassy 07".to_string()],
        "{}",
        r.verdict()
    );
    assert_eq!(r.recipients_scored, RECIPIENTS);
    let t = r.text.as_ref().expect("text findings");
    assert!(t.sites_read > 40, "{} sites read", t.sites_read);
    // The journalist's prose is outside the quotes and unmatched, the quote genuine.
    let first = t.segments.first().expect("segments");
    assert!(!first.genuine && !first.quoted, "{first:?}");
    assert!(t.segments.iter().any(|s| s.genuine && s.quoted));
    let json: serde_json::Value =
        serde_json::from_str(&v.trace_row(r.id.as_str()).expect("row").report_json).expect("JSON");
    assert_eq!(json["medium"], "text");
    assert_eq!(json["accused"][0]["recipient"], "Embassy 07");
    assert!(json["false_accusation_bound"].as_f64() == Some(DEFAULT_BOUND));
    let genuine = json["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .find(|s| s["status"] == "genuine")
        .expect("a genuine segment");
    assert!(genuine["leak_start_word"].is_u64() && genuine["original_start_word"].is_u64());

    // The HTML report marks the words.
    let html =
        tracemark_report::render_html_with_text(&r, &v.verifier_key().to_string(), Some(&leak));
    assert!(html.contains("class=\"genuine\"") && html.contains("class=\"prose\""));

    v.verify_log()
        .expect("the log covers transcripts and text issuances");
}

#[test]
fn innocents_short_quotes_and_made_up_sentences() {
    let dir = tempfile::tempdir().expect("tmp");
    let (v, _, copies) = issued(dir.path());
    let original = String::from_utf8(corpus_transcript()).expect("UTF-8");

    // The original transcript, retyped and quoted whole: it carries no copy's symbols.
    let r = v
        .trace(
            article(&original, 0, 100_000).as_bytes(),
            "a.txt",
            DEFAULT_BOUND,
        )
        .expect("trace");
    assert!(r.recording.is_some());
    assert!(accused(&r).is_empty(), "{}", r.verdict());

    // A 60-word quote of a real copy: too short, nobody accused, and the report says
    // how many more words it would take.
    let copy = text_copy(&copies, "Embassy 03");
    let r = v
        .trace(article(copy, 200, 60).as_bytes(), "a.txt", DEFAULT_BOUND)
        .expect("trace");
    assert!(
        r.recording.is_some(),
        "60 genuine words identify the transcript"
    );
    assert!(accused(&r).is_empty(), "{}", r.verdict());
    let more = r.text.as_ref().and_then(|t| t.more_words_needed);
    assert!(more.is_some_and(|n| n > 0), "{more:?}");
    assert!(r.verdict().contains("more quoted words"), "{}", r.verdict());

    // A made-up sentence inside a quote is unmatched and quoted, near its edges.
    let retyped = retype(copy);
    let words: Vec<&str> = retyped.split_whitespace().collect();
    let fake = "and then we agreed that the whole matter would be settled quietly by the end of the month without telling anyone";
    let leak = format!(
        "He was quoted as saying \"{} {} {}\" before the call ended.",
        words[300..340].join(" "),
        fake,
        words[340..380].join(" ")
    );
    let r = v
        .trace(leak.as_bytes(), "a.txt", DEFAULT_BOUND)
        .expect("trace");
    let t = r.text.as_ref().expect("text");
    let fake_start = 5 + 40;
    let fake_end = fake_start + fake.split_whitespace().count();
    let unmatched = t
        .segments
        .iter()
        .find(|s| !s.genuine && s.quoted)
        .unwrap_or_else(|| panic!("no unmatched quoted segment: {:?}", t.segments));
    assert!(
        unmatched.leak_start_word.abs_diff(fake_start) <= 3
            && unmatched.leak_end_word.abs_diff(fake_end) <= 3,
        "{unmatched:?} against {fake_start}..{fake_end}"
    );

    // Text from no transcript names no recording.
    let r = v
        .trace(
            b"Nothing in this sentence was ever said on any call in this vault at all.",
            "a.txt",
            DEFAULT_BOUND,
        )
        .expect("trace");
    assert!(r.recording.is_none() && r.standings.is_empty());
    assert!(r.verdict().contains("no transcript"), "{}", r.verdict());
}

#[test]
fn a_clip_and_its_quotes_combine_their_evidence() {
    let dir = tempfile::tempdir().expect("tmp");
    let (v, recording, copies) = issued(dir.path());
    let clip = copies
        .iter()
        .find(|c| c.recipient.name == "Embassy 11" && c.extension == "flac")
        .expect("audio copy");
    let quotes = article(text_copy(&copies, "Embassy 11"), 100, 150);
    let r = v
        .trace_clip_and_text(&clip.bytes, "clip.flac", quotes.as_bytes(), DEFAULT_BOUND)
        .expect("trace");
    assert_eq!(r.medium, Medium::AudioAndText);
    assert_eq!(r.recording.as_ref().map(|x| &x.id), Some(&recording.id));
    assert_eq!(
        accused(&r),
        vec!["Embassy 11".to_string()],
        "{}",
        r.verdict()
    );
    let top = &r.standings[0];
    let (a, t) = (
        top.p_value_audio.expect("audio p"),
        top.p_value_text.expect("text p"),
    );
    assert_eq!(top.p_value, tracemark_vault::combine_p_values(a, t));
    assert!(
        top.p_value <= a,
        "the quotes add evidence: {} > {a}",
        top.p_value
    );
    // Every recipient of either medium, times one recording.
    assert_eq!(r.tests, RECIPIENTS as f64);
    let json: serde_json::Value =
        serde_json::from_str(&v.trace_row(r.id.as_str()).expect("row").report_json).expect("JSON");
    assert_eq!(json["medium"], "audio+text");
    assert!(json["recipients"][0]["p_value_text"].is_f64());

    // A clip and text of different recordings are refused, by name.
    let (other, _) = v
        .ingest_text(b"K: Completely different words about another matter entirely, said on another day.\n\nP: Yes, I agree with that, and we should talk again soon.\n", "Other")
        .expect("text recording");
    let e = v
        .trace_clip_and_text(
            &clip.bytes,
            "clip.flac",
            b"\"Completely different words about another matter entirely, said on another day.\"",
            DEFAULT_BOUND,
        )
        .expect_err("different recordings");
    assert!(e.to_string().contains(other.id.as_str()), "{e}");
}

#[test]
fn a_transcript_alone_is_a_recording_and_is_never_replaced() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = common::init_with_clock(dir.path(), common::fixed_clock).expect("init");
    let names: Vec<String> = (0..5).map(|i| format!("Desk {i}")).collect();
    v.add_recipients(&names).expect("recipients");
    let text = corpus_transcript();
    let (recording, transcript) = v.ingest_text(&text, "Telcons").expect("ingest text");
    assert!(tracemark_vault::is_text_only(&recording));
    assert_eq!(recording.format, "txt");
    assert_eq!(transcript.recording_id, recording.id);
    // Again: the same rows, nothing logged.
    let size = v.verify_log().expect("verify").entries;
    let (again, t2) = v.ingest_text(&text, "Telcons").expect("again");
    assert_eq!((again, t2), (recording.clone(), transcript.clone()));
    assert_eq!(v.verify_log().expect("verify").entries, size);

    let copies = v
        .issue(
            recording.id.as_str(),
            &names,
            Delivery::parse("flac").expect("f"),
            |_, _| {},
        )
        .expect("issue");
    assert_eq!(copies.len(), 5);
    assert!(copies.iter().all(|c| c.extension == "txt"));
    let leak = article(
        std::str::from_utf8(&copies[2].bytes).expect("utf8"),
        0,
        100_000,
    );
    let r = v
        .trace(leak.as_bytes(), "x.txt", DEFAULT_BOUND)
        .expect("trace");
    assert_eq!(accused(&r), vec!["Desk 2".to_string()], "{}", r.verdict());

    // An audio recording with a transcript cannot get a second, different one.
    let (audio, t) = v
        .ingest_with_transcript(
            common::demo_audio(),
            "call.flac",
            "Call",
            Some(b"K: Hello there, how are you today?"),
        )
        .expect("ingest");
    assert!(t.is_some());
    let e = v
        .ingest_with_transcript(
            common::demo_audio(),
            "call.flac",
            "Call",
            Some(b"K: Something else entirely was said."),
        )
        .expect_err("a second transcript");
    assert!(
        matches!(
            e,
            VaultError::Invalid {
                what: "transcript",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains(audio.id.as_str()), "{e}");

    // Bad text gets a clear error.
    let e = v
        .ingest_text(&[0xff, 0xfe, 0x41], "Bad")
        .expect_err("not UTF-8");
    assert!(e.to_string().contains("UTF-8"), "{e}");
    let e = v
        .ingest_with_transcript(common::demo_audio(), "call.flac", "Call", Some(b"   \n"))
        .expect_err("no words");
    assert!(e.to_string().contains("no words"), "{e}");
    v.verify_log().expect("verifies");
}

#[test]
fn editing_or_deleting_a_transcript_row_is_caught() {
    let base = tempfile::tempdir().expect("tmp");
    {
        let v = common::init_with_clock(base.path(), common::fixed_clock).expect("init");
        v.ingest_text(&corpus_transcript(), "Telcons")
            .expect("ingest");
        v.verify_log().expect("verifies");
    }
    let work = tempfile::tempdir().expect("tmp");
    for (name, sql) in [
        ("edit-hash", "UPDATE transcripts SET sha256 = zeroblob(32);"),
        ("edit-sites", "UPDATE transcripts SET sites = sites + 1;"),
        ("delete", "DELETE FROM transcripts;"),
    ] {
        let dir = work.path().join(name);
        tracemark_testkit::copy_dir(base.path(), &dir);
        let conn = rusqlite::Connection::open(dir.join(common::DB_FILE)).expect("db");
        conn.execute_batch(sql).expect("tamper");
        drop(conn);
        let v = common::open(&dir).expect("open");
        let e = v.verify_log().expect_err(name);
        eprintln!("{name}: {e}");
        assert!(
            e.to_string().contains("transcripts") || name == "delete",
            "{name}: {e}"
        );
    }
}
