//! Ids, digests and times.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest;

/// A value that does not parse as the type it was meant to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TypeError {
    /// Not in the type's syntax.
    #[error("{value:?} is not a {what}: expected {expected}")]
    Syntax {
        /// The type.
        what: &'static str,
        /// What was given (cut to 80 characters).
        value: String,
        /// The syntax.
        expected: &'static str,
    },
}

fn syntax(what: &'static str, value: &str, expected: &'static str) -> TypeError {
    TypeError::Syntax {
        what,
        value: value.chars().take(80).collect(),
        expected,
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// A recording: `rec-` and the first 12 hex digits of the SHA-256 of its original.
    RecordingId,
    "recording id"
);
string_id!(
    /// A recipient: `r-` and a positive decimal number without leading zeros, assigned by
    /// the store in the transaction that adds the recipient.
    RecipientId,
    "recipient id"
);
string_id!(
    /// A user of the service: `u-` and a positive number without leading zeros.
    UserId,
    "user id"
);
string_id!(
    /// An API token's id (not the token): `tok-` and 16 lower-case hex digits, random.
    TokenId,
    "token id"
);
string_id!(
    /// A job (issuing, tracing): `j-` and 16 lower-case hex digits, random.
    JobId,
    "job id"
);
string_id!(
    /// A trace: `t-` and 1 to 32 lower-case ASCII letters or digits (older vaults number
    /// them, `t-7`; new traces get 16 random hex digits).
    TraceId,
    "trace id"
);

impl RecordingId {
    /// The id of a recording whose original has this digest.
    pub fn from_content(sha: &Sha256) -> Self {
        Self(format!("rec-{}", &sha.to_hex()[..12]))
    }

    /// The 48-bit number of the id (the fingerprint index's key).
    pub fn number(&self) -> u64 {
        // Invariant: parsing checked 12 hex digits after the prefix.
        u64::from_str_radix(&self.0[4..], 16).unwrap_or(0)
    }
}

impl FromStr for RecordingId {
    type Err = TypeError;
    fn from_str(s: &str) -> Result<Self, TypeError> {
        let ok = s.len() == 16
            && s.starts_with("rec-")
            && s[4..]
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(syntax(
                "recording id",
                s,
                "rec- and 12 lower-case hex digits",
            ))
        }
    }
}

/// A numbered id, `PREFIX-N` with N a positive number without leading zeros (at most 18
/// digits, so it fits in a u64), assigned by the store in log order.
macro_rules! numbered_id {
    ($name:ident, $prefix:literal, $what:literal) => {
        impl $name {
            /// The id numbered `n` (n >= 1).
            pub fn from_number(n: u64) -> Self {
                Self(format!(concat!($prefix, "-{}"), n.max(1)))
            }

            /// Its number.
            pub fn number(&self) -> u64 {
                // Invariant: parsing checked 1 to 18 digits after the prefix.
                self.0[$prefix.len() + 1..].parse().unwrap_or(0)
            }
        }

        impl FromStr for $name {
            type Err = TypeError;
            fn from_str(s: &str) -> Result<Self, TypeError> {
                let digits = s.strip_prefix(concat!($prefix, "-")).unwrap_or("");
                let ok = !digits.is_empty()
                    && digits.len() <= 18
                    && !digits.starts_with('0')
                    && digits.bytes().all(|b| b.is_ascii_digit());
                if ok {
                    Ok(Self(s.to_string()))
                } else {
                    Err(syntax(
                        $what,
                        s,
                        concat!($prefix, "- and a number without leading zeros"),
                    ))
                }
            }
        }
    };
}

/// A random id, `PREFIX-` and 16 lower-case hex digits (8 random bytes).
macro_rules! random_id {
    ($name:ident, $prefix:literal, $what:literal) => {
        impl $name {
            /// The id of 8 random bytes.
            pub fn from_random(bytes: [u8; 8]) -> Self {
                Self(format!(concat!($prefix, "-{}"), hex::encode(bytes)))
            }
        }

        impl FromStr for $name {
            type Err = TypeError;
            fn from_str(s: &str) -> Result<Self, TypeError> {
                let rest = s.strip_prefix(concat!($prefix, "-")).unwrap_or("");
                let ok = rest.len() == 16
                    && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if ok {
                    Ok(Self(s.to_string()))
                } else {
                    Err(syntax(
                        $what,
                        s,
                        concat!($prefix, "- and 16 lower-case hex digits"),
                    ))
                }
            }
        }
    };
}

numbered_id!(RecipientId, "r", "recipient id");
numbered_id!(UserId, "u", "user id");
random_id!(TokenId, "tok", "token id");
random_id!(JobId, "j", "job id");

impl TraceId {
    /// A trace id from 8 random bytes (16 hex digits).
    pub fn from_random(bytes: [u8; 8]) -> Self {
        Self(format!("t-{}", hex::encode(bytes)))
    }
}

impl FromStr for TraceId {
    type Err = TypeError;
    fn from_str(s: &str) -> Result<Self, TypeError> {
        let rest = s.strip_prefix("t-").unwrap_or("");
        let ok = !rest.is_empty()
            && rest.len() <= 32
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(syntax(
                "trace id",
                s,
                "t- and 1 to 32 lower-case letters or digits",
            ))
        }
    }
}

/// Whether `s` is in the syntax of any id (recording, recipient or trace). Recipient names
/// that look like ids are refused, so a name can never be read as an id or the reverse.
pub fn looks_like_id(s: &str) -> bool {
    s.parse::<RecordingId>().is_ok()
        || s.parse::<RecipientId>().is_ok()
        || s.parse::<TraceId>().is_ok()
        || s.parse::<IssuanceId>().is_ok()
        || s.parse::<JobId>().is_ok()
        || s.parse::<UserId>().is_ok()
        || s.parse::<TokenId>().is_ok()
}

/// An issuance: `i-` and the store's row number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct IssuanceId(pub u64);

impl fmt::Display for IssuanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "i-{}", self.0)
    }
}

impl FromStr for IssuanceId {
    type Err = TypeError;
    fn from_str(s: &str) -> Result<Self, TypeError> {
        let digits = s.strip_prefix("i-").unwrap_or("");
        if digits.is_empty()
            || digits.len() > 18
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(syntax(
                "issuance id",
                s,
                "i- and a number without leading zeros",
            ));
        }
        digits
            .parse()
            .map(Self)
            .map_err(|_| syntax("issuance id", s, "i- and a number"))
    }
}

impl Serialize for IssuanceId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IssuanceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Milliseconds since the Unix epoch, UTC.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UnixMillis(pub i64);

/// A SHA-256 digest (FIPS 180-4); lower-case hex in text and JSON.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    /// The digest of `bytes`.
    pub fn digest(bytes: &[u8]) -> Self {
        Self(sha2::Sha256::digest(bytes).into())
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// From a 32-byte slice.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.to_hex())
    }
}

impl FromStr for Sha256 {
    type Err = TypeError;
    fn from_str(s: &str) -> Result<Self, TypeError> {
        let bad = || syntax("SHA-256 digest", s, "64 lower-case hex digits");
        if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| bad())?;
        Ok(Self(out))
    }
}

impl Serialize for Sha256 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The 64-bit blind payload carried by a copy.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct PayloadBytes(pub [u8; 8]);

impl PayloadBytes {
    /// Lower-case hex (16 digits).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl Serialize for PayloadBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_only_their_own_syntax() {
        for good in ["r-1", "r-42", "r-999999999999999999"] {
            assert!(good.parse::<RecipientId>().is_ok(), "{good}");
        }
        for bad in [
            "r-0", "r-01", "r-", "r-1a", "R-1", "r-2 ", "Alice", "r--1", "r-+1",
        ] {
            assert!(bad.parse::<RecipientId>().is_err(), "{bad}");
        }
        assert!("rec-0123456789ab".parse::<RecordingId>().is_ok());
        for bad in [
            "rec-0123456789AB",
            "rec-0123456789a",
            "rec-0123456789abc",
            "rec-+123456789ab",
        ] {
            assert!(bad.parse::<RecordingId>().is_err(), "{bad}");
        }
        assert!("t-7".parse::<TraceId>().is_ok());
        assert!("t-00ff00ff00ff00ff".parse::<TraceId>().is_ok());
        assert!("t-A".parse::<TraceId>().is_err());
        assert_eq!("i-3".parse::<IssuanceId>(), Ok(IssuanceId(3)));
        assert!("i-03".parse::<IssuanceId>().is_err());
    }

    #[test]
    fn user_token_and_job_ids_parse_only_their_own_syntax() {
        assert_eq!("u-7".parse::<UserId>().map(|u| u.number()), Ok(7));
        assert!("u-07".parse::<UserId>().is_err() && "r-7".parse::<UserId>().is_err());
        let tok = TokenId::from_random([0xab; 8]);
        assert_eq!(tok.as_str(), "tok-abababababababab");
        assert_eq!(tok.as_str().parse::<TokenId>(), Ok(tok));
        assert!("tok-ABABABABABABABAB".parse::<TokenId>().is_err());
        let job = JobId::from_random([1; 8]);
        assert_eq!(job.as_str().parse::<JobId>(), Ok(job));
        assert!("j-0101".parse::<JobId>().is_err());
        for id in ["u-3", "tok-abababababababab", "j-0101010101010101"] {
            assert!(looks_like_id(id), "{id}");
        }
    }

    #[test]
    fn names_that_look_like_ids_are_recognised() {
        assert!(looks_like_id("r-2"));
        assert!(looks_like_id("t-1"));
        assert!(!looks_like_id("r-2 office"));
        assert!(!looks_like_id("Envoy office"));
    }

    #[test]
    fn digests_are_strict_lower_case_hex_in_json() {
        let d = Sha256::digest(b"abc");
        // FIPS 180-4 example: SHA-256("abc").
        assert_eq!(
            d.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let json = serde_json::to_string(&d).unwrap_or_default();
        assert_eq!(serde_json::from_str::<Sha256>(&json).ok(), Some(d));
        assert!(d.to_hex().to_uppercase().parse::<Sha256>().is_err());
        assert!("+f".parse::<Sha256>().is_err());
    }

    proptest::proptest! {
        #[test]
        fn recipient_ids_round_trip(n in 1u64..=999_999_999_999_999_999) {
            let id = RecipientId::from_number(n);
            proptest::prop_assert_eq!(id.as_str().parse::<RecipientId>().ok(), Some(id.clone()));
            proptest::prop_assert_eq!(id.number(), n);
        }
    }
}
