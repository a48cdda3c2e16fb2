//! A minimal HTTP/1.1 keep-alive server on 127.0.0.1 that answers canned responses.
//!
//! Shared by `benches/overhead.rs` and `tests/connection_reuse.rs`. It does as little as an HTTP
//! server can (read the head, skip `Content-Length` bytes of body, write one prepared buffer),
//! so that timings measure the client, and it counts accepted connections and requests.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// A complete HTTP/1.1 response, head and body, ready to write.
pub fn response(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The answers for one path: the n-th request on a connection gets `answers[n % len]`.
///
/// Counting per connection keeps a sequence such as 503-then-200 in step for every client that
/// keeps its connection, whatever other clients do meanwhile.
pub struct Route {
    path: String,
    answers: Vec<Arc<[u8]>>,
}

impl Route {
    /// `path` (exact match, no query) answered with `answers` in turn.
    pub fn new(path: &str, answers: Vec<Vec<u8>>) -> Route {
        assert!(!answers.is_empty(), "a route needs at least one answer");
        Route {
            path: path.to_owned(),
            answers: answers.into_iter().map(Arc::from).collect(),
        }
    }
}

struct Shared {
    routes: HashMap<String, Vec<Arc<[u8]>>>,
    not_found: Vec<u8>,
    connections: AtomicUsize,
    requests: AtomicUsize,
    stop: AtomicBool,
    recording: AtomicBool,
    recorded: Mutex<Vec<Vec<u8>>>,
}

/// A running server; stops accepting when dropped.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Server {
    /// Binds an ephemeral port on 127.0.0.1 and serves `routes`, one thread per connection.
    pub fn start(routes: Vec<Route>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            routes: routes.into_iter().map(|r| (r.path, r.answers)).collect(),
            not_found: response("404 Not Found", "text/plain", b"no such route"),
            connections: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            recording: AtomicBool::new(false),
            recorded: Mutex::new(Vec::new()),
        });

        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                accepting.connections.fetch_add(1, Ordering::SeqCst);
                let serving = Arc::clone(&accepting);
                thread::spawn(move || {
                    // A client closing or resetting its connection ends the thread; nothing to
                    // report.
                    let _ = serve(stream, &serving);
                });
            }
        });
        Server { addr, shared }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Requests answered so far, on all connections.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Starts or stops keeping the bytes of each request (head and body) as received.
    pub fn record(&self, on: bool) {
        self.shared.recording.store(on, Ordering::SeqCst);
    }

    /// The requests recorded since the last call, oldest first.
    pub fn take_recorded(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.shared.recorded.lock().expect("recorded"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag; failing to connect means it is gone.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Answers requests on one connection until the client closes it.
fn serve(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut served: HashMap<String, usize> = HashMap::new();
    let mut head = String::new();
    let mut body = Vec::new();

    loop {
        head.clear();
        if reader.read_line(&mut head)? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        loop {
            let start = head.len();
            if reader.read_line(&mut head)? == 0 {
                return Ok(());
            }
            let header = head[start..].trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        body.resize(length, 0);
        reader.read_exact(&mut body)?;

        shared.requests.fetch_add(1, Ordering::SeqCst);
        if shared.recording.load(Ordering::SeqCst) {
            let mut request = head.clone().into_bytes();
            request.extend_from_slice(&body);
            shared.recorded.lock().expect("recorded").push(request);
        }
        let path = head.split(' ').nth(1).unwrap_or("").to_owned();
        let answer: &[u8] = match shared.routes.get(&path) {
            Some(answers) => {
                let n = served.entry(path).or_insert(0);
                let answer = &answers[*n % answers.len()];
                *n += 1;
                answer
            }
            None => &shared.not_found,
        };
        writer.write_all(answer)?;
    }
}
