//! The one error type of the crate, and the details it carries.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

/// How a call went before it failed: attempts made and time spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CallInfo {
    /// Requests sent (or tried) for this call, the first one included.
    pub attempts: u32,
    /// Time from the start of the call until the error was returned.
    pub elapsed: Duration,
}

impl fmt::Display for CallInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.attempts == 1 { "" } else { "s" };
        write!(
            f,
            "{} attempt{plural} in {:.3?}",
            self.attempts, self.elapsed
        )
    }
}

/// Every way a call or a configuration step can fail.
///
/// Match on the variant for the broad class, or use the accessors ([`Error::status`],
/// [`Error::code`], [`Error::clerk_trace_id`], [`Error::attempts`], …) which work across
/// variants. No variant ever shows the management token or an instance secret key, in
/// `Display` or in `Debug`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Clerk answered with its error list (usually 400, 401, 403 or 422).
    #[error("{0}")]
    Api(Box<ApiError>),

    /// The server answered with a status or a body that is not what the operation expects.
    #[error("{0}")]
    UnexpectedResponse(Box<UnexpectedResponse>),

    /// The server answered with a redirect, which is never followed.
    #[error("{0}")]
    Redirect(Box<Redirect>),

    /// A success status whose body does not decode into the operation's response type.
    #[error("{0}")]
    Decode(Box<DecodeError>),

    /// The response body is larger than the configured limit; reading stopped at the limit.
    #[error("response body larger than the limit of {limit} bytes (status {status}, {call})")]
    #[non_exhaustive]
    ResponseTooLarge {
        /// The limit in bytes, set with
        /// [`response_body_limit`](crate::ManagementClientBuilder::response_body_limit).
        limit: u64,
        /// The HTTP status of the response.
        status: u16,
        /// The wait the server asked for with `Retry-After`.
        retry_after: Option<Duration>,
        /// Attempts made and time spent.
        call: CallInfo,
    },

    /// The connection could not be made or broke before a complete response arrived.
    #[error(transparent)]
    Transport(Box<TransportError>),

    /// An attempt ran out of time.
    #[error("{0}")]
    Timeout(Box<TimeoutError>),

    /// The client configuration is invalid (token, base URL, environment).
    #[error("invalid configuration: {message}")]
    #[non_exhaustive]
    Config {
        /// What is wrong, without echoing any secret.
        message: String,
    },

    /// The request cannot be sent as given; nothing was sent.
    #[error("invalid request: {field}: {message}")]
    #[non_exhaustive]
    InvalidRequest {
        /// The field or header at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

impl Error {
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }

    pub(crate) fn invalid_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidRequest {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The HTTP status of the response that caused the error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::UnexpectedResponse(e) => Some(e.status),
            Error::Redirect(e) => Some(e.status),
            Error::Decode(e) => Some(e.status),
            Error::ResponseTooLarge { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The `code` of Clerk's first error (for example `form_identifier_exists`).
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.code(),
            _ => None,
        }
    }

    /// Clerk's trace id for the failed request, for a support ticket.
    pub fn clerk_trace_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.clerk_trace_id.as_deref(),
            _ => None,
        }
    }

    /// The wait the server asked for with `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(e) => e.retry_after,
            Error::UnexpectedResponse(e) => e.retry_after,
            Error::ResponseTooLarge { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Attempts made and time spent; `None` for errors raised before anything was sent.
    pub fn call_info(&self) -> Option<CallInfo> {
        match self {
            Error::Api(e) => Some(e.call),
            Error::UnexpectedResponse(e) => Some(e.call),
            Error::Redirect(e) => Some(e.call),
            Error::Decode(e) => Some(e.call),
            Error::ResponseTooLarge { call, .. } => Some(*call),
            Error::Transport(e) => Some(e.call),
            Error::Timeout(e) => Some(e.call),
            Error::Config { .. } | Error::InvalidRequest { .. } => None,
        }
    }

    /// Requests sent (or tried) for the call; `0` when nothing was sent.
    pub fn attempts(&self) -> u32 {
        self.call_info().map_or(0, |c| c.attempts)
    }

    /// Whether the request may have been applied by Clerk although the call failed.
    ///
    /// True for transport failures and timeouts after the request was sent (the server may
    /// have acted before the connection broke), and for a success status whose body could not
    /// be read or decoded (the server did act). Check before sending a create again.
    pub fn may_have_been_applied(&self) -> bool {
        match self {
            Error::Transport(e) => e.may_have_been_applied(),
            Error::Timeout(e) => e.may_have_been_applied(),
            Error::Decode(_) => true,
            Error::ResponseTooLarge { status, .. } => (200..300).contains(status),
            _ => false,
        }
    }

    pub(crate) fn call_mut(&mut self) -> Option<&mut CallInfo> {
        match self {
            Error::Api(e) => Some(&mut e.call),
            Error::UnexpectedResponse(e) => Some(&mut e.call),
            Error::Redirect(e) => Some(&mut e.call),
            Error::Decode(e) => Some(&mut e.call),
            Error::ResponseTooLarge { call, .. } => Some(call),
            Error::Transport(e) => Some(&mut e.call),
            Error::Timeout(e) => Some(&mut e.call),
            Error::Config { .. } | Error::InvalidRequest { .. } => None,
        }
    }
}

/// Clerk's error list, as sent with a failed request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The errors Clerk listed, in order (usually one).
    pub errors: Vec<ClerkError>,
    /// The list's own `meta` object, if any.
    pub meta: Option<Map<String, Value>>,
    /// Clerk's trace id for the request, from the body.
    pub clerk_trace_id: Option<String>,
    /// The wait the server asked for with `Retry-After`.
    pub retry_after: Option<Duration>,
    /// Attempts made and time spent.
    pub call: CallInfo,
}

impl ApiError {
    /// The first error's `code`.
    pub fn code(&self) -> Option<&str> {
        self.errors.first().map(|e| e.code.as_str())
    }

    /// The first error's `message`.
    pub fn message(&self) -> Option<&str> {
        self.errors.first().map(|e| e.message.as_str())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "clerk api error (status {})", self.status)?;
        if let Some(first) = self.errors.first() {
            write!(f, ": {}: {}", first.code, first.message)?;
            // Messages such as "is invalid" only make sense with the parameter they are about.
            if let Some(param) = first.param_name() {
                write!(f, " (param {param})")?;
            }
        }
        if self.errors.len() > 1 {
            write!(f, " (and {} more)", self.errors.len() - 1)?;
        }
        if let Some(trace) = &self.clerk_trace_id {
            write!(f, " [trace {trace}]")?;
        }
        write!(f, " ({})", self.call)
    }
}

crate::de::response! {
    /// One entry of Clerk's error list.
    #[derive(Debug, Clone, PartialEq)]
    #[non_exhaustive]
    pub struct ClerkError {
        /// A stable, machine-readable code, such as `form_param_missing`.
        pub code: String [NullDefault],
        /// A short message for people.
        pub message: String [NullDefault],
        /// A longer message, when Clerk sends one.
        pub long_message: Option<String> [OrDefault],
        /// Details such as the offending `param_name`.
        pub meta: Option<Map<String, Value>> [Lenient],
        /// The trace id, when Clerk puts it on the entry.
        pub clerk_trace_id: Option<String> [OrDefault],
    }
}

impl ClerkError {
    /// The request parameter the error is about, from `meta.param_name`.
    pub fn param_name(&self) -> Option<&str> {
        self.meta.as_ref()?.get("param_name")?.as_str()
    }
}

/// A response that is neither a success the operation can decode nor Clerk's error list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnexpectedResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The start of the body, lossily decoded, secrets masked.
    pub body_excerpt: String,
    /// The wait the server asked for with `Retry-After`.
    pub retry_after: Option<Duration>,
    /// Attempts made and time spent.
    pub call: CallInfo,
}

impl fmt::Display for UnexpectedResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let content_type = self.content_type.as_deref().unwrap_or("no content type");
        write!(
            f,
            "unexpected response (status {}, {content_type}",
            self.status
        )?;
        if self.body_excerpt.is_empty() {
            write!(f, ", empty body")?;
        } else {
            write!(f, "): {:?} (", self.body_excerpt)?;
            return write!(f, "{})", self.call);
        }
        write!(f, ", {})", self.call)
    }
}

/// A redirect answer; the client never follows one, so the token never leaves the base URL's host.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Redirect {
    /// The 3xx status.
    pub status: u16,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// Attempts made and time spent.
    pub call: CallInfo,
}

impl fmt::Display for Redirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = self.location.as_deref().unwrap_or("no location");
        write!(
            f,
            "redirect not followed (status {}, to {location}, {})",
            self.status, self.call
        )
    }
}

/// A success status whose body does not decode.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DecodeError {
    /// The HTTP status.
    pub status: u16,
    /// The Rust type the body was decoded into, such as `User`.
    pub target: &'static str,
    /// serde's message, which names the failing field where it can.
    pub message: String,
    /// Line in the body where decoding failed (1-based; 0 when unknown).
    pub line: usize,
    /// Column in that line (1-based; 0 when unknown).
    pub column: usize,
    /// The start of the body, lossily decoded, secrets masked.
    pub body_excerpt: String,
    /// Attempts made and time spent.
    pub call: CallInfo,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot decode {} from the response (status {}): {} ({})",
            self.target, self.status, self.message, self.call
        )
    }
}

/// What kind of connection failure a [`TransportError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The host name did not resolve.
    Dns,
    /// Nothing accepted the connection.
    ConnectionRefused,
    /// The connection failed for another reason before the request was sent.
    Connect,
    /// The TLS handshake or a TLS record failed.
    Tls,
    /// The connection was reset or closed before the response was complete.
    ConnectionClosed,
    /// The server sent something that is not valid HTTP/1.1.
    Protocol,
    /// ureq refused to send the request: its own configuration (such as `https_only`) or
    /// the URL does not allow it. Nothing was sent, and a retry would fail the same way.
    NotSent,
    /// Any other I/O failure.
    Io,
}

impl TransportKind {
    /// Whether a failure of this kind happened before the request left the client.
    pub fn before_send(self) -> bool {
        matches!(
            self,
            Self::Dns | Self::ConnectionRefused | Self::Connect | Self::Tls | Self::NotSent
        )
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Dns => "host name did not resolve",
            Self::ConnectionRefused => "connection refused",
            Self::Connect => "connection failed",
            Self::Tls => "tls failure",
            Self::ConnectionClosed => "connection closed before the response was complete",
            Self::Protocol => "invalid http response",
            Self::NotSent => "the http agent refused to send the request",
            Self::Io => "i/o failure",
        }
    }
}

/// A connection failure, with ureq's error as its source.
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportError {
    /// What kind of failure it is.
    pub kind: TransportKind,
    /// Attempts made and time spent.
    pub call: CallInfo,
    pub(crate) source: ureq::Error,
}

impl TransportError {
    /// Whether the server may have received and applied the request.
    pub fn may_have_been_applied(&self) -> bool {
        !self.kind.before_send()
    }

    /// ureq's own error.
    pub fn ureq_error(&self) -> &ureq::Error {
        &self.source
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind.describe())?;
        if self.may_have_been_applied() {
            write!(f, "; the request may have been applied")?;
        }
        write!(f, " ({})", self.call)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The stage of an attempt at which a [`TimeoutError`] struck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Resolving the host or connecting (TLS included): nothing was sent.
    Connect,
    /// Sending the request or waiting for and reading the response.
    Response,
}

/// An attempt that ran out of time.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TimeoutError {
    /// Where the attempt was when time ran out.
    pub phase: TimeoutPhase,
    /// The timeout that applied to that stage.
    pub limit: Duration,
    /// Attempts made and time spent.
    pub call: CallInfo,
}

impl TimeoutError {
    /// Whether the server may have received and applied the request.
    pub fn may_have_been_applied(&self) -> bool {
        self.phase == TimeoutPhase::Response
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.phase {
            TimeoutPhase::Connect => write!(f, "timed out connecting after {:?}", self.limit)?,
            TimeoutPhase::Response => write!(
                f,
                "timed out after {:?}; the request may have been applied",
                self.limit
            )?,
        }
        write!(f, " ({})", self.call)
    }
}
