//! Raw-TCP fake servers on 127.0.0.1, for what the stand-in cannot do: close a connection
//! after reading the request, hang, trickle bytes, reset, keep count of connections, and
//! time each request as it arrives.

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The token the raw servers' clients use; never checked by the servers.
pub const TOKEN: &str = "mt_raw_server_token_0123456789";

/// How long a handler that holds a connection keeps it at most, should the test forget it.
const HOLD_LIMIT: Duration = Duration::from_secs(30);

/// One request as a raw server read it.
#[derive(Debug, Clone)]
pub struct Received {
    /// When its last byte was read.
    pub at: Instant,
    /// Which accepted connection it came on (0 for the first).
    pub connection: usize,
    /// The request head and body, byte for byte.
    pub bytes: Vec<u8>,
}

impl Received {
    /// The request line, such as `POST /management/users HTTP/1.1`.
    pub fn request_line(&self) -> String {
        let text = String::from_utf8_lossy(&self.bytes);
        text.lines().next().unwrap_or_default().to_owned()
    }
}

/// What a handler knows about its connection and the server.
pub struct Conn {
    pub stream: TcpStream,
    pub index: usize,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Received>>>,
    closed: Arc<AtomicUsize>,
}

impl Conn {
    /// Reads one request (head, then `Content-Length` bytes of body) and logs it; `None` when
    /// the client closed the connection first.
    pub fn read_request(&mut self) -> Option<Vec<u8>> {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        let head_end = loop {
            if let Some(at) = find(&bytes, b"\r\n\r\n") {
                break at + 4;
            }
            match self.stream.read(&mut buf) {
                Ok(0) | Err(_) => return None,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
            }
        };
        let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        while bytes.len() < head_end + length {
            match self.stream.read(&mut buf) {
                Ok(0) | Err(_) => return None,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
            }
        }
        self.log.lock().unwrap().push(Received {
            at: Instant::now(),
            connection: self.index,
            bytes: bytes.clone(),
        });
        Some(bytes)
    }

    /// Whether the server is being dropped.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Keeps the connection open, sending nothing, until the server is dropped.
    pub fn hold(&self) {
        let start = Instant::now();
        while !self.stopped() && start.elapsed() < HOLD_LIMIT {
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Closes the connection cleanly (FIN).
    pub fn close(self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        self.closed.fetch_add(1, Ordering::SeqCst);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

type Handler = dyn Fn(Conn) + Send + Sync + 'static;

/// A TCP server on 127.0.0.1 that runs `handler` on a thread per accepted connection.
pub struct RawServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Received>>>,
    accepted: Arc<Mutex<usize>>,
    closed: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl RawServer {
    pub fn start(handler: impl Fn(Conn) + Send + Sync + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(Mutex::new(0));
        let closed = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);

        let thread = {
            let (stop, log, accepted) = (stop.clone(), log.clone(), accepted.clone());
            let closed = closed.clone();
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let index = {
                        let mut count = accepted.lock().unwrap();
                        *count += 1;
                        *count - 1
                    };
                    let conn = Conn {
                        stream,
                        index,
                        stop: stop.clone(),
                        log: log.clone(),
                        closed: closed.clone(),
                    };
                    let handler = handler.clone();
                    thread::spawn(move || handler(conn));
                }
            })
        };

        RawServer {
            addr,
            stop,
            log,
            accepted,
            closed,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests read so far, oldest first.
    pub fn requests(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        *self.accepted.lock().unwrap()
    }

    /// Connections the handlers closed with [`Conn::close`] so far.
    pub fn closed(&self) -> usize {
        self.closed.load(Ordering::SeqCst)
    }

    /// Waits until `count` connections were closed by the handlers, or `limit` has passed.
    pub fn wait_for_closed(&self, count: usize, limit: Duration) {
        let start = Instant::now();
        while self.closed() < count && start.elapsed() < limit {
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until `count` requests have been read, or `limit` has passed.
    pub fn wait_for_requests(&self, count: usize, limit: Duration) {
        let start = Instant::now();
        while self.requests().len() < count && start.elapsed() < limit {
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads the request, then closes the connection without answering.
pub fn close_after_request() -> RawServer {
    RawServer::start(|mut conn| {
        let _ = conn.read_request();
        conn.close();
    })
}

/// Reads the request and never answers, holding the connection open.
pub fn hang() -> RawServer {
    RawServer::start(|mut conn| {
        let _ = conn.read_request();
        conn.hold();
    })
}

/// Reads the request, writes `prefix` at once, then `trickle` one byte every `interval`.
pub fn trickle(prefix: &'static [u8], trickle: &'static [u8], interval: Duration) -> RawServer {
    RawServer::start(move |mut conn| {
        let _ = conn.read_request();
        if conn.stream.write_all(prefix).is_err() {
            return;
        }
        for byte in trickle {
            thread::sleep(interval);
            if conn.stopped() || conn.stream.write_all(&[*byte]).is_err() {
                return;
            }
        }
        conn.hold();
    })
}

/// Reads part of the request and closes with the rest unread, which makes the kernel answer
/// with a reset instead of a clean close.
pub fn reset_after_request() -> RawServer {
    RawServer::start(|mut conn| {
        let mut first = [0u8; 1];
        if conn.stream.read_exact(&mut first).is_err() {
            return;
        }
        // Lets the whole request arrive, so that unread bytes are pending at the close.
        thread::sleep(Duration::from_millis(50));
        conn.log.lock().unwrap().push(Received {
            at: Instant::now(),
            connection: conn.index,
            bytes: first.to_vec(),
        });
        drop(conn.stream);
    })
}

/// Answers the requests of every connection with `responses`, in order, one each, keeping
/// connections alive; once they are used up, a connection is closed.
pub fn scripted(responses: Vec<Vec<u8>>) -> RawServer {
    let queue = Arc::new(Mutex::new(std::collections::VecDeque::from(responses)));
    RawServer::start(move |mut conn| {
        while conn.read_request().is_some() {
            let next = queue.lock().unwrap().pop_front();
            let Some(response) = next else { break };
            if conn.stream.write_all(&response).is_err() {
                break;
            }
        }
        conn.close();
    })
}

/// Answers every request of a connection with `response`, keeping it alive.
pub fn keep_alive(response: Vec<u8>) -> RawServer {
    RawServer::start(move |mut conn| {
        while conn.read_request().is_some() {
            if conn.stream.write_all(&response).is_err() {
                break;
            }
        }
    })
}

/// Answers one request, keeps the connection idle for `idle`, then closes it, as a server
/// whose keep-alive timeout is `idle` does.
pub fn answer_then_close_idle(response: Vec<u8>, idle: Duration) -> RawServer {
    RawServer::start(move |mut conn| {
        if conn.read_request().is_none() {
            return;
        }
        if conn.stream.write_all(&response).is_err() {
            return;
        }
        thread::sleep(idle);
        conn.close();
    })
}

/// A raw HTTP/1.1 response with a `Content-Length`.
pub fn http_response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// A 200 with a small JSON user.
pub fn user_response(id: &str) -> Vec<u8> {
    let body = format!(r#"{{"id":"{id}","object":"user","first_name":"Ada"}}"#);
    http_response(
        "200 OK",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

/// A port on 127.0.0.1 that nothing listens on: bound, read, and released.
pub fn refused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Whether `kind` is one of the ways a peer's reset shows up on our side.
pub fn is_reset(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
    )
}

/// A listener whose accept queue is full: the kernel drops further connection attempts
/// unanswered, so a connect to it hangs until the caller's timeout. Keep it alive meanwhile.
pub struct FullBacklog {
    listener: TcpListener,
    _held: Vec<TcpStream>,
}

impl FullBacklog {
    pub fn new() -> FullBacklog {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut held = Vec::new();
        // Never accepted, each connection takes a place in the queue until none is left.
        while let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            held.push(stream);
            assert!(held.len() < 100_000, "the accept queue never filled");
        }
        FullBacklog {
            listener,
            _held: held,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.listener.local_addr().unwrap())
    }
}
