//! Secrets that never show up in `Debug` or `Display`, and masking of body excerpts.

use std::fmt;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

const PLACEHOLDER: &str = "[redacted]";

/// A secret string, such as an instance's secret key.
///
/// `Debug` and `Display` print `[redacted]`; [`SecretString::expose_secret`] is the only way to
/// read the value, so a secret never reaches a log line by accident.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }

    /// The secret value itself.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PLACEHOLDER)
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PLACEHOLDER)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SecretString)
    }
}

/// The longest body excerpt kept in an error, in characters.
pub(crate) const EXCERPT_LIMIT: usize = 512;

/// The start of a body, lossily decoded, with the token and anything shaped like a Clerk secret
/// key replaced by the placeholder.
pub(crate) fn excerpt(body: &[u8], token: &str) -> String {
    // Masking runs on the whole body before the cut, so a secret that straddles the cut cannot
    // leave half of itself in the excerpt.
    let masked = mask(&String::from_utf8_lossy(body), token);
    match masked.char_indices().nth(EXCERPT_LIMIT) {
        Some((at, _)) => format!("{}…", &masked[..at]),
        None => masked,
    }
}

/// The shortest management token accepted; anything shorter could not be masked without
/// mangling ordinary text, and no real token is that short.
pub(crate) const MIN_TOKEN_LEN: usize = 8;

/// Replaces the token and every `sk_…` key in `text` by the placeholder.
pub(crate) fn mask(text: &str, token: &str) -> String {
    // Limitation: in raw text (a body excerpt), a secret written with JSON escapes, such as
    // `sk\u005ftest_…`, is not recognised; decoded strings (Clerk's error list) are masked
    // after the escapes are undone.
    let text = if token.len() >= MIN_TOKEN_LEN {
        text.replace(token, PLACEHOLDER)
    } else {
        text.to_owned()
    };

    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("sk_") {
        let starts_word = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !is_key_char(c));
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail.find(|c: char| !is_key_char(c)).unwrap_or(tail.len());
        // Clerk's own key prefixes are masked wherever they start: an escape (`\nsk_live_…`)
        // or a percent-encoding (`%3Dsk_live_…`) leaves a letter or digit right before them.
        let clerk_key = tail.starts_with("sk_live_") || tail.starts_with("sk_test_");
        if starts_word || clerk_key {
            out.push_str(PLACEHOLDER);
        } else {
            out.push_str(&tail[..end]);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// [`mask`], in place, allocating only when there is something to mask.
pub(crate) fn mask_in_place(text: &mut String, token: &str) {
    if text.contains("sk_") || (token.len() >= MIN_TOKEN_LEN && text.contains(token)) {
        *text = mask(text, token);
    }
}

/// Masks every string value in a JSON object, at any depth (keys are left as they are).
pub(crate) fn mask_map(map: &mut Map<String, Value>, token: &str) {
    map.values_mut().for_each(|v| mask_value(v, token));
}

fn mask_value(value: &mut Value, token: &str) {
    // Recursion is bounded: serde_json refuses input nested deeper than 128 levels.
    match value {
        Value::String(text) => mask_in_place(text, token),
        Value::Array(items) => items.iter_mut().for_each(|v| mask_value(v, token)),
        Value::Object(map) => mask_map(map, token),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_string_never_formats_its_value() {
        let key = SecretString::new("sk_test_abc123");
        assert_eq!(format!("{key:?} {key}"), "[redacted] [redacted]");
        assert_eq!(key.expose_secret(), "sk_test_abc123");
    }

    #[test]
    fn mask_hides_token_and_secret_keys() {
        let text = r#"{"secret_key":"sk_live_A1b2","t":"mytoken123","risk_sk_x":1}"#;
        assert_eq!(
            mask(text, "mytoken123"),
            r#"{"secret_key":"[redacted]","t":"[redacted]","risk_sk_x":1}"#
        );
    }

    #[test]
    fn clerk_keys_are_masked_after_escapes_and_percent_encoding() {
        let text = r"key:\nsk_live_AbC1 k%3Dsk_test_XyZ2 %22sk_live_Q";
        assert_eq!(
            mask(text, ""),
            r"key:\n[redacted] k%3D[redacted] %22[redacted]"
        );
    }

    #[test]
    fn excerpt_is_capped_and_lossy() {
        let mut body = vec![b'a'; EXCERPT_LIMIT + 10];
        body[0] = 0xff;
        let text = excerpt(&body, "");
        assert!(text.starts_with('\u{fffd}'));
        assert!(text.ends_with('…'));
        assert_eq!(text.chars().count(), EXCERPT_LIMIT + 1);
    }
}
