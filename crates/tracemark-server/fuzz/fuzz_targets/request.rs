//! Any HTTP request, from any role, to the whole service: the answer is never a 5xx
//! (bad input is the client's fault) and the process never panics.
//!
//! Input layout: byte 0 picks the method, byte 1 the credentials (none or one of the
//! four roles' tokens), then `path\n`, then header lines `name: value\n` up to an empty
//! line, then the body.
//!
//! `cargo fuzz run request` (from crates/tracemark-server).

#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use tracemark_vault::{Role, Vault};

struct Harness {
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    tokens: Vec<String>,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        Vault::create_keys(dir.path()).expect("keys");
        let store = tracemark_store_sqlite::SqliteStore::open(&dir.path().join("vault.db"), true)
            .expect("sqlite");
        let blobs = tracemark_blobs::LocalBlobs::new(dir.path());
        let vault = Vault::open(dir.path(), Box::new(store), Box::new(blobs)).expect("vault");
        let mut tokens = Vec::new();
        for role in Role::ALL {
            let name = format!("{}-user", role.as_str());
            vault
                .add_user_with_password(&name, role, "correct horse battery")
                .expect("user");
            tokens.push(vault.create_token(&name, None).expect("token").1);
        }
        vault.add_recipient("Alice", None).expect("recipient");
        let config = tracemark_server::ServeConfig {
            workers: 0,
            max_upload: 1 << 20,
            spool_dir: dir.path().to_path_buf(),
            ..tracemark_server::ServeConfig::new()
        };
        let app = tracemark_server::app(Arc::new(vault), config);
        Harness {
            _dir: dir,
            runtime: tokio::runtime::Runtime::new().expect("runtime"),
            app,
            tokens,
        }
    })
}

const METHODS: [&str; 6] = ["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD"];

fuzz_target!(|data: &[u8]| {
    let h = harness();
    let [m, who, rest @ ..] = data else { return };
    let text = String::from_utf8_lossy(rest);
    let (path, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let (head, body) = rest.split_once("\n\n").unwrap_or((rest, ""));
    let uri = format!("/{}", path.trim_start_matches('/'));
    let mut b = Request::builder()
        .method(METHODS[usize::from(*m) % METHODS.len()])
        .uri(uri);
    for line in head.lines() {
        if let Some((k, v)) = line.split_once(':') {
            b = b.header(k.trim(), v.trim());
        }
    }
    if let Some(t) = h.tokens.get(usize::from(*who) % (h.tokens.len() + 1)) {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    // Requests the http crate itself refuses never reach a server.
    let Ok(req) = b.body(Body::from(body.as_bytes().to_vec())) else {
        return;
    };
    let status = h
        .runtime
        .block_on(h.app.clone().oneshot(req))
        .expect("infallible")
        .status();
    assert!(
        !status.is_server_error(),
        "a request answered {status}: {:?}",
        String::from_utf8_lossy(data)
    );
});
