//! A local stand-in of the management API, for tests and demos without a Clerk account.
//!
//! [`StandIn::start`] serves the three management endpoints on `127.0.0.1` (a free port) from
//! threads of its own, in memory, until it is dropped. It behaves like the API where a client
//! can tell the difference:
//!
//! - it checks the bearer token, answering 401 with Clerk's error list otherwise;
//! - it validates each body against the operation's specification: a missing required field,
//!   an unknown field, a value of the wrong type, `null` for any field, a `created_at` that is
//!   not an RFC 3339 date-time with a zone, an unknown environment type or a non-string
//!   `subscription_metadata` value is a 422 listing every problem (`form_param_missing`,
//!   `form_param_unknown`, `form_param_type_invalid`, `form_param_nil`,
//!   `form_param_format_invalid`, `form_param_value_invalid`, each with
//!   `meta.param_name`), with a `clerk_trace_id`; a body that is not a JSON object is a 400;
//! - it upserts users by email address (ASCII case ignored): the same address gives the same
//!   user id, with the names of the latest request;
//! - it refuses a second organization with a slug already taken (422
//!   `form_identifier_exists`, `param_name` `slug`);
//! - it creates applications with one instance per requested environment type (development
//!   when none is given), each with a fresh secret and publishable key (`sk_test_`/`pk_test_`
//!   for development, `sk_live_`/`pk_live_` for staging and production);
//! - it answers with complete bodies: every field of the specification's `User`,
//!   `Organization` and `ManagementApplicationResponse`, ids like `user_…`, `org_…`, `app_…`,
//!   `ins_…`, timestamps in Unix milliseconds.
//!
//! It records every request so tests can assert on exactly what was sent, and it can be told
//! to misbehave: [`StandIn::push_fault`] queues a [`Fault`] that answers one request in place
//! of the normal behaviour, [`StandIn::fail_always`] one that answers every request.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use clerk_management::testing::StandIn;
//! use clerk_management::upsert_user::UpsertUserRequest;
//!
//! let stand_in = StandIn::start()?;
//! let client = stand_in.client()?;
//! let user = client.upsert_user(&UpsertUserRequest::new("ada@example.com", "Ada", "L"))?;
//! assert!(user.id.starts_with("user_"));
//! assert_eq!(stand_in.requests()[0].path, "/management/users");
//! # Ok(())
//! # }
//! ```
//!
//! The error codes are those of Clerk's published error catalogue; the messages are the
//! stand-in's own words. Not modelled: whether `created_by`, `owner_id`, `plan_id` or
//! `addon_ids` name something that exists, length limits, rate limits (use a
//! [`Fault::Status`] 429), and anything persisted beyond the stand-in's lifetime.
//!
//! The HTTP/1.1 server is a small one of its own, so that faults can break a connection
//! exactly where they say. It keeps connections alive, reads `Content-Length` and chunked
//! bodies (up to 4 MiB), and never listens on anything but `127.0.0.1`.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::{self, Write as _};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

use crate::{Error, ManagementClient, ManagementClientBuilder, RetryConfig};

/// The token a [`StandIn`] accepts unless told otherwise.
pub const STAND_IN_TOKEN: &str = "mt_stand_in_token";

/// A request as the stand-in received it.
///
/// Its `Debug` output shows the body as text and hides the value of `Authorization`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method, such as `POST`.
    pub method: String,
    /// The path with its query, such as `/management/users`.
    pub path: String,
    /// The headers in the order received, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body, byte for byte (chunked bodies decoded).
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, `Value::Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text, invalid UTF-8 replaced by `�`.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A recorded request may end up in a test log: the token must not.
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| match name.as_str() {
                "authorization" => (name.as_str(), "[redacted]"),
                _ => (name.as_str(), value.as_str()),
            })
            .collect();
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &headers)
            .field("body", &self.body_text())
            .finish()
    }
}

/// A fault to answer a request with, in place of the normal behaviour.
///
/// The request is recorded in every case, and a fault never changes the stand-in's data
/// except [`Fault::Delay`], which answers normally in the end.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Any status, headers and body, exactly as given.
    ///
    /// A `Content-Length` is added unless the headers frame the body themselves (with
    /// `Content-Length` or `Transfer-Encoding`); the connection is then closed after the
    /// answer, since its framing may be wrong on purpose. Header lines with CR or LF are left
    /// out.
    Respond {
        /// The status code.
        status: u16,
        /// Headers to send, such as `("Content-Type", "application/json")`.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// A status with a Clerk error body (code `stand_in_fault`) and an optional
    /// `Retry-After` value.
    Status {
        /// The status code.
        status: u16,
        /// The `Retry-After` header, verbatim (seconds or an HTTP-date).
        retry_after: Option<String>,
    },
    /// Wait this long, then answer normally (the request takes effect after the wait, even
    /// when the client has stopped waiting).
    Delay(Duration),
    /// Send the status line and headers of a 200 that promises a JSON body, then close the
    /// connection without sending the body. The client sees the connection end in the middle
    /// of a response: the request may have been applied.
    DropConnection,
    /// Read the whole request, then close the connection without answering anything.
    CloseWithoutResponse,
    /// A 502 with an HTML page, as a proxy in front of the API would send.
    Html502,
}

impl Fault {
    /// A [`Fault::Respond`] with a JSON body.
    pub fn json(status: u16, body: &Value) -> Fault {
        Fault::Respond {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }
}

/// The largest request body read; a larger one is answered 413.
const BODY_LIMIT: u64 = 4 * 1024 * 1024;
/// The largest request line plus headers; larger is answered 431.
const HEAD_LIMIT: usize = 64 * 1024;
/// How long an idle connection is kept; ureq drops idle connections well before that.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Default)]
struct State {
    requests: Vec<RecordedRequest>,
    faults: VecDeque<Fault>,
    always: Option<Fault>,
    /// Users by lowercased email address.
    users: HashMap<String, Value>,
    slugs: HashSet<String>,
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("requests", &self.requests.len())
            .field("faults", &self.faults)
            .field("always", &self.always)
            .field("users", &self.users.len())
            .field("organizations", &self.slugs.len())
            .finish()
    }
}

impl State {
    fn next_fault(&mut self) -> Option<Fault> {
        self.faults.pop_front().or_else(|| self.always.clone())
    }
}

/// What the accept loop and the connection threads share.
struct Shared {
    state: Mutex<State>,
    token: String,
    stopping: AtomicBool,
    /// Open connections, so that dropping the stand-in can close them.
    connections: Mutex<HashMap<u64, TcpStream>>,
}

/// The local stand-in server; it stops when dropped.
///
/// Dropping it closes the listening socket and every open connection; a request in the middle
/// of a [`Fault::Delay`] is answered into a closed connection.
pub struct StandIn {
    base_url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for StandIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StandIn")
            .field("base_url", &self.base_url)
            .field("state", &*lock(&self.shared.state))
            .finish_non_exhaustive()
    }
}

impl StandIn {
    /// Starts a stand-in that accepts [`STAND_IN_TOKEN`].
    pub fn start() -> io::Result<StandIn> {
        StandIn::with_token(STAND_IN_TOKEN)
    }

    /// Starts a stand-in that accepts `token` only.
    pub fn with_token(token: impl Into<String>) -> io::Result<StandIn> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            token: token.into(),
            stopping: AtomicBool::new(false),
            connections: Mutex::new(HashMap::new()),
        });
        let thread = {
            let shared = shared.clone();
            thread::Builder::new()
                .name("clerk-stand-in".into())
                .spawn(move || accept_loop(&listener, &shared))?
        };
        Ok(StandIn {
            base_url: format!("http://{addr}"),
            addr,
            shared,
            thread: Some(thread),
        })
    }

    /// The base URL to give the client, `http://127.0.0.1:PORT`.
    ///
    /// The endpoints also answer below `/v1`, as on Clerk's own server.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The token the stand-in accepts.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// A client builder aimed at the stand-in, with its token and no retries.
    ///
    /// Its agent ignores proxy variables in the environment: a proxy would not reach the
    /// stand-in's loopback address.
    pub fn client_builder(&self) -> ManagementClientBuilder {
        let direct = ureq::Agent::config_builder()
            .proxy(None)
            .build()
            .new_agent();
        ManagementClient::builder()
            .agent(direct)
            .base_url(self.base_url.clone())
            .management_token(self.shared.token.clone())
            .retry(RetryConfig::none())
    }

    /// A client aimed at the stand-in, with its token and no retries.
    pub fn client(&self) -> Result<ManagementClient, Error> {
        self.client_builder().build()
    }

    /// Queues a fault: the next request not yet answered gets it.
    pub fn push_fault(&self, fault: Fault) {
        lock(&self.shared.state).faults.push_back(fault);
    }

    /// Queues the same fault for the next `count` requests.
    pub fn push_faults(&self, count: usize, fault: Fault) {
        let mut state = lock(&self.shared.state);
        state.faults.extend(std::iter::repeat_n(fault, count));
    }

    /// Answers every request with `fault` once the queued faults are used up, until
    /// [`clear_faults`](Self::clear_faults).
    pub fn fail_always(&self, fault: Fault) {
        lock(&self.shared.state).always = Some(fault);
    }

    /// Forgets the queued faults and the one set by [`fail_always`](Self::fail_always).
    pub fn clear_faults(&self) {
        let mut state = lock(&self.shared.state);
        state.faults.clear();
        state.always = None;
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.state).requests.clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // The accept loop is blocked in `accept`: a connection of our own wakes it up.
        let woken = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(thread) = self.thread.take() {
            if woken {
                let _ = thread.join();
            }
        }
        for (_, stream) in lock(&self.shared.connections).drain() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in one handler must not take the whole stand-in down with it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut next_id = 0u64;
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors, say: wait instead of spinning.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        next_id += 1;
        let id = next_id;
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.connections).insert(id, clone);
        }
        let for_thread = shared.clone();
        let spawned = thread::Builder::new()
            .name("clerk-stand-in-connection".into())
            .spawn(move || {
                serve_connection(stream, &for_thread);
                lock(&for_thread.connections).remove(&id);
            });
        if spawned.is_err() {
            lock(&shared.connections).remove(&id);
        }
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;

    loop {
        let request = match read_request(&mut reader, &mut writer) {
            Ok(request) => request,
            Err(ReadError::Closed) => break,
            Err(ReadError::Bad(status, message)) => {
                let mut answer = Answer::json(status, &clerk_errors("malformed_request", message));
                answer.close = true;
                let _ = write_answer(&mut writer, &answer, false);
                break;
            }
        };

        let head_only = request.method == "HEAD";
        let keep_alive = request.keep_alive;
        let outcome = process(&request, shared);
        let close = match outcome {
            Outcome::Answer(mut answer) => {
                answer.close |= !keep_alive;
                let sent = write_answer(&mut writer, &answer, head_only).is_ok();
                !sent || answer.close
            }
            Outcome::HeadThenClose(answer) => {
                let _ = writer.write_all(&answer.head());
                let _ = writer.flush();
                true
            }
            Outcome::Close => true,
        };
        if close {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

/// A request read off the wire.
struct HttpRequest {
    recorded: RecordedRequest,
    method: String,
    keep_alive: bool,
}

enum ReadError {
    /// The client closed the connection, or it broke: nothing to answer.
    Closed,
    /// Not a request this server can read: answer with this status and close.
    Bad(u16, &'static str),
}

// One request, head then body, read top to bottom: splitting it would only scatter the steps.
#[allow(clippy::too_many_lines)]
fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> Result<HttpRequest, ReadError> {
    let mut budget = HEAD_LIMIT;

    // A client may send empty lines between requests.
    let line = loop {
        let line = read_line(reader, &mut budget)?;
        if !line.is_empty() {
            break line;
        }
    };
    let line = String::from_utf8(line).map_err(|_| ReadError::Bad(400, "bad request line"))?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad(400, "bad request line"));
    };
    if method.is_empty() || !method.bytes().all(is_token_byte) || target.is_empty() {
        return Err(ReadError::Bad(400, "bad request line"));
    }
    let http_10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(ReadError::Bad(505, "only HTTP/1.1 and HTTP/1.0 are served")),
    };

    let mut headers = Vec::new();
    loop {
        let line = read_line(reader, &mut budget)?;
        if line.is_empty() {
            break;
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(ReadError::Bad(400, "bad header line"))?;
        let (name, value) = line.split_at(colon);
        if name.is_empty() || !name.iter().copied().all(is_token_byte) {
            return Err(ReadError::Bad(400, "bad header line"));
        }
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        let value = String::from_utf8_lossy(value.get(1..).unwrap_or_default());
        let value = value.trim_matches([' ', '\t']).to_owned();
        headers.push((name, value));
    }

    let values = |name| header_values(&headers, name);
    let has_token = |name, token| {
        header_values(&headers, name)
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    let keep_alive = if http_10 {
        has_token("connection", "keep-alive")
    } else {
        !has_token("connection", "close")
    };

    let chunked = match values("transfer-encoding").last() {
        None => false,
        Some(codings) => {
            let last = codings.rsplit(',').next().unwrap_or_default().trim();
            if !last.eq_ignore_ascii_case("chunked") {
                return Err(ReadError::Bad(400, "unsupported transfer-encoding"));
            }
            true
        }
    };
    let mut length = None;
    for value in values("content-length") {
        let parsed = value
            .parse::<u64>()
            .ok()
            .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
            .ok_or(ReadError::Bad(400, "bad content-length"))?;
        if length.is_some_and(|l| l != parsed) {
            return Err(ReadError::Bad(400, "conflicting content-length"));
        }
        length = Some(parsed);
    }
    if length.is_some_and(|l| l > BODY_LIMIT) {
        return Err(ReadError::Bad(413, "request body too large"));
    }

    let has_body = chunked || length.is_some_and(|l| l > 0);
    if has_body && !http_10 && has_token("expect", "100-continue") {
        writer
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .map_err(|_| ReadError::Closed)?;
    }

    let body = if chunked {
        read_chunked(reader)?
    } else {
        let length = length.unwrap_or(0);
        let mut body = Vec::new();
        reader
            .by_ref()
            .take(length)
            .read_to_end(&mut body)
            .map_err(|_| ReadError::Closed)?;
        if (body.len() as u64) < length {
            return Err(ReadError::Closed);
        }
        body
    };

    Ok(HttpRequest {
        method: method.to_owned(),
        keep_alive,
        recorded: RecordedRequest {
            method: method.to_owned(),
            path: target.to_owned(),
            headers,
            body,
        },
    })
}

fn header_values<'a>(
    headers: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// One line without its CRLF (or bare LF), counted against `budget`.
fn read_line(reader: &mut BufReader<TcpStream>, budget: &mut usize) -> Result<Vec<u8>, ReadError> {
    let mut line = Vec::new();
    let limit = u64::try_from(*budget).unwrap_or(u64::MAX).saturating_add(1);
    let read = reader
        .by_ref()
        .take(limit)
        .read_until(b'\n', &mut line)
        .map_err(|_| ReadError::Closed)?;
    if line.last() != Some(&b'\n') {
        return Err(if read > *budget {
            ReadError::Bad(431, "request head too large")
        } else {
            ReadError::Closed
        });
    }
    *budget = budget.saturating_sub(read);
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    let mut budget = HEAD_LIMIT;
    loop {
        let line = read_line(reader, &mut budget)?;
        let line = String::from_utf8_lossy(&line);
        let size = line.split(';').next().unwrap_or_default().trim();
        let size =
            u64::from_str_radix(size, 16).map_err(|_| ReadError::Bad(400, "bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(reader, &mut budget)?.is_empty() {}
            return Ok(body);
        }
        if (body.len() as u64).saturating_add(size) > BODY_LIMIT {
            return Err(ReadError::Bad(413, "request body too large"));
        }
        let before = body.len();
        reader
            .by_ref()
            .take(size)
            .read_to_end(&mut body)
            .map_err(|_| ReadError::Closed)?;
        if ((body.len() - before) as u64) < size {
            return Err(ReadError::Closed);
        }
        if !read_line(reader, &mut budget)?.is_empty() {
            return Err(ReadError::Bad(400, "bad chunk"));
        }
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// What to do with a request.
enum Outcome {
    Answer(Answer),
    /// Send the head only, then close.
    HeadThenClose(Answer),
    /// Close without a byte.
    Close,
}

/// A response to send.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Close the connection after this answer.
    close: bool,
}

impl Answer {
    fn json(status: u16, body: &Value) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            close: false,
        }
    }

    /// Status line and headers, with `Content-Length` unless the headers frame the body.
    fn head(&self) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        let mut framed = false;
        for (name, value) in &self.headers {
            let clean = |s: &str| !s.contains(['\r', '\n']);
            if name.is_empty() || !name.bytes().all(is_token_byte) || !clean(value) {
                continue;
            }
            framed |= name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("transfer-encoding");
            let _ = write!(head, "{name}: {value}\r\n");
        }
        if !framed {
            let _ = write!(head, "Content-Length: {}\r\n", self.body.len());
        }
        if self.close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        head.into_bytes()
    }

    fn frames_itself(&self) -> bool {
        self.headers.iter().any(|(name, _)| {
            name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("transfer-encoding")
        })
    }
}

fn write_answer(writer: &mut TcpStream, answer: &Answer, head_only: bool) -> io::Result<()> {
    let mut bytes = answer.head();
    if !head_only {
        bytes.extend_from_slice(&answer.body);
    }
    // One write, so that a small answer is one packet.
    writer.write_all(&bytes)?;
    writer.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

fn process(request: &HttpRequest, shared: &Shared) -> Outcome {
    let fault = {
        let mut state = lock(&shared.state);
        state.requests.push(request.recorded.clone());
        state.next_fault()
    };
    let recorded = &request.recorded;
    match fault {
        None => Outcome::Answer(respond(recorded, &request.method, shared)),
        Some(Fault::Delay(wait)) => {
            thread::sleep(wait);
            Outcome::Answer(respond(recorded, &request.method, shared))
        }
        Some(Fault::DropConnection) => {
            let mut answer = Answer::json(200, &json!({"object": "partial response"}));
            answer.close = true;
            Outcome::HeadThenClose(answer)
        }
        Some(Fault::CloseWithoutResponse) => Outcome::Close,
        Some(Fault::Respond {
            status,
            headers,
            body,
        }) => {
            let mut answer = Answer {
                status,
                headers,
                body,
                close: false,
            };
            answer.close = answer.frames_itself();
            Outcome::Answer(answer)
        }
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            let error = clerk_error("stand_in_fault", "injected fault", "injected fault", None);
            let mut answer = Answer::json(status, &error_list(vec![error]));
            if let Some(value) = retry_after {
                answer.headers.push(("Retry-After".into(), value));
            }
            Outcome::Answer(answer)
        }
        Some(Fault::Html502) => Outcome::Answer(Answer {
            status: 502,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
            close: false,
        }),
    }
}

/// The normal behaviour: authenticate, route, parse, validate, apply.
fn respond(request: &RecordedRequest, method: &str, shared: &Shared) -> Answer {
    let token = request
        .header("authorization")
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token);
    match token {
        None => {
            let long = "The Authorization header must be 'Bearer <token>'.";
            let error = clerk_error(
                "authorization_header_format_invalid",
                "Invalid Authorization header format",
                long,
                None,
            );
            return Answer::json(401, &error_list(vec![error]));
        }
        Some(token) if token != shared.token => {
            let long = "The management token is not valid.";
            let error = clerk_error(
                "authentication_invalid",
                "Invalid authentication",
                long,
                None,
            );
            return Answer::json(401, &error_list(vec![error]));
        }
        Some(_) => {}
    }

    let path = request.path.split('?').next().unwrap_or_default();
    let path = path.strip_prefix("/v1").unwrap_or(path);
    let operation = match path {
        "/management/users" => Endpoint::UpsertUser,
        "/management/organizations" => Endpoint::CreateOrganization,
        "/management/applications" => Endpoint::CreateApplication,
        _ => {
            let long = "No management endpoint at this path.";
            let error = clerk_error("resource_not_found", "Resource not found", long, None);
            return Answer::json(404, &error_list(vec![error]));
        }
    };
    if method != "POST" {
        let long = "This endpoint only answers POST.";
        let error = clerk_error("method_not_allowed", "Method not allowed", long, None);
        let mut answer = Answer::json(405, &error_list(vec![error]));
        answer.headers.push(("Allow".into(), "POST".into()));
        return answer;
    }

    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&request.body) else {
        let long = "The request body must be a JSON object.";
        let error = clerk_error("request_body_invalid", "Request body invalid", long, None);
        return Answer::json(400, &error_list(vec![error]));
    };

    let errors = validate(&body, operation.fields());
    if !errors.is_empty() {
        return Answer::json(422, &error_list(errors));
    }
    match operation {
        Endpoint::UpsertUser => upsert_user(&body, shared),
        Endpoint::CreateOrganization => create_organization(&body, shared),
        Endpoint::CreateApplication => create_application(&body),
    }
}

#[derive(Clone, Copy)]
enum Endpoint {
    UpsertUser,
    CreateOrganization,
    CreateApplication,
}

/// What the specification says a field holds.
#[derive(Clone, Copy)]
enum Kind {
    String,
    Email,
    Integer,
    Boolean,
    Object,
    DateTime,
    Strings,
    StringValues,
    EnvironmentTypes,
}

/// One field of a request body: name, kind, required.
type Field = (&'static str, Kind, bool);

const USER_FIELDS: &[Field] = &[
    ("email_address", Kind::Email, true),
    ("first_name", Kind::String, true),
    ("last_name", Kind::String, true),
];

const ORGANIZATION_FIELDS: &[Field] = &[
    ("name", Kind::String, true),
    ("slug", Kind::String, true),
    ("created_by", Kind::String, false),
    ("max_allowed_memberships", Kind::Integer, false),
    ("public_metadata", Kind::Object, false),
    ("private_metadata", Kind::Object, false),
    ("created_at", Kind::DateTime, false),
];

const APPLICATION_FIELDS: &[Field] = &[
    ("name", Kind::String, true),
    ("owner_id", Kind::String, true),
    ("plan_id", Kind::String, true),
    ("addon_ids", Kind::Strings, false),
    ("paid_externally", Kind::Boolean, false),
    ("test_mode", Kind::Boolean, false),
    ("max_allowed_users", Kind::Integer, false),
    ("max_allowed_organizations", Kind::Integer, false),
    ("subscription_metadata", Kind::StringValues, false),
    ("environment_types", Kind::EnvironmentTypes, false),
];

const ENVIRONMENT_TYPES: [&str; 3] = ["development", "staging", "production"];

impl Endpoint {
    fn fields(self) -> &'static [Field] {
        match self {
            Endpoint::UpsertUser => USER_FIELDS,
            Endpoint::CreateOrganization => ORGANIZATION_FIELDS,
            Endpoint::CreateApplication => APPLICATION_FIELDS,
        }
    }
}

/// Every problem with `body`, in the specification's field order, unknown fields last (sorted).
fn validate(body: &Map<String, Value>, fields: &[Field]) -> Vec<Value> {
    let mut errors = Vec::new();
    for &(name, kind, required) in fields {
        match body.get(name) {
            None if required => errors.push(clerk_error(
                "form_param_missing",
                "is missing",
                &format!("{name} is required."),
                Some(name),
            )),
            None => {}
            Some(Value::Null) => errors.push(clerk_error(
                "form_param_nil",
                "must not be null",
                &format!("{name} must not be null; leave it out to leave it unset."),
                Some(name),
            )),
            Some(value) => errors.extend(check_value(name, kind, value)),
        }
    }

    let mut unknown: Vec<&String> = body
        .keys()
        .filter(|key| !fields.iter().any(|(name, _, _)| name == key))
        .collect();
    unknown.sort();
    for key in unknown {
        errors.push(clerk_error(
            "form_param_unknown",
            "is unknown",
            &format!("{key} is not a parameter of this request."),
            Some(key),
        ));
    }
    errors
}

fn check_value(name: &str, kind: Kind, value: &Value) -> Option<Value> {
    let wrong_type = |expected: &str| {
        Some(clerk_error(
            "form_param_type_invalid",
            "is invalid",
            &format!("{name} must be {expected}."),
            Some(name),
        ))
    };
    let strings = |value: &Value| {
        value
            .as_array()
            .as_ref()
            .is_some_and(|items| items.iter().all(Value::is_string))
    };
    match kind {
        Kind::String if !value.is_string() => wrong_type("a string"),
        Kind::Email => match value.as_str() {
            None => wrong_type("a string"),
            Some(email) if !looks_like_email(email) => Some(clerk_error(
                "form_param_format_invalid",
                "is invalid",
                &format!("{name} must be a valid email address."),
                Some(name),
            )),
            Some(_) => None,
        },
        Kind::Integer if !(value.is_i64() || value.is_u64()) => wrong_type("an integer"),
        Kind::Boolean if !value.is_boolean() => wrong_type("a boolean"),
        Kind::Object if !value.is_object() => wrong_type("an object"),
        Kind::DateTime => match value.as_str() {
            None => wrong_type("a string"),
            Some(text) if rfc3339_millis(text).is_none() => Some(clerk_error(
                "form_param_format_invalid",
                "is invalid",
                &format!(
                    "{name} must be an RFC 3339 date-time with a time zone, such as \
                     2024-04-10T20:37:41.925Z."
                ),
                Some(name),
            )),
            Some(_) => None,
        },
        Kind::Strings if !strings(value) => wrong_type("an array of strings"),
        Kind::StringValues => match value.as_object() {
            None => wrong_type("an object"),
            Some(map) => map.iter().find(|(_, v)| !v.is_string()).map(|(key, _)| {
                clerk_error(
                    "form_param_value_invalid",
                    "is invalid",
                    &format!("{name} values must be strings; the value of {key:?} is not."),
                    Some(name),
                )
            }),
        },
        Kind::EnvironmentTypes => {
            if !strings(value) {
                return wrong_type("an array of strings");
            }
            let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
            let bad = items
                .iter()
                .filter_map(Value::as_str)
                .find(|t| !ENVIRONMENT_TYPES.contains(t))?;
            Some(clerk_error(
                "form_param_value_invalid",
                "is invalid",
                &format!(
                    "{bad:?} is not an environment type; use development, staging or production."
                ),
                Some(name),
            ))
        }
        _ => None,
    }
}

fn looks_like_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// Unix milliseconds of an RFC 3339 date-time (`T` and `Z` upper case, a zone required).
fn rfc3339_millis(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        part.iter().try_fold(0u32, |n, d| {
            n.checked_mul(10)?.checked_add(u32::from(d - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return None;
    }
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    let day = u8::try_from(digits(8..10)?).ok()?;
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);

    let mut i = 19;
    let mut nanos = 0u32;
    if at(i, b'.') {
        let start = i + 1;
        let mut end = start;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end == start {
            return None;
        }
        // Digits past nanoseconds cannot change the millisecond.
        let kept = end.min(start + 9);
        let scale = 10u32.pow(u32::try_from(9 - (kept - start)).ok()?);
        nanos = digits(start..kept)?.checked_mul(scale)?;
        i = end;
    }

    let offset = match b.get(i) {
        Some(b'Z') if i + 1 == b.len() => UtcOffset::UTC,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && at(i + 3, b':') => {
            let hours = i8::try_from(digits(i + 1..i + 3)?).ok()?;
            let minutes = i8::try_from(digits(i + 4..i + 6)?).ok()?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let sign = if sign == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?
        }
        _ => return None,
    };

    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms_nano(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        nanos,
    )
    .ok()?;
    let moment = PrimitiveDateTime::new(date, time).assume_offset(offset);
    i64::try_from(moment.unix_timestamp_nanos().div_euclid(1_000_000)).ok()
}

fn upsert_user(body: &Map<String, Value>, shared: &Shared) -> Answer {
    let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default();
    let (email, first, last) = (text("email_address"), text("first_name"), text("last_name"));
    let now = now_millis();

    let mut state = lock(&shared.state);
    let user = state
        .users
        .entry(email.to_ascii_lowercase())
        .or_insert_with(|| new_user(email, now));
    user["first_name"] = json!(first);
    user["last_name"] = json!(last);
    user["updated_at"] = json!(now);
    Answer::json(200, user)
}

fn new_user(email: &str, now: i64) -> Value {
    let email_id = random_id("idn_");
    json!({
        "id": random_id("user_"),
        "object": "user",
        "external_id": null,
        "primary_email_address_id": email_id,
        "primary_phone_number_id": null,
        "primary_web3_wallet_id": null,
        "username": null,
        "first_name": null,
        "last_name": null,
        "profile_image_url": "https://www.gravatar.com/avatar?d=mp",
        "image_url": "https://img.clerk.com/stand-in-default-avatar",
        "has_image": false,
        "public_metadata": {},
        "private_metadata": {},
        "unsafe_metadata": {},
        "email_addresses": [{
            "id": email_id,
            "object": "email_address",
            "email_address": email,
            "reserved": false,
            "verification": {
                "status": "verified",
                "strategy": "admin",
                "attempts": null,
                "expire_at": null,
                "verified_at_client": null,
            },
            "linked_to": [],
            "matches_sso_connection": false,
            "created_at": now,
            "updated_at": now,
        }],
        "phone_numbers": [],
        "web3_wallets": [],
        "passkeys": [],
        "password_enabled": false,
        "two_factor_enabled": false,
        "totp_enabled": false,
        "backup_code_enabled": false,
        "mfa_enabled_at": null,
        "mfa_disabled_at": null,
        "external_accounts": [],
        "saml_accounts": [],
        "last_sign_in_at": null,
        "banned": false,
        "locked": false,
        "lockout_expires_in_seconds": null,
        "verification_attempts_remaining": 100,
        "updated_at": now,
        "created_at": now,
        "delete_self_enabled": true,
        "create_organization_enabled": true,
        "create_organizations_limit": null,
        "last_active_at": null,
        "legal_accepted_at": null,
    })
}

fn create_organization(body: &Map<String, Value>, shared: &Shared) -> Answer {
    let text = |key: &str| body.get(key).and_then(Value::as_str);
    let slug = text("slug").unwrap_or_default();
    let created_by = text("created_by");
    let now = now_millis();

    let mut state = lock(&shared.state);
    if !state.slugs.insert(slug.to_owned()) {
        let error = clerk_error(
            "form_identifier_exists",
            "That slug is taken. Please try another.",
            &format!("An organization with the slug {slug:?} already exists."),
            Some("slug"),
        );
        return Answer::json(422, &error_list(vec![error]));
    }
    drop(state);

    let object = |key: &str| body.get(key).cloned().unwrap_or_else(|| json!({}));
    let mut organization = json!({
        "object": "organization",
        "id": random_id("org_"),
        "name": text("name").unwrap_or_default(),
        "slug": slug,
        "image_url": "https://img.clerk.com/stand-in-default-logo",
        "has_image": false,
        "members_count": i32::from(created_by.is_some()),
        "missing_member_with_elevated_permissions": created_by.is_none(),
        "pending_invitations_count": 0,
        // 0 is the API's "no limit".
        "max_allowed_memberships": body.get("max_allowed_memberships").cloned()
            .unwrap_or_else(|| json!(0)),
        "admin_delete_enabled": true,
        "public_metadata": object("public_metadata"),
        "private_metadata": object("private_metadata"),
        "created_at": text("created_at").and_then(rfc3339_millis).unwrap_or(now),
        "updated_at": now,
    });
    // Limitation: without a creator the field is left out; what Clerk sends then (absent,
    // `null` or "") is not known.
    if let Some(user_id) = created_by {
        organization["created_by"] = json!(user_id);
    }
    Answer::json(200, &organization)
}

fn create_application(body: &Map<String, Value>) -> Answer {
    let mut types: Vec<&str> = body
        .get("environment_types")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if types.is_empty() {
        types.push("development");
    }
    let mut seen = HashSet::new();
    types.retain(|t| seen.insert(*t));

    let instances: Vec<Value> = types
        .iter()
        .map(|&environment| {
            let mode = if environment == "development" {
                "test"
            } else {
                "live"
            };
            let host = frontend_host(environment);
            json!({
                "instance_id": random_id("ins_"),
                "environment_type": environment,
                "secret_key": format!("sk_{mode}_{}", random_chars(42, BASE62)),
                "publishable_key": format!("pk_{mode}_{}", base64(format!("{host}$").as_bytes())),
            })
        })
        .collect();

    Answer::json(
        200,
        &json!({
            "application_id": random_id("app_"),
            "subscription": {"id": random_id("sub_"), "stripe_subscription_id": null},
            "instances": instances,
        }),
    )
}

/// The frontend API host of a new instance, sized so that its publishable key (base64 of the
/// host and `$`) needs no `=` padding, as real keys do not.
fn frontend_host(environment: &str) -> String {
    let (prefix, suffix) = if environment == "development" {
        ("stand-in-", ".clerk.accounts.dev")
    } else {
        ("clerk.stand-in-", ".example.com")
    };
    let mut label = random_lower(8);
    while (prefix.len() + label.len() + suffix.len() + 1) % 3 != 0 {
        label.push_str(&random_lower(1));
    }
    format!("{prefix}{label}{suffix}")
}

/// Standard base64, with `=` padding.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &byte)| n | (u32::from(byte) << (16 - 8 * i)));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// An id such as `user_2x…`: the prefix and 27 characters, as Clerk's ids have.
fn random_id(prefix: &str) -> String {
    format!("{prefix}{}", random_chars(27, BASE62))
}

fn random_lower(len: usize) -> String {
    random_chars(len, b"abcdefghijklmnopqrstuvwxyz0123456789")
}

/// Random-looking characters: a counter and the clock through std's randomly keyed hasher.
///
/// Not for real secrets: good enough that two stand-ins never hand out the same id.
fn random_chars(len: usize, alphabet: &[u8]) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let base = alphabet.len().max(1) as u64;
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        let mut bits = hasher.finish();
        // Eight characters per hash keep the draw close to uniform for any alphabet here.
        for _ in 0..8 {
            let index = usize::try_from(bits % base).unwrap_or(0);
            out.push(char::from(alphabet.get(index).copied().unwrap_or(b'0')));
            bits /= base;
        }
    }
    out.truncate(len);
    out
}

fn clerk_error(code: &str, message: &str, long_message: &str, param: Option<&str>) -> Value {
    let mut error = json!({
        "code": code,
        "message": message,
        "long_message": long_message,
    });
    if let Some(param) = param {
        error["meta"] = json!({ "param_name": param });
    }
    error
}

// Takes the errors by value: each call site builds them for this list alone.
#[allow(clippy::needless_pass_by_value)]
fn error_list(errors: Vec<Value>) -> Value {
    json!({ "errors": errors, "clerk_trace_id": random_chars(32, b"0123456789abcdef") })
}

/// A one-error list whose long message repeats the message.
fn clerk_errors(code: &str, message: &str) -> Value {
    error_list(vec![clerk_error(code, message, message, None)])
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_needs_a_zone_and_valid_parts() {
        let cases = [
            ("2024-04-10T20:37:41Z", Some(1_712_781_461_000)),
            ("2024-04-10T20:37:41.925Z", Some(1_712_781_461_925)),
            ("2024-04-10T20:37:41.9259999999Z", Some(1_712_781_461_925)),
            ("2024-04-11T02:07:41.925+05:30", Some(1_712_781_461_925)),
            ("2024-04-10T15:37:41.925-05:00", Some(1_712_781_461_925)),
            ("1969-12-31T23:59:59.999Z", Some(-1)),
            ("2024-04-10T20:37:41", None),
            ("2024-04-10 20:37:41Z", None),
            ("2024-04-10t20:37:41z", None),
            ("2024-04-10T20:37:41.Z", None),
            ("2024-02-30T20:37:41Z", None),
            ("2024-04-10T24:00:00Z", None),
            ("2024-04-10T20:37:60Z", None),
            ("2024-04-10T20:37:41+24:00", None),
            ("2024-04-10T20:37:41+0530", None),
            ("2024-04-10T20:37:41Zjunk", None),
            ("+2024-04-10T20:37:41Z", None),
            ("1712781461925", None),
            ("", None),
            ("2024-04-10T20:37:4é", None),
        ];
        for (text, expected) in cases {
            assert_eq!(rfc3339_millis(text), expected, "{text}");
        }
    }

    #[test]
    fn base64_pads_and_hosts_need_no_padding() {
        assert_eq!(base64(b"clerk.example.com$"), "Y2xlcmsuZXhhbXBsZS5jb20k");
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(&[0xff, 0xfe, 0xfd, 0x00]), "//79AA==");
        for environment in ENVIRONMENT_TYPES {
            let host = frontend_host(environment);
            assert_eq!((host.len() + 1) % 3, 0, "{host}");
            assert!(!base64(format!("{host}$").as_bytes()).contains('='));
        }
    }

    #[test]
    fn random_ids_have_the_prefix_and_length_and_differ() {
        let ids: HashSet<String> = (0..1000).map(|_| random_id("user_")).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            assert_eq!(id.len(), 5 + 27);
            assert!(id[5..].bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
        }
    }

    #[test]
    fn recorded_request_debug_hides_the_token_and_shows_the_body() {
        let request = RecordedRequest {
            method: "POST".into(),
            path: "/management/users".into(),
            headers: vec![
                ("authorization".into(), "Bearer mt_secret_value".into()),
                ("content-type".into(), "application/json".into()),
            ],
            body: br#"{"a":1}"#.to_vec(),
        };
        let debug = format!("{request:?}");
        assert_eq!(
            debug,
            concat!(
                r#"RecordedRequest { method: "POST", path: "/management/users", headers: "#,
                r#"[("authorization", "[redacted]"), ("content-type", "application/json")], "#,
                r#"body: "{\"a\":1}" }"#,
            )
        );
    }
}
