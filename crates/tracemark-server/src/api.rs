//! The JSON API under `/api/v1`. Every handler is annotated for the OpenAPI document, and
//! registered through `utoipa_axum`, so the document and the routes cannot drift apart.
//!
//! Roles: `distributor` (recipients, recordings, issuing, copies), `investigator` (leaks,
//! traces, reports, evidence), `auditor` (the log, checkpoints, verification, the audit
//! trail), `admin` (users and tokens). Jobs are visible to distributors and investigators.

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracemark_types::{
    ApiToken, Issuance, IssuanceId, Job, Recipient, Recording, Role, TokenId, TraceRow, User,
};
use tracemark_vault::{Delivery, IssueResult, JOB_ISSUE, JOB_TRACE, TraceResult, Vault};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::upload;

const D: &[Role] = &[Role::Distributor];
const I: &[Role] = &[Role::Investigator];
const A: &[Role] = &[Role::Auditor];
const ADMIN: &[Role] = &[Role::Admin];
const JOBS: &[Role] = &[Role::Distributor, Role::Investigator];
const ANY: &[Role] = &[
    Role::Distributor,
    Role::Investigator,
    Role::Auditor,
    Role::Admin,
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tracemark",
        description = "Forensic watermarking and leak attribution: recipients, recordings, marked copies, traces with a proven false-accusation bound, and the tamper-evident log. Authenticate with `Authorization: Bearer TOKEN` (`tracemark token create`) or a browser session; errors are `{\"error\":{\"code\",\"message\"}}`."
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = []))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// The API's routes and their OpenAPI document.
pub fn router() -> (axum::Router<Shared>, utoipa::openapi::OpenApi) {
    let uploads = OpenApiRouter::new()
        .routes(routes!(list_recordings, ingest))
        .routes(routes!(request_trace, list_traces))
        .layer(DefaultBodyLimit::disable());
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(openapi_json))
        .routes(routes!(me))
        .routes(routes!(list_recipients, add_recipient))
        .routes(routes!(recording))
        .routes(routes!(original))
        .routes(routes!(waveform))
        .routes(routes!(issue_copies))
        .routes(routes!(download_copy))
        .routes(routes!(trace))
        .routes(routes!(report_html))
        .routes(routes!(evidence))
        .routes(routes!(job))
        .routes(routes!(checkpoint))
        .routes(routes!(verify))
        .routes(routes!(entries))
        .routes(routes!(list_users, add_user))
        .routes(routes!(change_user))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .merge(uploads)
        .split_for_parts()
}

fn body<T>(r: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    r.map(|Json(v)| v).map_err(|e| {
        ApiError::bad_request(format!("the JSON body is malformed: {}", e.body_text()))
    })
}

fn millis(t: tracemark_types::UnixMillis) -> i64 {
    t.0
}

// ---------------------------------------------------------------- service

/// The service's health.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Entries in the log.
    pub log_size: u64,
}

/// Health: whether the service reaches its database.
#[utoipa::path(get, path = "/api/v1/health", tag = "service", security(()),
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
async fn health(State(s): State<Shared>) -> Result<Json<Health>, ApiError> {
    let (backend, log_size) = s
        .blocking(|v| Ok((v.backend().to_string(), v.store().log_size()?)))
        .await?;
    Ok(Json(Health {
        status: "ok".into(),
        backend,
        log_size,
    }))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "service", security(()),
    responses((status = 200, description = "The OpenAPI 3 document")))]
async fn openapi_json(State(s): State<Shared>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        s.openapi.clone(),
    )
        .into_response()
}

/// A user as the API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// `u-N`.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// `distributor`, `investigator`, `auditor` or `admin`.
    pub role: String,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Whether it signs in by password.
    pub has_password: bool,
    /// When it was added (ms since the epoch).
    pub created_at: i64,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            name: u.name.clone(),
            role: u.role.as_str().into(),
            disabled: u.disabled,
            has_password: u.password_hash.is_some(),
            created_at: millis(u.created_at),
        }
    }
}

/// Who is asking.
#[utoipa::path(get, path = "/api/v1/me", tag = "service",
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
async fn me(p: Principal) -> Result<Json<UserView>, ApiError> {
    Ok(Json(UserView::from(p.require(ANY)?)))
}

// ---------------------------------------------------------------- recipients

/// A recipient.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientView {
    /// `r-N`.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// E-mail address.
    pub email: Option<String>,
    /// When registered (ms since the epoch).
    pub created_at: i64,
    /// Its log entry.
    pub log_index: u64,
}

impl From<&Recipient> for RecipientView {
    fn from(r: &Recipient) -> Self {
        Self {
            id: r.id.to_string(),
            name: r.name.clone(),
            email: r.email.clone(),
            created_at: millis(r.created_at),
            log_index: r.log_index,
        }
    }
}

/// A new recipient.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRecipient {
    /// Unique name (never in the syntax of an id).
    pub name: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
}

/// Every recipient.
#[utoipa::path(get, path = "/api/v1/recipients", tag = "recipients",
    description = "Role: distributor.",
    responses((status = 200, body = [RecipientView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_recipients(
    State(s): State<Shared>,
    p: Principal,
) -> Result<Json<Vec<RecipientView>>, ApiError> {
    p.require(D)?;
    let list = s.blocking(|v| v.recipients()).await?;
    Ok(Json(list.iter().map(RecipientView::from).collect()))
}

/// Registers a recipient.
#[utoipa::path(post, path = "/api/v1/recipients", tag = "recipients",
    description = "Role: distributor. Logged.", request_body = NewRecipient,
    responses((status = 201, body = RecipientView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_recipient(
    State(s): State<Shared>,
    p: Principal,
    req: Result<Json<NewRecipient>, JsonRejection>,
) -> Result<(StatusCode, Json<RecipientView>), ApiError> {
    p.require(D)?;
    let req = body(req)?;
    let r = s
        .blocking(move |v| v.add_recipient(&req.name, req.email.as_deref()))
        .await?;
    Ok((StatusCode::CREATED, Json(RecipientView::from(&r))))
}

// ---------------------------------------------------------------- recordings

/// A recording.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingView {
    /// `rec-` and 12 hex digits, from its content.
    pub id: String,
    /// Title.
    pub title: String,
    /// SHA-256 of the original file.
    pub sha256: String,
    /// Seconds.
    pub duration_s: f64,
    /// Hz.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u32,
    /// Container format as ingested.
    pub format: String,
    /// When ingested (ms since the epoch).
    pub ingested_at: i64,
    /// Its log entry.
    pub log_index: u64,
}

impl From<&Recording> for RecordingView {
    fn from(r: &Recording) -> Self {
        Self {
            id: r.id.to_string(),
            title: r.title.clone(),
            sha256: r.sha256.to_hex(),
            duration_s: r.duration_s,
            sample_rate: r.sample_rate,
            channels: r.channels,
            format: r.format.clone(),
            ingested_at: millis(r.ingested_at),
            log_index: r.log_index,
        }
    }
}

/// An issued copy.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuanceView {
    /// `i-N`.
    pub id: String,
    /// The recipient's id.
    pub recipient_id: String,
    /// The recipient's name.
    pub recipient: String,
    /// Delivery format, e.g. `flac`, `mp3-64k`.
    pub format: String,
    /// SHA-256 of the delivered file.
    pub copy_sha256: String,
    /// When issued (ms since the epoch).
    pub issued_at: i64,
    /// Its log entry.
    pub log_index: u64,
    /// Where to download it.
    pub url: String,
}

/// `names`: recipient names by id (a recording may be issued to 100,000).
fn issuance_view(
    i: &Issuance,
    names: &std::collections::HashMap<&tracemark_vault::RecipientId, &str>,
) -> IssuanceView {
    IssuanceView {
        id: i.id.to_string(),
        recipient_id: i.recipient_id.to_string(),
        recipient: names
            .get(&i.recipient_id)
            .map_or_else(|| i.recipient_id.to_string(), |n| (*n).to_string()),
        format: i.format.clone(),
        copy_sha256: i.copy_sha256.to_hex(),
        issued_at: millis(i.issued_at),
        log_index: i.log_index,
        url: format!("/api/v1/copies/{}", i.id),
    }
}

/// A recording with its issued copies.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingDetail {
    /// The recording.
    #[serde(flatten)]
    pub recording: RecordingView,
    /// Its issued copies.
    pub issuances: Vec<IssuanceView>,
}

/// Every recording.
#[utoipa::path(get, path = "/api/v1/recordings", tag = "recordings",
    description = "Role: distributor.",
    responses((status = 200, body = [RecordingView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_recordings(
    State(s): State<Shared>,
    p: Principal,
) -> Result<Json<Vec<RecordingView>>, ApiError> {
    p.require(D)?;
    let list = s.blocking(|v| v.recordings()).await?;
    Ok(Json(list.iter().map(RecordingView::from).collect()))
}

/// Ingests a recording: multipart with `file` (any audio format the vault reads,
/// recognised by content) and `title`. The same file again answers the stored recording.
#[utoipa::path(post, path = "/api/v1/recordings", tag = "recordings",
    description = "Role: distributor. Logged. The upload streams to disk and is capped by --max-upload (413).",
    request_body(content_type = "multipart/form-data", description = "`file` (audio, or a transcript alone as UTF-8 text) and `title`"),
    responses((status = 201, body = RecordingView), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn ingest(
    State(s): State<Shared>,
    p: Principal,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<RecordingView>), ApiError> {
    p.require(D)?;
    let up = upload::receive(multipart, &s.config.spool_dir, s.config.max_upload).await?;
    let title = up
        .field("title")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::invalid("give the recording a `title`"))?
        .to_string();
    let r = s
        .blocking(move |v| {
            if tracemark_vault::names_media_format(&up.file_name) {
                // Read from the spool as it is hashed, decoded and sealed: memory does not
                // grow with the upload.
                return v.ingest_file_as(up.file.path(), &up.file_name, &title);
            }
            // The spooled upload is the server's own file: failing to read it back is the
            // server's fault (503), not the request's.
            let bytes = std::fs::read(up.file.path()).map_err(|source| {
                tracemark_vault::VaultError::Io {
                    path: up.file.path().to_path_buf(),
                    source,
                }
            })?;
            if tracemark_vault::is_transcript_upload(&bytes, &up.file_name) {
                // A transcript alone is a recording of its own (issue 13).
                return Ok(v.ingest_text(&bytes, &title)?.0);
            }
            v.ingest_owned(bytes, &up.file_name, &title)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(RecordingView::from(&r))))
}

/// One recording and its issued copies.
#[utoipa::path(get, path = "/api/v1/recordings/{id}", tag = "recordings",
    description = "Role: distributor.", params(("id" = String, Path, description = "rec-...")),
    responses((status = 200, body = RecordingDetail), (status = 404, body = ErrorBody)))]
async fn recording(
    State(s): State<Shared>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<RecordingDetail>, ApiError> {
    p.require(D)?;
    let (r, issued, recipients) = s
        .blocking(move |v| Ok((v.recording(&id)?, v.issuances_of(&id)?, v.recipients()?)))
        .await?;
    let names = recipients
        .iter()
        .map(|r| (&r.id, r.name.as_str()))
        .collect();
    Ok(Json(RecordingDetail {
        recording: RecordingView::from(&r),
        issuances: issued.iter().map(|i| issuance_view(i, &names)).collect(),
    }))
}

fn attachment(bytes: Vec<u8>, name: &str, content_type: &'static str) -> Response {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Body::from(bytes),
    )
        .into_response()
}

/// Downloads the original (decrypted). Logged as `download-original`.
#[utoipa::path(get, path = "/api/v1/recordings/{id}/original", tag = "recordings",
    description = "Role: distributor. Logged.", params(("id" = String, Path, description = "rec-...")),
    responses((status = 200, description = "The original file", content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
async fn original(
    State(s): State<Shared>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = p.require(D)?.id.clone();
    let (r, bytes) = s
        .blocking(move |v| {
            let r = v.recording(&id)?;
            let bytes = v.original_bytes(&r)?;
            v.record_access(&actor, r.id.as_str(), "download-original")?;
            Ok((r, bytes))
        })
        .await?;
    Ok(attachment(
        bytes,
        &format!("{}.{}", r.id, r.format),
        "application/octet-stream",
    ))
}

/// A waveform overview: the peak of each of `points` equal stretches.
#[derive(Debug, Serialize, ToSchema)]
pub struct Waveform {
    /// Seconds.
    pub duration_s: f64,
    /// Peak magnitude (0 to 1) per stretch.
    pub peaks: Vec<f32>,
}

/// Waveform query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct WaveformQuery {
    /// Stretches, 16 to 4000 (default 800).
    pub points: Option<usize>,
}

/// The recording's waveform overview, for the UI.
#[utoipa::path(get, path = "/api/v1/recordings/{id}/waveform", tag = "recordings",
    description = "Role: distributor.", params(("id" = String, Path, description = "rec-..."), WaveformQuery),
    responses((status = 200, body = Waveform), (status = 404, body = ErrorBody)))]
async fn waveform(
    State(s): State<Shared>,
    p: Principal,
    Path(id): Path<String>,
    q: Result<Query<WaveformQuery>, QueryRejection>,
) -> Result<Json<Waveform>, ApiError> {
    p.require(D)?;
    let points = q
        .map_err(|e| ApiError::bad_request(e.body_text()))?
        .points
        .unwrap_or(800);
    if !(16..=4000).contains(&points) {
        return Err(ApiError::invalid("points is 16 to 4000"));
    }
    let w = s
        .blocking(move |v| {
            let r = v.recording(&id)?;
            let samples = v.mono_mix_8k(&r)?;
            let step = samples.len().div_ceil(points).max(1);
            let peaks = samples
                .chunks(step)
                .map(|c| c.iter().fold(0f32, |m, x| m.max(x.abs())).min(1.0))
                .collect();
            Ok(Waveform {
                duration_s: r.duration_s,
                peaks,
            })
        })
        .await?;
    Ok(Json(w))
}

// ---------------------------------------------------------------- copies

/// A request for copies.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CopiesRequest {
    /// Recipients, by exact name.
    pub recipients: Vec<String>,
    /// `wav`, `flac`, `mp3`, `opus`, or with a bit rate: `mp3-64k`, `opus-16k`.
    #[serde(default = "default_format")]
    pub format: String,
}

fn default_format() -> String {
    "flac".into()
}

/// A job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// `j-...`.
    pub id: String,
    /// `issue` or `trace`.
    pub kind: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    /// 0 to 1.
    pub progress: f64,
    /// The outcome once succeeded: for `issue`, `{"copies":[{"recipient","issuance_id","url"}]}`;
    /// for `trace`, `{"trace_id","report"}`.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// Why it failed.
    pub error: Option<JobError>,
    /// Where to poll.
    pub url: String,
    /// When enqueued (ms since the epoch).
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

/// Why a job failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobError {
    /// In words.
    pub message: String,
}

fn job_view(v: &Vault, job: &Job) -> Result<JobView, tracemark_vault::VaultError> {
    let result = match (&job.result, job.kind.as_str()) {
        (Some(text), JOB_ISSUE) => {
            let r: IssueResult =
                serde_json::from_str(text).map_err(|e| tracemark_vault::VaultError::Invalid {
                    what: "stored job result",
                    reason: e.to_string(),
                })?;
            let mut copies = Vec::new();
            for c in &r.copies {
                // Results stored before copies named their format are all the job's.
                let format = if c.format.is_empty() {
                    &r.format
                } else {
                    &c.format
                };
                let issued = v
                    .store()
                    .issuance(&r.recording_id, &c.recipient_id, format)?;
                copies.push(serde_json::json!({
                    "recipient": c.recipient,
                    "recipient_id": c.recipient_id,
                    "format": format,
                    "issuance_id": issued.as_ref().map(|i| i.id.to_string()),
                    "copy_sha256": c.copy_sha256.to_hex(),
                    "url": issued.as_ref().map(|i| format!("/api/v1/copies/{}", i.id)),
                }));
            }
            Some(serde_json::json!({
                "recording_id": r.recording_id,
                "format": r.format,
                "copies": copies,
            }))
        }
        (Some(text), JOB_TRACE) => {
            let r: TraceResult =
                serde_json::from_str(text).map_err(|e| tracemark_vault::VaultError::Invalid {
                    what: "stored job result",
                    reason: e.to_string(),
                })?;
            let row = v.trace_row(r.trace_id.as_str())?;
            let report: Value = serde_json::from_str(&row.report_json).unwrap_or(Value::Null);
            Some(serde_json::json!({"trace_id": r.trace_id, "report": report}))
        }
        (Some(text), _) => serde_json::from_str(text).ok(),
        (None, _) => None,
    };
    Ok(JobView {
        id: job.id.to_string(),
        kind: job.kind.clone(),
        status: job.status.as_str().into(),
        progress: job.progress,
        result,
        error: job.error.as_ref().map(|m| JobError { message: m.clone() }),
        url: format!("/api/v1/jobs/{}", job.id),
        created_at: millis(job.created_at),
        updated_at: millis(job.updated_at),
    })
}

/// Issues marked copies as a job: answers 202 with the job to poll.
#[utoipa::path(post, path = "/api/v1/recordings/{id}/copies", tag = "copies",
    description = "Role: distributor. The request is logged with its job in one transaction; each copy is logged when the job finishes.",
    params(("id" = String, Path, description = "rec-...")), request_body = CopiesRequest,
    responses((status = 202, body = JobView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn issue_copies(
    State(s): State<Shared>,
    p: Principal,
    Path(id): Path<String>,
    req: Result<Json<CopiesRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let actor = p.require(D)?.id.clone();
    let req = body(req)?;
    if req.recipients.len() > 10_000 {
        return Err(ApiError::invalid("at most 10000 recipients per request"));
    }
    let view = s
        .blocking(move |v| {
            let delivery = Delivery::parse(&req.format)?;
            let job = v.request_copies(&actor, &id, &req.recipients, delivery)?;
            job_view(v, &job)
        })
        .await?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

fn content_type_of(format: &str) -> &'static str {
    match format.split('-').next().unwrap_or_default() {
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "mp3" => "audio/mpeg",
        "opus" => "audio/ogg",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Downloads an issued copy. Logged as `download-copy`.
#[utoipa::path(get, path = "/api/v1/copies/{id}", tag = "copies",
    description = "Role: distributor. Logged.", params(("id" = String, Path, description = "i-...")),
    responses((status = 200, description = "The copy", content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
async fn download_copy(
    State(s): State<Shared>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = p.require(D)?.id.clone();
    let (name, format, bytes) = s
        .blocking(move |v| {
            let id: IssuanceId = id.parse()?;
            let i = v.issuance(&id)?;
            let bytes = v.copy_bytes(&i)?;
            let who = v.recipient_by_id(&i.recipient_id)?;
            v.record_access(&actor, &i.id.to_string(), "download-copy")?;
            let ext = i.format.split('-').next().unwrap_or("bin").to_string();
            Ok((
                format!("{}-{}.{ext}", i.recording_id, who.name),
                i.format,
                bytes,
            ))
        })
        .await?;
    Ok(attachment(bytes, &name, content_type_of(&format)))
}

// ---------------------------------------------------------------- traces

/// A trace in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct TraceSummary {
    /// `t-...`.
    pub id: String,
    /// One-line verdict.
    pub verdict: String,
    /// SHA-256 of the leaked file.
    pub leak_sha256: String,
    /// When (ms since the epoch).
    pub created_at: i64,
    /// Its log entry.
    pub log_index: u64,
}

impl From<&TraceRow> for TraceSummary {
    fn from(t: &TraceRow) -> Self {
        Self {
            id: t.id.to_string(),
            verdict: t.verdict.clone(),
            leak_sha256: t.leak_sha256.to_hex(),
            created_at: millis(t.created_at),
            log_index: t.log_index,
        }
    }
}

/// A trace with its report.
#[derive(Debug, Serialize, ToSchema)]
pub struct TraceView {
    /// The trace.
    #[serde(flatten)]
    pub summary: TraceSummary,
    /// The report: the same JSON as `tracemark trace --json`.
    #[schema(value_type = Object)]
    pub report: Value,
}

/// Traces a leaked file as a job: multipart with `file` and, optionally, `bound` (the
/// false-accusation bound, default 1e-6). Answers 202 with the job.
#[utoipa::path(post, path = "/api/v1/traces", tag = "traces",
    description = "Role: investigator. The upload is stored sealed and logged with its job; the trace is logged when the job finishes.",
    request_body(content_type = "multipart/form-data", description = "`file`, optional `bound`"),
    responses((status = 202, body = JobView), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn request_trace(
    State(s): State<Shared>,
    p: Principal,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let actor = p.require(I)?.id.clone();
    let up = upload::receive(multipart, &s.config.spool_dir, s.config.max_upload).await?;
    let bound = match up.field("bound").map(str::trim).filter(|b| !b.is_empty()) {
        None => tracemark_vault::DEFAULT_BOUND,
        Some(b) => b
            .parse::<f64>()
            .map_err(|_| ApiError::invalid(format!("bound {b:?} is not a number")))?,
    };
    let view = s
        .blocking(move |v| {
            let job = v.request_trace(&actor, up.file.path(), &up.file_name, bound)?;
            job_view(v, &job)
        })
        .await?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// Every trace.
#[utoipa::path(get, path = "/api/v1/traces", tag = "traces", description = "Role: investigator.",
    responses((status = 200, body = [TraceSummary]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_traces(
    State(s): State<Shared>,
    p: Principal,
) -> Result<Json<Vec<TraceSummary>>, ApiError> {
    p.require(I)?;
    let list = s.blocking(|v| v.traces()).await?;
    Ok(Json(list.iter().rev().map(TraceSummary::from).collect()))
}

/// One trace and its report. Logged as `view-report`.
#[utoipa::path(get, path = "/api/v1/traces/{id}", tag = "traces", description = "Role: investigator. Logged.",
    params(("id" = String, Path, description = "t-...")),
    responses((status = 200, body = TraceView), (status = 404, body = ErrorBody)))]
async fn trace(
    State(s): State<Shared>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<TraceView>, ApiError> {
    let actor = p.require(I)?.id.clone();
    let row = s
        .blocking(move |v| {
            let row = v.trace_row(&id)?;
            v.record_access(&actor, row.id.as_str(), "view-report")?;
            Ok(row)
        })
        .await?;
    let report = serde_json::from_str(&row.report_json).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "integrity",
            format!("the stored report is not JSON: {e}"),
        )
    })?;
    Ok(Json(TraceView {
        summary: TraceSummary::from(&row),
        report,
    }))
}

pub(crate) fn render_report(
    v: &Vault,
    row: &TraceRow,
) -> Result<String, tracemark_vault::VaultError> {
    let report = tracemark_types::TraceReport::from_json(&row.report_json).map_err(|e| {
        tracemark_vault::VaultError::Invalid {
            what: "stored report",
            reason: e.to_string(),
        }
    })?;
    Ok(tracemark_report::render_html_with_text(
        &report,
        &v.verifier_key().to_string(),
        leaked_text(v, &report).as_deref(),
    ))
}

/// The leaked text of a text trace, when it was uploaded here (sealed with the leaks), for
/// the report's word-by-word map; `None` for audio, or a trace made elsewhere.
pub(crate) fn leaked_text(v: &Vault, report: &tracemark_types::TraceReport) -> Option<String> {
    let t = report.text.as_ref()?;
    let bytes = v.leak_bytes(&t.leak_sha256).ok()?;
    String::from_utf8(bytes).ok()
}

/// The trace's HTML report (the one the evidence bundle carries). Logged as `view-report`.
#[utoipa::path(get, path = "/api/v1/traces/{id}/report.html", tag = "traces", description = "Role: investigator. Logged.",
    params(("id" = String, Path, description = "t-...")),
    responses((status = 200, description = "HTML", content_type = "text/html"), (status = 404, body = ErrorBody)))]
async fn report_html(
    State(s): State<Shared>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = p.require(I)?.id.clone();
    let html = s
        .blocking(move |v| {
            let row = v.trace_row(&id)?;
            let html = render_report(v, &row)?;
            v.record_access(&actor, row.id.as_str(), "view-report")?;
            Ok(html)
        })
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            // The report is a self-contained document with inline styles.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
                ),
            ),
        ],
        html,
    )
        .into_response())
}

/// The trace's evidence bundle, which `tracemark evidence verify` checks offline with the
/// vault's public key alone. Logged (`EvidenceExported`, and `download-evidence` by whom).
#[utoipa::path(get, path = "/api/v1/traces/{id}/evidence", tag = "traces", description = "Role: investigator. Logged.",
    params(("id" = String, Path, description = "t-...")),
    responses((status = 200, description = "The bundle", content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
async fn evidence(
    State(s): State<Shared>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let actor = p.require(I)?.id.clone();
    let (name, bundle) = s
        .blocking(move |v| {
            let row = v.trace_row(&id)?;
            let html = render_report(v, &row)?;
            let bundle = v.export_evidence(row.id.as_str(), Some(html.as_bytes()))?;
            v.record_access(&actor, row.id.as_str(), "download-evidence")?;
            Ok((format!("{}.evidence", row.id), bundle))
        })
        .await?;
    Ok(attachment(bundle, &name, "application/octet-stream"))
}

// ---------------------------------------------------------------- jobs

/// A job's status, progress and outcome.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", description = "Role: distributor or investigator.",
    params(("id" = String, Path, description = "j-...")),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody)))]
async fn job(
    State(s): State<Shared>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let role = p.require(JOBS)?.role;
    let view = s
        .blocking(move |v| {
            let job = v.job(&id)?;
            // A distributor sees issue jobs, an investigator trace jobs.
            let mine = match role {
                Role::Distributor => job.kind == JOB_ISSUE,
                Role::Investigator => job.kind == JOB_TRACE,
                _ => false,
            };
            if !mine {
                return Err(tracemark_vault::VaultError::NotFound {
                    kind: "job",
                    name: id,
                });
            }
            job_view(v, &job)
        })
        .await?;
    Ok(Json(view))
}

// ---------------------------------------------------------------- log

/// The latest signed checkpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointView {
    /// Entries it covers.
    pub size: u64,
    /// The signed note (C2SP checkpoint format).
    pub note: String,
    /// The public key that verifies it (C2SP signed-note verifier key).
    pub verifier_key: String,
}

/// The latest signed checkpoint and the key that verifies it.
#[utoipa::path(get, path = "/api/v1/log/checkpoint", tag = "log", description = "Role: auditor.",
    responses((status = 200, body = CheckpointView), (status = 404, body = ErrorBody)))]
async fn checkpoint(
    State(s): State<Shared>,
    p: Principal,
) -> Result<Json<CheckpointView>, ApiError> {
    p.require(A)?;
    let (cp, key) = s
        .blocking(|v| Ok((v.store().latest_checkpoint()?, v.verifier_key().to_string())))
        .await?;
    let (size, note) = cp.ok_or_else(|| ApiError::not_found("the log is empty"))?;
    Ok(Json(CheckpointView {
        size,
        note,
        verifier_key: key,
    }))
}

/// What a verification found.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyView {
    /// Whether the log and every record check out.
    pub ok: bool,
    /// Entries recomputed.
    pub entries: u64,
    /// Signed checkpoints checked.
    pub checkpoints: usize,
    /// Records matched to their entries.
    pub records: usize,
    /// The first thing broken (table, row, column, entry), when not ok.
    pub error: Option<String>,
}

/// Recomputes the log and checks every checkpoint and every record against it.
#[utoipa::path(post, path = "/api/v1/log/verify", tag = "log", description = "Role: auditor.",
    responses((status = 200, body = VerifyView)))]
async fn verify(State(s): State<Shared>, p: Principal) -> Result<Json<VerifyView>, ApiError> {
    p.require(A)?;
    let outcome = s
        .blocking(|v| match v.verify_log() {
            Ok(r) => Ok(Ok(r)),
            Err(e) if tracemark_vault::is_infrastructure(&e) => Err(e),
            Err(e) => Ok(Err(e.to_string())),
        })
        .await?;
    Ok(Json(match outcome {
        Ok(r) => VerifyView {
            ok: true,
            entries: r.entries,
            checkpoints: r.checkpoints,
            records: r.records,
            error: None,
        },
        Err(e) => VerifyView {
            ok: false,
            entries: 0,
            checkpoints: 0,
            records: 0,
            error: Some(e),
        },
    }))
}

/// One log entry, decoded.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    /// Its index.
    pub index: u64,
    /// When (ms since the epoch).
    pub time: i64,
    /// `recording-ingested`, `copy-issued`, `trace-recorded`, `access`, `record-stated`...
    pub kind: String,
    /// Who, when the entry names a user (`u-N`).
    pub actor: Option<String>,
    /// The user's name.
    pub actor_name: Option<String>,
    /// What was touched (an id).
    pub subject: Option<String>,
    /// What was done, e.g. `download-copy`, `sign-in`.
    pub action: Option<String>,
    /// One line for a person.
    pub summary: String,
}

/// A page of log entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntriesPage {
    /// The entries.
    pub items: Vec<EntryView>,
    /// Entries in the log.
    pub size: u64,
}

/// Which entries.
#[derive(Debug, Deserialize, IntoParams)]
pub struct EntriesQuery {
    /// First index (default: the newest `limit`).
    pub from: Option<u64>,
    /// How many, 1 to 1000 (default 100).
    pub limit: Option<u64>,
}

pub(crate) fn entry_view(index: u64, bytes: &[u8], users: &[User]) -> EntryView {
    use tracemark_ledger::LogEntry as E;
    let name_of = |id: &str| {
        users
            .iter()
            .find(|u| u.id.as_str() == id)
            .map(|u| u.name.clone())
    };
    let mut view = EntryView {
        index,
        time: 0,
        kind: "undecodable".into(),
        actor: None,
        actor_name: None,
        subject: None,
        action: None,
        summary: String::new(),
    };
    let entry = match E::decode(bytes) {
        Ok(e) => e,
        Err(e) => {
            view.summary = format!("undecodable entry: {e}");
            return view;
        }
    };
    view.time = entry.time().0;
    let (kind, subject, summary) = match &entry {
        E::RecordingIngested {
            recording,
            content_sha256,
            ..
        } => (
            "recording-ingested",
            recording.as_str().to_string(),
            format!(
                "recording {} ingested (sha256 {})",
                recording.as_str(),
                hex::encode(content_sha256.0)
            ),
        ),
        E::RecipientAdded { recipient, .. } => (
            "recipient-added",
            recipient.as_str().to_string(),
            format!("recipient {} added", recipient.as_str()),
        ),
        E::RecipientChanged { recipient, .. } => (
            "recipient-changed",
            recipient.as_str().to_string(),
            format!("recipient {} changed", recipient.as_str()),
        ),
        E::CopyIssued {
            recording,
            recipient,
            format,
            copy_sha256,
            ..
        } => (
            "copy-issued",
            recording.as_str().to_string(),
            format!(
                "copy of {} issued to {} as {} (sha256 {})",
                recording.as_str(),
                recipient.as_str(),
                format.as_str(),
                hex::encode(copy_sha256.0)
            ),
        ),
        E::TraceRecorded { trace, verdict, .. } => (
            "trace-recorded",
            trace.as_str().to_string(),
            format!("trace {}: {}", trace.as_str(), verdict.as_str()),
        ),
        E::EvidenceExported {
            trace,
            bundle_sha256,
            ..
        } => (
            "evidence-exported",
            trace.as_str().to_string(),
            format!(
                "evidence for {} exported (sha256 {})",
                trace.as_str(),
                hex::encode(bundle_sha256.0)
            ),
        ),
        E::AccessRecorded {
            actor,
            subject,
            action,
            ..
        } => {
            view.actor = Some(actor.as_str().to_string());
            view.actor_name = name_of(actor.as_str());
            view.action = Some(action.as_str().to_string());
            (
                "access",
                subject.as_str().to_string(),
                format!(
                    "{} ({}): {} {}",
                    view.actor_name.as_deref().unwrap_or("?"),
                    actor.as_str(),
                    action.as_str(),
                    subject.as_str()
                ),
            )
        }
        E::RecordStated {
            table,
            row,
            columns,
            ..
        } => (
            "record-stated",
            row.as_str().to_string(),
            format!(
                "{} row {} stated ({} columns)",
                table.as_str(),
                row.as_str(),
                columns.len()
            ),
        ),
        other => ("other", String::new(), format!("{other:?}")),
    };
    view.kind = kind.into();
    view.subject = (!subject.is_empty()).then_some(subject);
    view.summary = summary;
    view
}

/// A page of the log, decoded: the audit trail (who did what, when).
#[utoipa::path(get, path = "/api/v1/log/entries", tag = "log", description = "Role: auditor.",
    params(EntriesQuery),
    responses((status = 200, body = EntriesPage)))]
async fn entries(
    State(s): State<Shared>,
    p: Principal,
    q: Result<Query<EntriesQuery>, QueryRejection>,
) -> Result<Json<EntriesPage>, ApiError> {
    p.require(A)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit is 1 to 1000"));
    }
    let page = s
        .blocking(move |v| {
            let size = v.store().log_size()?;
            let from = q.from.unwrap_or(size.saturating_sub(limit));
            let rows = v.store().log_rows(from, limit)?;
            let users = v.store().users()?;
            Ok(EntriesPage {
                items: rows
                    .iter()
                    .map(|r| entry_view(r.index, &r.entry, &users))
                    .collect(),
                size,
            })
        })
        .await?;
    Ok(Json(page))
}

// ---------------------------------------------------------------- accounts

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUser {
    /// Unique name.
    pub name: String,
    /// `distributor`, `investigator`, `auditor` or `admin`.
    pub role: String,
    /// A password (8 to 1024 characters) for sign-in; none for a token-only user.
    #[serde(default)]
    pub password: Option<String>,
}

/// Changes to a user.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UserChange {
    /// A new role.
    #[serde(default)]
    pub role: Option<String>,
    /// Disable (true) or enable (false).
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// A role by name, with the roles there are in the error.
pub(crate) fn parse_role(s: &str) -> Result<Role, ApiError> {
    s.parse::<Role>()
        .map_err(|e| ApiError::invalid(e.to_string()))
}

/// Every user.
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", description = "Role: admin.",
    responses((status = 200, body = [UserView])))]
async fn list_users(
    State(s): State<Shared>,
    p: Principal,
) -> Result<Json<Vec<UserView>>, ApiError> {
    p.require(ADMIN)?;
    let users = s.blocking(|v| Ok(v.store().users()?)).await?;
    Ok(Json(users.iter().map(UserView::from).collect()))
}

/// Adds a user. Logged.
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", description = "Role: admin. Logged.",
    request_body = NewUser,
    responses((status = 201, body = UserView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_user(
    State(s): State<Shared>,
    p: Principal,
    req: Result<Json<NewUser>, JsonRejection>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    p.require(ADMIN)?;
    let req = body(req)?;
    let role = parse_role(&req.role)?;
    let u = s
        .blocking(move |v| match &req.password {
            Some(pw) => v.add_user_with_password(&req.name, role, pw),
            None => v.add_user(&req.name, role, None),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&u))))
}

/// Changes a user's role or disables them. Logged (a role change is an entry of its own).
#[utoipa::path(patch, path = "/api/v1/users/{name}", tag = "accounts", description = "Role: admin. Logged.",
    params(("name" = String, Path, description = "The user's name")), request_body = UserChange,
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
async fn change_user(
    State(s): State<Shared>,
    p: Principal,
    Path(name): Path<String>,
    req: Result<Json<UserChange>, JsonRejection>,
) -> Result<Json<UserView>, ApiError> {
    p.require(ADMIN)?;
    let req = body(req)?;
    let role = req.role.as_deref().map(parse_role).transpose()?;
    if role.is_none() && req.disabled.is_none() {
        return Err(ApiError::invalid("change the role or the disabled flag"));
    }
    let u = s
        .blocking(move |v| {
            v.change_user(&name, role, None, req.disabled)?;
            v.user(&name)
        })
        .await?;
    Ok(Json(UserView::from(&u)))
}

/// An API token (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// `tok-...`.
    pub id: String,
    /// Whose (`u-N`).
    pub user_id: String,
    /// When created (ms since the epoch).
    pub created_at: i64,
    /// When it stops working.
    pub expires_at: Option<i64>,
    /// Whether revoked.
    pub revoked: bool,
}

impl From<&ApiToken> for TokenView {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id.to_string(),
            user_id: t.user_id.to_string(),
            created_at: millis(t.created_at),
            expires_at: t.expires_at.map(millis),
            revoked: t.revoked,
        }
    }
}

/// A new token's request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    /// The user's name.
    pub user: String,
    /// Days until it expires (1 to 3650; none: never).
    #[serde(default)]
    pub expires_days: Option<u32>,
}

/// A new token, with its secret shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token.
    #[serde(flatten)]
    pub token: TokenView,
    /// The secret (`tmk_...`): stored only as its SHA-256, never shown again.
    pub secret: String,
}

/// Every API token.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", description = "Role: admin.",
    responses((status = 200, body = [TokenView])))]
async fn list_tokens(
    State(s): State<Shared>,
    p: Principal,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    p.require(ADMIN)?;
    let tokens = s.blocking(|v| Ok(v.store().tokens()?)).await?;
    Ok(Json(tokens.iter().map(TokenView::from).collect()))
}

/// Creates an API token for a user. Logged (its hash, never the secret).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", description = "Role: admin. Logged.",
    request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 404, body = ErrorBody)))]
async fn create_token(
    State(s): State<Shared>,
    p: Principal,
    req: Result<Json<NewToken>, JsonRejection>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    p.require(ADMIN)?;
    let req = body(req)?;
    if req.expires_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(ApiError::invalid("expires_days is 1 to 3650"));
    }
    let (token, secret) = s
        .blocking(move |v| v.create_token_for_days(&req.user, req.expires_days))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: TokenView::from(&token),
            secret,
        }),
    ))
}

/// Revokes an API token. Logged.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", description = "Role: admin. Logged.",
    params(("id" = String, Path, description = "tok-...")),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    State(s): State<Shared>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    p.require(ADMIN)?;
    s.blocking(move |v| {
        let id: TokenId = id.parse()?;
        v.revoke_token(&id)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
