//! The harness of the browser tests: the service in process on a loopback port, and a
//! headless Chromium driven through chromedriver (fantoccini), with every wait bounded and
//! the browser's console read after every step.

#![allow(
    dead_code,
    reason = "each test binary uses its own part of the harness"
)]

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::Method;
use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::sync::watch;
use tracemark_server::ServeConfig;
use tracemark_vault::{Role, Vault};

/// How long any one wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(60);
/// The window the pages are checked (and photographed) at.
pub const WINDOW: (u32, u32) = (1280, 900);

/// The password every test user has.
pub const PASSWORD: &str = "correct horse battery staple";

// ---------------------------------------------------------------- finding the browser

/// Chromium and chromedriver: `$TRACEMARK_CHROMIUM` / `$TRACEMARK_CHROMEDRIVER`, else
/// Debian's `/usr/bin/chromium` and `/usr/bin/chromedriver`, else the first on `PATH`.
/// Both must answer `--version`.
pub fn find_browser() -> Result<(PathBuf, PathBuf), String> {
    let chromium = find_tool("TRACEMARK_CHROMIUM", &["chromium", "chromium-browser"])?;
    let driver = find_tool("TRACEMARK_CHROMEDRIVER", &["chromedriver"])?;
    Ok((chromium, driver))
}

fn find_tool(var: &str, names: &[&str]) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match std::env::var_os(var) {
        Some(p) => vec![PathBuf::from(p)],
        None => names
            .iter()
            .map(|n| Path::new("/usr/bin").join(n))
            .chain(std::env::var_os("PATH").into_iter().flat_map(|path| {
                std::env::split_paths(&path)
                    .flat_map(|d| names.iter().map(move |n| d.join(n)))
                    .collect::<Vec<_>>()
            }))
            .collect(),
    };
    let found = candidates
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{} not found (set {var})", names[0]))?;
    let ran = Command::new(&found)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{} does not run: {e}", found.display()))?;
    if !ran.status.success() {
        return Err(format!(
            "{} --version failed: {}",
            found.display(),
            String::from_utf8_lossy(&ran.stderr)
        ));
    }
    Ok(found)
}

/// The browser, or why not: `Ok(None)` means skip (the reason printed), unless
/// `TRACEMARK_REQUIRE_BROWSER=1`, which turns a missing browser into a failure.
pub fn browser_or_skip() -> Option<(PathBuf, PathBuf)> {
    match find_browser() {
        Ok(found) => Some(found),
        Err(why) => {
            assert!(
                std::env::var("TRACEMARK_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "TRACEMARK_REQUIRE_BROWSER=1 but the browser is missing: {why} (run .ci/chromium.sh)"
            );
            println!("skipped: browser: {why}");
            None
        }
    }
}

// ---------------------------------------------------------------- the service

/// The service on `127.0.0.1:<free port>` over a fresh vault, one in-process worker.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The vault the server runs on (the same `Arc`).
    pub vault: Arc<Vault>,
    /// Where the vault, the spool and the test's files live.
    pub dir: tempfile::TempDir,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Starts it, with one user per role called `<role>-user`, password [`PASSWORD`].
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        Vault::create_keys(dir.path()).expect("vault keys");
        let store = tracemark_store_sqlite::SqliteStore::open(&dir.path().join("vault.db"), true)
            .expect("sqlite store");
        let blobs = tracemark_blobs::LocalBlobs::new(dir.path());
        let vault = Vault::open(dir.path(), Box::new(store), Box::new(blobs)).expect("vault");
        for role in Role::ALL {
            vault
                .add_user_with_password(&user_name(role), role, PASSWORD)
                .expect("user");
        }
        let vault = Arc::new(vault);
        let spool = dir.path().join("spool");
        std::fs::create_dir_all(&spool).expect("spool dir");
        let config = ServeConfig {
            workers: 1,
            spool_dir: spool,
            ..ServeConfig::new()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(tracemark_server::serve_on(
            listener,
            Arc::clone(&vault),
            config,
            Some(stop_rx),
        ));
        Self {
            base,
            vault,
            dir,
            stop,
            task,
        }
    }

    /// Stops it and waits for requests and jobs in flight.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("the server stops within the wait")
            .expect("the server task")
            .expect("the server ran cleanly");
    }
}

/// The test user of `role`.
pub fn user_name(role: Role) -> String {
    format!("{}-user", role.as_str())
}

// ---------------------------------------------------------------- the browser

/// chromedriver, killed when dropped (it ends its Chromium with the session).
pub struct Driver {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it answers.
    pub async fn start(chromedriver: &Path) -> Self {
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start chromedriver");
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        driver
    }
}

/// chromedriver's legacy log command: the browser console since the last read.
#[derive(Debug)]
struct ReadBrowserLog;

impl WebDriverCompatibleCommand for ReadBrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (Method::POST, Some(json!({"type": "browser"}).to_string()))
    }
}

/// A console entry the test refuses: an error, a CSP violation or a failed load.
fn is_console_error(entry: &Value) -> bool {
    let level = entry["level"].as_str().unwrap_or_default();
    let message = entry["message"].as_str().unwrap_or_default();
    level == "SEVERE" || message.contains("Content Security Policy")
}

/// One headless Chromium session on the service.
pub struct Ui {
    /// The WebDriver client.
    pub client: Client,
    /// The service's base URL.
    pub base: String,
    /// Where clicked downloads land.
    pub downloads: PathBuf,
    shots: Option<PathBuf>,
    _profile: tempfile::TempDir,
}

impl Ui {
    /// Opens Chromium (the flags of docs DEPENDENCIES.md, a 1280x900 window, a fresh
    /// profile, downloads into `downloads`) with the browser log on.
    pub async fn open(driver: &Driver, chromium: &Path, base: &str, downloads: &Path) -> Self {
        let profile = tempfile::tempdir().expect("profile dir");
        let (w, h) = WINDOW;
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--hide-scrollbars".into(),
            format!("--window-size={w},{h}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": args,
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                    "safebrowsing.enabled": false,
                },
            },
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!("a JSON object literal"),
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = tokio::time::timeout(
            WAIT,
            ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(&driver.url),
        )
        .await
        .expect("chromedriver opens a session within the wait")
        .expect("chromedriver opens a Chromium session");
        let shots = std::env::var_os("TRACEMARK_SCREENSHOTS").map(PathBuf::from);
        if let Some(dir) = &shots {
            std::fs::create_dir_all(dir).expect("the screenshot directory");
        }
        let ui = Self {
            client,
            base: base.to_string(),
            downloads: downloads.to_path_buf(),
            shots,
            _profile: profile,
        };
        ui.fit_viewport().await;
        ui
    }

    /// Makes the page area itself [`WINDOW`] (the window's frame takes some of it).
    async fn fit_viewport(&self) {
        let (w, h) = WINDOW;
        let inner = self
            .script("return [window.innerWidth, window.innerHeight];")
            .await;
        let inner = |i: usize| inner[i].as_u64().unwrap_or(0) as u32;
        let (outer_w, outer_h) = self.client.get_window_size().await.expect("window size");
        self.client
            .set_window_size(
                outer_w as u32 + w - inner(0).min(w),
                outer_h as u32 + h - inner(1).min(h),
            )
            .await
            .expect("resize the window");
        let now = self
            .script("return [window.innerWidth, window.innerHeight];")
            .await;
        assert_eq!(now, json!([w, h]), "the page area is {w}x{h}");
    }

    /// Ends the browser session.
    pub async fn close(self) {
        self.client.close().await.expect("close the browser");
    }

    /// Loads a page of the service.
    pub async fn goto(&self, path: &str) {
        tokio::time::timeout(WAIT, self.client.goto(&format!("{}{path}", self.base)))
            .await
            .unwrap_or_else(|_| panic!("{path} did not load within {WAIT:?}"))
            .unwrap_or_else(|e| panic!("loading {path}: {e}"));
    }

    /// The path of the page shown now.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// The element at `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css:?} within {WAIT:?}: {e}"))
    }

    /// Every element at `css` (none is fine).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("finding {css:?}: {e}"))
    }

    /// Types into the field at `css`.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Clicks the element at `css`.
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// The text of the element at `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// Waits until `ready` (polled every 200 ms) holds; fails naming `what`.
    pub async fn wait_until<F, Fut>(&self, what: &str, mut ready: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + WAIT;
        while !ready().await {
            assert!(Instant::now() < deadline, "waited {WAIT:?} for {what}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the page's path starts with `prefix`; returns the path.
    pub async fn wait_for_path(&self, prefix: &str) -> String {
        self.wait_until(&format!("a page under {prefix}"), || async {
            self.path().await.starts_with(prefix)
        })
        .await;
        self.path().await
    }

    /// Waits until the text of `css` contains `needle`; returns the text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                last = e.text().await.unwrap_or_default();
                if last.contains(needle) {
                    return last;
                }
            }
            assert!(
                Instant::now() < deadline,
                "waited {WAIT:?} for {css:?} to say {needle:?}; it says {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Runs `script` in the page and returns its value.
    pub async fn script(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script {script:?}: {e}"))
    }

    /// The browser console since the last read.
    pub async fn console(&self) -> Vec<Value> {
        let log = self
            .client
            .issue_cmd(ReadBrowserLog)
            .await
            .expect("chromedriver reads the browser log");
        log.as_array().cloned().unwrap_or_default()
    }

    /// Fails on any console error since the last read (`step` says where).
    pub async fn assert_clean_console(&self, step: &str) {
        let errors: Vec<Value> = self
            .console()
            .await
            .into_iter()
            .filter(is_console_error)
            .collect();
        assert!(
            errors.is_empty(),
            "browser console errors after {step}:\n{}",
            errors
                .iter()
                .map(|e| format!("  {} {}", e["level"], e["message"]))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// Saves a screenshot of the window as `NAME.png` when `TRACEMARK_SCREENSHOTS` names a
    /// directory.
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = &self.shots else { return };
        // Let fonts and the canvas settle before the picture.
        self.script("return document.fonts ? document.fonts.status : 'loaded';")
            .await;
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        println!("screenshot: {}", path.display());
    }

    /// Signs in through the form at /signin.
    pub async fn sign_in(&self, name: &str, password: &str) {
        self.goto("/signin").await;
        self.fill("#name", name).await;
        self.fill("#password", password).await;
        self.click("form.card button[type=submit]").await;
    }

    /// Signs in as the test user of `role` and waits for the start page.
    pub async fn sign_in_as(&self, role: Role) {
        self.sign_in(&user_name(role), PASSWORD).await;
        self.wait_for_text("nav .who", role.as_str()).await;
        assert_eq!(self.path().await, "/", "signing in lands on the start page");
    }

    /// Signs out with the button in the navigation bar.
    pub async fn sign_out(&self) {
        self.click("nav form button[type=submit]").await;
        self.wait_for_path("/signin").await;
        assert!(
            self.find_all("nav .who").await.is_empty(),
            "signed out: no user in the navigation bar"
        );
    }

    /// Waits for a finished download in the download directory whose name contains
    /// `needle`; returns its bytes.
    pub async fn downloaded(&self, needle: &str) -> (PathBuf, Vec<u8>) {
        let deadline = Instant::now() + WAIT;
        loop {
            let done = std::fs::read_dir(&self.downloads)
                .expect("the download directory")
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    name.contains(needle) && !name.ends_with(".crdownload")
                });
            if let Some(path) = done {
                let bytes = std::fs::read(&path).expect("read the download");
                if !bytes.is_empty() {
                    return (path, bytes);
                }
            }
            assert!(
                Instant::now() < deadline,
                "no download containing {needle:?} in {} within {WAIT:?}",
                self.downloads.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
