//! The API in process: the role matrix over every route in the OpenAPI document, sign-in
//! with sessions, CSRF and the throttle, the job story from upload to evidence with its
//! chain of custody, and malformed input (never a 5xx).

mod common;

use axum::body::Body;
use axum::http::{StatusCode, header};
use common::{PASSWORD, TestApp, call_wav, multipart, user_name};
use tracemark_vault::Role;

/// Who may use each route: the specification the matrix checks the server against.
/// `None`: public.
fn allowed(method: &str, path: &str) -> Option<&'static [Role]> {
    use Role::*;
    const D: &[Role] = &[Distributor];
    const I: &[Role] = &[Investigator];
    const AU: &[Role] = &[Auditor];
    const AD: &[Role] = &[Admin];
    const ANY: &[Role] = &[Distributor, Investigator, Auditor, Admin];
    Some(match (method, path) {
        ("get", "/api/v1/health") | ("get", "/api/v1/openapi.json") => return None,
        ("get", "/api/v1/me") => ANY,
        ("get" | "post", "/api/v1/recipients") => D,
        ("get" | "post", "/api/v1/recordings") => D,
        ("get", "/api/v1/recordings/{id}") => D,
        ("get", "/api/v1/recordings/{id}/original") => D,
        ("get", "/api/v1/recordings/{id}/waveform") => D,
        ("post", "/api/v1/recordings/{id}/copies") => D,
        ("get", "/api/v1/copies/{id}") => D,
        ("get" | "post", "/api/v1/traces") => I,
        ("get", "/api/v1/traces/{id}") => I,
        ("get", "/api/v1/traces/{id}/report.html") => I,
        ("get", "/api/v1/traces/{id}/evidence") => I,
        ("get", "/api/v1/jobs/{id}") => &[Distributor, Investigator],
        ("get", "/api/v1/log/checkpoint") => AU,
        ("post", "/api/v1/log/verify") => AU,
        ("get", "/api/v1/log/entries") => AU,
        ("get" | "post", "/api/v1/users") => AD,
        ("patch", "/api/v1/users/{name}") => AD,
        ("get" | "post", "/api/v1/tokens") => AD,
        ("delete", "/api/v1/tokens/{id}") => AD,
        _ => panic!("{method} {path} is in the OpenAPI document but not in the test's matrix"),
    })
}

fn fill(path: &str, recording: &str) -> String {
    path.replace("/recordings/{id}", &format!("/recordings/{recording}"))
        .replace("/copies/{id}", "/copies/i-1")
        .replace("/traces/{id}", "/traces/t-0123456789abcdef")
        .replace("/jobs/{id}", "/jobs/j-0123456789abcdef")
        .replace("/users/{name}", "/users/nobody")
        .replace("/tokens/{id}", "/tokens/tok-0123456789abcdef")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_401_without_credentials_and_403_to_other_roles() {
    let t = TestApp::new();
    let rec = t
        .vault
        .ingest(&call_wav(0.0, 12.0), "call.wav", "Matrix")
        .expect("ingest");
    let doc = t
        .send(
            t.request("GET", "/api/v1/openapi.json", None)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (path, item) in paths {
        for method in ["get", "post", "patch", "delete", "put"] {
            if item.get(method).is_none() {
                continue;
            }
            let roles = allowed(method, path);
            let uri = fill(path, rec.id.as_str());
            let make = |role: Option<Role>| {
                t.request(&method.to_uppercase(), &uri, role)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from("{}"))
                    .expect("req")
            };
            let anonymous = t.send(make(None)).await;
            match roles {
                None => assert!(
                    anonymous.status.is_success(),
                    "{method} {path} is public, answered {}",
                    anonymous.status
                ),
                Some(_) => {
                    assert_eq!(
                        anonymous.status,
                        StatusCode::UNAUTHORIZED,
                        "{method} {path} without credentials"
                    );
                    assert_eq!(anonymous.code(), "unauthenticated");
                }
            }
            for role in Role::ALL {
                let r = t.send(make(Some(role))).await;
                let may = roles.is_none_or(|rs| rs.contains(&role));
                if may {
                    assert!(
                        r.status != StatusCode::FORBIDDEN
                            && r.status != StatusCode::UNAUTHORIZED
                            && !r.status.is_server_error(),
                        "{method} {path} as {} answered {}: {}",
                        role.as_str(),
                        r.status,
                        r.text()
                    );
                } else {
                    assert_eq!(
                        r.status,
                        StatusCode::FORBIDDEN,
                        "{method} {path} as {}: {}",
                        role.as_str(),
                        r.text()
                    );
                    assert_eq!(r.code(), "forbidden");
                }
                checked += 1;
            }
        }
    }
    // Every route of the specification is in the document.
    assert_eq!(checked, 27 * 4, "routes x roles checked");
}

fn set_cookies(r: &common::Reply) -> Vec<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_string())
        .collect()
}

fn cookie_value(set: &[String], name: &str) -> Option<String> {
    set.iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
}

async fn sign_in(t: &TestApp, name: &str, password: &str) -> common::Reply {
    let page = t
        .send(
            t.request("GET", "/signin", None)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let token = cookie_value(&set_cookies(&page), "tracemark_signin").expect("signin cookie");
    assert!(page.text().contains(&token), "the form carries the token");
    let form = format!(
        "name={name}&password={}&csrf={token}",
        password.replace(' ', "+")
    );
    t.send(
        t.request("POST", "/signin", None)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("tracemark_signin={token}"))
            .body(Body::from(form))
            .expect("req"),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sets_a_strict_session_cookie_and_changes_need_the_csrf_token() {
    let t = TestApp::new();
    let name = user_name(Role::Distributor);
    let ok = sign_in(&t, &name, PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let set = set_cookies(&ok);
    let session_cookie = set
        .iter()
        .find(|c| c.starts_with("tracemark_session="))
        .expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(
            session_cookie.contains(flag),
            "{session_cookie} lacks {flag}"
        );
    }
    assert!(!session_cookie.contains("Secure"), "not behind TLS here");
    let secret = cookie_value(&set, "tracemark_session").expect("secret");
    let cookie = format!("tracemark_session={secret}");

    let me = t
        .send(
            t.request("GET", "/api/v1/me", None)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["name"], name.as_str());

    // The CSRF token is on every page of the session.
    let page = t
        .send(
            t.request("GET", "/recipients", None)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    let html = page.text();
    let csrf = html
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf meta")
        .to_string();
    assert_eq!(csrf.len(), 32);

    let add = |csrf: Option<&str>| {
        let mut b = t
            .request("POST", "/api/v1/recipients", None)
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(c) = csrf {
            b = b.header("x-csrf-token", c);
        }
        b.body(Body::from(r#"{"name":"Alice"}"#)).expect("req")
    };
    let refused = t.send(add(None)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text().contains("CSRF"));
    let wrong = t.send(add(Some("0123456789abcdef0123456789abcdef"))).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let added = t.send(add(Some(&csrf))).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());

    // A form post without the token is refused; with it, it lands.
    let form = |c: &str| {
        t.request("POST", "/recipients", None)
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={c}&name=Bob&email=")))
            .expect("req")
    };
    assert_eq!(t.send(form("nope")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.send(form(&csrf)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(t.vault.recipients().expect("list").len(), 2);

    // Sign-out ends the session, and both are in the log with who did it.
    let out = t
        .send(
            t.request("POST", "/signout", None)
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("csrf={csrf}")))
                .expect("req"),
        )
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = t
        .send(
            t.request("GET", "/api/v1/me", None)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    let trail = t
        .get("/api/v1/log/entries?limit=1000", Role::Auditor)
        .await
        .json();
    let actions: Vec<(String, String)> = trail["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["kind"] == "access")
        .map(|e| {
            (
                e["actor_name"].as_str().unwrap_or_default().to_string(),
                e["action"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        actions.contains(&(name.clone(), "sign-in".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&(name.clone(), "sign-out".into())),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_throttled_and_a_stale_form_is_refused() {
    let t = TestApp::new();
    let name = user_name(Role::Auditor);
    for _ in 0..tracemark_server::auth::FAILURES_PER_NAME {
        let r = sign_in(&t, &name, "wrong password here").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some("/signin?failed=1")
        );
        assert!(cookie_value(&set_cookies(&r), "tracemark_session").is_none());
    }
    // Now even the right password waits.
    let r = sign_in(&t, &name, PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(cookie_value(&set_cookies(&r), "tracemark_session").is_none());
    // Another user is not locked out by it.
    let other = sign_in(&t, &user_name(Role::Admin), PASSWORD).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
    assert!(cookie_value(&set_cookies(&other), "tracemark_session").is_some());

    // A sign-in post without the form's cookie (a cross-site post) is refused.
    let forged = t
        .send(
            t.request("POST", "/signin", None)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "name={}&password={}&csrf=abc",
                    user_name(Role::Admin),
                    PASSWORD.replace(' ', "+")
                )))
                .expect("req"),
        )
        .await;
    assert_eq!(
        forged
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok()),
        Some("/signin?failed=expired")
    );
    assert!(cookie_value(&set_cookies(&forged), "tracemark_session").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_issue_download_trace_and_evidence_with_the_chain_of_custody() {
    let t = TestApp::new();
    // Ingest by upload.
    let (ct, body) = multipart("call.wav", &call_wav(0.0, 40.0), &[("title", "Envoy call")]);
    let r = t
        .send(
            t.request("POST", "/api/v1/recordings", Some(Role::Distributor))
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let rec = r.json()["id"].as_str().expect("id").to_string();
    for name in ["Alice", "Bob", "Carol"] {
        let r = t
            .json(
                "POST",
                "/api/v1/recipients",
                Role::Distributor,
                serde_json::json!({"name": name}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    // Issue as a job.
    let r = t
        .json(
            "POST",
            &format!("/api/v1/recordings/{rec}/copies"),
            Role::Distributor,
            serde_json::json!({"recipients": ["Alice", "Bob", "Carol"], "format": "flac"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let job = r.json();
    assert_eq!(job["status"], "queued");
    let url = job["url"].as_str().expect("url").to_string();
    // An investigator does not see a distributor's job.
    assert_eq!(
        t.get(&url, Role::Investigator).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(t.work(), 1);
    let done = t.get(&url, Role::Distributor).await.json();
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["progress"], 1.0);
    let copies = done["result"]["copies"].as_array().expect("copies").clone();
    assert_eq!(copies.len(), 3);
    let bob = copies
        .iter()
        .find(|c| c["recipient"] == "Bob")
        .expect("Bob's copy");
    let copy = t
        .get(bob["url"].as_str().expect("url"), Role::Distributor)
        .await;
    assert_eq!(copy.status, StatusCode::OK);
    assert_eq!(
        tracemark_vault::Sha256::digest(&copy.body).to_hex(),
        bob["copy_sha256"].as_str().expect("sha"),
        "the download is the logged copy"
    );

    // Bob's copy leaks: 25 s of it, as MP3 64k.
    let audio = tracemark_media::decode_bytes(&copy.body, Some("flac"), &Default::default())
        .expect("decode");
    let rate = audio.rate().hz() as usize;
    let leak = tracemark_media::encode_bytes(
        &audio.slice(5 * rate, 30 * rate),
        tracemark_media::Format::Mp3,
        &tracemark_media::EncodeOptions {
            bitrate_kbps: Some(64),
        },
    )
    .expect("mp3");
    let (ct, body) = multipart("aired-tonight.bin", &leak, &[]);
    let r = t
        .send(
            t.request("POST", "/api/v1/traces", Some(Role::Investigator))
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let url = r.json()["url"].as_str().expect("url").to_string();
    assert_eq!(t.work(), 1);
    let done = t.get(&url, Role::Investigator).await.json();
    assert_eq!(done["status"], "succeeded", "{done}");
    let trace_id = done["result"]["trace_id"]
        .as_str()
        .expect("trace id")
        .to_string();
    let report = &done["result"]["report"];
    let accused: Vec<&str> = report["accused"]
        .as_array()
        .expect("accused")
        .iter()
        .filter_map(|a| a["recipient"].as_str())
        .collect();
    assert_eq!(accused, vec!["Bob"], "{report}");
    // The job's report is the stored one, as `tracemark trace --json` prints it.
    let row = t.vault.trace_row(&trace_id).expect("row");
    assert_eq!(
        report,
        &serde_json::from_str::<serde_json::Value>(&row.report_json).expect("json")
    );

    let html = t
        .get(
            &format!("/api/v1/traces/{trace_id}/report.html"),
            Role::Investigator,
        )
        .await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.text().contains("Bob"));
    let bundle = t
        .get(
            &format!("/api/v1/traces/{trace_id}/evidence"),
            Role::Investigator,
        )
        .await;
    assert_eq!(bundle.status, StatusCode::OK);
    let key = t.vault.verifier_key().to_string();
    tracemark_evidence::verify_evidence(&bundle.body, Some(&key))
        .expect("the bundle verifies offline");

    // The auditor sees who did what, and the log verifies.
    let v = t
        .send(
            t.request("POST", "/api/v1/log/verify", Some(Role::Auditor))
                .body(Body::empty())
                .expect("req"),
        )
        .await
        .json();
    assert_eq!(v["ok"], true, "{v}");
    let trail = t
        .get("/api/v1/log/entries?limit=1000", Role::Auditor)
        .await
        .json();
    let items = trail["items"].as_array().expect("items");
    let did = |who: Role, action: &str| {
        items
            .iter()
            .any(|e| e["actor_name"] == user_name(who).as_str() && e["action"] == action)
    };
    assert!(did(Role::Distributor, "request-copies"));
    assert!(did(Role::Distributor, "download-copy"));
    assert!(did(Role::Investigator, "upload-leak"));
    assert!(did(Role::Investigator, "trace"));
    assert!(did(Role::Investigator, "view-report"));
    assert!(did(Role::Investigator, "download-evidence"));
    let kinds = |k: &str| items.iter().filter(|e| e["kind"] == k).count();
    assert_eq!(kinds("copy-issued"), 3);
    assert_eq!(kinds("trace-recorded"), 1);
    assert_eq!(kinds("evidence-exported"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_a_4xx_with_a_reason_never_a_5xx() {
    let t = TestApp::with_config(|c| tracemark_server::ServeConfig {
        max_upload: 64 * 1024,
        ..c
    });
    let rec = t
        .vault
        .ingest(&call_wav(0.0, 8.0), "call.wav", "Short")
        .expect("ingest");
    let d = Some(Role::Distributor);
    let i = Some(Role::Investigator);
    // (method, uri, as, content type, body, status, error code)
    type Case = (
        &'static str,
        String,
        Option<Role>,
        &'static str,
        Vec<u8>,
        u16,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/api/v1/recipients".into(),
            d,
            "application/json",
            b"{\"name\":".to_vec(),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/api/v1/recipients".into(),
            d,
            "text/plain",
            b"{}".to_vec(),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/api/v1/recipients".into(),
            d,
            "application/json",
            b"{\"name\":\"r-12\"}".to_vec(),
            422,
            "invalid",
        ),
        (
            "POST",
            "/api/v1/recipients".into(),
            d,
            "application/json",
            b"{\"name\":\"\\u0000x\"}".to_vec(),
            422,
            "invalid",
        ),
        (
            "POST",
            "/api/v1/recipients".into(),
            d,
            "application/json",
            format!("{{\"name\":\"{}\"}}", "x".repeat(5000)).into_bytes(),
            422,
            "invalid",
        ),
        (
            "GET",
            "/api/v1/recordings/not-an-id".into(),
            d,
            "",
            vec![],
            422,
            "invalid",
        ),
        (
            "GET",
            "/api/v1/recordings/rec-000000000000".into(),
            d,
            "",
            vec![],
            404,
            "not_found",
        ),
        (
            "GET",
            format!("/api/v1/recordings/{}/waveform?points=abc", rec.id),
            d,
            "",
            vec![],
            400,
            "bad_request",
        ),
        (
            "GET",
            format!("/api/v1/recordings/{}/waveform?points=5", rec.id),
            d,
            "",
            vec![],
            422,
            "invalid",
        ),
        (
            "POST",
            format!("/api/v1/recordings/{}/copies", rec.id),
            d,
            "application/json",
            b"{\"recipients\":[\"nobody\"]}".to_vec(),
            404,
            "not_found",
        ),
        (
            "POST",
            format!("/api/v1/recordings/{}/copies", rec.id),
            d,
            "application/json",
            b"{\"recipients\":[],\"format\":\"flac\"}".to_vec(),
            422,
            "invalid",
        ),
        (
            "POST",
            format!("/api/v1/recordings/{}/copies", rec.id),
            d,
            "application/json",
            b"{\"recipients\":[\"x\"],\"format\":\"mp3-9999k\"}".to_vec(),
            422,
            "invalid",
        ),
        (
            "GET",
            "/api/v1/copies/i-x".into(),
            d,
            "",
            vec![],
            422,
            "invalid",
        ),
        (
            "GET",
            "/api/v1/copies/i-99".into(),
            d,
            "",
            vec![],
            404,
            "not_found",
        ),
        (
            "POST",
            "/api/v1/recordings".into(),
            d,
            "application/json",
            b"{}".to_vec(),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/api/v1/recordings".into(),
            d,
            "multipart/form-data; boundary=zz",
            b"--zz\r\ngarbage".to_vec(),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/api/v1/traces".into(),
            i,
            "multipart/form-data",
            b"".to_vec(),
            400,
            "bad_request",
        ),
        (
            "GET",
            "/api/v1/traces/t-zz".into(),
            i,
            "",
            vec![],
            404,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/traces/zz".into(),
            i,
            "",
            vec![],
            422,
            "invalid",
        ),
        (
            "GET",
            "/api/v1/jobs/j-0000000000000000".into(),
            i,
            "",
            vec![],
            404,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/log/entries?limit=0".into(),
            Some(Role::Auditor),
            "",
            vec![],
            422,
            "invalid",
        ),
        (
            "GET",
            "/api/v1/log/entries?from=-1".into(),
            Some(Role::Auditor),
            "",
            vec![],
            400,
            "bad_request",
        ),
        (
            "PATCH",
            "/api/v1/users/nobody".into(),
            Some(Role::Admin),
            "application/json",
            b"{\"role\":\"king\"}".to_vec(),
            422,
            "invalid",
        ),
        (
            "POST",
            "/api/v1/users".into(),
            Some(Role::Admin),
            "application/json",
            b"{\"name\":\"eve\",\"role\":\"auditor\",\"password\":\"short\"}".to_vec(),
            422,
            "invalid",
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(Role::Admin),
            "application/json",
            b"{\"user\":\"eve\",\"expires_days\":0}".to_vec(),
            422,
            "invalid",
        ),
        (
            "DELETE",
            "/api/v1/tokens/tok-zz".into(),
            Some(Role::Admin),
            "",
            vec![],
            422,
            "invalid",
        ),
        (
            "PUT",
            "/api/v1/recipients".into(),
            d,
            "",
            vec![],
            405,
            "method_not_allowed",
        ),
        (
            "GET",
            "/api/v1/nothing-here".into(),
            d,
            "",
            vec![],
            404,
            "not_found",
        ),
    ];
    for (method, uri, role, ct, body, status, code) in cases {
        let mut b = t.request(method, &uri, role);
        if !ct.is_empty() {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        let r = t.send(b.body(Body::from(body)).expect("req")).await;
        assert_eq!(r.status.as_u16(), status, "{method} {uri}: {}", r.text());
        assert_eq!(r.code(), code, "{method} {uri}");
        assert!(
            !r.json()["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
        );
    }

    // Uploads: not audio (by content, whatever the name), empty, no file part, too large.
    let upload = |name: &str,
                  bytes: Vec<u8>,
                  fields: Vec<(&'static str, &'static str)>,
                  role: Role,
                  uri: &'static str| {
        let (ct, body) = multipart(name, &bytes, &fields);
        t.request("POST", uri, Some(role))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .expect("req")
    };
    let r = t
        .send(upload(
            "song.mp3",
            b"<html>not audio at all</html>".repeat(10),
            vec![("title", "x")],
            Role::Distributor,
            "/api/v1/recordings",
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text());
    // A media upload is decoded from its spool file: errors name the file as it was sent,
    // never the server's spool path.
    assert!(r.text().contains("song.mp3"), "{}", r.text());
    assert!(!r.text().contains("tracemark-upload-"), "{}", r.text());
    let mut cut = call_wav(0.0, 1.0);
    cut.truncate(cut.len() / 2 + 1);
    let r = t
        .send(upload(
            "cut.wav",
            cut,
            vec![("title", "x")],
            Role::Distributor,
            "/api/v1/recordings",
        ))
        .await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.text());
    assert!(r.text().contains("cut.wav"), "{}", r.text());
    assert!(!r.text().contains("tracemark-upload-"), "{}", r.text());
    let r = t
        .send(upload(
            "leak.wav",
            b"RIFF\x10\0\0\0WAVEjunkjunk".to_vec(),
            vec![],
            Role::Investigator,
            "/api/v1/traces",
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::ACCEPTED,
        "a trace upload is checked by its job: {}",
        r.text()
    );
    assert_eq!(t.work(), 1);
    let failed = t
        .get(r.json()["url"].as_str().expect("url"), Role::Investigator)
        .await
        .json();
    assert_eq!(failed["status"], "failed");
    assert!(
        !failed["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{failed}"
    );
    let r = t
        .send(upload(
            "x.wav",
            vec![],
            vec![("title", "x")],
            Role::Distributor,
            "/api/v1/recordings",
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = t
        .send(upload(
            "x.wav",
            call_wav(0.0, 8.0),
            vec![],
            Role::Distributor,
            "/api/v1/recordings",
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "over 64 KiB: {}",
        r.text()
    );
    assert_eq!(r.code(), "too_large");
    let r = t
        .send(upload(
            "x.wav",
            call_wav(0.0, 1.0),
            vec![("bound", "2")],
            Role::Investigator,
            "/api/v1/traces",
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = t
        .send(upload(
            "x.wav",
            call_wav(0.0, 1.0),
            vec![("bound", "abc")],
            Role::Investigator,
            "/api/v1/traces",
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = t
        .send(upload(
            "x.wav",
            call_wav(0.0, 1.0),
            vec![],
            Role::Distributor,
            "/api/v1/recordings",
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no title: {}",
        r.text()
    );

    // Bearer junk.
    for auth in [
        "Bearer",
        "Bearer tmk_nope",
        "Basic dXNlcjpwYXNz",
        "Bearer \u{7f}",
    ] {
        let Ok(v) = axum::http::HeaderValue::from_str(auth) else {
            continue;
        };
        let r = t
            .send(
                axum::http::Request::builder()
                    .uri("/api/v1/me")
                    .header(header::AUTHORIZATION, v)
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth}");
    }

    // Random bodies at every write route, under every content type: never a 5xx.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let routes = [
        ("POST", "/api/v1/recipients".to_string(), Role::Distributor),
        (
            "POST",
            format!("/api/v1/recordings/{}/copies", rec.id),
            Role::Distributor,
        ),
        ("POST", "/api/v1/recordings".into(), Role::Distributor),
        ("POST", "/api/v1/traces".into(), Role::Investigator),
        ("POST", "/api/v1/users".into(), Role::Admin),
        ("PATCH", "/api/v1/users/admin-user".into(), Role::Admin),
        ("POST", "/api/v1/tokens".into(), Role::Admin),
    ];
    let types = [
        "application/json",
        "multipart/form-data; boundary=b",
        "application/x-www-form-urlencoded",
        "",
    ];
    for round in 0..400 {
        let (method, uri, role) = &routes[round % routes.len()];
        let ct = types[(next() % types.len() as u64) as usize];
        let len = (next() % 300) as usize;
        let mut body: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 3 == 0 && ct.starts_with("multipart") {
            body.splice(
                0..0,
                b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
                    .iter()
                    .copied(),
            );
        }
        let mut b = t.request(method, uri, Some(*role));
        if !ct.is_empty() {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        let r = t.send(b.body(Body::from(body)).expect("req")).await;
        assert!(
            r.status.is_client_error() || r.status.is_success(),
            "{method} {uri} ({ct}) answered {}: {}",
            r.status,
            r.text()
        );
        assert_ne!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_longer_than_the_servers_cap_is_refused_with_413() {
    let t = TestApp::with(
        |c| c,
        |v| {
            let mut limits = v.limits();
            limits.max_duration_s = 5.0;
            v.set_limits(limits);
        },
    );
    let (ct, body) = multipart("call.wav", &call_wav(0.0, 8.0), &[("title", "Too long")]);
    let r = t
        .send(
            t.request("POST", "/api/v1/recordings", Some(Role::Distributor))
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("over the limit"),
        "{}",
        r.text()
    );
    assert!(t.vault.recordings().expect("list").is_empty());
}

#[tokio::test]
async fn a_transcript_is_uploaded_issued_downloaded_and_traced_from_quotes() {
    let t = TestApp::new();
    let transcript = std::fs::read(
        tracemark_testkit::corpus_dir().join("transcripts/nixon-kissinger-telcons.txt"),
    )
    .expect("the corpus transcript");
    let (ct, body) = multipart("telcons.txt", &transcript, &[("title", "Telcons")]);
    let r = t
        .send(
            t.request("POST", "/api/v1/recordings", Some(Role::Distributor))
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let rec = r.json()["id"].as_str().expect("id").to_string();
    let names = ["Desk A", "Desk B", "Desk C", "Desk D"];
    for name in names {
        let r = t
            .json(
                "POST",
                "/api/v1/recipients",
                Role::Distributor,
                serde_json::json!({ "name": name }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let r = t
        .json(
            "POST",
            &format!("/api/v1/recordings/{rec}/copies"),
            Role::Distributor,
            serde_json::json!({"recipients": names, "format": "flac"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let url = r.json()["url"].as_str().expect("url").to_string();
    assert_eq!(t.work(), 1);
    let done = t.get(&url, Role::Distributor).await.json();
    assert_eq!(done["status"], "succeeded", "{done}");
    let copies = done["result"]["copies"].as_array().expect("copies").clone();
    assert_eq!(copies.len(), 4, "a text-only recording issues text alone");
    let c = copies
        .iter()
        .find(|c| c["recipient"] == "Desk C")
        .expect("Desk C's copy");
    assert_eq!(c["format"], "txt");
    let copy = t
        .get(c["url"].as_str().expect("url"), Role::Distributor)
        .await;
    assert_eq!(copy.status, StatusCode::OK);
    assert_eq!(
        copy.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/plain; charset=utf-8")
    );
    let text = String::from_utf8(copy.body.clone()).expect("UTF-8");
    assert_ne!(text.as_bytes(), transcript.as_slice());

    // Desk C's copy, retyped into an article, is uploaded as a leak.
    let retyped: String = text
        .replace(['\u{2019}', '\u{2018}'], "'")
        .replace('\u{2014}', "--")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let article = format!("A source gave us the record. \"{retyped}\" The office did not reply.");
    let (ct, body) = multipart("article.txt", article.as_bytes(), &[]);
    let r = t
        .send(
            t.request("POST", "/api/v1/traces", Some(Role::Investigator))
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .expect("req"),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let url = r.json()["url"].as_str().expect("url").to_string();
    assert_eq!(t.work(), 1);
    let done = t.get(&url, Role::Investigator).await.json();
    assert_eq!(done["status"], "succeeded", "{done}");
    let report = &done["result"]["report"];
    assert_eq!(report["medium"], "text");
    assert_eq!(report["accused"][0]["recipient"], "Desk C", "{report}");
    assert_eq!(report["accused"].as_array().map(Vec::len), Some(1));
    // The HTML report shows the uploaded text word by word, prose and quote marked.
    let trace_id = done["result"]["trace_id"].as_str().expect("trace id");
    let html = t
        .get(
            &format!("/api/v1/traces/{trace_id}/report.html"),
            Role::Investigator,
        )
        .await;
    assert_eq!(html.status, StatusCode::OK);
    let html = html.text();
    assert!(
        html.contains("id=\"leak-text\"") && html.contains("class=\"prose\""),
        "the report marks the leaked words"
    );
}
