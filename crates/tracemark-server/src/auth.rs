//! Who is asking: an API token (`Authorization: Bearer tmk_...`) or a browser session
//! cookie (HttpOnly, SameSite=Strict, Secure behind TLS), and what their role allows.
//!
//! A request authenticated by cookie that changes something (any method but GET and HEAD)
//! must prove it came from our own pages: the session's CSRF token, in the
//! `X-CSRF-Token` header (the pages' scripts) or in the form's `csrf` field ([`CsrfForm`]).
//! Token requests need no CSRF token: a browser never attaches one on its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use serde::de::DeserializeOwned;
use tracemark_types::{Role, Session, User};

use crate::Shared;
use crate::error::ApiError;

/// The session cookie.
pub const SESSION_COOKIE: &str = "tracemark_session";
/// The sign-in form's double-submit cookie (CSRF protection before there is a session).
pub const SIGNIN_COOKIE: &str = "tracemark_signin";
/// The header the pages' scripts send the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user.
    pub user: User,
    /// The browser session, when signed in by cookie.
    pub session: Option<Session>,
    /// Whether the request may change things: not a cookie request without its CSRF token.
    csrf_ok: bool,
}

impl Principal {
    /// The user, if their role is one of `roles`; 403 otherwise (and for a cookie request
    /// that changes something without the session's CSRF token).
    pub fn require(&self, roles: &[Role]) -> Result<&User, ApiError> {
        if !self.csrf_ok {
            return Err(ApiError::forbidden(
                "missing or wrong CSRF token: a signed-in browser must send the session's token with every change",
            ));
        }
        if roles.contains(&self.user.role) {
            Ok(&self.user)
        } else {
            Err(ApiError::forbidden(format!(
                "{} is {} {}; this needs the role {}",
                self.user.name,
                article(self.user.role),
                self.user.role.as_str(),
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )))
        }
    }

    /// The session's CSRF token, for pages to embed.
    pub fn csrf_token(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.csrf_token.as_str())
    }
}

fn article(r: Role) -> &'static str {
    match r {
        Role::Auditor | Role::Admin | Role::Investigator => "an",
        _ => "a",
    }
}

/// A cookie's value.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Constant-time equality of two tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl FromRequestParts<Shared> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiError> {
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD);
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let secret = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|s| s.starts_with("tmk_") && s.len() <= 200)
                .ok_or_else(|| {
                    ApiError::unauthenticated(
                        "the Authorization header must be `Bearer tmk_...` (a token from `tracemark token create`)",
                    )
                })?
                .to_string();
            let user = state
                .blocking(move |v| v.authenticate_token(&secret))
                .await?
                .ok_or_else(|| {
                    ApiError::unauthenticated(
                        "the token is unknown, revoked or expired, or its user is disabled",
                    )
                })?;
            return Ok(Self {
                user,
                session: None,
                csrf_ok: true,
            });
        }
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE)
            .filter(|s| s.len() <= 200)
            .map(str::to_string)
        else {
            return Err(ApiError::unauthenticated(
                "sign in, or send `Authorization: Bearer TOKEN`",
            ));
        };
        let (session, user) = state
            .blocking(move |v| v.session(&secret))
            .await?
            .ok_or_else(|| ApiError::unauthenticated("the session has ended: sign in again"))?;
        let header_ok = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|t| same_token(t, &session.csrf_token));
        Ok(Self {
            user,
            csrf_ok: !unsafe_method || header_ok,
            session: Some(session),
        })
    }
}

/// The client's address, when the server knows it (it is served with connect info).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// A form that carries the session's CSRF token in its `csrf` field.
pub trait HasCsrf {
    /// The field's value.
    fn csrf(&self) -> &str;
}

/// A form post from our own pages: the principal and the form, its CSRF token checked.
#[derive(Debug)]
pub struct CsrfForm<T>(pub Principal, pub T);

impl<T> FromRequest<Shared> for CsrfForm<T>
where
    T: DeserializeOwned + HasCsrf + Send,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Shared) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let mut principal = Principal::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let axum::Form(form) = axum::Form::<T>::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("the form is malformed: {e}")))?;
        if principal.session.is_some() {
            principal.csrf_ok = same_token(form.csrf(), principal.csrf_token());
        }
        Ok(Self(principal, form))
    }
}

/// Failed sign-ins allowed per name, and per client address, within [`WINDOW`].
pub const FAILURES_PER_NAME: u32 = 5;
/// Failed sign-ins allowed per client address within [`WINDOW`].
pub const FAILURES_PER_ADDRESS: u32 = 20;
/// The throttle's window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys the throttle remembers at most (oldest forgotten first), so a flood of names
/// cannot exhaust memory.
const MAX_KEYS: usize = 100_000;

/// Counts failed sign-ins (OWASP Authentication Cheat Sheet: throttle by account and by
/// source). In memory, per server process.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: HashMap<String, (u32, Instant)>,
}

impl Throttle {
    /// Whether a sign-in as `name` from `ip` may be tried now.
    pub fn allowed(&mut self, name: &str, ip: Option<IpAddr>, now: Instant) -> bool {
        self.failures
            .retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        let by_name = self.count(&name_key(name));
        let by_ip = ip.map_or(0, |ip| self.count(&ip_key(ip)));
        by_name < FAILURES_PER_NAME && by_ip < FAILURES_PER_ADDRESS
    }

    /// Records a failed sign-in.
    pub fn failed(&mut self, name: &str, ip: Option<IpAddr>, now: Instant) {
        if self.failures.len() >= MAX_KEYS
            && let Some(oldest) = self
                .failures
                .iter()
                .min_by_key(|(_, (_, since))| *since)
                .map(|(k, _)| k.clone())
        {
            self.failures.remove(&oldest);
        }
        let mut keys = vec![name_key(name)];
        keys.extend(ip.map(ip_key));
        for k in keys {
            let e = self.failures.entry(k).or_insert((0, now));
            e.0 += 1;
        }
    }

    /// Forgets the failures of `name` (after a successful sign-in).
    pub fn succeeded(&mut self, name: &str) {
        self.failures.remove(&name_key(name));
    }

    fn count(&self, key: &str) -> u32 {
        self.failures.get(key).map_or(0, |(n, _)| *n)
    }
}

fn name_key(name: &str) -> String {
    format!("name:{}", name.to_lowercase())
}

fn ip_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_counts_per_name_and_address_and_forgets_after_the_window() {
        let mut t = Throttle::default();
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        let t0 = Instant::now();
        for _ in 0..FAILURES_PER_NAME {
            assert!(t.allowed("Alice", Some(ip), t0));
            t.failed("Alice", Some(ip), t0);
        }
        assert!(
            !t.allowed("alice", Some(ip), t0),
            "names are throttled case-blind"
        );
        assert!(t.allowed("bob", Some(ip), t0), "another name is not");
        assert!(t.allowed("alice", None, t0 + WINDOW), "the window passes");
        let mut t = Throttle::default();
        for n in 0..FAILURES_PER_ADDRESS {
            t.failed(&format!("user{n}"), Some(ip), t0);
        }
        assert!(
            !t.allowed("someone-new", Some(ip), t0),
            "the address is throttled"
        );
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", ""));
    }

    #[test]
    fn cookies_are_found_among_several() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; tracemark_session=tms_x; b=2".parse().expect("hv"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tms_x"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
