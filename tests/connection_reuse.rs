//! Calls on one client, and on its clones, share one keep-alive connection.
//!
//! The server counts the TCP connections it accepts; nothing here is timed.

#[path = "../benches/support/loopback.rs"]
#[allow(dead_code)] // Request recording is for the benchmark.
mod loopback;

use clerk_management::upsert_user::{UpsertUserRequest, User};
use clerk_management::{Error, ManagementClient, RetryConfig};
use loopback::{Route, Server, response};

const USER: &[u8] = include_bytes!("../benches/fixtures/user.json");
const ERROR_422: &[u8] = include_bytes!("../benches/fixtures/error_422.json");
const ERROR_503: &[u8] = include_bytes!("../benches/fixtures/error_503.json");
const PATH: &str = "/management/users";
const USER_ID: &str = "user_2lQ8zKbGxYv6Ht3Nw9RmPcJdAaE";

fn server(answers: Vec<Vec<u8>>) -> Server {
    Server::start(vec![Route::new(PATH, answers)])
}

fn ok_server() -> Server {
    server(vec![response("200 OK", "application/json", USER)])
}

fn client(server: &Server) -> ManagementClient {
    ManagementClient::builder()
        .management_token("mt_reuse_test")
        .base_url(server.base_url())
        .retry(RetryConfig::none())
        .build()
        .unwrap()
}

fn upsert(client: &ManagementClient, n: usize) -> Result<User, Error> {
    let email = format!("user{n}@example.com");
    client.upsert_user(&UpsertUserRequest::new(email, "Ada", "Lovelace"))
}

#[test]
fn a_hundred_sequential_calls_use_one_connection() {
    let server = ok_server();
    let client = client(&server);
    for n in 0..100 {
        assert_eq!(upsert(&client, n).unwrap().id, USER_ID);
    }
    assert_eq!(server.requests(), 100);
    assert_eq!(server.connections(), 1);
}

#[test]
fn clones_share_the_connection() {
    let server = ok_server();
    let first = client(&server);
    let second = first.clone();
    for n in 0..100 {
        let client = if n % 2 == 0 { &first } else { &second };
        assert_eq!(upsert(client, n).unwrap().id, USER_ID);
    }
    assert_eq!(server.requests(), 100);
    assert_eq!(server.connections(), 1);
}

#[test]
fn separately_built_clients_do_not_share() {
    // The counter's own check: two pools, so two connections for the same alternation.
    let server = ok_server();
    let (first, second) = (client(&server), client(&server));
    for n in 0..100 {
        let client = if n % 2 == 0 { &first } else { &second };
        assert_eq!(upsert(client, n).unwrap().id, USER_ID);
    }
    assert_eq!(server.requests(), 100);
    assert_eq!(server.connections(), 2);
}

#[test]
fn error_responses_leave_the_connection_reusable() {
    // Each error body is read to its end, so the connection goes back to the pool.
    let server = server(vec![
        response("200 OK", "application/json", USER),
        response("422 Unprocessable Entity", "application/json", ERROR_422),
        response("503 Service Unavailable", "application/json", ERROR_503),
    ]);
    let client = client(&server);
    for n in 0..99 {
        match (n % 3, upsert(&client, n)) {
            (0, Ok(user)) => assert_eq!(user.id, USER_ID),
            (1, Err(error)) => {
                assert_eq!(error.status(), Some(422));
                assert_eq!(error.code(), Some("form_param_format_invalid"));
            }
            (2, Err(error)) => {
                assert_eq!(error.status(), Some(503));
                assert_eq!(error.code(), Some("service_unavailable"));
            }
            (_, other) => panic!("call {n}: {other:?}"),
        }
    }
    assert_eq!(server.requests(), 99);
    assert_eq!(server.connections(), 1);
}

#[test]
fn retries_reuse_the_connection() {
    let server = server(vec![
        response("503 Service Unavailable", "application/json", ERROR_503),
        response("200 OK", "application/json", USER),
    ]);
    let retry = RetryConfig::default()
        .initial_interval(std::time::Duration::ZERO)
        .jitter(0.0);
    let client = ManagementClient::builder()
        .management_token("mt_reuse_test")
        .base_url(server.base_url())
        .retry(retry)
        .build()
        .unwrap();
    for n in 0..50 {
        assert_eq!(upsert(&client, n).unwrap().id, USER_ID);
    }
    assert_eq!(server.requests(), 100);
    assert_eq!(server.connections(), 1);
}
