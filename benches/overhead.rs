//! What a call through the SDK costs over the same request sent with a bare `ureq::Agent`.
//!
//! `cargo bench --bench overhead` runs three scenarios against a loopback keep-alive server:
//!
//! - `ok`: `upsert_user` answered 200 with a complete User (`benches/fixtures/user.json`);
//! - `error`: answered 422 with Clerk's error list; the SDK returns `Error::Api`, raw decodes the
//!   list;
//! - `retry`: answered 503 then 200, the SDK retrying with zero backoff and no jitter, raw
//!   sending the request twice by hand;
//!
//! and, as context without a target, `ureq-timeouts`: the raw call with the SDK's timeouts set
//! against the same call with none, which is what ureq itself spends on timeouts.
//!
//! Both sides send the same headers and body bytes and decode into the same types. Timing is
//! paired and interleaved: each round times a batch of SDK calls and a batch of raw calls back
//! to back (alternating which goes first), and the figure is the median of the per-round ratios,
//! so that drift in machine load between rounds cancels out. A bootstrap gives its 95 %
//! confidence interval.
//!
//! Without `--bench` (as under `cargo test --all-targets`) each scenario is only checked once.
//! Arguments that are not flags filter scenarios by name. `OVERHEAD_ROUNDS` (default 400) and
//! `OVERHEAD_BATCH_MS` (default 4) change the amount of measurement; `OVERHEAD_PROFILE` runs one
//! side alone, for a profiler (see `profile` and BENCHMARKS.md).

#[path = "support/loopback.rs"]
mod loopback;

use std::hint::black_box;
use std::time::{Duration, Instant};

use clerk_management::upsert_user::{UpsertUserRequest, User};
use clerk_management::{
    CLERK_API_VERSION, ClerkError, DEFAULT_CONNECT_TIMEOUT, DEFAULT_RESPONSE_BODY_LIMIT,
    DEFAULT_TIMEOUT, DEFAULT_USER_AGENT, Error, ManagementClient, RetryConfig,
};
use loopback::{Route, Server, response};
use serde::Deserialize;
use serde_json::{Map, Value};
use ureq::Agent;

const USER: &[u8] = include_bytes!("fixtures/user.json");
const ERROR_422: &[u8] = include_bytes!("fixtures/error_422.json");
const ERROR_503: &[u8] = include_bytes!("fixtures/error_503.json");

const TOKEN: &str = "mt_bench_0123456789abcdef";
const SDK_HEADER: &str = concat!("clerk-management-rust/", env!("CARGO_PKG_VERSION"));
const TARGET_RATIO: f64 = 1.05;
const CODE_422: &str = "form_param_format_invalid";

/// Clerk's error list, decoded the way a hand-written client would.
#[derive(Deserialize)]
#[allow(dead_code)] // Decoded to pay for decoding, never read.
struct RawErrors {
    errors: Vec<ClerkError>,
    #[serde(default)]
    meta: Option<Map<String, Value>>,
    #[serde(default)]
    clerk_trace_id: Option<String>,
}

/// What the raw side gets back from one request.
enum RawOutcome {
    User(Box<User>),
    Errors(u16, RawErrors),
}

/// The same request as the SDK's, with a bare agent configured once.
struct Raw {
    agent: Agent,
    url: String,
    authorization: String,
}

impl Raw {
    /// With `timeouts`, the agent has the SDK's default timeouts, as a careful caller's would.
    fn new(base_url: &str, timeouts: bool) -> Raw {
        let (global, connect) = match timeouts {
            true => (Some(DEFAULT_TIMEOUT), Some(DEFAULT_CONNECT_TIMEOUT)),
            false => (None, None),
        };
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(global)
            .timeout_connect(connect)
            .build()
            .new_agent();
        Raw {
            agent,
            url: format!("{base_url}/management/users"),
            authorization: format!("Bearer {TOKEN}"),
        }
    }

    fn call(&self, request: &UpsertUserRequest) -> RawOutcome {
        let body = serde_json::to_vec(request).expect("serialize");
        let mut response = self
            .agent
            .post(&self.url)
            .header("authorization", &self.authorization)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("user-agent", DEFAULT_USER_AGENT)
            .header("clerk-api-version", CLERK_API_VERSION)
            .header("x-clerk-sdk", SDK_HEADER)
            .send(&body[..])
            .expect("send");
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(DEFAULT_RESPONSE_BODY_LIMIT)
            .read_to_vec()
            .expect("read body");
        if (200..300).contains(&status) {
            RawOutcome::User(Box::new(
                serde_json::from_slice(&bytes).expect("decode User"),
            ))
        } else {
            RawOutcome::Errors(
                status,
                serde_json::from_slice(&bytes).expect("decode errors"),
            )
        }
    }
}

/// One comparison: a call (usually through the SDK) and its baseline, each checked.
struct Scenario {
    name: &'static str,
    what: &'static str,
    labels: (&'static str, &'static str),
    /// The ratio to stay under; `None` for a comparison shown only as context.
    target: Option<f64>,
    // The flag asks for a full comparison with the expected value, left out of timed calls so
    // that both sides time only the call.
    sdk: Box<dyn FnMut(bool)>,
    raw: Box<dyn FnMut(bool)>,
}

fn request() -> UpsertUserRequest {
    UpsertUserRequest::new("ada@example.com", "Ada", "Lovelace")
}

fn sdk_client(base_url: String, retry: RetryConfig) -> ManagementClient {
    ManagementClient::builder()
        .management_token(TOKEN)
        .base_url(base_url)
        .retry(retry)
        .build()
        .expect("client")
}

fn scenarios(server: &Server) -> Vec<Scenario> {
    let base = server.base_url();
    let expected: User = serde_json::from_slice(USER).expect("fixture decodes");
    let request = request();
    let mut all = Vec::new();

    {
        let sdk = sdk_client(format!("{base}/ok"), RetryConfig::default());
        let raw = Raw::new(&format!("{base}/ok"), true);
        let (expected_sdk, expected_raw) = (expected.clone(), expected.clone());
        let (req_sdk, req_raw) = (request.clone(), request.clone());
        all.push(Scenario {
            name: "ok",
            what: "200 with a complete User",
            labels: ("sdk", "raw"),
            target: Some(TARGET_RATIO),
            sdk: Box::new(move |check| {
                let user = sdk.upsert_user(black_box(&req_sdk)).expect("sdk ok");
                assert!(!check || user == expected_sdk);
                black_box(user);
            }),
            raw: Box::new(move |check| match raw.call(black_box(&req_raw)) {
                RawOutcome::User(user) => {
                    assert!(!check || *user == expected_raw);
                    black_box(user);
                }
                RawOutcome::Errors(status, _) => panic!("raw ok: status {status}"),
            }),
        });
    }

    {
        let sdk = sdk_client(format!("{base}/invalid"), RetryConfig::default());
        let raw = Raw::new(&format!("{base}/invalid"), true);
        let (req_sdk, req_raw) = (request.clone(), request.clone());
        all.push(Scenario {
            name: "error",
            what: "422 with Clerk's error list",
            labels: ("sdk", "raw"),
            target: Some(TARGET_RATIO),
            sdk: Box::new(move |check| match sdk.upsert_user(black_box(&req_sdk)) {
                Err(Error::Api(api)) => {
                    assert!(!check || (api.errors.len() == 2 && api.code() == Some(CODE_422)));
                    black_box(api);
                }
                other => panic!("sdk error: {other:?}"),
            }),
            raw: Box::new(move |check| match raw.call(black_box(&req_raw)) {
                RawOutcome::Errors(422, errors) => {
                    assert!(
                        !check || (errors.errors.len() == 2 && errors.errors[0].code == CODE_422)
                    );
                    black_box(errors);
                }
                RawOutcome::Errors(status, _) => panic!("raw error: status {status}"),
                RawOutcome::User(_) => panic!("raw error: got a user"),
            }),
        });
    }

    {
        let retry = RetryConfig::default()
            .initial_interval(Duration::ZERO)
            .jitter(0.0);
        let sdk = sdk_client(format!("{base}/flaky"), retry);
        let raw = Raw::new(&format!("{base}/flaky"), true);
        let (expected_sdk, expected_raw) = (expected.clone(), expected.clone());
        let (req_sdk, req_raw) = (request.clone(), request.clone());
        all.push(Scenario {
            name: "retry",
            what: "503 then 200, zero backoff",
            labels: ("sdk", "raw"),
            target: Some(TARGET_RATIO),
            sdk: Box::new(move |check| {
                let user = sdk.upsert_user(black_box(&req_sdk)).expect("sdk retry");
                assert!(!check || user == expected_sdk);
                black_box(user);
            }),
            raw: Box::new(move |check| {
                match raw.call(black_box(&req_raw)) {
                    RawOutcome::Errors(503, errors) => {
                        black_box(errors);
                    }
                    _ => panic!("raw retry: the first answer is not 503"),
                }
                match raw.call(black_box(&req_raw)) {
                    RawOutcome::User(user) => {
                        assert!(!check || *user == expected_raw);
                        black_box(user);
                    }
                    RawOutcome::Errors(status, _) => panic!("raw retry: second is {status}"),
                }
            }),
        });
    }

    {
        // Context, not a target: what ureq itself spends per call once any timeout is set (it
        // then resolves the host on a new thread, pooled connection or not). The SDK always
        // sets timeouts, so this is part of both sides above.
        let timed = Raw::new(&format!("{base}/ok"), true);
        let untimed = Raw::new(&format!("{base}/ok"), false);
        let (expected_timed, expected_untimed) = (expected.clone(), expected);
        let (req_timed, req_untimed) = (request.clone(), request);
        let check = |outcome: RawOutcome, expected: &User, check: bool| match outcome {
            RawOutcome::User(user) => {
                assert!(!check || *user == *expected);
                black_box(user);
            }
            RawOutcome::Errors(status, _) => panic!("raw ok: status {status}"),
        };
        all.push(Scenario {
            name: "ureq-timeouts",
            what: "raw with vs without timeouts",
            labels: ("timed", "untimed"),
            target: None,
            sdk: Box::new(move |c| check(timed.call(black_box(&req_timed)), &expected_timed, c)),
            raw: Box::new(move |c| {
                check(untimed.call(black_box(&req_untimed)), &expected_untimed, c)
            }),
        });
    }
    all
}

/// Per-call times of one scenario, paired by round.
struct Measurement {
    sdk: Vec<f64>,
    raw: Vec<f64>,
    batch: u32,
}

fn time_batch(call: &mut dyn FnMut(bool), batch: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..batch {
        call(false);
    }
    start.elapsed().as_secs_f64() / f64::from(batch)
}

fn measure(scenario: &mut Scenario, rounds: usize, batch_time: Duration) -> Measurement {
    // Warm-up: connections opened, caches and allocator settled, and a per-call estimate.
    let warm_until = Instant::now() + Duration::from_millis(500);
    let (mut calls, start) = (0u32, Instant::now());
    while Instant::now() < warm_until {
        (scenario.sdk)(false);
        (scenario.raw)(false);
        calls += 1;
    }
    let per_pair = start.elapsed().as_secs_f64() / f64::from(calls);
    let batch = ((batch_time.as_secs_f64() * 2.0 / per_pair) as u32).max(1);

    let mut m = Measurement {
        sdk: Vec::with_capacity(rounds),
        raw: Vec::with_capacity(rounds),
        batch,
    };
    for round in 0..rounds {
        if round % 2 == 0 {
            m.sdk.push(time_batch(&mut scenario.sdk, batch));
            m.raw.push(time_batch(&mut scenario.raw, batch));
        } else {
            m.raw.push(time_batch(&mut scenario.raw, batch));
            m.sdk.push(time_batch(&mut scenario.sdk, batch));
        }
    }
    m
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let (low, high) = (at.floor() as usize, at.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (at - low as f64)
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    values
}

/// The 95 % percentile-bootstrap interval of the median of `values`.
fn bootstrap_median(values: &[f64]) -> (f64, f64) {
    // xorshift64*: a fixed seed keeps the interval reproducible for the same samples.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut medians = Vec::with_capacity(2000);
    let mut resample = vec![0.0; values.len()];
    for _ in 0..2000 {
        for slot in resample.iter_mut() {
            *slot = values[(next() % values.len() as u64) as usize];
        }
        resample.sort_by(f64::total_cmp);
        medians.push(quantile(&resample, 0.5));
    }
    medians.sort_by(f64::total_cmp);
    (quantile(&medians, 0.025), quantile(&medians, 0.975))
}

struct Summary {
    name: &'static str,
    what: &'static str,
    labels: (&'static str, &'static str),
    target: Option<f64>,
    sdk_us: f64,
    raw_us: f64,
    ratio: f64,
    ci: (f64, f64),
}

fn summarize(scenario: &Scenario, m: &Measurement) -> Summary {
    let ratios: Vec<f64> = m.sdk.iter().zip(&m.raw).map(|(s, r)| s / r).collect();
    let (sdk, raw) = (sorted(&m.sdk), sorted(&m.raw));
    let us = |v: &[f64], q| quantile(v, q) * 1e6;
    let (a, b) = scenario.labels;
    println!(
        "{:<13} {a:>7} {:>8.2} µs [{:>7.2} – {:>7.2}]   {b:>7} {:>8.2} µs [{:>7.2} – {:>7.2}]   \
         ({} rounds × {} calls)",
        scenario.name,
        us(&sdk, 0.5),
        us(&sdk, 0.25),
        us(&sdk, 0.75),
        us(&raw, 0.5),
        us(&raw, 0.25),
        us(&raw, 0.75),
        m.sdk.len(),
        m.batch,
    );
    Summary {
        name: scenario.name,
        what: scenario.what,
        labels: scenario.labels,
        target: scenario.target,
        sdk_us: us(&sdk, 0.5),
        raw_us: us(&raw, 0.5),
        ratio: quantile(&sorted(&ratios), 0.5),
        ci: bootstrap_median(&ratios),
    }
}

fn print_ratio(s: &Summary) {
    let verdict = match s.target {
        Some(target) if s.ratio <= target => format!("target ≤ {target:.2}×: met"),
        Some(target) => format!("target ≤ {target:.2}×: MISSED"),
        None => String::from("(context)"),
    };
    println!(
        "  {:<13} {:<30} {:>7}/{:<7} {:.3}×  [{:.3} – {:.3}]  {:+7.2} µs/call  {verdict}",
        s.name,
        s.what,
        s.labels.0,
        s.labels.1,
        s.ratio,
        s.ci.0,
        s.ci.1,
        s.sdk_us - s.raw_us,
    );
}

/// Runs one side alone, for a profiler: `OVERHEAD_PROFILE=sdk` (the first of the pair) or
/// `raw` (the second), `OVERHEAD_CALLS` times (default 2000) per selected scenario.
fn profile(selected: &mut [Scenario], side: &str) {
    let calls = env_number("OVERHEAD_CALLS", 2000).max(1);
    for scenario in selected {
        let call = match side {
            "sdk" => &mut scenario.sdk,
            "raw" => &mut scenario.raw,
            other => panic!("OVERHEAD_PROFILE must be sdk or raw, not {other:?}"),
        };
        let start = Instant::now();
        for _ in 0..calls {
            call(false);
        }
        let per_call = start.elapsed().as_secs_f64() * 1e6 / calls as f64;
        println!(
            "{} {side}: {calls} calls, {per_call:.2} µs per call",
            scenario.name
        );
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not {value:?}")),
        Err(_) => default,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.iter().any(|a| a == "--bench");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();

    let server = Server::start(vec![
        Route::new(
            "/ok/management/users",
            vec![response("200 OK", "application/json", USER)],
        ),
        Route::new(
            "/invalid/management/users",
            vec![response(
                "422 Unprocessable Entity",
                "application/json",
                ERROR_422,
            )],
        ),
        Route::new(
            "/flaky/management/users",
            vec![
                response("503 Service Unavailable", "application/json", ERROR_503),
                response("200 OK", "application/json", USER),
            ],
        ),
    ]);

    let mut selected: Vec<Scenario> = scenarios(&server)
        .into_iter()
        .filter(|s| filters.is_empty() || filters.iter().any(|f| s.name.contains(f.as_str())))
        .collect();

    // Before any timing: both sides get the expected answer and send identical bytes.
    server.record(true);
    for scenario in &mut selected {
        (scenario.sdk)(true);
        let sdk = server.take_recorded();
        (scenario.raw)(true);
        let raw = server.take_recorded();
        if sdk != raw {
            let show = |r: &[Vec<u8>]| -> Vec<String> {
                r.iter()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect()
            };
            panic!(
                "{}: the SDK and raw requests differ\nsdk: {:#?}\nraw: {:#?}",
                scenario.name,
                show(&sdk),
                show(&raw)
            );
        }
        println!(
            "overhead/{}: same {} request(s) on the wire, same answer",
            scenario.name,
            sdk.len()
        );
    }
    server.record(false);
    if let Ok(side) = std::env::var("OVERHEAD_PROFILE") {
        profile(&mut selected, &side);
        return;
    }
    if !bench {
        println!("(checked only; `cargo bench --bench overhead` times them)");
        return;
    }

    let rounds = env_number("OVERHEAD_ROUNDS", 400).max(3) as usize;
    let batch_time = Duration::from_millis(env_number("OVERHEAD_BATCH_MS", 4).max(1));
    println!("per call: median [p25 – p75]");
    let mut summaries = Vec::new();
    for scenario in &mut selected {
        let m = measure(scenario, rounds, batch_time);
        summaries.push(summarize(scenario, &m));
    }

    println!();
    println!(
        "Ratios: median of paired per-round ratios [95 % bootstrap CI], difference of medians"
    );
    summaries.iter().for_each(print_ratio);
    println!(
        "  server: {} connections accepted, {} requests answered",
        server.connections(),
        server.requests()
    );
}
