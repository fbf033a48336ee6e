//! The web UI end to end in a real headless Chromium (Debian's `chromium` and
//! `chromedriver`, installed by `.ci/chromium.sh`): a distributor signs in, adds two
//! recipients, uploads a recording and issues a copy to each; one copy leaks (cut and
//! re-encoded as 64 kbit/s MP3); an investigator traces the leak, reads the report and takes
//! the evidence bundle; an auditor verifies the log and finds every step in the audit trail.
//! Any console error (a script error, a CSP violation, a failed load) fails the test.
//!
//! Skips, saying `skipped: browser: ...`, where Chromium or chromedriver is missing, unless
//! `TRACEMARK_REQUIRE_BROWSER=1` (CI). With `TRACEMARK_SCREENSHOTS=DIR` it saves a PNG of
//! each main page into DIR (docs/screenshots/README.md says how they are regenerated).

mod browser_support;

use std::path::Path;

use browser_support::{Driver, PASSWORD, Server, Ui, browser_or_skip, user_name};
use sha2::{Digest, Sha256};
use tracemark_media::{EncodeOptions, Format, Limits, decode_bytes, encode_bytes};
use tracemark_vault::Role;

const TITLE: &str = "Board call, 30 November";
const LEAKER: &str = "Alice Archer";
const OTHER: &str = "Bob Brown";

/// 36 s of real telephone speech as a WAV file, the original the distributor uploads.
fn write_original(dir: &Path) -> std::path::PathBuf {
    let audio = tracemark_testkit::corpus_or_excerpt("call-en-8k.flac", 36.0, (0.0, 36.0));
    let wav = encode_bytes(&audio, Format::Wav, &EncodeOptions::default()).expect("encode wav");
    let path = dir.join("board-call.wav");
    std::fs::write(&path, wav).expect("write the original");
    path
}

/// The leak: seconds 5 to 30 of a copy, re-encoded as 64 kbit/s MP3.
fn write_leak(copy: &[u8], dir: &Path) -> std::path::PathBuf {
    let audio = decode_bytes(copy, None, &Limits::default()).expect("the copy decodes");
    let rate = audio.rate().hz() as usize;
    let cut = audio.slice(5 * rate, 30 * rate);
    let options = EncodeOptions {
        bitrate_kbps: Some(64),
    };
    let mp3 = encode_bytes(&cut, Format::Mp3, &options).expect("encode the leak as mp3");
    let path = dir.join("aired-tonight.mp3");
    std::fs::write(&path, mp3).expect("write the leak");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distributor_investigator_and_auditor_work_through_the_web_ui_without_console_errors() {
    let Some((chromium, chromedriver)) = browser_or_skip() else {
        return;
    };
    let started = std::time::Instant::now();
    let server = Server::start().await;
    let files = server.dir.path().join("files");
    let downloads = server.dir.path().join("downloads");
    for d in [&files, &downloads] {
        std::fs::create_dir_all(d).expect("test dirs");
    }
    let driver = Driver::start(&chromedriver).await;
    let ui = Ui::open(&driver, &chromium, &server.base, &downloads).await;

    the_console_check_sees_csp_violations_and_failed_loads(&ui).await;
    signing_in_checks_the_password(&ui).await;
    ui.sign_in_as(Role::Distributor).await;
    ui.assert_clean_console("signing in as the distributor")
        .await;
    another_roles_page_answers_403(&ui, "/traces", "investigator").await;

    add_recipients(&ui).await;
    let recording = upload_recording(&ui, &write_original(&files)).await;
    issue_copies(&ui).await;
    let copy = download_copy(&ui, &server, &recording).await;
    let leak = write_leak(&copy, &files);
    ui.goto("/recordings").await;
    ui.wait_for_text("#recordings", TITLE).await;
    ui.screenshot("recordings").await;
    ui.assert_clean_console("the recordings list").await;
    ui.sign_out().await;

    ui.sign_in_as(Role::Investigator).await;
    another_roles_page_answers_403(&ui, "/recipients", "distributor").await;
    let trace = trace_leak(&ui, &leak).await;
    ui.sign_out().await;

    ui.sign_in_as(Role::Auditor).await;
    audit(&ui, &server, &recording, &trace).await;
    ui.sign_out().await;

    ui.sign_in_as(Role::Admin).await;
    ui.goto("/users").await;
    for role in Role::ALL {
        ui.wait_for_text("#users", &user_name(role)).await;
    }
    ui.screenshot("users").await;
    ui.assert_clean_console("the users page").await;
    ui.sign_out().await;
    ui.assert_clean_console("signing out").await;

    ui.close().await;
    drop(driver);
    server.stop().await;
    println!(
        "browser story took {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The console check is not blind: an inline script (refused by the CSP) and a request
/// for a missing page both show up as errors.
async fn the_console_check_sees_csp_violations_and_failed_loads(ui: &Ui) {
    ui.goto("/signin").await;
    ui.assert_clean_console("loading the sign-in page").await;
    ui.script(
        "const s = document.createElement('script');
         s.textContent = 'window.inlineRan = true;';
         document.head.appendChild(s);
         return fetch('/no-such-page').then(r => r.status);",
    )
    .await;
    let ran = ui.script("return window.inlineRan === true;").await;
    assert_eq!(ran, false, "the CSP refuses inline scripts");
    let has = |seen: &[serde_json::Value], needle: &str| {
        seen.iter().any(|e| {
            e["level"] == "SEVERE" && e["message"].as_str().unwrap_or_default().contains(needle)
        })
    };
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + browser_support::WAIT;
    while !(has(&seen, "Content Security Policy") && has(&seen, "/no-such-page")) {
        assert!(
            std::time::Instant::now() < deadline,
            "the console did not report the refused script and the 404: {seen:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        seen.extend(ui.console().await);
    }
}

async fn signing_in_checks_the_password(ui: &Ui) {
    ui.goto("/").await;
    assert_eq!(
        ui.wait_for_path("/signin").await,
        "/signin",
        "a page needing a session sends the browser to sign in"
    );
    ui.find("#name").await;
    ui.screenshot("signin").await;
    ui.sign_in(&user_name(Role::Distributor), "not the password")
        .await;
    ui.wait_for_path("/signin?failed").await;
    let error = ui
        .wait_for_text("p.error[role=alert]", "Wrong name or password")
        .await;
    assert!(!error.contains(PASSWORD));
    assert!(
        ui.find_all("nav .who").await.is_empty(),
        "a wrong password signs nobody in"
    );
    ui.assert_clean_console("a wrong password").await;
}

/// A page of another role: the error page, with status 403 and the role it needs.
async fn another_roles_page_answers_403(ui: &Ui, path: &str, needs: &str) {
    ui.goto(path).await;
    ui.wait_for_text("h1", "Something went wrong").await;
    ui.wait_for_text("p.error[role=alert]", &format!("needs the role {needs}"))
        .await;
    let status = ui
        .script("return fetch(location.href, {credentials: 'same-origin'}).then(r => r.status);")
        .await;
    assert_eq!(status, 403, "{path} answers 403 to this role");
    // Chromium reports the refused page (and the fetch of it) as failed loads: exactly
    // those are expected here, and nothing else.
    let unexpected: Vec<_> = ui
        .console()
        .await
        .into_iter()
        .filter(|e| e["level"] == "SEVERE")
        .filter(|e| {
            let m = e["message"].as_str().unwrap_or_default();
            !(m.contains(path) && m.contains("status of 403"))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "console errors on the 403 page: {unexpected:?}"
    );
}

async fn add_recipients(ui: &Ui) {
    ui.goto("/recipients").await;
    for (name, email) in [(LEAKER, "alice@example.org"), (OTHER, "")] {
        ui.fill("#rname", name).await;
        if !email.is_empty() {
            ui.fill("#remail", email).await;
        }
        ui.click("form.card button[type=submit]").await;
        ui.wait_for_text("#recipients tbody", name).await;
    }
    ui.wait_for_text("#recipients caption", "2 recipients")
        .await;
    ui.screenshot("recipients").await;
    ui.assert_clean_console("adding recipients").await;
}

/// Uploads the original through the form; returns the recording's id.
async fn upload_recording(ui: &Ui, original: &Path) -> String {
    ui.goto("/recordings").await;
    ui.fill("#title", TITLE).await;
    ui.find("#file")
        .await
        .send_keys(&original.display().to_string())
        .await
        .expect("choose the file");
    ui.click("#upload button[type=submit]").await;
    let path = ui.wait_for_path("/recordings/r").await;
    let id = path.trim_start_matches("/recordings/").to_string();
    ui.wait_for_text("h1", TITLE).await;
    ui.wait_for_text("dl.facts", "36.00 s").await;
    ui.wait_until("the waveform to be drawn", || async {
        let painted = ui
            .script(
                "const c = document.getElementById('waveform');
                 if (!c) return 0;
                 const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                 let n = 0;
                 for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
                 return n;",
            )
            .await;
        painted.as_u64().unwrap_or(0) > 1000
    })
    .await;
    ui.assert_clean_console("uploading the recording").await;
    id
}

async fn issue_copies(ui: &Ui) {
    for name in [LEAKER, OTHER] {
        ui.click(&format!("#issue input[name=recipients][value=\"{name}\"]"))
            .await;
    }
    ui.find("#format")
        .await
        .select_by_value("flac")
        .await
        .expect("pick FLAC");
    ui.click("#issue button[type=submit]").await;
    ui.wait_for_text("#issue .status", "Issued 2 copies").await;
    let links = ui.find_all("#issued-links a").await;
    let mut texts = Vec::new();
    for l in &links {
        texts.push(l.text().await.expect("link text"));
    }
    texts.sort();
    assert_eq!(
        texts,
        [
            format!("Download {LEAKER}'s copy"),
            format!("Download {OTHER}'s copy")
        ]
    );
    ui.wait_for_text("#issuances caption", "2 issued copies")
        .await;
    let table = ui.text("#issuances tbody").await;
    assert!(
        table.contains(LEAKER) && table.contains(OTHER) && table.contains("flac"),
        "the table of issued copies lists both: {table}"
    );
    ui.screenshot("recording").await;
    ui.assert_clean_console("issuing copies").await;
}

/// Clicks the leaker's download link; checks the file is the issued copy, byte for byte.
async fn download_copy(ui: &Ui, server: &Server, recording: &str) -> Vec<u8> {
    let links = ui.find_all("#issued-links a").await;
    let mut leaker_link = None;
    for l in links {
        if l.text().await.expect("link text").contains(LEAKER) {
            leaker_link = Some(l);
        }
    }
    leaker_link
        .expect("a link to the leaker's copy")
        .click()
        .await
        .expect("click the download link");
    let (path, bytes) = ui.downloaded(recording).await;
    let vault = &server.vault;
    let leaker = vault
        .recipients()
        .expect("recipients")
        .into_iter()
        .find(|r| r.name == LEAKER)
        .expect("the leaker is a recipient");
    let issued = vault
        .issuances_of(recording)
        .expect("issuances")
        .into_iter()
        .find(|i| i.recipient_id == leaker.id)
        .expect("the leaker's copy was issued");
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        issued.copy_sha256.to_hex(),
        "{} is the leaker's issued copy",
        path.display()
    );
    assert_eq!(vault.copy_bytes(&issued).expect("stored copy"), bytes);
    ui.assert_clean_console("downloading a copy").await;
    bytes
}

/// Traces the leak through the form and checks the report; returns the trace id.
async fn trace_leak(ui: &Ui, leak: &Path) -> String {
    ui.goto("/traces").await;
    ui.find("#leak")
        .await
        .send_keys(&leak.display().to_string())
        .await
        .expect("choose the leak");
    ui.click("#trace button[type=submit]").await;
    let path = ui.wait_for_path("/traces/t").await;
    let id = path.trim_start_matches("/traces/").to_string();
    let verdict = ui.wait_for_text("#verdict", "from the copy of").await;
    assert!(
        verdict.contains(LEAKER) && !verdict.contains(OTHER),
        "the verdict names the leaker and only the leaker: {verdict}"
    );
    assert!(verdict.contains(TITLE), "and the recording: {verdict}");
    ui.find("svg#timeline").await;
    ui.find("svg#scores").await;
    let evidence = ui
        .find("a[href$=\"/evidence\"]")
        .await
        .attr("href")
        .await
        .expect("href");
    assert_eq!(
        evidence.as_deref(),
        Some(format!("/api/v1/traces/{id}/evidence").as_str())
    );
    ui.screenshot("trace-report").await;
    ui.assert_clean_console("the trace report").await;
    ui.click("a[href$=\"/evidence\"]").await;
    let (_, bundle) = ui.downloaded(&format!("{id}.evidence")).await;
    assert!(
        bundle.len() > 1000,
        "the evidence bundle: {} bytes",
        bundle.len()
    );
    ui.assert_clean_console("downloading the evidence").await;

    ui.goto("/traces").await;
    ui.wait_for_text("#traces tbody", &id).await;
    ui.screenshot("traces").await;
    ui.assert_clean_console("the traces list").await;
    id
}

async fn audit(ui: &Ui, server: &Server, recording: &str, trace: &str) {
    ui.goto("/log").await;
    ui.find("#checkpoint").await;
    ui.click("#verify").await;
    let verified = ui.wait_for_text("#verify-result", "Verified").await;
    assert!(!verified.contains("BROKEN"), "{verified}");
    let size = server.vault.store().log_size().expect("log size");
    ui.wait_for_text(
        "main",
        &format!("Entries 0 to {} of {size}, newest first.", size - 1),
    )
    .await;
    let trail = ui.text("#audit").await;
    let distributor = user_name(Role::Distributor);
    let investigator = user_name(Role::Investigator);
    let expected = [
        format!("{distributor} ("),
        "sign-in session".into(),
        "sign-out session".into(),
        format!("recording {recording} ingested"),
        format!("copy of {recording} issued"),
        "download-copy".into(),
        format!("{investigator} ("),
        format!("trace {trace}:"),
        format!("view-report {trace}"),
        format!("download-evidence {trace}"),
        format!("evidence for {trace} exported"),
    ];
    for needle in &expected {
        assert!(
            trail.contains(needle.as_str()),
            "the audit trail shows {needle:?}:\n{trail}"
        );
    }
    let sign_ins = trail.matches(": sign-in session").count();
    assert!(
        sign_ins >= 3,
        "the distributor's, the investigator's and the auditor's sign-ins: {sign_ins}"
    );
    ui.screenshot("log").await;
    ui.assert_clean_console("verifying the log").await;
}
