//! Issuing without rendering (issue 15): every recipient's codeword logged in batches,
//! copies rendered on demand, and a leak of a rendered copy traced among them all.

mod common;

use tracemark_vault::{CODEWORD_FORMAT, DEFAULT_BOUND, Delivery};

#[test]
fn codewords_for_everyone_copies_on_demand_and_the_leaker_named_among_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = common::init_with_clock(dir.path(), common::fixed_clock).expect("init");
    let names: Vec<String> = (0..60).map(|i| format!("Post {i:03}")).collect();
    v.add_recipients(&names).expect("recipients");
    let rec = v
        .ingest(&common::demo_audio(), "call.flac", "Call")
        .expect("ingest");
    let before = v.verify_log().expect("verify").entries;

    let done = v
        .assign_codewords(rec.id.as_str(), None, |_, _| {})
        .expect("assign");
    assert_eq!((done.assigned, done.already), (60, 0));
    let issued = v.issuances_of(rec.id.as_str()).expect("issuances");
    assert_eq!(issued.len(), 60);
    assert!(issued.iter().all(|i| i.format == CODEWORD_FORMAT));
    assert!(
        issued
            .iter()
            .all(|i| i.copy_sha256 == i.codeword_commitment)
    );
    // One entry per recipient, and again nothing.
    assert_eq!(v.verify_log().expect("verify").entries, before + 60);
    let again = v
        .assign_codewords(rec.id.as_str(), None, |_, _| {})
        .expect("again");
    assert_eq!((again.assigned, again.already), (0, 60));

    // Render two copies; the same call again gives the same bytes and logs nothing.
    let flac = Delivery::parse("flac").expect("flac");
    let pick = vec!["Post 017".to_string(), "Post 042".to_string()];
    let mut copies = Vec::new();
    v.render(rec.id.as_str(), &pick, flac, |_, _, c| {
        copies.push(c);
        Ok(())
    })
    .expect("render");
    assert_eq!(copies.len(), 2);
    assert!(copies.iter().all(|c| !c.reissued));
    let mut again = Vec::new();
    v.render(rec.id.as_str(), &pick[..1], flac, |_, _, c| {
        again.push(c);
        Ok(())
    })
    .expect("render again");
    assert!(again[0].reissued && again[0].bytes == copies[0].bytes);

    // Someone never issued the recording gets no copy.
    v.add_recipient("Latecomer", None).expect("add");
    let e = v
        .render(
            rec.id.as_str(),
            &["Latecomer".to_string()],
            flac,
            |_, _, _| Ok(()),
        )
        .expect_err("never issued");
    assert!(e.to_string().contains("never issued"), "{e}");

    // A leak of Post 042's rendered copy is traced among all 60 issued recipients.
    let r = v
        .trace(&copies[1].bytes, "leak.flac", DEFAULT_BOUND)
        .expect("trace");
    let accused: Vec<&str> = r.accused().map(|s| s.name.as_str()).collect();
    assert_eq!(accused, vec!["Post 042"], "{}", r.verdict());
    assert_eq!(r.recipients_scored, 60, "every issued recipient is scored");
    assert!(r.standings.len() <= 60 && r.standings[0].accused);
    v.verify_log().expect("verifies");
}
