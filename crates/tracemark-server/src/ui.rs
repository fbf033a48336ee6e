//! The web UI: server-rendered pages (maud) with one small script for uploads with a
//! progress bar, job progress, the waveform and the verify button. No build step.
//!
//! Every page checks the same roles as the API it fronts; every form post carries the
//! session's CSRF token ([`CsrfForm`]); the sign-in form is protected by a double-submit
//! cookie. Signing in and out are logged.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;
use tracemark_types::{Recipient, Role, TraceReport};

use crate::Shared;
use crate::api::{entry_view, parse_role};
use crate::auth::{
    ClientIp, CsrfForm, HasCsrf, Principal, SESSION_COOKIE, SIGNIN_COOKIE, cookie, same_token,
};
use crate::error::ApiError;

const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/assets/app.js", get(app_js))
        .route("/assets/app.css", get(app_css))
        .route("/assets/report.css", get(report_css))
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
        .route("/", get(home))
        .route("/recipients", get(recipients_page).post(add_recipient))
        .route("/recordings", get(recordings_page))
        .route("/recordings/{id}", get(recording_page))
        .route("/traces", get(traces_page))
        .route("/traces/{id}", get(trace_page))
        .route("/log", get(log_page))
        .route("/users", get(users_page).post(add_user))
        .route("/users/{name}", post(change_user))
        .route("/tokens", post(create_token))
        .route("/tokens/{id}/revoke", post(revoke_token))
}

/// An error shown as a page; "not signed in" sends the browser to the sign-in form.
struct UiError(ApiError);

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        if self.0.status == StatusCode::UNAUTHORIZED {
            return Redirect::to("/signin").into_response();
        }
        let page = layout(
            "Error",
            None,
            html! {
                h1 { "Something went wrong" }
                p.error role="alert" { (self.0.message) }
                p { a href="/" { "Back to the start page" } }
            },
        );
        (self.0.status, page).into_response()
    }
}

type Page = Result<Response, UiError>;

fn page(markup: Markup) -> Page {
    Ok(markup.into_response())
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

async fn app_js() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

async fn app_css() -> Response {
    asset(APP_CSS, "text/css; charset=utf-8")
}

async fn report_css() -> Response {
    asset(tracemark_report::STYLE, "text/css; charset=utf-8")
}

fn nav(p: &Principal) -> Markup {
    let role = p.user.role;
    html! {
        nav aria-label="Main" {
            a.brand href="/" { "tracemark" }
            @if role == Role::Distributor {
                a href="/recipients" { "Recipients" }
                a href="/recordings" { "Recordings" }
            }
            @if role == Role::Investigator { a href="/traces" { "Traces" } }
            @if role == Role::Auditor { a href="/log" { "Log" } }
            @if role == Role::Admin { a href="/users" { "Users" } }
            span.who { (p.user.name) " · " (role.as_str()) }
            form.inline method="post" action="/signout" {
                input type="hidden" name="csrf" value=(p.csrf_token());
                button type="submit" { "Sign out" }
            }
        }
    }
}

fn layout(title: &str, p: Option<&Principal>, body: Markup) -> Markup {
    layout_with(title, p, body, &[])
}

fn layout_with(title: &str, p: Option<&Principal>, body: Markup, extra_css: &[&str]) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(p) = p { meta name="csrf-token" content=(p.csrf_token()); }
                title { (title) " · tracemark" }
                // No icon: without this line every page load asks for /favicon.ico (404).
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/assets/app.css";
                @for css in extra_css { link rel="stylesheet" href=(css); }
                script src="/assets/app.js" defer {}
            }
            body {
                header { @if let Some(p) = p { (nav(p)) } @else { nav aria-label="Main" { a.brand href="/" { "tracemark" } } } }
                main id="main" { (body) }
            }
        }
    }
}

/// "1 trace", "2 traces".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A time in a page: [`when`] in a `<time>` element, kept on one line by the style sheet.
fn at(ms: i64) -> Markup {
    let text = when(ms);
    let iso = text.replacen(' ', "T", 1).replace(" UTC", "Z");
    html! { time datetime=(iso) { (text) } }
}

fn when(ms: i64) -> String {
    // UTC, to the second: yyyy-mm-dd hh:mm:ss (civil from days, H. Hinnant's algorithm).
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ---------------------------------------------------------------- sign-in

#[derive(Debug, Deserialize)]
struct SigninQuery {
    failed: Option<String>,
}

async fn signin_page(q: Result<Query<SigninQuery>, QueryRejection>) -> Page {
    let mut token = [0u8; 16];
    getrandom::fill(&mut token).map_err(|e| ApiError::unavailable(e.to_string()))?;
    let token = hex::encode(token);
    let message = q
        .ok()
        .and_then(|Query(q)| q.failed)
        .map(|f| match f.as_str() {
            "throttled" => "Too many failed sign-ins: wait 15 minutes and try again.",
            "expired" => "The sign-in form expired: try again.",
            _ => "Wrong name or password.",
        });
    let markup = layout(
        "Sign in",
        None,
        html! {
            h1 { "Sign in" }
            @if let Some(m) = message { p.error role="alert" { (m) } }
            form.card method="post" action="/signin" {
                input type="hidden" name="csrf" value=(token);
                label for="name" { "Name" }
                input id="name" name="name" autocomplete="username" required autofocus;
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
        },
    );
    let mut response = markup.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SIGNIN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/signin; Max-Age=1800"
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct SigninForm {
    name: String,
    password: String,
    csrf: String,
}

async fn signin(
    State(s): State<Shared>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Result<axum::Form<SigninForm>, axum::extract::rejection::FormRejection>,
) -> Page {
    let axum::Form(form) =
        form.map_err(|e| ApiError::bad_request(format!("the form is malformed: {e}")))?;
    if !cookie(&headers, SIGNIN_COOKIE).is_some_and(|c| same_token(c, &form.csrf)) {
        return Ok(Redirect::to("/signin?failed=expired").into_response());
    }
    if form.name.len() > 200 || form.password.len() > tracemark_vault::MAX_PASSWORD_BYTES {
        return Ok(Redirect::to("/signin?failed=1").into_response());
    }
    let now = std::time::Instant::now();
    let allowed = s
        .throttle
        .lock()
        .map(|mut t| t.allowed(&form.name, ip, now))
        .unwrap_or(false);
    if !allowed {
        tracing::warn!(name = %form.name, ?ip, "sign-in throttled");
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            Redirect::to("/signin?failed=throttled"),
        )
            .into_response());
    }
    let name = form.name.clone();
    let started = s
        .blocking(move |v| {
            let Some(user) = v.check_password(&form.name, &form.password)? else {
                return Ok(None);
            };
            Ok(Some(v.start_session(&user)?))
        })
        .await?;
    let Some((secret, _)) = started else {
        if let Ok(mut t) = s.throttle.lock() {
            t.failed(&name, ip, now);
        }
        tracing::info!(name = %name, ?ip, "sign-in failed");
        return Ok(Redirect::to("/signin?failed=1").into_response());
    };
    if let Ok(mut t) = s.throttle.lock() {
        t.succeeded(&name);
    }
    let secure = if s.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let mut response = Redirect::to("/").into_response();
    let max_age = tracemark_vault::SESSION_MS / 1000;
    for c in [
        format!(
            "{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
        ),
        format!("{SIGNIN_COOKIE}=; HttpOnly; SameSite=Strict; Path=/signin; Max-Age=0"),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct CsrfOnly {
    csrf: String,
}

impl HasCsrf for CsrfOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn signout(
    State(s): State<Shared>,
    headers: HeaderMap,
    CsrfForm(p, _): CsrfForm<CsrfOnly>,
) -> Page {
    p.require(&Role::ALL)?;
    if let Some(secret) = cookie(&headers, SESSION_COOKIE).map(str::to_string) {
        s.blocking(move |v| v.end_session(&secret)).await?;
    }
    let mut response = Redirect::to("/signin").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

// ---------------------------------------------------------------- home

async fn home(p: Result<Principal, ApiError>) -> Page {
    let p = p?;
    let role = p.user.role;
    page(layout(
        "Start",
        Some(&p),
        html! {
            h1 { "tracemark" }
            p { "Signed in as " strong { (p.user.name) } ", " (role.as_str()) "." }
            ul.cards {
                @match role {
                    Role::Distributor => {
                        li { a href="/recipients" { "Recipients" } " — who receives copies." }
                        li { a href="/recordings" { "Recordings" } " — upload an original, issue marked copies, download them." }
                    }
                    Role::Investigator => {
                        li { a href="/traces" { "Traces" } " — upload a leaked clip and find which copy it came from." }
                    }
                    Role::Auditor => {
                        li { a href="/log" { "The log" } " — checkpoints, verification and the audit trail." }
                    }
                    Role::Admin => {
                        li { a href="/users" { "Users and tokens" } " — accounts, roles and API tokens." }
                    }
                }
            }
        },
    ))
}

// ---------------------------------------------------------------- recipients

#[derive(Debug, Deserialize)]
struct RecipientForm {
    csrf: String,
    name: String,
    #[serde(default)]
    email: String,
}

impl HasCsrf for RecipientForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn recipients_page(State(s): State<Shared>, p: Result<Principal, ApiError>) -> Page {
    let p = p?;
    p.require(&[Role::Distributor])?;
    let list = s.blocking(|v| v.recipients()).await?;
    page(recipients_markup(&p, &list, None))
}

fn recipients_markup(p: &Principal, list: &[Recipient], error: Option<&str>) -> Markup {
    layout(
        "Recipients",
        Some(p),
        html! {
            h1 { "Recipients" }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form.card method="post" action="/recipients" {
                h2 { "Add a recipient" }
                input type="hidden" name="csrf" value=(p.csrf_token());
                label for="rname" { "Name" }
                input id="rname" name="name" required maxlength="200";
                label for="remail" { "E-mail (optional)" }
                input id="remail" name="email" type="email";
                button type="submit" { "Add" }
            }
            table id="recipients" {
                caption { (count(list.len(), "recipient", "recipients")) }
                thead { tr { th scope="col" { "Id" } th scope="col" { "Name" } th scope="col" { "E-mail" } th scope="col" { "Added" } } }
                tbody {
                    @for r in list {
                        tr { td.mono { (r.id) } td { (r.name) } td { (r.email.as_deref().unwrap_or("")) } td { (at(r.created_at.0)) } }
                    }
                }
            }
        },
    )
}

async fn add_recipient(
    State(s): State<Shared>,
    CsrfForm(p, form): CsrfForm<RecipientForm>,
) -> Page {
    p.require(&[Role::Distributor])?;
    let email = Some(form.email.trim().to_string()).filter(|e| !e.is_empty());
    let added = s
        .blocking(move |v| Ok(v.add_recipient(form.name.trim(), email.as_deref())))
        .await?;
    match added {
        Ok(_) => Ok(Redirect::to("/recipients").into_response()),
        Err(e) => {
            let message = e.to_string();
            let status = ApiError::from(e).status;
            let list = s.blocking(|v| v.recipients()).await?;
            Ok((status, recipients_markup(&p, &list, Some(&message))).into_response())
        }
    }
}

// ---------------------------------------------------------------- recordings

async fn recordings_page(State(s): State<Shared>, p: Result<Principal, ApiError>) -> Page {
    let p = p?;
    p.require(&[Role::Distributor])?;
    let list = s.blocking(|v| v.recordings()).await?;
    page(layout(
        "Recordings",
        Some(&p),
        html! {
            h1 { "Recordings" }
            form.card id="upload" data-upload="/api/v1/recordings" data-then="recording" {
                h2 { "Upload an original" }
                label for="title" { "Title" }
                input id="title" name="title" required maxlength="500";
                label for="file" { "Audio file, or a transcript alone (UTF-8 text)" }
                input id="file" name="file" type="file" required accept="audio/*,video/*,text/plain,.txt,.md";
                button type="submit" { "Upload" }
                progress id="upload-progress" max="1" value="0" hidden aria-label="upload progress" {}
                p.status role="status" aria-live="polite" {}
            }
            table id="recordings" {
                caption { (count(list.len(), "recording", "recordings")) }
                thead { tr { th scope="col" { "Title" } th scope="col" { "Id" } th scope="col" { "Duration" } th scope="col" { "Format" } th scope="col" { "Ingested" } } }
                tbody {
                    @for r in &list {
                        tr {
                            td { a href={ "/recordings/" (r.id) } { (r.title) } }
                            td.mono { (r.id) }
                            @if tracemark_vault::is_text_only(r) {
                                td { "text" }
                                td { "transcript alone" }
                            } @else {
                                td { (format!("{:.1} s", r.duration_s)) }
                                td { (r.format) " · " (r.sample_rate) " Hz · " (r.channels) " ch" }
                            }
                            td { (at(r.ingested_at.0)) }
                        }
                    }
                }
            }
        },
    ))
}

async fn recording_page(
    State(s): State<Shared>,
    p: Result<Principal, ApiError>,
    Path(id): Path<String>,
) -> Page {
    let p = p?;
    p.require(&[Role::Distributor])?;
    let (r, issued, recipients) = s
        .blocking(move |v| Ok((v.recording(&id)?, v.issuances_of(&id)?, v.recipients()?)))
        .await?;
    let names: std::collections::HashMap<&tracemark_types::RecipientId, &str> = recipients
        .iter()
        .map(|x| (&x.id, x.name.as_str()))
        .collect();
    let name_of = |id: &tracemark_types::RecipientId| {
        names
            .get(id)
            .map_or_else(|| id.to_string(), |n| (*n).to_string())
    };
    let text_only = tracemark_vault::is_text_only(&r);
    page(layout(
        &r.title,
        Some(&p),
        html! {
            h1 { (r.title) }
            dl.facts {
                dt { "Id" } dd.mono { (r.id) }
                dt { "SHA-256" } dd.mono { (r.sha256.to_hex()) }
                @if text_only {
                    dt { "Content" } dd { "A transcript alone (text): each recipient is issued a marked text copy." }
                } @else {
                    dt { "Duration" } dd { (format!("{:.2} s", r.duration_s)) }
                    dt { "Audio" } dd { (r.format) ", " (r.sample_rate) " Hz, " (r.channels) " channel(s)" }
                }
                dt { "Ingested" } dd { (at(r.ingested_at.0)) " (log entry " (r.log_index) ")" }
            }
            @if text_only {
                p { a href={ "/api/v1/recordings/" (r.id) "/original" } { "Download the original text" } " (logged)." }
            } @else {
                figure {
                    canvas id="waveform" width="900" height="120" data-waveform={ "/api/v1/recordings/" (r.id) "/waveform" } role="img" aria-label="waveform of the original" {}
                    figcaption { "Waveform of the original. " a href={ "/api/v1/recordings/" (r.id) "/original" } { "Download the original" } " (logged)." }
                }
            }
            form.card id="issue" data-issue={ "/api/v1/recordings/" (r.id) "/copies" } {
                h2 { "Issue marked copies" }
                fieldset {
                    legend { "Recipients" }
                    @if recipients.is_empty() { p { "No recipients yet: " a href="/recipients" { "add some" } "." } }
                    @for x in &recipients {
                        label.check { input type="checkbox" name="recipients" value=(x.name); " " (x.name) }
                    }
                }
                label for="format" { "Format" }
                select id="format" name="format" {
                    option value="flac" selected { "FLAC (lossless)" }
                    option value="wav" { "WAV" }
                    option value="mp3-128k" { "MP3 128 kbit/s" }
                    option value="mp3-64k" { "MP3 64 kbit/s" }
                    option value="opus-32k" { "Opus 32 kbit/s" }
                }
                button type="submit" { "Issue" }
                progress id="issue-progress" max="1" value="0" hidden aria-label="issuing progress" {}
                p.status role="status" aria-live="polite" {}
                ul.links id="issued-links" {}
            }
            table id="issuances" {
                caption { (count(issued.len(), "issued copy", "issued copies")) }
                thead { tr { th scope="col" { "Recipient" } th scope="col" { "Format" } th scope="col" { "Issued" } th scope="col" { "Copy SHA-256" } th scope="col" { "File" } } }
                tbody {
                    @for i in &issued {
                        tr {
                            td { (name_of(&i.recipient_id)) }
                            td { (i.format) }
                            td { (at(i.issued_at.0)) }
                            td.mono { (i.copy_sha256.to_hex()[..16]) "…" }
                            td { a href={ "/api/v1/copies/" (i.id) } { "Download" } }
                        }
                    }
                }
            }
        },
    ))
}

// ---------------------------------------------------------------- traces

async fn traces_page(State(s): State<Shared>, p: Result<Principal, ApiError>) -> Page {
    let p = p?;
    p.require(&[Role::Investigator])?;
    let list = s.blocking(|v| v.traces()).await?;
    page(layout(
        "Traces",
        Some(&p),
        html! {
            h1 { "Traces" }
            form.card id="trace" data-upload="/api/v1/traces" data-then="trace" {
                h2 { "Trace a leak" }
                label.drop for="leak" {
                    "Drop the leaked file here, or choose it"
                    input id="leak" name="file" type="file" required accept="audio/*,video/*";
                }
                label for="bound" { "False-accusation bound" }
                input id="bound" name="bound" value="1e-6" inputmode="decimal";
                button type="submit" { "Trace" }
                progress id="trace-progress" max="1" value="0" hidden aria-label="tracing progress" {}
                p.status role="status" aria-live="polite" {}
            }
            table id="traces" {
                caption { (count(list.len(), "trace", "traces")) }
                thead { tr { th scope="col" { "Trace" } th scope="col" { "Verdict" } th scope="col" { "When" } } }
                tbody {
                    @for t in list.iter().rev() {
                        tr {
                            td.mono { a href={ "/traces/" (t.id) } { (t.id) } }
                            td { (t.verdict) }
                            td { (at(t.created_at.0)) }
                        }
                    }
                }
            }
        },
    ))
}

async fn trace_page(
    State(s): State<Shared>,
    p: Result<Principal, ApiError>,
    Path(id): Path<String>,
) -> Page {
    let p = p?;
    let actor = p.require(&[Role::Investigator])?.id.clone();
    let (row, fragment) = s
        .blocking(move |v| {
            let row = v.trace_row(&id)?;
            let report = TraceReport::from_json(&row.report_json).map_err(|e| {
                tracemark_vault::VaultError::Invalid {
                    what: "stored report",
                    reason: e.to_string(),
                }
            })?;
            let fragment = tracemark_report::render_fragment_with_text(
                &report,
                &v.verifier_key().to_string(),
                crate::api::leaked_text(v, &report).as_deref(),
            );
            v.record_access(&actor, row.id.as_str(), "view-report")?;
            Ok((row, (tracemark_report::title(&report), fragment)))
        })
        .await?;
    let (title, fragment) = fragment;
    let markup = layout_with(
        &title,
        Some(&p),
        html! {
            h1 { (title) }
            p.actions {
                a.button href={ "/api/v1/traces/" (row.id) "/evidence" } download { "Download the evidence bundle" }
                " "
                a href={ "/api/v1/traces/" (row.id) "/report.html" } { "Report as one file" }
                " · logged as log entry " (row.log_index)
            }
            div.report { (PreEscaped(fragment)) }
        },
        &["/assets/report.css"],
    );
    let mut response = markup.into_response();
    // The shared report body uses a few inline style attributes (legend swatches).
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    Ok(response)
}

// ---------------------------------------------------------------- log

#[derive(Debug, Deserialize)]
struct LogQuery {
    from: Option<u64>,
}

const LOG_PAGE: u64 = 100;

async fn log_page(
    State(s): State<Shared>,
    p: Result<Principal, ApiError>,
    q: Result<Query<LogQuery>, QueryRejection>,
) -> Page {
    let p = p?;
    p.require(&[Role::Auditor])?;
    let from = q.ok().and_then(|Query(q)| q.from);
    let (checkpoint, key, size, entries) = s
        .blocking(move |v| {
            let size = v.store().log_size()?;
            let from = from.unwrap_or(size.saturating_sub(LOG_PAGE)).min(size);
            let rows = v.store().log_rows(from, LOG_PAGE)?;
            let users = v.store().users()?;
            let entries: Vec<_> = rows
                .iter()
                .rev()
                .map(|r| entry_view(r.index, &r.entry, &users))
                .collect();
            Ok((
                v.store().latest_checkpoint()?,
                v.verifier_key().to_string(),
                size,
                entries,
            ))
        })
        .await?;
    let first = entries.last().map_or(0, |e| e.index);
    page(layout(
        "Log",
        Some(&p),
        html! {
            h1 { "The log" }
            section.card {
                h2 { "Latest signed checkpoint" }
                @match &checkpoint {
                    Some((n, note)) => { p { "Covers " (n) " entries." } pre.mono id="checkpoint" { (note) } }
                    None => p { "The log is empty." }
                }
                p { "Verifier key: " code.mono { (key) } }
                button type="button" id="verify" data-verify="/api/v1/log/verify" { "Verify the log and every record" }
                p.status id="verify-result" role="status" aria-live="polite" {}
            }
            h2 { "Audit trail" }
            p { @if entries.is_empty() { "No entries." } @else { "Entries " (first) " to " (first + entries.len() as u64 - 1) " of " (size) ", newest first." }
                @if first > 0 { " " a href={ "/log?from=" (first.saturating_sub(LOG_PAGE)) } { "Older" } } }
            table id="audit" {
                thead { tr { th scope="col" { "#" } th scope="col" { "When" } th scope="col" { "Kind" } th scope="col" { "Who" } th scope="col" { "What" } } }
                tbody {
                    @for e in &entries {
                        tr {
                            td { (e.index) }
                            td { (at(e.time)) }
                            td { (e.kind) }
                            td { (e.actor_name.as_deref().unwrap_or("")) }
                            td { (e.summary) }
                        }
                    }
                }
            }
        },
    ))
}

// ---------------------------------------------------------------- users

#[derive(Debug, Deserialize)]
struct UserForm {
    csrf: String,
    name: String,
    role: String,
    #[serde(default)]
    password: String,
}

impl HasCsrf for UserForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Debug, Deserialize)]
struct ChangeForm {
    csrf: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    disabled: String,
}

impl HasCsrf for ChangeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    csrf: String,
    user: String,
    #[serde(default)]
    expires_days: String,
}

impl HasCsrf for TokenForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn users_page(State(s): State<Shared>, p: Result<Principal, ApiError>) -> Page {
    let p = p?;
    p.require(&[Role::Admin])?;
    users_markup(&s, &p, None, None).await
}

async fn users_markup(
    s: &Shared,
    p: &Principal,
    notice: Option<String>,
    error: Option<String>,
) -> Page {
    let (users, tokens) = s
        .blocking(|v| Ok((v.store().users()?, v.store().tokens()?)))
        .await?;
    let name_of = |id: &tracemark_types::UserId| {
        users
            .iter()
            .find(|u| &u.id == id)
            .map_or_else(|| id.to_string(), |u| u.name.clone())
    };
    let csrf = p.csrf_token();
    let markup = layout(
        "Users",
        Some(p),
        html! {
            h1 { "Users and tokens" }
            @if let Some(n) = &notice { p.notice role="status" { (n) } }
            @if let Some(e) = &error { p.error role="alert" { (e) } }
            table id="users" {
                caption { (count(users.len(), "user", "users")) }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Status" } th scope="col" { "Change" } } }
                tbody {
                    @for u in &users {
                        tr {
                            td { (u.name) }
                            td { (u.role.as_str()) }
                            td { @if u.disabled { "disabled" } @else { "active" } }
                            td {
                                form.inline method="post" action={ "/users/" (u.name) } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    label.sr for={ "role-" (u.id) } { "Role of " (u.name) }
                                    select id={ "role-" (u.id) } name="role" {
                                        @for r in Role::ALL { option value=(r.as_str()) selected[r == u.role] { (r.as_str()) } }
                                    }
                                    button type="submit" { "Set role" }
                                }
                                form.inline method="post" action={ "/users/" (u.name) } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="disabled" value=(if u.disabled { "false" } else { "true" });
                                    button type="submit" { @if u.disabled { "Enable" } @else { "Disable" } }
                                }
                            }
                        }
                    }
                }
            }
            form.card method="post" action="/users" {
                h2 { "Add a user" }
                input type="hidden" name="csrf" value=(csrf);
                label for="uname" { "Name" }
                input id="uname" name="name" required maxlength="200";
                label for="urole" { "Role" }
                select id="urole" name="role" { @for r in Role::ALL { option value=(r.as_str()) { (r.as_str()) } } }
                label for="upassword" { "Password (8 characters or more; empty for a token-only user)" }
                input id="upassword" name="password" type="password" autocomplete="new-password";
                button type="submit" { "Add" }
            }
            table id="tokens" {
                caption { (count(tokens.len(), "API token", "API tokens")) }
                thead { tr { th scope="col" { "Id" } th scope="col" { "User" } th scope="col" { "Created" } th scope="col" { "Expires" } th scope="col" { "Status" } } }
                tbody {
                    @for t in &tokens {
                        tr {
                            td.mono { (t.id) }
                            td { (name_of(&t.user_id)) }
                            td { (at(t.created_at.0)) }
                            td { @match t.expires_at { Some(e) => (at(e.0)), None => "never" } }
                            td {
                                @if t.revoked { "revoked" } @else {
                                    form.inline method="post" action={ "/tokens/" (t.id) "/revoke" } {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button type="submit" { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form.card method="post" action="/tokens" {
                h2 { "Create an API token" }
                input type="hidden" name="csrf" value=(csrf);
                label for="tuser" { "User" }
                select id="tuser" name="user" { @for u in &users { option value=(u.name) { (u.name) } } }
                label for="tdays" { "Expires after (days, empty: never)" }
                input id="tdays" name="expires_days" inputmode="numeric";
                button type="submit" { "Create" }
            }
        },
    );
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, markup).into_response())
}

async fn add_user(State(s): State<Shared>, CsrfForm(p, form): CsrfForm<UserForm>) -> Page {
    p.require(&[Role::Admin])?;
    let role = parse_role(&form.role)?;
    let done = s
        .blocking(move |v| {
            Ok(if form.password.is_empty() {
                v.add_user(form.name.trim(), role, None)
            } else {
                v.add_user_with_password(form.name.trim(), role, &form.password)
            })
        })
        .await?;
    match done {
        Ok(u) => users_markup(&s, &p, Some(format!("Added {}.", u.name)), None).await,
        Err(e) => users_markup(&s, &p, None, Some(e.to_string())).await,
    }
}

async fn change_user(
    State(s): State<Shared>,
    Path(name): Path<String>,
    CsrfForm(p, form): CsrfForm<ChangeForm>,
) -> Page {
    p.require(&[Role::Admin])?;
    let role = Some(form.role.as_str())
        .filter(|r| !r.is_empty())
        .map(parse_role)
        .transpose()?;
    let disabled = match form.disabled.as_str() {
        "" => None,
        "true" => Some(true),
        "false" => Some(false),
        other => {
            return Err(
                ApiError::invalid(format!("disabled is true or false, not {other:?}")).into(),
            );
        }
    };
    let n = name.clone();
    let done = s
        .blocking(move |v| Ok(v.change_user(&n, role, None, disabled)))
        .await?;
    match done {
        Ok(()) => users_markup(&s, &p, Some(format!("Changed {name}.")), None).await,
        Err(e) => users_markup(&s, &p, None, Some(e.to_string())).await,
    }
}

async fn create_token(State(s): State<Shared>, CsrfForm(p, form): CsrfForm<TokenForm>) -> Page {
    p.require(&[Role::Admin])?;
    let days = match form.expires_days.trim() {
        "" => None,
        d => Some(
            d.parse::<u32>()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or_else(|| ApiError::invalid("expires after 1 to 3650 days"))?,
        ),
    };
    let done = s
        .blocking(move |v| Ok(v.create_token_for_days(&form.user, days)))
        .await?;
    match done {
        Ok((t, secret)) => {
            users_markup(
                &s,
                &p,
                Some(format!(
                    "Token {} created. Its secret, shown this once: {secret}",
                    t.id
                )),
                None,
            )
            .await
        }
        Err(e) => users_markup(&s, &p, None, Some(e.to_string())).await,
    }
}

async fn revoke_token(
    State(s): State<Shared>,
    Path(id): Path<String>,
    CsrfForm(p, _): CsrfForm<CsrfOnly>,
) -> Page {
    p.require(&[Role::Admin])?;
    let done = s
        .blocking(move |v| {
            let id: tracemark_types::TokenId = id.parse()?;
            Ok(v.revoke_token(&id).map(|()| id))
        })
        .await?;
    match done {
        Ok(id) => users_markup(&s, &p, Some(format!("Token {id} revoked.")), None).await,
        Err(e) => users_markup(&s, &p, None, Some(e.to_string())).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc() {
        assert_eq!(when(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(when(1_796_083_200_000), "2026-12-01 00:00:00 UTC");
        assert_eq!(when(951_782_400_000 + 3_661_000), "2000-02-29 01:01:01 UTC");
    }
}
