//! A local stand-in of the management API, for tests and demos without a Clerk account.
//!
//! [`StandIn::start`] serves the three management endpoints on `127.0.0.1` (a free port) from
//! a thread of its own, in memory, until it is dropped. It checks the bearer token, upserts
//! users by email, and records every request it receives so tests can assert on exactly what
//! was sent. Faults can be queued with [`StandIn::push_fault`]: each one answers one request
//! in place of the normal behaviour.
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

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::{Error, ManagementClient, ManagementClientBuilder, RetryConfig};

/// The token a [`StandIn`] accepts unless told otherwise.
pub const STAND_IN_TOKEN: &str = "mt_stand_in_token";

/// A request as the stand-in received it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method, such as `POST`.
    pub method: String,
    /// The path with its query, such as `/management/users`.
    pub path: String,
    /// The headers in the order received, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body, byte for byte.
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
}

/// A fault to answer one request with, in place of the normal behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Any status, headers and body, exactly as given.
    Respond {
        /// The status code.
        status: u16,
        /// Headers to send, such as `("Content-Type", "application/json")`.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// A status with a Clerk error body and an optional `Retry-After` value.
    Status {
        /// The status code.
        status: u16,
        /// The `Retry-After` header, verbatim (seconds or an HTTP-date).
        retry_after: Option<String>,
    },
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Send the status line and headers of a 200 that promises a body, then close the
    /// connection without sending it.
    DropConnection,
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

#[derive(Default)]
struct State {
    requests: Vec<RecordedRequest>,
    faults: VecDeque<Fault>,
    users: HashMap<String, Value>,
    next_id: u64,
}

/// The local stand-in server; it stops when dropped.
pub struct StandIn {
    base_url: String,
    token: String,
    state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for StandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandIn")
            .field("base_url", &self.base_url)
            .field("state", &*lock(&self.state))
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("requests", &self.requests.len())
            .field("faults", &self.faults)
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
        let server = tiny_http::Server::http("127.0.0.1:0").map_err(io::Error::other)?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|addr| addr.port())
            .ok_or_else(|| io::Error::other("stand-in is not listening on an IP address"))?;

        let server = Arc::new(server);
        let state = Arc::new(Mutex::new(State::default()));
        let token = token.into();
        let thread = {
            let (server, state, token) = (server.clone(), state.clone(), token.clone());
            thread::Builder::new()
                .name("clerk-stand-in".into())
                .spawn(move || serve(&server, &state, &token))?
        };

        Ok(StandIn {
            base_url: format!("http://127.0.0.1:{port}"),
            token,
            state,
            server,
            thread: Some(thread),
        })
    }

    /// The base URL to give the client, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The token the stand-in accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A client builder aimed at the stand-in, with its token and no retries.
    pub fn client_builder(&self) -> ManagementClientBuilder {
        ManagementClient::builder()
            .base_url(self.base_url.clone())
            .management_token(self.token.clone())
            .retry(RetryConfig::none())
    }

    /// A client aimed at the stand-in, with its token and no retries.
    pub fn client(&self) -> Result<ManagementClient, Error> {
        self.client_builder().build()
    }

    /// Queues a fault: the next request not yet answered gets it.
    pub fn push_fault(&self, fault: Fault) {
        lock(&self.state).faults.push_back(fault);
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic in one handler must not take the whole stand-in down with it.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn serve(server: &tiny_http::Server, state: &Arc<Mutex<State>>, token: &str) {
    for request in server.incoming_requests() {
        let state = state.clone();
        let token = token.to_owned();
        // One thread per request, so a delayed answer does not hold up the others.
        let _ = thread::Builder::new().spawn(move || handle(request, &state, &token));
    }
}

fn handle(mut request: tiny_http::Request, state: &Mutex<State>, token: &str) {
    let mut body = Vec::new();
    let _ = request.as_reader().read_to_end(&mut body);
    let recorded = RecordedRequest {
        method: request.method().as_str().to_owned(),
        path: request.url().to_owned(),
        headers: request
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_ascii_lowercase(),
                    h.value.as_str().to_owned(),
                )
            })
            .collect(),
        body,
    };

    let fault = {
        let mut state = lock(state);
        state.requests.push(recorded.clone());
        state.faults.pop_front()
    };

    let answer = match fault {
        Some(Fault::Delay(wait)) => {
            thread::sleep(wait);
            respond(&recorded, state, token)
        }
        Some(fault) => fault_answer(fault),
        None => respond(&recorded, state, token),
    };
    let _ = send(request, answer);
}

/// What to send back: status, headers, body, and whether to cut the body off.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    cut: bool,
}

impl Answer {
    fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            cut: false,
        }
    }
}

fn fault_answer(fault: Fault) -> Answer {
    match fault {
        Fault::Respond {
            status,
            headers,
            body,
        } => Answer {
            status,
            headers,
            body,
            cut: false,
        },
        Fault::Status {
            status,
            retry_after,
        } => {
            let mut answer = Answer::json(
                status,
                clerk_errors("stand_in_fault", "injected fault", None),
            );
            if let Some(value) = retry_after {
                answer.headers.push(("Retry-After".into(), value));
            }
            answer
        }
        Fault::Html502 => Answer {
            status: 502,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
            cut: false,
        },
        Fault::DropConnection => Answer {
            cut: true,
            ..Answer::json(200, json!({"partial": true}))
        },
        Fault::Delay(_) => Answer::json(500, json!({})),
    }
}

fn send(request: tiny_http::Request, answer: Answer) -> io::Result<()> {
    let headers = answer
        .headers
        .iter()
        .filter_map(|(n, v)| tiny_http::Header::from_bytes(n.as_bytes(), v.as_bytes()).ok())
        .collect();
    let length = answer.body.len();
    let reader: Box<dyn Read + Send> = if answer.cut {
        Box::new(FailingReader)
    } else {
        Box::new(io::Cursor::new(answer.body))
    };
    let response =
        tiny_http::Response::new(answer.status.into(), headers, reader, Some(length), None);
    request.respond(response)
}

/// A body that breaks at once, so the promised Content-Length is never delivered.
struct FailingReader;

impl Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "stand-in drops the connection",
        ))
    }
}

fn clerk_errors(code: &str, message: &str, param: Option<&str>) -> Value {
    let trace = format!("trace_{:016x}", now_millis());
    let mut error = json!({
        "code": code,
        "message": message,
        "long_message": message,
    });
    if let Some(param) = param {
        error["meta"] = json!({ "param_name": param });
    }
    json!({ "errors": [error], "clerk_trace_id": trace })
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn respond(request: &RecordedRequest, state: &Mutex<State>, token: &str) -> Answer {
    let expected = format!("Bearer {token}");
    if request.header("authorization") != Some(expected.as_str()) {
        let body = clerk_errors("authentication_invalid", "Invalid authentication", None);
        return Answer::json(401, body);
    }
    if request.method != "POST" {
        return Answer::json(405, clerk_errors("method_not_allowed", "Use POST", None));
    }

    let body: Map<String, Value> = match serde_json::from_slice(&request.body) {
        Ok(Value::Object(body)) => body,
        _ => {
            let body = clerk_errors("malformed_request", "Body must be a JSON object", None);
            return Answer::json(400, body);
        }
    };

    match request.path.as_str() {
        "/management/users" => upsert_user(&body, state),
        _ => Answer::json(404, clerk_errors("resource_not_found", "Not found", None)),
    }
}

fn upsert_user(body: &Map<String, Value>, state: &Mutex<State>) -> Answer {
    let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default();
    let (email, first, last) = (text("email_address"), text("first_name"), text("last_name"));
    let now = now_millis();

    let mut state = lock(state);
    state.next_id += 1;
    let fresh = state.next_id;
    let user = state.users.entry(email.to_owned()).or_insert_with(|| {
        json!({
            "id": format!("user_{fresh:024}"),
            "object": "user",
            "primary_email_address_id": format!("idn_{fresh:024}"),
            "email_addresses": [{
                "id": format!("idn_{fresh:024}"),
                "object": "email_address",
                "email_address": email,
                "reserved": false,
                "verification": {"status": "verified", "strategy": "admin",
                                 "attempts": null, "expire_at": null},
                "linked_to": [],
                "created_at": now,
                "updated_at": now,
            }],
            "created_at": now,
        })
    });
    user["first_name"] = json!(first);
    user["last_name"] = json!(last);
    user["updated_at"] = json!(now);
    Answer::json(200, user.clone())
}
