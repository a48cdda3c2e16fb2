//! Per-call options, shared by every operation.

use std::fmt;
use std::time::Duration;

use crate::RetryConfig;
use crate::secret::SecretString;

/// Settings for one call, overriding the client's.
///
/// Every operation has a `…_with_options` form that takes these:
///
/// ```no_run
/// # fn main() -> Result<(), clerk_management::Error> {
/// use std::time::Duration;
/// use clerk_management::{ManagementClient, RequestOptions, RetryConfig};
/// use clerk_management::upsert_user::UpsertUserRequest;
///
/// let client = ManagementClient::from_env()?;
/// let options = RequestOptions::new()
///     .timeout(Duration::from_secs(5))
///     .retry(RetryConfig::none())
///     .header("X-Request-Id", "build-42");
/// let request = UpsertUserRequest::new("ada@example.com", "Ada", "Lovelace");
/// let user = client.upsert_user_with_options(&request, &options)?;
/// # let _ = user;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct RequestOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: Option<RetryConfig>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) token: Option<SecretString>,
}

impl RequestOptions {
    /// Options that change nothing.
    pub fn new() -> Self {
        RequestOptions::default()
    }

    /// The timeout of each attempt of this call.
    ///
    /// Zero makes the call fail with [`Error::InvalidRequest`](crate::Error::InvalidRequest)
    /// (field `timeout`) before anything is sent.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The retry policy of this call.
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// An extra header; it replaces a default header of the same name (such as `User-Agent`).
    ///
    /// Names and values are checked when the call is made: CR, LF and other bytes not allowed
    /// in a header give [`Error::InvalidRequest`](crate::Error::InvalidRequest) naming the
    /// header, and so do `Authorization` (use [`management_token`](Self::management_token)),
    /// `Host`, `Content-Length`, `Transfer-Encoding`, `Connection` and `Accept-Encoding`, which
    /// the client owns.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A management token for this call instead of the client's.
    ///
    /// It is checked like the client's; a bad one gives [`Error::Config`](crate::Error::Config).
    pub fn management_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::new(token));
        self
    }
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may carry credentials of their own: only names are shown, and only
        // names that are valid ones (a whole `Authorization: Bearer …` line is not a name).
        let names: Vec<&str> = self
            .headers
            .iter()
            .map(|(name, _)| {
                let valid = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
                if valid {
                    name.as_str()
                } else {
                    "[invalid name]"
                }
            })
            .collect();
        f.debug_struct("RequestOptions")
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("headers", &names)
            .field("token", &self.token)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_valid_header_names_only_and_never_a_value_or_the_token() {
        let options = RequestOptions::new()
            .header("X-Request-Id", "secret-value-1")
            .header("Authorization: Bearer mt_hidden_token", "x")
            .management_token("mt_hidden_token");
        let text = format!("{options:?}");
        assert!(
            text.contains(r#"headers: ["X-Request-Id", "[invalid name]"]"#),
            "{text}"
        );
        assert!(text.contains("token: Some([redacted])"), "{text}");
        assert!(
            !text.contains("secret-value-1") && !text.contains("mt_hidden_token"),
            "{text}"
        );
    }
}
