//! A vault with one user per role and an API token each, and the app in process.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tracemark_server::ServeConfig;
use tracemark_vault::{Role, Vault};

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub vault: Arc<Vault>,
    pub app: Router,
    pub tokens: HashMap<Role, String>,
}

pub const PASSWORD: &str = "correct horse battery staple";

pub fn user_name(r: Role) -> String {
    format!("{}-user", r.as_str())
}

impl TestApp {
    pub fn new() -> Self {
        Self::with_config(|c| c)
    }

    pub fn with_config(f: impl FnOnce(ServeConfig) -> ServeConfig) -> Self {
        Self::with(f, |_| {})
    }

    /// With a changed configuration and a vault set up by `v` before it is shared.
    pub fn with(f: impl FnOnce(ServeConfig) -> ServeConfig, v: impl FnOnce(&mut Vault)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        Vault::create_keys(dir.path()).expect("keys");
        let store = tracemark_store_sqlite::SqliteStore::open(&dir.path().join("vault.db"), true)
            .expect("sqlite");
        let blobs = tracemark_blobs::LocalBlobs::new(dir.path());
        let mut vault = Vault::open(dir.path(), Box::new(store), Box::new(blobs)).expect("vault");
        v(&mut vault);
        let vault = Arc::new(vault);
        let mut tokens = HashMap::new();
        for role in Role::ALL {
            vault
                .add_user_with_password(&user_name(role), role, PASSWORD)
                .expect("user");
            let (_, secret) = vault.create_token(&user_name(role), None).expect("token");
            tokens.insert(role, secret);
        }
        let spool = dir.path().join("spool");
        std::fs::create_dir_all(&spool).expect("spool");
        let config = f(ServeConfig {
            workers: 0,
            spool_dir: spool,
            ..ServeConfig::new()
        });
        let app = tracemark_server::app(Arc::clone(&vault), config);
        Self {
            dir,
            vault,
            app,
            tokens,
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(req).await.expect("infallible");
        Reply::read(response).await
    }

    /// A request as `role` (None: no credentials).
    pub fn request(
        &self,
        method: &str,
        uri: &str,
        role: Option<Role>,
    ) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(r) = role {
            b = b.header(header::AUTHORIZATION, format!("Bearer {}", self.tokens[&r]));
        }
        b
    }

    pub async fn json(
        &self,
        method: &str,
        uri: &str,
        role: Role,
        body: serde_json::Value,
    ) -> Reply {
        self.send(
            self.request(method, uri, Some(role))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .expect("request"),
        )
        .await
    }

    pub async fn get(&self, uri: &str, role: Role) -> Reply {
        self.send(
            self.request("GET", uri, Some(role))
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    /// Runs queued jobs until none is left (the test's worker).
    pub fn work(&self) -> usize {
        let options = tracemark_vault::WorkerOptions {
            name: "test-worker".into(),
            lease: std::time::Duration::from_secs(30),
        };
        let mut n = 0;
        loop {
            match self.vault.work_one(&options).expect("work") {
                tracemark_vault::Worked::Idle => return n,
                tracemark_vault::Worked::Finished(..) => n += 1,
                tracemark_vault::Worked::LeaseLost(id) => panic!("lease lost on {id}"),
            }
        }
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    async fn read(r: Response<Body>) -> Self {
        let status = r.status();
        let headers = r.headers().clone();
        let body = r
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} answered non-JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The error code of an error answer.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {}", self.text()))
            .to_string()
    }
}

/// A multipart body with the file part `file` and text fields.
pub fn multipart(file_name: &str, file: &[u8], fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "tracemark-test-boundary-7f3a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `seconds` of the corpus call (8 kHz speech) as a 16-bit WAV file, from `start_s`.
pub fn call_wav(start_s: f64, seconds: f64) -> Vec<u8> {
    let audio =
        tracemark_testkit::corpus_or_excerpt("call-en-8k.flac", start_s + seconds, (0.0, 30.0));
    let rate = audio.rate().hz() as f64;
    let a = ((start_s * rate) as usize).min(audio.frames());
    let b = (((start_s + seconds) * rate) as usize).min(audio.frames());
    let cut = audio.slice(a, b);
    tracemark_media::encode_bytes(
        &cut,
        tracemark_media::Format::Wav,
        &tracemark_media::EncodeOptions::default(),
    )
    .expect("wav")
}
