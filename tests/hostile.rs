//! Hostile servers and hostile input: every fault ends in a typed error, within its time budget.
//!
//! Each test runs its own loopback server on a raw `TcpListener`, so it can send bytes no HTTP
//! library would: resets, cut bodies, broken chunking, non-HTTP status lines, trickles.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use clerk_management::upsert_user::UpsertUserRequest;
use clerk_management::{
    DecodeError, Error, ManagementClient, ManagementClientBuilder, RequestOptions, RetryConfig,
    TimeoutPhase, TransportError, TransportKind,
};

const TOKEN: &str = "mt_hostile_token";

/// How long a server keeps accepting before it stops by itself, whatever the test does.
const SERVER_LIFETIME: Duration = Duration::from_secs(20);

type Handler = Arc<dyn Fn(TcpStream, &Log) + Send + Sync>;

/// What a server saw: connections accepted and the raw requests read.
#[derive(Default)]
struct Log {
    accepted: AtomicUsize,
    requests: Mutex<Vec<Vec<u8>>>,
}

impl Log {
    /// Reads one request (head and `Content-Length` body) and records it.
    fn read_request(&self, stream: &mut TcpStream) -> Vec<u8> {
        let request = read_request(stream);
        self.requests.lock().unwrap().push(request.clone());
        request
    }
}

/// A loopback server that hands every connection to a handler on a thread of its own.
struct RawServer {
    port: u16,
    log: Arc<Log>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RawServer {
    fn start(handler: impl Fn(TcpStream, &Log) + Send + Sync + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Log::default());
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Handler = Arc::new(handler);
        let thread = {
            let (log, stop) = (log.clone(), stop.clone());
            thread::spawn(move || accept_loop(&listener, &log, &stop, &handler))
        };
        RawServer {
            port,
            log,
            stop,
            thread: Some(thread),
        }
    }

    /// A server that reads the request, then writes `response` and closes.
    fn respond(response: Vec<u8>) -> RawServer {
        RawServer::start(move |mut stream, log| {
            log.read_request(&mut stream);
            let _ = stream.write_all(&response);
        })
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn accepted(&self) -> usize {
        self.log.accepted.load(Ordering::SeqCst)
    }

    fn requests(&self) -> Vec<Vec<u8>> {
        self.log.requests.lock().unwrap().clone()
    }

    fn builder(&self) -> ManagementClientBuilder {
        ManagementClient::builder()
            .base_url(self.base_url())
            .management_token(TOKEN)
            .retry(RetryConfig::none())
            .timeout(Duration::from_secs(5))
    }

    fn client(&self) -> ManagementClient {
        self.builder().build().unwrap()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, log: &Arc<Log>, stop: &AtomicBool, handler: &Handler) {
    let deadline = Instant::now() + SERVER_LIFETIME;
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                log.accepted.fetch_add(1, Ordering::SeqCst);
                stream.set_nonblocking(false).unwrap();
                // Bounded reads, so a handler never waits for a client that went away.
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let (log, handler) = (log.clone(), handler.clone());
                thread::spawn(move || handler(stream, &log));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return,
        }
    }
}

/// Reads a request head and a `Content-Length` body; whatever arrived if the client stops.
fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = find(&data, b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return data,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    data
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The header lines of a raw request, names lowercased, in order.
fn request_headers(request: &[u8]) -> Vec<(String, String)> {
    let end = find(request, b"\r\n\r\n").unwrap();
    let head = std::str::from_utf8(&request[..end]).unwrap();
    head.split("\r\n")
        .skip(1)
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect()
}

/// A complete response with `Content-Length`.
fn http_response(status: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for header in headers {
        out.push_str(header);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

fn json_response(status: &str, body: &str) -> Vec<u8> {
    http_response(status, &["Content-Type: application/json"], body.as_bytes())
}

const USER_BODY: &str = r#"{"id":"user_1","object":"user","first_name":"Ada","last_name":"L",
"email_addresses":[],"created_at":1,"updated_at":2}"#;

fn request() -> UpsertUserRequest {
    UpsertUserRequest::new("ada@example.com", "Ada", "L")
}

fn call(client: &ManagementClient) -> Result<clerk_management::upsert_user::User, Error> {
    client.upsert_user(&request())
}

fn transport_error(err: &Error) -> &TransportError {
    match err {
        Error::Transport(e) => e,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

fn io_kind(err: &TransportError) -> Option<io::ErrorKind> {
    match err.ureq_error() {
        ureq::Error::Io(e) => Some(e.kind()),
        _ => None,
    }
}

/// Asserts a transport failure of `kind` after the request was sent, on the first attempt.
fn assert_closed_after_send(err: &Error, kind: TransportKind) -> &TransportError {
    let transport = transport_error(err);
    assert_eq!(transport.kind, kind, "{err:?}");
    assert_eq!(transport.call.attempts, 1);
    assert!(err.may_have_been_applied());
    assert_eq!(err.status(), None);
    transport
}

// ---- faults ----

#[test]
fn close_after_reading_the_request_is_connection_closed() {
    let server = RawServer::start(|mut stream, log| {
        log.read_request(&mut stream);
        let _ = stream.shutdown(Shutdown::Both);
    });
    let err = call(&server.client()).unwrap_err();
    let transport = assert_closed_after_send(&err, TransportKind::ConnectionClosed);
    assert_eq!(io_kind(transport), Some(io::ErrorKind::UnexpectedEof));
    assert!(
        err.to_string().starts_with(
            "connection closed before the response was complete; \
             the request may have been applied (1 attempt in "
        ),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

/// Waits until the whole request has arrived, without reading any of it.
fn peek_request(stream: &TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let Ok(n) = stream.peek(&mut buf) else {
            return;
        };
        if let Some(end) = find(&buf[..n], b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if n >= end + 4 + length {
                return;
            }
        }
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn reset_before_any_response_byte_is_connection_closed() {
    // Closing a socket with unread data makes the kernel answer with RST instead of FIN.
    let server = RawServer::start(|stream, _| peek_request(&stream));
    let err = call(&server.client()).unwrap_err();
    let transport = assert_closed_after_send(&err, TransportKind::ConnectionClosed);
    assert_eq!(io_kind(transport), Some(io::ErrorKind::ConnectionReset));
    assert_eq!(server.accepted(), 1);
}

#[test]
fn body_cut_short_of_content_length_is_connection_closed() {
    let server = RawServer::respond(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":"
            .to_vec(),
    );
    let err = call(&server.client()).unwrap_err();
    let transport = assert_closed_after_send(&err, TransportKind::ConnectionClosed);
    assert_eq!(io_kind(transport), Some(io::ErrorKind::UnexpectedEof));
}

#[test]
fn broken_chunked_encoding_is_a_protocol_error() {
    let server = RawServer::respond(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
          zz\r\n{}\r\n0\r\n\r\n"
            .to_vec(),
    );
    let err = call(&server.client()).unwrap_err();
    let transport = assert_closed_after_send(&err, TransportKind::Protocol);
    assert!(
        matches!(transport.ureq_error(), ureq::Error::Protocol(_)),
        "{err:?}"
    );
}

#[test]
fn chunked_body_cut_before_the_last_chunk_is_connection_closed() {
    let server = RawServer::respond(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
          7\r\n{\"id\":\"\r\n"
            .to_vec(),
    );
    let err = call(&server.client()).unwrap_err();
    let transport = assert_closed_after_send(&err, TransportKind::ConnectionClosed);
    assert_eq!(io_kind(transport), Some(io::ErrorKind::UnexpectedEof));
}

#[test]
fn a_status_line_that_is_not_http_is_a_protocol_error() {
    for reply in [
        &b"SSH-2.0-OpenSSH_9.6\r\n\r\n"[..],
        b"HTTP/1.1 abc Nonsense\r\n\r\n",
        b"\x16\x03\x01\x00\x05hello\r\n\r\n",
    ] {
        let server = RawServer::respond(reply.to_vec());
        let err = call(&server.client()).unwrap_err();
        let transport = assert_closed_after_send(&err, TransportKind::Protocol);
        assert!(
            matches!(transport.ureq_error(), ureq::Error::Protocol(_)),
            "{err:?}"
        );
    }
}

#[test]
fn an_oversized_response_head_is_a_protocol_error() {
    let mut head = b"HTTP/1.1 200 OK\r\nX-Filler: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 200 * 1024));
    head.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
    let server = RawServer::respond(head);
    let err = call(&server.client()).unwrap_err();
    let transport = assert_closed_after_send(&err, TransportKind::Protocol);
    assert!(
        matches!(transport.ureq_error(), ureq::Error::LargeResponseHeader(..)),
        "{err:?}"
    );
}

#[test]
fn corrupt_gzip_is_a_protocol_error() {
    let server = RawServer::respond(http_response(
        "200 OK",
        &["Content-Type: application/json", "Content-Encoding: gzip"],
        b"not gzip at all",
    ));
    let err = call(&server.client()).unwrap_err();
    let transport = assert_closed_after_send(&err, TransportKind::Protocol);
    assert!(
        matches!(transport.ureq_error(), ureq::Error::Decompress("gzip", _)),
        "{err:?}"
    );
}

fn decode_error(err: &Error) -> &DecodeError {
    match err {
        Error::Decode(e) => e,
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn a_non_utf8_body_on_200_is_a_decode_error() {
    let server = RawServer::respond(http_response(
        "200 OK",
        &["Content-Type: application/json"],
        b"{\"id\":\"user_\xff\xfe\"}",
    ));
    let err = call(&server.client()).unwrap_err();
    let decode = decode_error(&err);
    assert_eq!(decode.status, 200);
    assert_eq!(decode.target, "User");
    assert_eq!(
        decode.message,
        "invalid unicode code point at line 1 column 13"
    );
    assert_eq!((decode.line, decode.column), (1, 13));
    assert_eq!(decode.body_excerpt, "{\"id\":\"user_\u{fffd}\u{fffd}\"}");
    assert_eq!(decode.call.attempts, 1);
    // A 200: the server did act, whatever the body says.
    assert!(err.may_have_been_applied());
}

#[test]
fn a_non_utf8_body_on_500_is_an_unexpected_response_with_a_lossy_excerpt() {
    let server = RawServer::respond(http_response(
        "500 Internal Server Error",
        &["Content-Type: text/plain; charset=latin1"],
        b"caf\xe9 \xff broken",
    ));
    let err = call(&server.client()).unwrap_err();
    let Error::UnexpectedResponse(unexpected) = &err else {
        panic!("expected an unexpected response, got {err:?}");
    };
    assert_eq!(unexpected.status, 500);
    assert_eq!(
        unexpected.content_type.as_deref(),
        Some("text/plain; charset=latin1")
    );
    assert_eq!(unexpected.body_excerpt, "caf\u{fffd} \u{fffd} broken");
    assert_eq!(unexpected.retry_after, None);
    assert_eq!(unexpected.call.attempts, 1);
}

#[test]
fn json_that_is_not_an_object_is_a_decode_error_naming_user() {
    let cases = [
        // serde's derive accepts a struct as a sequence of its fields, hence the length.
        (
            "[]",
            "invalid length 0, expected struct User with 39 elements at line 1 column 2",
        ),
        (
            "\"text\"",
            "invalid type: string \"text\", expected struct User at line 1 column 6",
        ),
        (
            "42",
            "invalid type: integer `42`, expected struct User at line 1 column 2",
        ),
        (
            "null",
            "invalid type: null, expected struct User at line 1 column 4",
        ),
        ("", "EOF while parsing a value at line 1 column 0"),
        ("{}", "missing field `id` at line 1 column 2"),
        (
            "{\"id\":\"u\"} trailing",
            "trailing characters at line 1 column 12",
        ),
    ];
    for (body, message) in cases {
        let server = RawServer::respond(json_response("200 OK", body));
        let err = call(&server.client()).unwrap_err();
        let decode = decode_error(&err);
        assert_eq!(
            (decode.status, decode.target, decode.message.as_str()),
            (200, "User", message),
            "{body}"
        );
        assert_eq!(decode.body_excerpt, body);
    }
}

#[test]
fn a_clerk_error_list_on_200_is_an_api_error() {
    let body = r#"{"errors":[{"code":"quota_exceeded","message":"Too many users",
        "long_message":"The instance has reached its user limit","meta":{"limit":10}}],
        "clerk_trace_id":"trace_200"}"#;
    let server = RawServer::respond(json_response("200 OK", body));
    let err = call(&server.client()).unwrap_err();
    let Error::Api(api) = &err else {
        panic!("expected an api error, got {err:?}");
    };
    assert_eq!(api.status, 200);
    assert_eq!(api.code(), Some("quota_exceeded"));
    assert_eq!(api.message(), Some("Too many users"));
    assert_eq!(
        api.errors[0].long_message.as_deref(),
        Some("The instance has reached its user limit")
    );
    assert_eq!(
        api.errors[0].meta.as_ref().unwrap()["limit"],
        serde_json::json!(10)
    );
    assert_eq!(api.clerk_trace_id.as_deref(), Some("trace_200"));
    assert_eq!(api.call.attempts, 1);
}

#[test]
fn a_server_that_never_answers_times_out_at_the_attempt_timeout() {
    let server = RawServer::start(|mut stream, log| {
        log.read_request(&mut stream);
        // Hold the connection open without a byte, until the client gives up.
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
    });
    let limit = Duration::from_millis(300);
    let client = server.builder().timeout(limit).build().unwrap();
    let started = Instant::now();
    let err = call(&client).unwrap_err();
    let elapsed = started.elapsed();
    assert_timeout(&err, limit, elapsed);
    assert_eq!(server.requests().len(), 1);
}

fn assert_timeout(err: &Error, limit: Duration, elapsed: Duration) {
    let Error::Timeout(timeout) = err else {
        panic!("expected a timeout, got {err:?}");
    };
    assert_eq!(timeout.phase, TimeoutPhase::Response);
    assert_eq!(timeout.limit, limit);
    assert_eq!(timeout.call.attempts, 1);
    assert!(err.may_have_been_applied());
    assert!(elapsed >= limit, "{elapsed:?}");
    assert!(elapsed < limit + Duration::from_millis(1500), "{elapsed:?}");
}

/// A server that sends `response` one byte at a time, `gap` apart, as long as the client reads.
fn trickle(response: Vec<u8>, gap: Duration) -> RawServer {
    RawServer::start(move |mut stream, log| {
        log.read_request(&mut stream);
        for byte in &response {
            if stream.write_all(std::slice::from_ref(byte)).is_err() {
                return;
            }
            thread::sleep(gap);
        }
    })
}

#[test]
fn a_server_trickling_its_head_times_out_at_the_attempt_timeout() {
    let server = trickle(
        json_response("200 OK", USER_BODY),
        Duration::from_millis(200),
    );
    let limit = Duration::from_millis(1000);
    let client = server.builder().timeout(limit).build().unwrap();
    let started = Instant::now();
    let err = call(&client).unwrap_err();
    assert_timeout(&err, limit, started.elapsed());
}

#[test]
fn a_server_trickling_its_body_times_out_at_the_attempt_timeout() {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        USER_BODY.len()
    );
    let server = RawServer::start(move |mut stream, log| {
        log.read_request(&mut stream);
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        for byte in USER_BODY.as_bytes() {
            thread::sleep(Duration::from_millis(200));
            if stream.write_all(std::slice::from_ref(byte)).is_err() {
                return;
            }
        }
    });
    let limit = Duration::from_millis(1000);
    let client = server.builder().timeout(limit).build().unwrap();
    let started = Instant::now();
    let err = call(&client).unwrap_err();
    assert_timeout(&err, limit, started.elapsed());
}

// ---- transport ----

#[test]
fn headers_with_invalid_bytes_are_rejected_before_sending() {
    let server = RawServer::respond(json_response("200 OK", USER_BODY));
    let client = server.client();
    let bad_value = "value contains a character not allowed in a header (CR, LF, …)";
    let cases = [
        ("X-Ok\r\nX-Injected", "v", "invalid header name"),
        ("X-Line\nFeed", "v", "invalid header name"),
        ("X-Nul\0", "v", "invalid header name"),
        ("X Space", "v", "invalid header name"),
        ("X:Colon", "v", "invalid header name"),
        ("", "v", "invalid header name"),
        ("X-Ünicode", "v", "invalid header name"),
        ("X-Request-Id", "a\r\nX-Injected: 1", bad_value),
        ("X-Request-Id", "a\nb", bad_value),
        ("X-Request-Id", "a\rb", bad_value),
        ("X-Request-Id", "a\0b", bad_value),
        ("X-Request-Id", "a\x7fb", bad_value),
        ("X-Request-Id", "a\x1bb", bad_value),
    ];
    for (name, value, message) in cases {
        let options = RequestOptions::new()
            .header("X-Fine", "ok")
            .header(name, value);
        let err = client
            .upsert_user_with_options(&request(), &options)
            .unwrap_err();
        let Error::InvalidRequest {
            field,
            message: got,
            ..
        } = &err
        else {
            panic!("{name:?}: expected an invalid request, got {err:?}");
        };
        assert_eq!(field, &format!("header {name:?}"));
        assert_eq!(got, message, "{name:?}");
        assert_eq!(err.attempts(), 0);
        assert!(!err.may_have_been_applied());
    }
    assert_eq!(server.accepted(), 0);
}

#[test]
fn headers_the_client_owns_cannot_be_overridden() {
    let server = RawServer::respond(json_response("200 OK", USER_BODY));
    let client = server.client();
    for name in [
        "Authorization",
        "HOST",
        "content-length",
        "Transfer-Encoding",
        "Connection",
        "accept-encoding",
    ] {
        let options = RequestOptions::new().header(name, "x");
        let err = client
            .upsert_user_with_options(&request(), &options)
            .unwrap_err();
        let Error::InvalidRequest { field, message, .. } = &err else {
            panic!("{name}: expected an invalid request, got {err:?}");
        };
        assert_eq!(field, &format!("header {name:?}"));
        assert_eq!(message, "set by the client and cannot be overridden");
    }
    assert_eq!(server.accepted(), 0);
}

/// A server that answers with `head` and then `body_len` bytes of `b' '`, reporting how many
/// body bytes it managed to write before the client went away.
fn big_body_server(head: String, body_len: usize) -> (RawServer, mpsc::Receiver<usize>) {
    let (sent, written) = mpsc::channel();
    let server = RawServer::start(move |mut stream, log| {
        log.read_request(&mut stream);
        let mut total = 0;
        if stream.write_all(head.as_bytes()).is_ok() {
            let chunk = vec![b' '; 64 * 1024];
            while total < body_len {
                let n = chunk.len().min(body_len - total);
                if stream.write_all(&chunk[..n]).is_err() {
                    break;
                }
                total += n;
            }
        }
        let _ = sent.send(total);
    });
    (server, written)
}

const TEN_MIB: usize = 10 * 1024 * 1024;

#[test]
fn a_body_over_the_limit_is_response_too_large() {
    // 64 MiB is more than loopback socket buffers hold, so the count of bytes written shows
    // that the client stopped reading at the limit.
    let body_len = 64 * 1024 * 1024;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body_len}\r\n\r\n"
    );
    let (server, written) = big_body_server(head, body_len);
    let client = server.builder().response_body_limit(1024).build().unwrap();
    let err = call(&client).unwrap_err();
    let Error::ResponseTooLarge {
        limit,
        status,
        call,
        ..
    } = &err
    else {
        panic!("expected too large, got {err:?}");
    };
    assert_eq!((*limit, *status, call.attempts), (1024, 200, 1));
    assert_eq!(err.status(), Some(200));
    drop(client);
    let written = written.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(written < body_len, "{written}");
}

#[test]
fn a_chunked_body_over_the_limit_is_response_too_large() {
    let mut body = Vec::new();
    for _ in 0..(TEN_MIB / 4096) {
        body.extend_from_slice(b"1000\r\n");
        body.extend(std::iter::repeat_n(b' ', 4096));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let mut response =
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    response.extend_from_slice(&body);
    let server = RawServer::respond(response);
    let client = server.builder().response_body_limit(1024).build().unwrap();
    let err = call(&client).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ResponseTooLarge {
                limit: 1024,
                status: 502,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.attempts(), 1);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn the_body_limit_counts_bytes_after_decompression() {
    let compressed = gzip(&vec![b' '; TEN_MIB]);
    assert!(compressed.len() < 64 * 1024, "{}", compressed.len());
    let server = RawServer::respond(http_response(
        "200 OK",
        &["Content-Type: application/json", "Content-Encoding: gzip"],
        &compressed,
    ));
    let client = server
        .builder()
        .response_body_limit(64 * 1024)
        .build()
        .unwrap();
    let err = call(&client).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ResponseTooLarge {
                limit: 65536,
                status: 200,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_body_exactly_at_the_limit_is_read() {
    let limit = USER_BODY.len() as u64;
    let server = RawServer::respond(json_response("200 OK", USER_BODY));
    let client = server.builder().response_body_limit(limit).build().unwrap();
    assert_eq!(call(&client).unwrap().id, "user_1");

    let server = RawServer::respond(json_response("200 OK", USER_BODY));
    let client = server
        .builder()
        .response_body_limit(limit - 1)
        .build()
        .unwrap();
    let err = call(&client).unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: l, status: 200, .. } if l == limit - 1),
        "{err:?}"
    );
}

#[test]
fn gzip_responses_decode_and_only_gzip_is_accepted() {
    let server = RawServer::respond(http_response(
        "200 OK",
        &["Content-Type: application/json", "Content-Encoding: gzip"],
        &gzip(USER_BODY.as_bytes()),
    ));
    let user = call(&server.client()).unwrap();
    assert_eq!(user.id, "user_1");
    assert_eq!(user.first_name.as_deref(), Some("Ada"));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let encodings: Vec<_> = request_headers(&requests[0])
        .into_iter()
        .filter(|(name, _)| name == "accept-encoding")
        .map(|(_, value)| value)
        .collect();
    assert_eq!(encodings, ["gzip"]);
}

// ---- TLS ----

fn https_client(port: u16) -> ManagementClient {
    ManagementClient::builder()
        .base_url(format!("https://127.0.0.1:{port}"))
        .management_token(TOKEN)
        .retry(RetryConfig::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn assert_tls_failure(err: &Error) {
    let transport = transport_error(err);
    assert_eq!(transport.kind, TransportKind::Tls, "{err:?}");
    assert_eq!(transport.call.attempts, 1);
    assert!(!err.may_have_been_applied());
}

#[test]
fn https_to_a_server_speaking_garbage_is_a_tls_error() {
    let server = RawServer::start(|mut stream, _| {
        let _ = stream.write_all(b"this is not a TLS record\r\n\r\n");
        thread::sleep(Duration::from_millis(200));
    });
    let err = call(&https_client(server.port)).unwrap_err();
    assert_tls_failure(&err);
    assert_eq!(server.accepted(), 1);
}

#[test]
fn https_to_a_plain_http_server_is_a_tls_error() {
    let server = RawServer::start(|mut stream, _| {
        // What a plain HTTP server says to a ClientHello.
        let mut hello = [0u8; 5];
        let _ = stream.read_exact(&mut hello);
        let _ = stream.write_all(&http_response("400 Bad Request", &[], b"plain http"));
        thread::sleep(Duration::from_millis(200));
    });
    let err = call(&https_client(server.port)).unwrap_err();
    assert_tls_failure(&err);
}

#[test]
fn https_to_a_server_that_hangs_up_during_the_handshake() {
    let server = RawServer::start(|mut stream, _| {
        let mut hello = [0u8; 5];
        let _ = stream.read_exact(&mut hello);
        let _ = stream.shutdown(Shutdown::Both);
    });
    let err = call(&https_client(server.port)).unwrap_err();
    if cfg!(feature = "native-tls") {
        // native-tls reports the hang-up as a handshake failure.
        assert_tls_failure(&err);
    } else {
        // The Limitation in `transport_error`: through rustls the hang-up cannot be told from
        // one after sending.
        let transport = assert_closed_after_send(&err, TransportKind::ConnectionClosed);
        assert!(io_kind(transport).is_some(), "{err:?}");
    }
}

// ---- proxies ----

/// A CONNECT proxy that plays the origin too: it records the CONNECT head, accepts the tunnel,
/// and answers the tunnelled request with a user.
fn connect_proxy() -> RawServer {
    RawServer::start(|mut stream, log| {
        let connect = read_request(&mut stream);
        log.requests.lock().unwrap().push(connect);
        if stream
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .is_err()
        {
            return;
        }
        log.read_request(&mut stream);
        let _ = stream.write_all(&json_response("200 OK", USER_BODY));
    })
}

/// A port on loopback that nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn assert_tunnelled(proxy: &RawServer, origin_port: u16) {
    let requests = proxy.requests();
    assert_eq!(requests.len(), 2);
    let connect = String::from_utf8(requests[0].clone()).unwrap();
    assert!(
        connect.starts_with(&format!("CONNECT 127.0.0.1:{origin_port} HTTP/1.1\r\n")),
        "{connect}"
    );
    // The proxy learns where the request goes, never the token.
    assert!(!connect.contains(TOKEN), "{connect}");
    let tunnelled = String::from_utf8(requests[1].clone()).unwrap();
    assert!(
        tunnelled.starts_with("POST /v1/management/users HTTP/1.1\r\n"),
        "{tunnelled}"
    );
    let headers = request_headers(&requests[1]);
    assert!(headers.contains(&("authorization".into(), format!("Bearer {TOKEN}"))));
}

#[test]
fn a_user_agent_with_its_own_proxy_is_used() {
    let proxy = connect_proxy();
    let origin = closed_port();
    let agent = ureq::Agent::config_builder()
        .proxy(Some(
            ureq::Proxy::new(&format!("http://127.0.0.1:{}", proxy.port)).unwrap(),
        ))
        .build()
        .new_agent();
    let client = ManagementClient::builder()
        .base_url(format!("http://127.0.0.1:{origin}/v1"))
        .management_token(TOKEN)
        .retry(RetryConfig::none())
        .agent(agent)
        .build()
        .unwrap();
    let user = call(&client).unwrap();
    assert_eq!(user.id, "user_1");
    assert_tunnelled(&proxy, origin);
}

/// Set by [`proxy_variables_are_read_from_the_environment`] for the child process it starts.
const CHILD_BASE_URL: &str = "HOSTILE_CHILD_BASE_URL";

const PROXY_VARIABLES: [&str; 8] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Runs [`env_proxy_child`] in a fresh process with exactly `vars` as proxy settings.
fn run_child(base_url: &str, vars: &[(&str, String)]) {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command.args([
        "env_proxy_child",
        "--exact",
        "--ignored",
        "--test-threads=1",
    ]);
    for name in PROXY_VARIABLES {
        command.env_remove(name);
    }
    command.env(CHILD_BASE_URL, base_url);
    command.envs(vars.iter().map(|(k, v)| (k, v)));
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "started as a child process by proxy_variables_are_read_from_the_environment"]
fn env_proxy_child() {
    let Ok(base_url) = std::env::var(CHILD_BASE_URL) else {
        return;
    };
    let client = ManagementClient::builder()
        .base_url(base_url)
        .management_token(TOKEN)
        .retry(RetryConfig::none())
        .build()
        .unwrap();
    assert_eq!(call(&client).unwrap().id, "user_1");
}

#[test]
fn proxy_variables_are_read_from_the_environment() {
    // The environment is process-wide: a child process keeps these settings away from the
    // other tests.
    for name in ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"] {
        let proxy = connect_proxy();
        let origin = closed_port();
        let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
        run_child(
            &format!("http://127.0.0.1:{origin}/v1"),
            &[(name, proxy_url)],
        );
        assert_tunnelled(&proxy, origin);
    }

    // NO_PROXY names hosts reached directly.
    let proxy = connect_proxy();
    let origin = RawServer::respond(json_response("200 OK", USER_BODY));
    run_child(
        &format!("{}/v1", origin.base_url()),
        &[
            ("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port)),
            ("NO_PROXY", "localhost,127.0.0.1".into()),
        ],
    );
    assert_eq!(proxy.accepted(), 0);
    assert_eq!(origin.requests().len(), 1);
}
