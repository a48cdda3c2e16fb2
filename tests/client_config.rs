//! Building a client: every way a base URL or token is refused, `from_env`, and what the
//! client is (cloneable, shareable across threads, one connection pool for all clones).

mod common;

use std::time::Duration;

use clerk_management::testing::StandIn;
use clerk_management::upsert_user::UpsertUserRequest;
use clerk_management::{
    BASE_URL_ENV, DEFAULT_BASE_URL, Error, ManagementClient, ManagementClientBuilder,
    RequestOptions, RetryConfig, TOKEN_ENV,
};

const TOKEN: &str = "mt_config_test_token_3f9a";

fn config_message(result: Result<ManagementClient, Error>) -> String {
    match result {
        Err(Error::Config { message, .. }) => message,
        Err(other) => panic!("expected Config, got {other:?}"),
        Ok(client) => panic!("expected an error, got {client:?}"),
    }
}

fn ada() -> UpsertUserRequest {
    UpsertUserRequest::new("ada@example.com", "Ada", "Lovelace")
}

#[test]
fn client_is_clone_send_sync_and_static() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<ManagementClient>();
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<ManagementClientBuilder>();
    assert_send_sync::<RequestOptions>();
    assert_send_sync::<Error>();
}

#[test]
fn defaults() {
    let client = ManagementClient::builder()
        .management_token(TOKEN)
        .build()
        .unwrap();
    assert_eq!(client.base_url(), DEFAULT_BASE_URL);
    assert_eq!(DEFAULT_BASE_URL, "https://api.clerk.com/v1");
    assert_eq!(TOKEN_ENV, "CLERK_MANAGEMENT_TOKEN");
    assert_eq!(BASE_URL_ENV, "CLERK_API_URL");
}

#[test]
fn bad_base_urls_are_refused_with_the_reason() {
    let cases = [
        (
            "api.clerk.com/v1",
            "base URL \"api.clerk.com/v1\" has no scheme",
        ),
        ("", "base URL \"\" has no scheme"),
        (
            "ftp://api.clerk.com",
            "has a scheme other than https or http",
        ),
        (
            "file:///etc/passwd",
            "has a scheme other than https or http",
        ),
        ("https://api.clerk.com/v1?x=1", "must not have a query"),
        ("https://api.clerk.com/v1?", "must not have a query"),
        ("https://api.clerk.com/v1#top", "must not have a fragment"),
        ("https://", "has no valid host and port"),
        ("https:///v1", "has no valid host and port"),
        ("https://api.clerk.com:99999", "has no valid host and port"),
        ("https://api.clerk.com:0", "has no valid host and port"),
        ("https://api.clerk.com:", "has no valid host and port"),
        ("https://api.clerk.com:8o", "has no valid host and port"),
        ("https://api..clerk.com", "has no valid host and port"),
        ("https://api_clerk.com", "has no valid host and port"),
        ("https://[::1", "has no valid host and port"),
        ("https://[::1]x", "has no valid host and port"),
        ("https://[zz::1]", "has no valid host and port"),
        (
            "https://api clerk.com",
            "contains whitespace or a control character",
        ),
        (
            " https://api.clerk.com",
            "contains whitespace or a control character",
        ),
        (
            "https://api.clerk.com/\nv1",
            "contains whitespace or a control character",
        ),
        (
            "http://api.clerk.com/v1",
            "uses plain http for a host that is not loopback",
        ),
        (
            "http://10.0.0.1",
            "uses plain http for a host that is not loopback",
        ),
        (
            "http://localhost.evil.example",
            "uses plain http for a host that is not loopback",
        ),
        (
            // Only a resolver that knows the name keeps it on the machine.
            "http://api.localhost",
            "uses plain http for a host that is not loopback",
        ),
    ];
    for (url, reason) in cases {
        let message = config_message(
            ManagementClient::builder()
                .management_token(TOKEN)
                .base_url(url)
                .build(),
        );
        assert!(message.contains(reason), "{url:?}: {message}");
        assert!(message.starts_with("base URL "), "{url:?}: {message}");
        assert!(!message.contains(TOKEN), "{message}");
    }
}

#[test]
fn base_url_errors_never_show_credentials_or_the_token() {
    let message = config_message(
        ManagementClient::builder()
            .management_token(TOKEN)
            .base_url("https://admin:hunter2pass@api.clerk.com/v1")
            .build(),
    );
    assert!(
        message.contains("must not contain credentials"),
        "{message}"
    );
    assert!(!message.contains("hunter2pass"), "{message}");
    assert!(!message.contains("admin:"), "{message}");

    // The token given where the URL belongs (arguments swapped) is not echoed.
    let message = config_message(
        ManagementClient::builder()
            .management_token(TOKEN)
            .base_url(TOKEN)
            .build(),
    );
    assert!(message.contains("has no scheme"), "{message}");
    assert!(!message.contains(TOKEN), "{message}");
}

#[test]
fn plain_http_is_accepted_for_loopback_or_when_allowed() {
    for url in [
        "http://127.0.0.1:8080",
        "http://127.1.2.3/v1",
        "http://localhost:9000/v1/",
        "http://[::1]:9000/v1",
    ] {
        let client = ManagementClient::builder()
            .management_token(TOKEN)
            .base_url(url)
            .build()
            .unwrap();
        assert_eq!(client.base_url(), url.trim_end_matches('/'));
    }
    let client = ManagementClient::builder()
        .management_token(TOKEN)
        .base_url("http://intranet.example:8080/clerk/v1/")
        .allow_plain_http()
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "http://intranet.example:8080/clerk/v1");
    let client = ManagementClient::builder()
        .management_token(TOKEN)
        .base_url("HTTPS://API.clerk.com/V1")
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "https://API.clerk.com/V1");
}

#[test]
fn bad_tokens_are_refused_without_echoing_them() {
    let message = config_message(ManagementClient::builder().build());
    assert_eq!(
        message,
        "no management token: set one with management_token() or CLERK_MANAGEMENT_TOKEN"
    );

    let cases = [
        ("", "management token is empty".to_owned()),
        ("   \t ", "management token is empty".to_owned()),
        ("Bearer", "management token is empty".to_owned()),
        ("bearer    ", "management token is empty".to_owned()),
        ("mt_secret_value\r\nX-Evil: 1", at(16)),
        ("mt_secret value", at(10)),
        ("mt_secret\u{0}value", at(10)),
        ("mt_secret_välue", at(12)),
        ("Bearer mt_secret\tvalue", at(10)),
    ];
    for (token, expected) in cases {
        let error = ManagementClient::builder()
            .management_token(token)
            .build()
            .unwrap_err();
        let message = match &error {
            Error::Config { message, .. } => message.clone(),
            other => panic!("{token:?}: expected Config, got {other:?}"),
        };
        assert_eq!(message, expected, "{token:?}");
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains("secret"), "{text}");
        }
        assert_eq!(
            error.to_string(),
            format!("invalid configuration: {expected}")
        );
    }

    let message = config_message(
        ManagementClient::builder()
            .management_token(TOKEN)
            .user_agent("tool/1\r\nX-Evil: 1")
            .build(),
    );
    assert_eq!(message, "user agent is not a valid header value");
}

#[test]
fn zero_timeouts_are_refused() {
    let builder = || ManagementClient::builder().management_token(TOKEN);
    let message = config_message(builder().timeout(Duration::ZERO).build());
    assert_eq!(message, "timeout must be longer than zero");
    let message = config_message(builder().connect_timeout(Duration::ZERO).build());
    assert_eq!(message, "connect timeout must be longer than zero");
    builder()
        .timeout(Duration::from_nanos(1))
        .connect_timeout(Duration::from_nanos(1))
        .build()
        .unwrap();
}

fn at(position: usize) -> String {
    format!(
        "management token has a character not allowed in a header at position {position} \
         (whitespace, a control character or non-ASCII)"
    )
}

#[test]
fn token_is_normalized_and_never_formatted() {
    let stand_in = StandIn::start().unwrap();
    for given in [
        format!("Bearer {}", stand_in.token()),
        format!("BEARER {}", stand_in.token()),
        format!("  {}\n", stand_in.token()),
    ] {
        let client = stand_in
            .client_builder()
            .management_token(given)
            .build()
            .unwrap();
        client.upsert_user(&ada()).unwrap();
        let text = format!("{client:?}");
        assert!(!text.contains(stand_in.token()), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
    let expected = format!("Bearer {}", stand_in.token());
    for request in stand_in.requests() {
        assert_eq!(request.header("authorization"), Some(expected.as_str()));
    }
    assert_eq!(stand_in.requests().len(), 3);

    let builder = ManagementClient::builder().management_token(TOKEN);
    let options = RequestOptions::new()
        .management_token(TOKEN)
        .header("X-Api-Key", "header_secret_value");
    for text in [format!("{builder:?}"), format!("{options:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains("header_secret_value"), "{text}");
    }
}

#[test]
fn clones_and_threads_share_one_connection_pool() {
    let server = common::keep_alive(common::user_response("user_pool"));
    let client = ManagementClient::builder()
        .base_url(server.base_url())
        .management_token(common::TOKEN)
        .retry(RetryConfig::none())
        .build()
        .unwrap();

    let clone = client.clone();
    assert_eq!(client.upsert_user(&ada()).unwrap().id, "user_pool");
    assert_eq!(clone.upsert_user(&ada()).unwrap().id, "user_pool");
    let from_thread = std::thread::spawn({
        let clone = client.clone();
        move || clone.upsert_user(&ada()).map(|u| u.id)
    })
    .join()
    .unwrap();
    assert_eq!(from_thread.unwrap(), "user_pool");
    assert_eq!(server.requests().len(), 3);
    assert_eq!(server.connections(), 1);
    assert!(server.requests().iter().all(|r| r.connection == 0));

    // A client built separately has a pool of its own.
    let other = ManagementClient::builder()
        .base_url(server.base_url())
        .management_token(common::TOKEN)
        .retry(RetryConfig::none())
        .build()
        .unwrap();
    other.upsert_user(&ada()).unwrap();
    assert_eq!(server.connections(), 2);
}

#[test]
fn a_pooled_connection_the_server_closed_is_not_an_error() {
    // ureq probes a pooled connection before reusing it, so a server's idle close is seen.
    let server = common::answer_then_close_idle(
        common::user_response("user_idle"),
        Duration::from_millis(100),
    );
    let client = ManagementClient::builder()
        .base_url(server.base_url())
        .management_token(common::TOKEN)
        .retry(RetryConfig::none())
        .build()
        .unwrap();

    assert_eq!(client.upsert_user(&ada()).unwrap().id, "user_idle");
    server.wait_for_closed(1, Duration::from_secs(5));
    assert_eq!(server.closed(), 1);
    // On loopback the FIN is delivered at once; a little time for the kernel all the same.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(client.upsert_user(&ada()).unwrap().id, "user_idle");

    assert_eq!(server.connections(), 2);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!((requests[0].connection, requests[1].connection), (0, 1));
}

/// Every test of `from_env` is in this one function, so that no two of them change the
/// process environment at once.
#[test]
fn from_env_reads_the_token_and_the_base_url() {
    let stand_in = StandIn::start().unwrap();
    let set = |name: &str, value: &str| {
        // SAFETY: edition 2024 marks `set_var` unsafe because a thread reading the environment
        // outside std (libc's getenv, as in a name lookup) may race it. The other tests of this
        // binary read it only through std (ureq's proxy settings), which takes std's lock, and
        // look up no name: their hosts are IP addresses.
        unsafe { std::env::set_var(name, value) }
    };
    let remove = |name: &str| {
        // SAFETY: as for `set_var` above.
        unsafe { std::env::remove_var(name) }
    };

    remove(TOKEN_ENV);
    remove(BASE_URL_ENV);
    let message = config_message(ManagementClient::from_env());
    assert_eq!(
        message,
        "environment variable CLERK_MANAGEMENT_TOKEN is not set"
    );

    for empty in ["", "   "] {
        set(TOKEN_ENV, empty);
        let message = config_message(ManagementClient::from_env());
        assert_eq!(
            message,
            "environment variable CLERK_MANAGEMENT_TOKEN is empty"
        );
    }

    set(TOKEN_ENV, TOKEN);
    let client = ManagementClient::from_env().unwrap();
    assert_eq!(client.base_url(), DEFAULT_BASE_URL);

    set(BASE_URL_ENV, "");
    assert_eq!(
        ManagementClient::from_env().unwrap().base_url(),
        DEFAULT_BASE_URL
    );

    set(BASE_URL_ENV, "ftp://api.clerk.com");
    let message = config_message(ManagementClient::from_env());
    assert_eq!(
        message,
        "environment variable CLERK_API_URL: base URL \"ftp://api.clerk.com\" has a scheme \
         other than https or http"
    );

    set(TOKEN_ENV, "mt_a b_cdef");
    let message = config_message(ManagementClient::from_env());
    assert!(
        message.starts_with(
            "environment variable CLERK_MANAGEMENT_TOKEN: management token has a character \
             not allowed in a header at position 5"
        ),
        "{message}"
    );
    assert!(!message.contains("mt_a b_cdef"), "{message}");
    set(TOKEN_ENV, TOKEN);

    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let not_unicode = std::ffi::OsStr::from_bytes(b"http://127.0.0.1:4010/v1\xff");
        // SAFETY: as for `set_var` above.
        unsafe { std::env::set_var(BASE_URL_ENV, not_unicode) }
        let message = config_message(ManagementClient::from_env());
        assert_eq!(
            message,
            "environment variable CLERK_API_URL is not valid unicode"
        );
    }

    set(BASE_URL_ENV, &format!("  {}/v1/  ", stand_in.base_url()));
    set(TOKEN_ENV, &format!("Bearer {}", stand_in.token()));
    let client = ManagementClient::from_env().unwrap();
    assert_eq!(client.base_url(), format!("{}/v1", stand_in.base_url()));
    stand_in.push_fault(clerk_management::testing::Fault::json(
        200,
        &serde_json::json!({"id": "user_env"}),
    ));
    assert_eq!(client.upsert_user(&ada()).unwrap().id, "user_env");
    let sent = &stand_in.requests()[0];
    assert_eq!(sent.path, "/v1/management/users");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {}", stand_in.token()).as_str())
    );

    remove(TOKEN_ENV);
    remove(BASE_URL_ENV);
}
