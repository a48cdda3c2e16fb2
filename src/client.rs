//! The client, its builder, and the one request path every operation goes through.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use ureq::Agent;
use ureq::http::{HeaderName, HeaderValue, Uri};

use crate::error::{
    ApiError, CallInfo, ClerkError, DecodeError, Redirect, TimeoutError, TimeoutPhase,
    TransportError, TransportKind, UnexpectedResponse,
};
use crate::retry::{self, SystemClock};
use crate::secret::{self, SecretString};
use crate::{Error, RequestOptions, RetryConfig};

/// The server used when no base URL is given.
pub const DEFAULT_BASE_URL: &str = "https://api.clerk.com/v1";

/// The Backend API version these endpoints belong to, sent as `Clerk-API-Version`.
pub const CLERK_API_VERSION: &str = "2025-04-10";

/// The default `User-Agent`: `clerk-management/<crate version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("clerk-management/", env!("CARGO_PKG_VERSION"));

/// The default timeout of one attempt, from connecting to the end of the response body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default timeout for resolving the host, and again for connecting, TLS handshake included.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default limit on a response body, after decompression: 2 MiB.
pub const DEFAULT_RESPONSE_BODY_LIMIT: u64 = 2 * 1024 * 1024;

/// The environment variable [`ManagementClient::from_env`] reads the token from.
pub const TOKEN_ENV: &str = "CLERK_MANAGEMENT_TOKEN";

/// The environment variable [`ManagementClient::from_env`] reads an optional base URL from.
pub const BASE_URL_ENV: &str = "CLERK_API_URL";

const SDK_HEADER: &str = concat!("clerk-management-rust/", env!("CARGO_PKG_VERSION"));

/// The longest timeout handed to ureq; longer ones are cut to it.
const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Headers the client sets itself and that per-call options may not touch.
const RESERVED_HEADERS: [&str; 6] = [
    "authorization",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "accept-encoding",
];

/// A blocking client for Clerk's management endpoints.
///
/// Cheap to clone (clones share one connection pool) and `Send + Sync`, so one client can serve
/// a whole program. Build one with [`ManagementClient::builder`] or
/// [`ManagementClient::from_env`].
///
/// ```no_run
/// # fn main() -> Result<(), clerk_management::Error> {
/// use clerk_management::ManagementClient;
///
/// let client = ManagementClient::builder()
///     .management_token("mt_example_token")
///     .build()?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ManagementClient {
    inner: Arc<Inner>,
}

struct Inner {
    agent: Agent,
    base_url: String,
    token: SecretString,
    user_agent: String,
    /// Every call's headers, built and checked once, `Authorization` first.
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryConfig,
    body_limit: u64,
}

impl fmt::Debug for ManagementClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("ManagementClient")
            .field("base_url", &inner.base_url)
            .field("token", &inner.token)
            .field("user_agent", &inner.user_agent)
            .field("timeout", &inner.timeout)
            .field("connect_timeout", &inner.connect_timeout)
            .field("retry", &inner.retry)
            .field("response_body_limit", &inner.body_limit)
            .finish_non_exhaustive()
    }
}

impl ManagementClient {
    /// A builder with the defaults: [`DEFAULT_BASE_URL`], [`DEFAULT_TIMEOUT`],
    /// [`DEFAULT_CONNECT_TIMEOUT`], [`RetryConfig::default`] and no token.
    pub fn builder() -> ManagementClientBuilder {
        ManagementClientBuilder::default()
    }

    /// A client configured from the environment: the token from `CLERK_MANAGEMENT_TOKEN`
    /// ([`TOKEN_ENV`]) and, when set and not empty, the base URL from `CLERK_API_URL`
    /// ([`BASE_URL_ENV`]).
    ///
    /// A missing or empty token is an [`Error::Config`] naming the variable.
    pub fn from_env() -> Result<ManagementClient, Error> {
        let token = match std::env::var(TOKEN_ENV) {
            Ok(token) if !token.trim().is_empty() => token,
            Ok(_) => {
                return Err(Error::config(format!(
                    "environment variable {TOKEN_ENV} is empty"
                )));
            }
            Err(std::env::VarError::NotPresent) => {
                return Err(Error::config(format!(
                    "environment variable {TOKEN_ENV} is not set"
                )));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Error::config(format!(
                    "environment variable {TOKEN_ENV} is not valid unicode"
                )));
            }
        };

        let mut builder = ManagementClient::builder().management_token(token);
        let mut url_from_env = false;
        match std::env::var(BASE_URL_ENV) {
            Ok(url) if !url.trim().is_empty() => {
                builder = builder.base_url(url.trim());
                url_from_env = true;
            }
            Ok(_) | Err(std::env::VarError::NotPresent) => {}
            Err(std::env::VarError::NotUnicode(_)) => {
                // Falling back to the default server here would send a call meant for a test
                // server to production.
                return Err(Error::config(format!(
                    "environment variable {BASE_URL_ENV} is not valid unicode"
                )));
            }
        }

        // Name the variable a bad value came from.
        builder.build().map_err(|error| match error {
            Error::Config { message } if message.starts_with("management token") => {
                Error::config(format!("environment variable {TOKEN_ENV}: {message}"))
            }
            Error::Config { message } if url_from_env && message.starts_with("base URL") => {
                Error::config(format!("environment variable {BASE_URL_ENV}: {message}"))
            }
            other => other,
        })
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Sends `request` through the one request path: serialize, send under the retry policy,
    /// read, classify, decode.
    ///
    /// Only serializing and decoding depend on the operation; everything between is
    /// [`round_trip`](Self::round_trip), compiled once for all operations.
    pub(crate) fn execute<O: Operation>(
        &self,
        request: &O,
        options: &RequestOptions,
    ) -> Result<O::Response, Error> {
        request.check()?;
        let body = serde_json::to_vec(request)
            .map_err(|e| Error::invalid_request("body", e.to_string()))?;

        let (success, call) = self.round_trip(O::PATH, O::IDEMPOTENT, &body, options)?;

        crate::de::from_slice(&success.response.body)
            .map_err(|error| success.decode_failure(&error, O::TARGET, call))
    }

    /// Everything between serializing and decoding: headers, the retry loop, one attempt's
    /// send and read, and the sorting of what came back.
    fn round_trip(
        &self,
        path: &str,
        idempotent: bool,
        body: &[u8],
        options: &RequestOptions,
    ) -> Result<(Success, CallInfo), Error> {
        if options.timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::invalid_request(
                "timeout",
                "must be longer than zero",
            ));
        }

        let token = match &options.token {
            Some(raw) => SecretString::new(normalize_token(raw.expose_secret())?),
            None => self.inner.token.clone(),
        };
        let headers = self.headers(&token, options)?;

        let url = format!("{}{path}", self.inner.base_url);
        let policy = options.retry.as_ref().unwrap_or(&self.inner.retry);
        let attempt = Attempt {
            url: &url,
            headers: &headers,
            body,
            timeout: options.timeout.unwrap_or(self.inner.timeout),
            token: token.expose_secret(),
        };

        let (response, call) =
            retry::run(policy, idempotent, &SystemClock, || self.send(&attempt))?;
        Ok((Success { response, token }, call))
    }

    /// The headers of one call: the client's, with the per-call token and extra headers.
    fn headers(
        &self,
        token: &SecretString,
        options: &RequestOptions,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
        let mut headers = self.inner.headers.clone();
        if options.token.is_some() {
            headers[0].1 = authorization(token)?;
        }

        let secret = token.expose_secret();
        for (name, value) in &options.headers {
            let header = HeaderName::try_from(name.as_str()).map_err(|_| {
                Error::invalid_request(header_field(name, secret), "invalid header name")
            })?;
            if RESERVED_HEADERS.contains(&header.as_str()) {
                let message = "set by the client and cannot be overridden";
                return Err(Error::invalid_request(header_field(name, secret), message));
            }
            let value = HeaderValue::try_from(value.as_str()).map_err(|_| {
                let message = "value contains a character not allowed in a header (CR, LF, …)";
                Error::invalid_request(header_field(name, secret), message)
            })?;
            headers.retain(|(existing, _)| *existing != header);
            headers.push((header, value));
        }
        Ok(headers)
    }

    /// One attempt: one request, one response, classified; a success is returned undecoded.
    fn send(&self, attempt: &Attempt<'_>) -> Result<ReadResponse, Error> {
        let inner = &self.inner;
        let mut request = inner.agent.post(attempt.url);
        for (name, value) in attempt.headers {
            request = request.header(name, value);
        }

        // Set per request, so that an agent brought by the caller behaves the same. ureq adds
        // each timeout to an `Instant`, which panics past the clock's range: a century is
        // forever enough.
        let global = attempt.timeout.min(CENTURY);
        // ureq names whichever deadline passes first. Were the connect deadline not ahead of
        // the attempt's (global) one, a connect that never completes would be named by the
        // global one and taken for a response timeout (sent, maybe applied): the connect
        // phase ends at nine tenths of the attempt at the latest. Resolving gets the same
        // limit of its own, or a stuck lookup would be named by the global deadline too.
        //
        // Limitation: with any timeout set (the global one is enough), ureq 3.5's resolver
        // looks the host up on a new thread for every request, even for an IP literal and
        // before it picks a pooled connection: about 70 µs a call on loopback (BENCHMARKS.md).
        // Avoiding it takes a resolver of our own, which ureq accepts only through
        // `Agent::with_parts` and its `unversioned` traits, outside semver; dropping the
        // timeouts would let a call hang.
        let connect_timeout = inner
            .connect_timeout
            .min(global.saturating_sub(global / 10));
        let request = request
            .config()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(global))
            .timeout_resolve(Some(connect_timeout))
            .timeout_connect(Some(connect_timeout))
            .build();

        // Limitation: ureq probes a pooled connection before reusing it, so an idle close by
        // the server is seen; one that lands between the probe and the write still fails as
        // ConnectionClosed. An upsert is then retried; a create returns the error flagged
        // "may have been applied", though the server never read the request.
        let mut response = request
            .send(attempt.body)
            .map_err(|e| transport_error(e, attempt.timeout, connect_timeout))?;

        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type");
        let location = header("location");
        let retry_after =
            header("retry-after").and_then(|v| retry::parse_retry_after(&v, SystemTime::now()));

        let body = match response
            .body_mut()
            .with_config()
            .limit(inner.body_limit)
            .read_to_vec()
        {
            Ok(body) => body,
            Err(ureq::Error::BodyExceedsLimit(_)) => {
                return Err(Error::ResponseTooLarge {
                    limit: inner.body_limit,
                    status,
                    retry_after,
                    call: CallInfo::default(),
                });
            }
            Err(e) => return Err(transport_error(e, attempt.timeout, connect_timeout)),
        };

        let response = ReadResponse {
            status,
            content_type,
            location,
            retry_after,
            body,
        };
        response.classify(attempt)
    }
}

/// What one attempt sends.
struct Attempt<'a> {
    url: &'a str,
    headers: &'a [(HeaderName, HeaderValue)],
    body: &'a [u8],
    timeout: Duration,
    token: &'a str,
}

/// A response read in full, before classification.
struct ReadResponse {
    status: u16,
    content_type: Option<String>,
    location: Option<String>,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

/// A success response waiting to be decoded, with the token its errors must mask.
struct Success {
    response: ReadResponse,
    token: SecretString,
}

impl Success {
    /// The error for a success body that does not decode into `target`: Clerk's error list
    /// if that is what the body is (some proxies answer 200 with it), else a decode error.
    fn decode_failure(
        &self,
        error: &serde_json::Error,
        target: &'static str,
        call: CallInfo,
    ) -> Error {
        let token = self.token.expose_secret();
        let mut failure = self.response.api_error(token).unwrap_or_else(|| {
            Error::Decode(Box::new(DecodeError {
                status: self.response.status,
                target,
                message: secret::mask(&error.to_string(), token),
                line: error.line(),
                column: error.column(),
                body_excerpt: secret::excerpt(&self.response.body, token),
                call,
            }))
        });
        if let Some(slot) = failure.call_mut() {
            *slot = call;
        }
        failure
    }
}

crate::de::response! {
    /// Clerk's error list as it arrives; every part is optional in practice.
    #[cfg_attr(test, derive(Debug))]
    pub(crate) struct ClerkErrors {
        errors: Vec<ClerkError> [Required],
        meta: Option<serde_json::Map<String, serde_json::Value>> [Lenient],
        clerk_trace_id: Option<String> [Lenient],
    }
}

impl ReadResponse {
    /// Sorts the response: a success with a body that may be JSON comes back for decoding,
    /// anything else becomes the error it is.
    fn classify(self, attempt: &Attempt<'_>) -> Result<ReadResponse, Error> {
        if (300..400).contains(&self.status) {
            return Err(Error::Redirect(Box::new(Redirect {
                status: self.status,
                location: self.location.map(|l| secret::mask(&l, attempt.token)),
                call: CallInfo::default(),
            })));
        }

        // A success is decoded once; the error list is looked for only if that fails.
        if (200..300).contains(&self.status) && self.is_json_or_untyped() {
            return Ok(self);
        }

        if let Some(api) = self.api_error(attempt.token) {
            return Err(api);
        }
        Err(Error::UnexpectedResponse(Box::new(UnexpectedResponse {
            status: self.status,
            body_excerpt: secret::excerpt(&self.body, attempt.token),
            content_type: self.content_type.map(|t| secret::mask(&t, attempt.token)),
            retry_after: self.retry_after,
            call: CallInfo::default(),
        })))
    }

    /// Whether the body may be JSON: a JSON media type, or none at all.
    fn is_json_or_untyped(&self) -> bool {
        let Some(content_type) = &self.content_type else {
            return true;
        };
        let essence = content_type.split(';').next().unwrap_or("").trim();
        let essence = essence.to_ascii_lowercase();
        essence == "application/json" || essence.ends_with("+json")
    }

    /// The body as Clerk's error list, when it is one with at least one error.
    ///
    /// Every string in it is masked: a message may quote the request, token included.
    fn api_error(&self, token: &str) -> Option<Error> {
        let mut list: ClerkErrors = crate::de::from_slice(&self.body).ok()?;
        if list.errors.is_empty() && (200..300).contains(&self.status) {
            return None;
        }
        // Masking the decoded strings also catches a secret written with JSON escapes.
        for error in &mut list.errors {
            let texts = [&mut error.code, &mut error.message];
            let optional = [&mut error.long_message, &mut error.clerk_trace_id];
            for text in texts.into_iter().chain(optional.into_iter().flatten()) {
                secret::mask_in_place(text, token);
            }
            error
                .meta
                .iter_mut()
                .for_each(|m| secret::mask_map(m, token));
        }
        list.meta
            .iter_mut()
            .for_each(|m| secret::mask_map(m, token));
        list.clerk_trace_id
            .iter_mut()
            .for_each(|t| secret::mask_in_place(t, token));

        let clerk_trace_id = list
            .clerk_trace_id
            .or_else(|| list.errors.iter().find_map(|e| e.clerk_trace_id.clone()));
        Some(Error::Api(Box::new(ApiError {
            status: self.status,
            errors: list.errors,
            meta: list.meta,
            clerk_trace_id,
            retry_after: self.retry_after,
            call: CallInfo::default(),
        })))
    }
}

/// `Authorization: Bearer <token>`, marked sensitive so that no `Debug` of ureq's shows it.
fn authorization(token: &SecretString) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
        .map_err(|_| Error::config("management token is not a valid header value"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// The headers every call sends, `Authorization` first.
fn default_headers(
    token: &SecretString,
    user_agent: &str,
) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
    let user_agent = HeaderValue::try_from(user_agent)
        .map_err(|_| Error::config("user agent is not a valid header value"))?;
    Ok(vec![
        (ureq::http::header::AUTHORIZATION, authorization(token)?),
        (
            HeaderName::from_static("content-type"),
            HeaderValue::from_static("application/json"),
        ),
        (
            HeaderName::from_static("accept"),
            HeaderValue::from_static("application/json"),
        ),
        (HeaderName::from_static("user-agent"), user_agent),
        (
            HeaderName::from_static("clerk-api-version"),
            HeaderValue::from_static(CLERK_API_VERSION),
        ),
        (
            HeaderName::from_static("x-clerk-sdk"),
            HeaderValue::from_static(SDK_HEADER),
        ),
    ])
}

/// The header named in an error; masked, in case a whole `Authorization: …` line was passed
/// as a name.
fn header_field(name: &str, token: &str) -> String {
    format!("header {:?}", secret::mask(name, token))
}

/// Sorts ureq's error into a timeout or a transport failure, with what we know of whether the
/// request left the client.
fn transport_error(error: ureq::Error, timeout: Duration, connect_timeout: Duration) -> Error {
    use std::io::ErrorKind as Io;
    use ureq::Timeout;

    let kind = match &error {
        // Limitation: ureq names the global timeout whenever it is the first deadline, in
        // any phase. The connect deadline runs from the end of the lookup, so when the lookup
        // took longer than the attempt timeout minus the connect timeout, a connection that
        // then never completes is reported as a response timeout: flagged "may have been
        // applied" and, for the creates, not retried.
        ureq::Error::Timeout(which) => {
            let (phase, limit) = match which {
                Timeout::Resolve | Timeout::Connect => (TimeoutPhase::Connect, connect_timeout),
                _ => (TimeoutPhase::Response, timeout),
            };
            return Error::Timeout(Box::new(TimeoutError {
                phase,
                limit,
                call: CallInfo::default(),
            }));
        }
        ureq::Error::Io(io) if io.kind() == Io::TimedOut => {
            return Error::Timeout(Box::new(TimeoutError {
                phase: TimeoutPhase::Response,
                limit: timeout,
                call: CallInfo::default(),
            }));
        }
        ureq::Error::HostNotFound => TransportKind::Dns,
        ureq::Error::ConnectionFailed | ureq::Error::ConnectProxyFailed(_) => {
            TransportKind::Connect
        }
        // std reports a failed lookup (getaddrinfo) with no kind of its own, only this text.
        ureq::Error::Io(io) if io.to_string().starts_with("failed to lookup address") => {
            TransportKind::Dns
        }
        ureq::Error::Io(io) => match io.kind() {
            Io::ConnectionRefused => TransportKind::ConnectionRefused,
            // Not host or network unreachable: Linux also reports those on an established
            // connection whose retransmissions ran out, after the request went out.
            Io::AddrNotAvailable | Io::NotConnected => TransportKind::Connect,
            // Limitation: ureq does not say whether the rustls handshake was over, so a server
            // that hangs up during it counts as closed after sending (may have been applied),
            // though nothing was sent. native-tls reports it as a TLS failure.
            Io::ConnectionReset | Io::ConnectionAborted | Io::UnexpectedEof | Io::BrokenPipe => {
                TransportKind::ConnectionClosed
            }
            // rustls hands its failures (bad record, unknown issuer, wrong name) to ureq as
            // I/O errors of this kind; nothing else below ureq's HTTP parser produces it.
            Io::InvalidData => TransportKind::Tls,
            _ => TransportKind::Io,
        },
        // Limitation: a TLS failure is taken to be a handshake failure (before sending); an
        // alert after the request was written would be retried as if nothing had been sent.
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => TransportKind::Tls,
        #[cfg(feature = "native-tls")]
        ureq::Error::NativeTls(_) => TransportKind::Tls,
        ureq::Error::Protocol(_) | ureq::Error::LargeResponseHeader(..) => TransportKind::Protocol,
        ureq::Error::Decompress(..) => TransportKind::Protocol,
        ureq::Error::BodyStalled => TransportKind::ConnectionClosed,
        // Checks ureq makes before it opens a connection.
        ureq::Error::RequireHttpsOnly(_)
        | ureq::Error::BadUri(_)
        | ureq::Error::Http(_)
        | ureq::Error::InvalidProxyUrl
        | ureq::Error::TlsRequired => TransportKind::NotSent,
        _ => TransportKind::Io,
    };
    Error::Transport(Box::new(TransportError {
        kind,
        call: CallInfo::default(),
        source: error,
    }))
}

/// One management operation: its request body type names its path and response type.
pub(crate) trait Operation: Serialize {
    /// What a success decodes into.
    type Response: crate::de::Record;
    /// The path below the base URL, starting with `/`.
    const PATH: &'static str;
    /// The response type's name, for decode errors.
    const TARGET: &'static str;
    /// Whether sending the request twice has the effect of sending it once, so that a request
    /// that may have reached the server can be sent again.
    const IDEMPOTENT: bool;

    /// Checks what the type system cannot, before anything is sent.
    fn check(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// Configures and builds a [`ManagementClient`].
///
/// ```
/// # fn main() -> Result<(), clerk_management::Error> {
/// use std::time::Duration;
/// use clerk_management::{ManagementClient, RetryConfig};
///
/// let client = ManagementClient::builder()
///     .management_token("mt_example")
///     .base_url("https://api.clerk.com/v1")
///     .timeout(Duration::from_secs(10))
///     .retry(RetryConfig::default().max_attempts(3))
///     .build()?;
/// assert_eq!(client.base_url(), "https://api.clerk.com/v1");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ManagementClientBuilder {
    token: Option<SecretString>,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryConfig,
    user_agent: String,
    agent: Option<Agent>,
    allow_plain_http: bool,
    body_limit: u64,
}

impl Default for ManagementClientBuilder {
    fn default() -> Self {
        ManagementClientBuilder {
            token: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryConfig::default(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            agent: None,
            allow_plain_http: false,
            body_limit: DEFAULT_RESPONSE_BODY_LIMIT,
        }
    }
}

impl fmt::Debug for ManagementClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagementClientBuilder")
            .field("token", &self.token)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("custom_agent", &self.agent.is_some())
            .field("allow_plain_http", &self.allow_plain_http)
            .field("response_body_limit", &self.body_limit)
            .finish()
    }
}

impl ManagementClientBuilder {
    /// The management token, sent as `Authorization: Bearer <token>` (required).
    ///
    /// Surrounding whitespace and a leading `Bearer ` (any case) are removed. An empty token, or
    /// one with whitespace, control or non-ASCII characters inside, makes
    /// [`build`](Self::build) fail.
    pub fn management_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::new(token));
        self
    }

    /// The server, default [`DEFAULT_BASE_URL`].
    ///
    /// A path prefix is kept (`http://host/v1` sends to `/v1/management/users`) and trailing
    /// slashes are dropped. [`build`](Self::build) fails for a URL without `https://` or
    /// `http://`, with a query, a fragment or credentials, or that does not parse; plain
    /// `http://` is accepted only for a loopback host, unless
    /// [`allow_plain_http`](Self::allow_plain_http) is set.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Accepts a plain `http://` base URL for a host that is not loopback.
    ///
    /// The token then crosses the network unencrypted: only for a trusted network.
    pub fn allow_plain_http(mut self) -> Self {
        self.allow_plain_http = true;
        self
    }

    /// The timeout of one attempt, from connecting to the end of the response body (default
    /// [`DEFAULT_TIMEOUT`]). Zero makes [`build`](Self::build) fail.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The timeout for resolving the host, and again for connecting, TLS included (default
    /// [`DEFAULT_CONNECT_TIMEOUT`]); never longer than nine tenths of the attempt's
    /// [`timeout`](Self::timeout), so that a connect timeout is told from a response timeout.
    /// Zero makes [`build`](Self::build) fail.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The retry policy of every call (default [`RetryConfig::default`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The `User-Agent` header (default [`DEFAULT_USER_AGENT`]).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The ureq agent to send with, for a proxy, TLS settings or a shared pool.
    ///
    /// Whatever the agent's own configuration, the client reads error statuses as responses,
    /// never follows redirects, and applies its own timeouts, per request.
    ///
    /// Without one, the client's own agent takes its proxy from the environment, once, in
    /// [`build`](Self::build), as ureq's default configuration does: the first of
    /// `ALL_PROXY`, `all_proxy`, `HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY` and `http_proxy`
    /// that holds a valid proxy URL, whatever the scheme of the base URL (`HTTP_PROXY` serves
    /// `https://` too). `NO_PROXY` (or else `no_proxy`) lists, comma-separated, the hosts
    /// reached directly: exact names or addresses, `.example.com` or `*.example.com` for the
    /// names below it, `*` for all; ports and address ranges are not understood, and
    /// `localhost` is proxied like any host unless listed. An `http://` or `https://` proxy
    /// is asked to `CONNECT` to the host, with the credentials in its URL; `socks5://` and the
    /// like need ureq's `socks-proxy` feature. An agent of your own sets its proxy, or none,
    /// whatever the environment:
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use clerk_management::ManagementClient;
    ///
    /// let agent = ureq::Agent::config_builder()
    ///     .proxy(Some(ureq::Proxy::new("http://proxy.internal:3128")?))
    ///     .build()
    ///     .new_agent();
    /// let client = ManagementClient::builder()
    ///     .management_token("mt_example")
    ///     .agent(agent)
    ///     .build()?;
    /// # let _ = client;
    /// # Ok(())
    /// # }
    /// ```
    pub fn agent(mut self, agent: Agent) -> Self {
        self.agent = Some(agent);
        self
    }

    /// The largest response body read, after decompression (default
    /// [`DEFAULT_RESPONSE_BODY_LIMIT`]); a larger one is [`Error::ResponseTooLarge`].
    pub fn response_body_limit(mut self, bytes: u64) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<ManagementClient, Error> {
        let token = match &self.token {
            Some(raw) => normalize_token(raw.expose_secret())?,
            None => {
                return Err(Error::config(format!(
                    "no management token: set one with management_token() or {TOKEN_ENV}"
                )));
            }
        };
        // The message quotes the URL, which may hold the token if the two were swapped.
        let base_url =
            parse_base_url(&self.base_url, self.allow_plain_http).map_err(|e| match e {
                Error::Config { message } => Error::config(secret::mask(&message, &token)),
                other => other,
            })?;
        let token = SecretString::new(token);
        let headers = default_headers(&token, &self.user_agent)?;
        // ureq takes a zero timeout as already expired: every call would fail, unsent, as a
        // response timeout.
        if self.timeout.is_zero() {
            return Err(Error::config("timeout must be longer than zero"));
        }
        if self.connect_timeout.is_zero() {
            return Err(Error::config("connect timeout must be longer than zero"));
        }

        let agent = self.agent.unwrap_or_else(default_agent);

        Ok(ManagementClient {
            inner: Arc::new(Inner {
                agent,
                base_url,
                token,
                user_agent: self.user_agent,
                headers,
                timeout: self.timeout,
                connect_timeout: self.connect_timeout,
                retry: self.retry,
                body_limit: self.body_limit,
            }),
        })
    }
}

/// The agent used when the caller brings none: rustls with Mozilla's roots, or, with the
/// `native-tls` feature, the platform's TLS library and its roots. Certificates are always
/// verified. Proxies come from the environment, as ureq's default configuration reads them.
fn default_agent() -> Agent {
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0);
    // ureq never picks native-tls by itself, even when compiled in.
    #[cfg(feature = "native-tls")]
    let config = config.tls_config(
        ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build(),
    );
    config.build().new_agent()
}

/// Strips whitespace and a `Bearer ` prefix, and checks that what is left fits in a header.
fn normalize_token(raw: &str) -> Result<String, Error> {
    let mut token = raw.trim();
    if token.eq_ignore_ascii_case("bearer") {
        token = "";
    } else if token
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
    {
        token = token[7..].trim_start();
    }

    if token.is_empty() {
        return Err(Error::config("management token is empty"));
    }
    if let Some(at) = token.chars().position(|c| !c.is_ascii_graphic()) {
        return Err(Error::config(format!(
            "management token has a character not allowed in a header at position {} \
             (whitespace, a control character or non-ASCII)",
            at + 1
        )));
    }
    let length = token.chars().count();
    if length < secret::MIN_TOKEN_LEN {
        return Err(Error::config(format!(
            "management token is too short ({length} characters, at least {} expected)",
            secret::MIN_TOKEN_LEN
        )));
    }
    Ok(token.to_owned())
}

/// Checks a base URL and returns it without trailing slashes.
fn parse_base_url(input: &str, allow_plain_http: bool) -> Result<String, Error> {
    let shown = without_userinfo(input);
    let bad = |why: &str| Error::config(format!("base URL {shown:?} {why}"));

    if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains whitespace or a control character"));
    }
    if input.contains('?') {
        return Err(bad("must not have a query"));
    }
    if input.contains('#') {
        return Err(bad("must not have a fragment"));
    }

    let Some((scheme, rest)) = input.split_once("://") else {
        return Err(bad("has no scheme: it must start with https://"));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(bad("has a scheme other than https or http"));
    }

    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.contains('@') {
        return Err(bad("must not contain credentials"));
    }
    let host = parse_authority(authority).ok_or_else(|| bad("has no valid host and port"))?;
    if scheme == "http" && !allow_plain_http && !is_loopback(host) {
        return Err(bad(
            "uses plain http for a host that is not loopback; use https, or allow_plain_http()",
        ));
    }

    let base = format!("{scheme}://{authority}{}", path.trim_end_matches('/'));
    Uri::try_from(format!("{base}/management/users")).map_err(|_| bad("does not parse"))?;
    Ok(base)
}

/// The URL with any `user:password@` replaced, so that an error can quote it.
fn without_userinfo(input: &str) -> String {
    let start = input.find("://").map_or(0, |at| at + 3);
    let end = input[start..]
        .find('/')
        .map_or(input.len(), |at| start + at);
    match input[start..end].rfind('@') {
        Some(at) => format!("{}[redacted]{}", &input[..start], &input[start + at..]),
        None => input.to_owned(),
    }
}

/// The host of `host[:port]` or `[v6][:port]`, when both parts are well formed.
fn parse_authority(authority: &str) -> Option<&str> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        v6.parse::<Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (v6, port)
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let label_ok =
            |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !host.split('.').all(label_ok) {
            return None;
        }
        (host, port)
    };

    if let Some(port) = port {
        if !port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        port.parse::<u16>().ok().filter(|p| *p != 0)?;
    }
    Some(host)
}

fn is_loopback(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    // Not `*.localhost`: without a resolver that knows the name, glibc asks ordinary DNS for
    // it, and the token would leave the machine in clear text.
    host == "localhost"
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        || host.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalized() {
        let cases = [
            ("https://api.clerk.com/v1", "https://api.clerk.com/v1"),
            ("https://api.clerk.com/v1/", "https://api.clerk.com/v1"),
            ("https://api.clerk.com//", "https://api.clerk.com"),
            ("HTTPS://api.clerk.com", "https://api.clerk.com"),
            ("http://127.0.0.1:8080/a/b/", "http://127.0.0.1:8080/a/b"),
            ("http://localhost", "http://localhost"),
            ("http://[::1]:9000/v1", "http://[::1]:9000/v1"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_base_url(input, false).unwrap(), expected, "{input}");
        }
        assert_eq!(
            parse_base_url("http://intranet:80/v1", true).unwrap(),
            "http://intranet:80/v1"
        );
    }

    #[test]
    fn bad_base_urls_are_refused_with_the_reason() {
        let cases = [
            ("api.clerk.com/v1", "has no scheme"),
            ("ftp://api.clerk.com", "scheme other than https"),
            ("https://api.clerk.com/v1?x=1", "must not have a query"),
            ("https://api.clerk.com/v1#top", "must not have a fragment"),
            (
                "https://user:pw@api.clerk.com",
                "must not contain credentials",
            ),
            ("https://", "no valid host"),
            ("https://api.clerk.com:99999", "no valid host"),
            ("https://api.clerk.com:", "no valid host"),
            ("https://api..clerk.com", "no valid host"),
            ("https://[::1", "no valid host"),
            ("https://[::1]x", "no valid host"),
            ("https://api clerk.com", "whitespace"),
            ("http://api.clerk.com/v1", "plain http"),
            ("http://10.0.0.1", "plain http"),
        ];
        for (input, reason) in cases {
            let message = parse_base_url(input, false).unwrap_err().to_string();
            assert!(message.contains(reason), "{input}: {message}");
        }
    }

    #[test]
    fn tokens_are_normalized_without_echoing_them() {
        assert_eq!(normalize_token("  mt_abcdef \n").unwrap(), "mt_abcdef");
        assert_eq!(normalize_token("Bearer mt_abcdef").unwrap(), "mt_abcdef");
        assert_eq!(normalize_token("bEaReR   mt_abcdef").unwrap(), "mt_abcdef");

        for (raw, reason) in [
            ("", "empty"),
            ("   ", "empty"),
            ("Bearer ", "empty"),
            ("mt_a\r\nX: y", "position 5"),
            ("mt_ab c", "position 6"),
            ("mt_é", "position 4"),
            ("béarer x", "position 2"),
            ("mt_abc", "too short (6 characters, at least 8 expected)"),
        ] {
            let message = normalize_token(raw).unwrap_err().to_string();
            assert!(message.contains(reason), "{raw:?}: {message}");
            if raw.len() > 3 {
                assert!(!message.contains(raw.trim()), "{message}");
            }
        }
    }

    fn kind_of(error: ureq::Error) -> (TransportKind, bool) {
        match transport_error(error, Duration::from_secs(2), Duration::from_secs(1)) {
            Error::Transport(e) => (e.kind, e.may_have_been_applied()),
            other => panic!("expected Transport, got {other:?}"),
        }
    }

    #[test]
    fn failed_lookups_are_dns_failures_before_sending() {
        // The text std gives a getaddrinfo failure, with no ErrorKind of its own.
        let lookup = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        assert_eq!(
            kind_of(ureq::Error::Io(lookup)),
            (TransportKind::Dns, false)
        );
        assert_eq!(
            kind_of(ureq::Error::HostNotFound),
            (TransportKind::Dns, false)
        );
        let other = std::io::Error::other("something else");
        assert_eq!(kind_of(ureq::Error::Io(other)), (TransportKind::Io, true));
    }

    #[test]
    fn ureq_timeouts_are_sorted_by_phase() {
        use ureq::Timeout;
        let cases = [
            (Timeout::Resolve, TimeoutPhase::Connect, 1),
            (Timeout::Connect, TimeoutPhase::Connect, 1),
            (Timeout::Global, TimeoutPhase::Response, 2),
            (Timeout::SendRequest, TimeoutPhase::Response, 2),
            (Timeout::RecvResponse, TimeoutPhase::Response, 2),
            (Timeout::RecvBody, TimeoutPhase::Response, 2),
        ];
        for (which, phase, secs) in cases {
            let error = transport_error(
                ureq::Error::Timeout(which),
                Duration::from_secs(2),
                Duration::from_secs(1),
            );
            let Error::Timeout(timeout) = error else {
                panic!("expected Timeout, got {error:?}")
            };
            assert_eq!(timeout.phase, phase, "{which:?}");
            assert_eq!(timeout.limit, Duration::from_secs(secs), "{which:?}");
        }
    }
}
