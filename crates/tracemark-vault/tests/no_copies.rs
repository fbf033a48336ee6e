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

/// Ten copies issued at once are assembled from the recording's renderings; a vault with
/// the same keys that marks each copy on its own issues the same files, byte for byte, and
/// logs the same issuances. All copies of the recording carry one blind payload (it names
/// the recording); the codeword names the copy, and a leak of an assembled copy is traced
/// to its recipient.
#[test]
fn copies_assembled_at_once_are_the_copies_marked_one_by_one() {
    let names: Vec<String> = (0..10).map(|i| format!("Desk {i:02}")).collect();
    let mut issued = Vec::new();
    let mut vaults = Vec::new();
    for assemble in [true, false] {
        let dir = tempfile::tempdir().expect("tmp");
        let mut v = common::init_keyed(dir.path(), 15, common::fixed_clock).expect("init");
        v.set_copy_assembly(assemble);
        v.add_recipients(&names).expect("recipients");
        let rec = v
            .ingest(&common::demo_audio(), "call.flac", "Call")
            .expect("ingest");
        let mut copies = Vec::new();
        v.issue_each(
            rec.id.as_str(),
            &names,
            Delivery::parse("flac").expect("flac"),
            |_, _, c| {
                copies.push(c);
                Ok(())
            },
        )
        .expect("issue");
        copies.sort_by(|a, b| a.recipient.name.cmp(&b.recipient.name));
        issued.push(copies);
        vaults.push((dir, v, rec));
    }
    let (assembled, alone) = (&issued[0], &issued[1]);
    assert_eq!(assembled.len(), 10);
    for (a, b) in assembled.iter().zip(alone) {
        assert_eq!(a.recipient.name, b.recipient.name);
        assert!(a.bytes == b.bytes, "{}: the files differ", a.recipient.name);
        assert_eq!(a.issuance.copy_sha256, b.issuance.copy_sha256);
        assert_eq!(
            a.issuance.codeword_commitment,
            b.issuance.codeword_commitment
        );
    }
    assert!(assembled.windows(2).all(|w| w[0].bytes != w[1].bytes));
    let payloads: std::collections::HashSet<_> =
        assembled.iter().map(|c| c.issuance.payload).collect();
    assert_eq!(payloads.len(), 1, "one payload per recording");

    let (_dir, v, _rec) = &vaults[0];
    let leak = &assembled[6];
    let r = v
        .trace(&leak.bytes, "leak.flac", DEFAULT_BOUND)
        .expect("trace");
    let accused: Vec<&str> = r.accused().map(|s| s.name.as_str()).collect();
    assert_eq!(
        accused,
        vec![leak.recipient.name.as_str()],
        "{}",
        r.verdict()
    );
    // The shared payload marks nobody as its holder.
    assert!(r.standings.iter().all(|s| !s.payload_match));
    v.verify_log().expect("verifies");
}

/// The service's issue job assembles too: ten copies made by one job are the copies the
/// vault then marks one by one for the same recipients (the re-issue is checked against the
/// job's logged hashes, and the sealed copies are read back).
#[test]
fn an_issue_job_of_many_copies_assembles_the_same_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut v = common::init_keyed(dir.path(), 16, common::fixed_clock).expect("init");
    let names: Vec<String> = (0..10).map(|i| format!("Bureau {i:02}")).collect();
    v.add_recipients(&names).expect("recipients");
    let rec = v
        .ingest(&common::demo_audio(), "call.flac", "Call")
        .expect("ingest");
    let dora = v
        .add_user("dora", tracemark_types::Role::Distributor, None)
        .expect("user");
    let flac = Delivery::parse("flac").expect("flac");
    let job = v
        .request_copies(&dora.id, rec.id.as_str(), &names, flac)
        .expect("issue job");
    match v
        .work_one(&tracemark_vault::WorkerOptions::default())
        .expect("work")
    {
        tracemark_vault::Worked::Finished(id, true) => assert_eq!(id, job.id),
        other => panic!("the job did not succeed: {other:?}"),
    }
    let by_job: Vec<_> = v
        .issuances_of(rec.id.as_str())
        .expect("issuances")
        .into_iter()
        .filter(|i| i.format != CODEWORD_FORMAT)
        .collect();
    assert_eq!(by_job.len(), 10);
    v.set_copy_assembly(false);
    let mut alone = Vec::new();
    v.issue_each(rec.id.as_str(), &names, flac, |_, _, c| {
        alone.push(c);
        Ok(())
    })
    .expect("the same copies, marked one by one");
    for c in &alone {
        assert!(c.reissued, "{}: not the job's copy", c.recipient.name);
        let sealed = v.copy_bytes(&c.issuance).expect("the job's sealed copy");
        assert!(sealed == c.bytes, "{}: the files differ", c.recipient.name);
    }
}
