//! Uploads: a multipart body streamed to a spool file as it arrives, never held whole in
//! memory, and cut off with 413 as soon as it passes the server's cap.

use std::collections::HashMap;
use std::io::Write;

use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;

use crate::error::ApiError;

/// Longest text field accepted beside the file (a title, a bound).
const MAX_FIELD_BYTES: usize = 4096;
/// Text fields accepted at most.
const MAX_FIELDS: usize = 16;

/// A received upload.
#[derive(Debug)]
pub struct Upload {
    /// The spooled file (removed when dropped).
    pub file: tempfile::NamedTempFile,
    /// The name the client gave it (a hint only).
    pub file_name: String,
    /// The other fields.
    pub fields: HashMap<String, String>,
}

impl Upload {
    /// A text field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Reads a multipart body: the part named `file` to a spool file in `dir` (at most `cap`
/// bytes), the other parts as short text fields.
pub async fn receive(
    multipart: Result<Multipart, MultipartRejection>,
    dir: &std::path::Path,
    cap: u64,
) -> Result<Upload, ApiError> {
    let mut multipart = multipart
        .map_err(|e| ApiError::bad_request(format!("expected a multipart/form-data body: {e}")))?;
    let malformed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(format!("the upload is over the limit of {cap} bytes"))
        } else {
            ApiError::bad_request(format!("the multipart body is malformed: {e}"))
        }
    };
    let mut file = None;
    let mut fields = HashMap::new();
    while let Some(mut part) = multipart.next_field().await.map_err(malformed)? {
        let name = part.name().unwrap_or_default().to_string();
        if name == "file" {
            if file.is_some() {
                return Err(ApiError::bad_request("send one part named `file`"));
            }
            let file_name: String = part
                .file_name()
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect();
            // The spool keeps the upload's extension (letters and digits, at most 8), the
            // format hint the decoder reads from a path.
            let suffix = std::path::Path::new(&file_name)
                .extension()
                .and_then(|e| e.to_str())
                .filter(|e| e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
                .map(|e| format!(".{e}"))
                .unwrap_or_default();
            let mut spool = tempfile::Builder::new()
                .prefix("tracemark-upload-")
                .suffix(&suffix)
                .tempfile_in(dir)
                .map_err(|e| ApiError::unavailable(format!("cannot spool the upload: {e}")))?;
            let mut bytes = 0u64;
            while let Some(chunk) = part.chunk().await.map_err(malformed)? {
                bytes += chunk.len() as u64;
                if bytes > cap {
                    return Err(ApiError::too_large(format!(
                        "the upload is over the limit of {cap} bytes (--max-upload)"
                    )));
                }
                spool
                    .write_all(&chunk)
                    .map_err(|e| ApiError::unavailable(format!("cannot spool the upload: {e}")))?;
            }
            spool
                .flush()
                .map_err(|e| ApiError::unavailable(format!("cannot spool the upload: {e}")))?;
            if bytes == 0 {
                return Err(ApiError::invalid("the uploaded file is empty"));
            }
            file = Some((spool, file_name, bytes));
        } else {
            if fields.len() >= MAX_FIELDS {
                return Err(ApiError::bad_request(format!(
                    "more than {MAX_FIELDS} form fields"
                )));
            }
            let mut text = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(malformed)? {
                text.extend_from_slice(&chunk);
                if text.len() > MAX_FIELD_BYTES {
                    return Err(ApiError::bad_request(format!(
                        "the field {name:?} is longer than {MAX_FIELD_BYTES} bytes"
                    )));
                }
            }
            let text = String::from_utf8(text).map_err(|_| {
                ApiError::bad_request(format!("the field {name:?} is not UTF-8 text"))
            })?;
            fields.insert(name, text);
        }
    }
    let (file, file_name, bytes) =
        file.ok_or_else(|| ApiError::bad_request("the form has no part named `file`"))?;
    tracing::debug!(bytes, file_name = %file_name, "upload spooled");
    Ok(Upload {
        file,
        file_name,
        fields,
    })
}
