//! The retry loop and the timeouts against real servers on 127.0.0.1, with short intervals.
//!
//! Counts are exact; times are checked against lower bounds the schedule guarantees and upper
//! bounds with a generous tolerance, since the machine may be busy.

mod common;

use std::io::ErrorKind;
use std::time::{Duration, Instant, SystemTime};

use clerk_management::create_organization::CreateOrganizationRequest;
use clerk_management::testing::{Fault, StandIn};
use clerk_management::upsert_user::UpsertUserRequest;
use clerk_management::{
    Error, ManagementClient, ManagementClientBuilder, RequestOptions, RetryConfig, TimeoutPhase,
    TransportKind,
};

/// Added to every upper bound on time: a loaded machine is slow, never fast.
const SLACK: Duration = Duration::from_millis(700);

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn ada() -> UpsertUserRequest {
    UpsertUserRequest::new("ada@example.com", "Ada", "Lovelace")
}

fn acme() -> CreateOrganizationRequest {
    CreateOrganizationRequest::new("Acme", "acme")
}

/// A quick exact schedule: waits of `initial`, ×1.5 each time, no jitter.
fn quick(initial: u64) -> RetryConfig {
    RetryConfig::default()
        .initial_interval(ms(initial))
        .jitter(0.0)
}

fn raw_client(base_url: String) -> ManagementClientBuilder {
    ManagementClient::builder()
        .base_url(base_url)
        .management_token(common::TOKEN)
}

fn status_fault(status: u16) -> Fault {
    Fault::Status {
        status,
        retry_after: None,
    }
}

fn clerk_body(code: &str) -> String {
    format!(r#"{{"errors":[{{"code":"{code}","message":"m","long_message":"m"}}]}}"#)
}

fn status_response(status: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend_from_slice(extra);
    common::http_response(status, &headers, clerk_body("busy").as_bytes())
}

fn gaps(server: &common::RawServer) -> Vec<Duration> {
    let requests = server.requests();
    requests.windows(2).map(|w| w[1].at - w[0].at).collect()
}

#[test]
fn server_errors_then_success_is_ok_after_three_requests() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(status_fault(503));
    stand_in.push_fault(status_fault(502));
    let client = stand_in.client_builder().retry(quick(20)).build().unwrap();

    let start = Instant::now();
    let user = client.upsert_user(&ada()).unwrap();
    let elapsed = start.elapsed();

    assert!(user.id.starts_with("user_"));
    let requests = stand_in.requests();
    assert_eq!(requests.len(), 3);
    // The same request each time.
    assert!(requests.iter().all(|r| r.body == requests[0].body));
    // Waits of 20 ms and 30 ms.
    assert!(elapsed >= ms(50), "{elapsed:?}");
    assert!(elapsed < ms(50) + SLACK, "{elapsed:?}");
}

#[test]
fn backoff_spacing_follows_the_schedule() {
    let responses = (0..4)
        .map(|_| status_response("503 Service Unavailable", &[]))
        .collect();
    let server = common::scripted(responses);
    let policy = RetryConfig::default()
        .initial_interval(ms(40))
        .exponent(2.0)
        .jitter(0.0)
        .max_attempts(4);
    let client = raw_client(server.base_url()).retry(policy).build().unwrap();

    let error = client.upsert_user(&ada()).unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.attempts(), 4);
    assert_eq!(server.requests().len(), 4);
    let gaps = gaps(&server);
    for (gap, wait) in gaps.iter().zip([40, 80, 160]) {
        assert!(*gap >= ms(wait), "{gaps:?}");
        assert!(*gap < ms(wait) + SLACK, "{gaps:?}");
    }
}

#[test]
fn always_503_stops_at_the_attempt_cap() {
    let stand_in = StandIn::start().unwrap();
    for _ in 0..10 {
        stand_in.push_fault(status_fault(503));
    }
    let client = stand_in
        .client_builder()
        .retry(quick(20).max_attempts(4))
        .build()
        .unwrap();

    let start = Instant::now();
    let error = client.upsert_user(&ada()).unwrap_err();
    let elapsed = start.elapsed();

    assert_eq!(stand_in.requests().len(), 4);
    assert_eq!(error.attempts(), 4);
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.code(), Some("stand_in_fault"));
    let call = error.call_info().unwrap();
    // Waits of 20, 30 and 45 ms.
    assert!(call.elapsed >= ms(95), "{call:?}");
    assert!(call.elapsed <= elapsed);
    assert!(elapsed < ms(95) + SLACK, "{elapsed:?}");
    assert!(error.to_string().contains("(4 attempts in "), "{error}");
}

#[test]
fn always_503_stops_at_the_time_budget() {
    let stand_in = StandIn::start().unwrap();
    for _ in 0..20 {
        stand_in.push_fault(status_fault(503));
    }
    // Waits of 150 ms within a 600 ms budget: four or five attempts, depending on how long
    // the attempts themselves take on this machine. What must hold either way: the loop
    // stopped because one more wait would have ended past the budget, and not before.
    let wait = ms(150);
    let budget = ms(600);
    let policy = quick(150).exponent(1.0).max_elapsed(budget);
    let client = stand_in.client_builder().retry(policy).build().unwrap();

    let start = Instant::now();
    let error = client.upsert_user(&ada()).unwrap_err();
    let elapsed = start.elapsed();

    let attempts = error.attempts();
    assert!((4..=5).contains(&attempts), "{error}");
    assert_eq!(stand_in.requests().len(), attempts as usize);
    let call = error.call_info().unwrap();
    assert!(call.elapsed >= wait * (attempts - 1), "{call:?}");
    assert!(call.elapsed + wait > budget, "stopped early: {call:?}");
    assert!(call.elapsed <= budget + SLACK, "{call:?}");
    assert!(elapsed < budget + SLACK, "{elapsed:?}");
}

#[test]
fn retry_after_seconds_is_waited_for() {
    let server = common::scripted(vec![
        status_response("429 Too Many Requests", &[("Retry-After", "1")]),
        common::user_response("user_after"),
    ]);
    let client = raw_client(server.base_url())
        .retry(quick(20))
        .build()
        .unwrap();

    let user = client.upsert_user(&ada()).unwrap();
    assert_eq!(user.id, "user_after");
    assert_eq!(server.requests().len(), 2);
    let gap = gaps(&server)[0];
    assert!(gap >= Duration::from_secs(1), "{gap:?}");
    assert!(gap < Duration::from_secs(1) + SLACK, "{gap:?}");
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` for `at`.
fn http_date(at: SystemTime) -> String {
    let at = time::OffsetDateTime::from(at);
    let three = |name: String| name[..3].to_owned();
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        three(format!("{:?}", at.weekday())),
        at.day(),
        three(format!("{:?}", at.month())),
        at.year(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[test]
fn retry_after_http_date_is_waited_for() {
    // Whole seconds: three seconds from now, cut to the second, is 2 to 3 s away; the
    // first request comes a little later.
    let date = http_date(SystemTime::now() + Duration::from_secs(3));
    let server = common::scripted(vec![
        // A proxy's page rather than Clerk's error list: its Retry-After counts the same.
        common::http_response(
            "503 Service Unavailable",
            &[("Content-Type", "text/html"), ("Retry-After", &date)],
            b"<html><body>overloaded</body></html>",
        ),
        common::user_response("user_date"),
    ]);
    let client = raw_client(server.base_url())
        .retry(quick(20))
        .build()
        .unwrap();

    client.upsert_user(&ada()).unwrap();
    assert_eq!(server.requests().len(), 2);
    let gap = gaps(&server)[0];
    assert!(gap >= Duration::from_secs(1), "{date}: {gap:?}");
    assert!(gap < Duration::from_secs(3) + SLACK, "{date}: {gap:?}");
}

#[test]
fn retry_after_past_the_budget_returns_at_once_with_the_wait() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::Status {
        status: 429,
        retry_after: Some("120".into()),
    });
    let client = stand_in
        .client_builder()
        .retry(RetryConfig::default())
        .build()
        .unwrap();

    let start = Instant::now();
    let error = client.upsert_user(&ada()).unwrap_err();
    assert!(start.elapsed() < SLACK);
    assert_eq!(stand_in.requests().len(), 1);
    assert_eq!(error.attempts(), 1);
    assert_eq!(error.status(), Some(429));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
}

#[test]
fn client_errors_are_not_retried() {
    for status in [400, 401, 403, 404, 409, 422] {
        let stand_in = StandIn::start().unwrap();
        for _ in 0..3 {
            stand_in.push_fault(status_fault(status));
        }
        let client = stand_in
            .client_builder()
            .retry(quick(10).max_attempts(3))
            .build()
            .unwrap();
        let error = client.upsert_user(&ada()).unwrap_err();
        assert_eq!(error.status(), Some(status));
        assert_eq!(error.attempts(), 1);
        assert_eq!(stand_in.requests().len(), 1, "{status}");
    }
}

#[test]
fn per_call_retry_policy_overrides_the_clients() {
    let stand_in = StandIn::start().unwrap();
    for _ in 0..5 {
        stand_in.push_fault(status_fault(500));
    }
    // The stand-in's client does not retry; this call does.
    let client = stand_in.client().unwrap();
    let options = RequestOptions::new().retry(quick(10).max_attempts(3));
    let error = client
        .upsert_user_with_options(&ada(), &options)
        .unwrap_err();
    assert_eq!(error.attempts(), 3);
    assert_eq!(stand_in.requests().len(), 3);

    // A retrying client, and a call that does not retry.
    let client = stand_in
        .client_builder()
        .retry(quick(10).max_attempts(3))
        .build()
        .unwrap();
    let options = RequestOptions::new().retry(RetryConfig::none());
    let error = client
        .upsert_user_with_options(&ada(), &options)
        .unwrap_err();
    assert_eq!(error.attempts(), 1);
    assert_eq!(stand_in.requests().len(), 4);
}

#[test]
fn connection_closed_after_the_request_is_retried_only_when_idempotent() {
    let server = common::close_after_request();
    let client = raw_client(server.base_url())
        .retry(quick(20).max_attempts(3))
        .build()
        .unwrap();

    let error = client.upsert_user(&ada()).unwrap_err();
    let Error::Transport(transport) = &error else {
        panic!("expected Transport, got {error:?}")
    };
    assert_eq!(transport.kind, TransportKind::ConnectionClosed);
    assert!(matches!(
        transport.ureq_error(),
        ureq::Error::Io(e) if e.kind() == ErrorKind::UnexpectedEof
    ));
    assert_eq!(error.attempts(), 3);
    assert!(error.may_have_been_applied());
    server.wait_for_requests(3, SLACK);
    assert_eq!(server.requests().len(), 3);
    assert!(
        server.requests()[0]
            .request_line()
            .starts_with("POST /management/users ")
    );

    let server = common::close_after_request();
    let client = raw_client(server.base_url())
        .retry(quick(20).max_attempts(3))
        .build()
        .unwrap();
    let error = client.create_organization(&acme()).unwrap_err();
    let Error::Transport(transport) = &error else {
        panic!("expected Transport, got {error:?}")
    };
    assert_eq!(transport.kind, TransportKind::ConnectionClosed);
    assert_eq!(error.attempts(), 1);
    assert!(error.may_have_been_applied());
    assert!(error.to_string().starts_with(
        "connection closed before the response was complete; the request may have \
                 been applied (1 attempt in "
    ));
    // Time for a second request to show up, were one (wrongly) sent.
    std::thread::sleep(ms(100));
    assert_eq!(server.requests().len(), 1);
    assert!(
        server.requests()[0]
            .request_line()
            .starts_with("POST /management/organizations ")
    );
}

#[test]
fn connection_reset_after_the_request_is_retried_only_when_idempotent() {
    for (idempotent, expected) in [(true, 3), (false, 1)] {
        let server = common::reset_after_request();
        let client = raw_client(server.base_url())
            .retry(quick(20).max_attempts(3))
            .build()
            .unwrap();
        let error = if idempotent {
            client.upsert_user(&ada()).map(|_| ()).unwrap_err()
        } else {
            client.create_organization(&acme()).map(|_| ()).unwrap_err()
        };
        let Error::Transport(transport) = &error else {
            panic!("expected Transport, got {error:?}")
        };
        assert_eq!(transport.kind, TransportKind::ConnectionClosed);
        assert!(
            matches!(transport.ureq_error(), ureq::Error::Io(e) if common::is_reset(e.kind())),
            "{:?}",
            transport.ureq_error()
        );
        assert_eq!(error.attempts(), expected);
        assert!(error.may_have_been_applied());
        std::thread::sleep(ms(100));
        assert_eq!(server.connections(), expected as usize);
    }
}

#[test]
fn connection_refused_is_retried_for_every_operation() {
    let base_url = format!("http://127.0.0.1:{}", common::refused_port());
    let client = raw_client(base_url.clone())
        .retry(quick(20).max_attempts(3))
        .build()
        .unwrap();

    let start = Instant::now();
    let error = client.upsert_user(&ada()).unwrap_err();
    assert!(start.elapsed() >= ms(50));
    let Error::Transport(transport) = &error else {
        panic!("expected Transport, got {error:?}")
    };
    assert_eq!(transport.kind, TransportKind::ConnectionRefused);
    assert_eq!(error.attempts(), 3);
    assert!(!error.may_have_been_applied());

    // Nothing reached a server, so a create is retried too.
    let error = client.create_organization(&acme()).unwrap_err();
    assert_eq!(error.attempts(), 3);
    assert!(!error.may_have_been_applied());

    // Unless connection errors are not to be retried.
    let client = raw_client(base_url)
        .retry(quick(20).max_attempts(3).retry_connection_errors(false))
        .build()
        .unwrap();
    let error = client.upsert_user(&ada()).unwrap_err();
    assert_eq!(error.attempts(), 1);
}

fn assert_response_timeout(error: &Error, limit: Duration) {
    let Error::Timeout(timeout) = error else {
        panic!("expected Timeout, got {error:?}")
    };
    assert_eq!(timeout.phase, TimeoutPhase::Response);
    assert_eq!(timeout.limit, limit);
    assert!(error.may_have_been_applied());
}

#[test]
fn hanging_server_ends_at_the_attempt_timeout() {
    let server = common::hang();
    let client = raw_client(server.base_url())
        .retry(RetryConfig::none())
        .timeout(ms(300))
        .build()
        .unwrap();

    let start = Instant::now();
    let error = client.upsert_user(&ada()).unwrap_err();
    let elapsed = start.elapsed();
    assert_response_timeout(&error, ms(300));
    assert_eq!(error.attempts(), 1);
    assert!(elapsed >= ms(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn per_call_timeout_overrides_the_clients() {
    let server = common::hang();
    let client = raw_client(server.base_url())
        .retry(RetryConfig::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let options = RequestOptions::new().timeout(ms(200));

    let start = Instant::now();
    let error = client
        .upsert_user_with_options(&ada(), &options)
        .unwrap_err();
    let elapsed = start.elapsed();
    assert_response_timeout(&error, ms(200));
    assert!(
        elapsed >= ms(200) && elapsed < ms(200) + SLACK,
        "{elapsed:?}"
    );
}

#[test]
fn response_timeouts_are_retried_only_when_idempotent() {
    let server = common::hang();
    let client = raw_client(server.base_url())
        .retry(quick(20).max_attempts(2))
        .timeout(ms(200))
        .build()
        .unwrap();

    let error = client.upsert_user(&ada()).unwrap_err();
    assert_response_timeout(&error, ms(200));
    assert_eq!(error.attempts(), 2);
    assert_eq!(server.requests().len(), 2);

    let start = Instant::now();
    let error = client.create_organization(&acme()).unwrap_err();
    assert!(start.elapsed() < ms(200) + SLACK);
    assert_response_timeout(&error, ms(200));
    assert_eq!(error.attempts(), 1);
    std::thread::sleep(ms(100));
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn a_call_lasts_at_most_the_budget_and_one_attempt_timeout() {
    let server = common::hang();
    // Attempt 1 ends at 200 ms, attempt 2 starts at 220 ms and ends at 420 ms; no wait fits
    // in the 300 ms budget after that.
    let policy = quick(20).exponent(1.0).max_elapsed(ms(300));
    let client = raw_client(server.base_url())
        .retry(policy)
        .timeout(ms(200))
        .build()
        .unwrap();

    let start = Instant::now();
    let error = client.upsert_user(&ada()).unwrap_err();
    let elapsed = start.elapsed();
    assert_response_timeout(&error, ms(200));
    assert_eq!(error.attempts(), 2);
    assert!(elapsed >= ms(420), "{elapsed:?}");
    assert!(elapsed < ms(300 + 200) + SLACK, "{elapsed:?}");
    assert_eq!(server.requests().len(), 2);
}

/// One attempt with a 300 ms timeout against `base_url` ends in a response timeout, on time.
fn ends_at_a_300_ms_attempt_timeout(base_url: String) {
    let client = raw_client(base_url)
        .retry(RetryConfig::none())
        .timeout(ms(300))
        .build()
        .unwrap();

    let start = Instant::now();
    let error = client.upsert_user(&ada()).unwrap_err();
    let elapsed = start.elapsed();
    assert_response_timeout(&error, ms(300));
    assert!(elapsed >= ms(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[test]
fn trickling_status_line_ends_at_the_attempt_timeout() {
    let server = common::trickle(
        b"",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
        ms(100),
    );
    ends_at_a_300_ms_attempt_timeout(server.base_url());
}

#[test]
fn trickling_body_ends_at_the_attempt_timeout() {
    let server = common::trickle(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n",
        br#"{"id":"user_slow","first":"A"}"#,
        ms(200),
    );
    ends_at_a_300_ms_attempt_timeout(server.base_url());
}

#[test]
fn zero_timeouts_are_refused_and_huge_ones_work() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in.client().unwrap();
    let options = RequestOptions::new().timeout(Duration::ZERO);
    let error = client
        .upsert_user_with_options(&ada(), &options)
        .unwrap_err();
    let Error::InvalidRequest { field, message, .. } = &error else {
        panic!("expected InvalidRequest, got {error:?}")
    };
    assert_eq!(
        (field.as_str(), message.as_str()),
        ("timeout", "must be longer than zero")
    );
    assert_eq!(error.attempts(), 0);
    assert!(stand_in.requests().is_empty());

    // Past what an `Instant` can hold: as good as no timeout, and no panic.
    let options = RequestOptions::new().timeout(Duration::MAX);
    client.upsert_user_with_options(&ada(), &options).unwrap();
    let client = stand_in
        .client_builder()
        .timeout(Duration::MAX)
        .connect_timeout(Duration::MAX)
        .build()
        .unwrap();
    client.upsert_user(&ada()).unwrap();
    assert_eq!(stand_in.requests().len(), 2);
}

#[test]
fn a_server_error_with_a_body_over_the_limit_is_still_retried() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::Respond {
        status: 503,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: vec![b'x'; 8192],
    });
    stand_in.push_fault(Fault::json(200, &serde_json::json!({"id": "user_small"})));
    let client = stand_in
        .client_builder()
        .retry(quick(20).max_attempts(3))
        .response_body_limit(1024)
        .build()
        .unwrap();
    let user = client.upsert_user(&ada()).unwrap();
    assert_eq!(user.id, "user_small");
    assert_eq!(stand_in.requests().len(), 2);

    // And a success over the limit is not.
    let big = format!(r#"{{"id":"user_big","padding":"{}"}}"#, "x".repeat(4096));
    for _ in 0..3 {
        stand_in.push_fault(Fault::json(200, &serde_json::from_str(&big).unwrap()));
    }
    let error = client.upsert_user(&ada()).unwrap_err();
    assert!(
        matches!(error, Error::ResponseTooLarge { status: 200, .. }),
        "{error:?}"
    );
    assert_eq!(error.attempts(), 1);
    assert_eq!(stand_in.requests().len(), 3);
}

#[test]
fn connect_timeout_is_its_own_phase_and_retried_for_every_operation() {
    let backlog = common::FullBacklog::new();
    let client = raw_client(backlog.base_url())
        .retry(RetryConfig::none())
        .timeout(Duration::from_secs(5))
        .connect_timeout(ms(200))
        .build()
        .unwrap();

    let start = Instant::now();
    let error = client.upsert_user(&ada()).unwrap_err();
    let elapsed = start.elapsed();
    let Error::Timeout(timeout) = &error else {
        panic!("expected Timeout, got {error:?}")
    };
    assert_eq!(timeout.phase, TimeoutPhase::Connect);
    assert_eq!(timeout.limit, ms(200));
    assert!(!error.may_have_been_applied());
    assert!(
        error
            .to_string()
            .starts_with("timed out connecting after 200ms (1 attempt in ")
    );
    // ureq hands the socket its connect limit in whole milliseconds, cut down.
    assert!(
        elapsed >= ms(199) && elapsed < ms(200) + SLACK,
        "{elapsed:?}"
    );

    // Nothing was sent, so a create is retried.
    let client = raw_client(backlog.base_url())
        .retry(quick(20).max_attempts(2))
        .timeout(Duration::from_secs(5))
        .connect_timeout(ms(100))
        .build()
        .unwrap();
    let error = client.create_organization(&acme()).unwrap_err();
    assert!(
        matches!(&error, Error::Timeout(t) if t.phase == TimeoutPhase::Connect),
        "{error:?}"
    );
    assert_eq!(error.attempts(), 2);
}

#[test]
fn connect_timeout_cut_to_the_attempt_timeout_is_still_a_connect_timeout() {
    let backlog = common::FullBacklog::new();
    // The default connect timeout (10 s) is longer than this attempt timeout.
    let client = raw_client(backlog.base_url())
        .retry(RetryConfig::none())
        .timeout(ms(300))
        .build()
        .unwrap();
    let error = client.create_organization(&acme()).unwrap_err();
    let Error::Timeout(timeout) = &error else {
        panic!("expected Timeout, got {error:?}")
    };
    assert_eq!(timeout.phase, TimeoutPhase::Connect, "{error}");
    assert!(!error.may_have_been_applied());
    assert_eq!(timeout.limit, ms(270));
}
