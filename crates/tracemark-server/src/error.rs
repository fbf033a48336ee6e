//! Every error the service answers, as `{"error":{"code","message"}}` with a status that
//! says whose fault it was: 4xx for the request (with what was wrong), 5xx only when the
//! machinery failed (the database went away, a stored file failed authentication).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tracemark_vault::VaultError;
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code, e.g. `not_found`.
    pub code: &'static str,
    /// What was wrong, for a person.
    pub message: String,
}

/// The error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code: `unauthenticated`, `forbidden`, `not_found`, `conflict`, `invalid`,
    /// `bad_request`, `too_large`, `unsupported_media`, `too_many_requests`,
    /// `method_not_allowed`, `integrity`, `unavailable`.
    pub code: String,
    /// What was wrong, in words.
    pub message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401: no credentials, or credentials that do not hold.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// 403: the role may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 413: the upload is larger than the server accepts.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    /// 422: well-formed, but a value is invalid.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }

    /// The body as JSON.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
            },
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = self.status.as_u16(), code = self.code, message = %self.message, "request failed");
        }
        let mut response = (self.status, Json(self.body())).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("60"),
            );
        }
        response
    }
}

impl From<VaultError> for ApiError {
    fn from(e: VaultError) -> Self {
        use tracemark_media::MediaError as M;
        let message = e.to_string();
        match &e {
            VaultError::NotFound { .. } => Self::not_found(message),
            VaultError::Duplicate { .. } => Self::new(StatusCode::CONFLICT, "conflict", message),
            VaultError::Invalid { .. } | VaultError::Id(_) => Self::invalid(message),
            VaultError::Media(M::Limit { .. }) => Self::too_large(message),
            VaultError::Media(M::Io { .. }) => Self::unavailable(message),
            VaultError::Media(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media",
                message,
            ),
            // Computations on the request's audio: its content was unusable.
            VaultError::Dsp(_)
            | VaultError::Watermark(_)
            | VaultError::Fingerprint(_)
            | VaultError::Tardos(_) => Self::invalid(message),
            VaultError::Tampered { .. }
            | VaultError::CopyDiffers { .. }
            | VaultError::StoredMedia { .. }
            | VaultError::LogBroken(_)
            | VaultError::RecordBroken { .. } => {
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "integrity", message)
            }
            _ => Self::unavailable(message),
        }
    }
}

impl ApiError {
    /// 503: the store or a file failed.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}
