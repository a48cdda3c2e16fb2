//! No `Debug` or `Display` output of any public type, or of any error the client can be made to
//! return, shows the management token or an instance secret key.
//!
//! Every output is searched for `SECRET`, which only the two secrets contain: a half-masked
//! secret fails as surely as a whole one.

use std::fmt::{Debug, Display};
use std::net::TcpListener;
use std::time::Duration;

use clerk_management::create_application::{
    CreateApplicationRequest, EnvironmentType, ManagementApplicationResponse,
};
use clerk_management::create_organization::{CreateOrganizationRequest, Organization};
use clerk_management::testing::{Fault, StandIn};
use clerk_management::upsert_user::{UpsertUserRequest, User};
use clerk_management::{
    Error, ManagementClient, ManagementClientBuilder, RequestOptions, RetryConfig, SecretString,
};
use serde_json::json;

const TOKEN: &str = "mt_SECRET_TOKEN_1234";
const SECRET_KEY: &str = "sk_test_SECRET_KEY_5678";
/// What both secrets, and nothing else printed here, contain.
const MARK: &str = "SECRET";

fn assert_debug_hidden(what: &str, value: &dyn Debug) {
    for text in [format!("{value:?}"), format!("{value:#?}")] {
        assert!(!text.contains(MARK), "{what} leaks a secret: {text}");
    }
}

fn assert_hidden<T: Debug + Display>(what: &str, value: &T) {
    assert_debug_hidden(what, value);
    let text = value.to_string();
    assert!(!text.contains(MARK), "{what} leaks a secret: {text}");
}

/// Checks the error, and every error in its source chain, in all four formats.
fn assert_error_hidden(what: &str, err: &Error) {
    assert_hidden(what, err);
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        assert_debug_hidden(what, &inner);
        let text = inner.to_string();
        assert!(
            !text.contains(MARK),
            "{what}: a source leaks a secret: {text}"
        );
        source = inner.source();
    }
}

fn stand_in() -> StandIn {
    StandIn::with_token(TOKEN).unwrap()
}

fn builder(stand_in: &StandIn) -> ManagementClientBuilder {
    stand_in.client_builder().timeout(Duration::from_secs(5))
}

fn upsert(client: &ManagementClient) -> Result<User, Error> {
    client.upsert_user(&UpsertUserRequest::new("ada@example.com", "Ada", "L"))
}

fn create_application(client: &ManagementClient) -> Result<ManagementApplicationResponse, Error> {
    client.create_application(&CreateApplicationRequest::new("Acme", "user_1", "plan_1"))
}

fn create_organization(client: &ManagementClient) -> Result<Organization, Error> {
    client.create_organization(&CreateOrganizationRequest::new("Acme", "acme"))
}

fn application_body() -> serde_json::Value {
    json!({
        "application_id": "app_1",
        "subscription": {"id": "sub_1", "stripe_subscription_id": null},
        "instances": [
            {"instance_id": "ins_1", "environment_type": "production",
             "secret_key": SECRET_KEY, "publishable_key": "pk_live_1"},
            {"instance_id": "ins_2", "environment_type": "development",
             "secret_key": SECRET_KEY, "publishable_key": "pk_test_1"}
        ]
    })
}

#[test]
fn configuration_types_hide_the_token() {
    let builder = ManagementClient::builder()
        .management_token(TOKEN)
        .retry(RetryConfig::none());
    assert_debug_hidden("builder", &builder);
    let client = builder.clone().build().unwrap();
    assert_debug_hidden("client", &client);
    assert_debug_hidden("cloned client", &client.clone());

    let bearer = ManagementClient::builder().management_token(format!("Bearer {TOKEN}"));
    assert_debug_hidden("builder with a Bearer prefix", &bearer);

    let options = RequestOptions::new()
        .management_token(TOKEN)
        .header("X-Debug-Token", TOKEN)
        .header("X-Key", SECRET_KEY)
        .timeout(Duration::from_secs(1));
    assert_debug_hidden("request options", &options);

    let secret = SecretString::new(SECRET_KEY);
    assert_hidden("secret string", &secret);
    assert_eq!(secret.expose_secret(), SECRET_KEY);
    assert_debug_hidden("retry config", &RetryConfig::default());
}

#[test]
fn requests_and_responses_hide_secret_keys() {
    assert_debug_hidden(
        "upsert request",
        &UpsertUserRequest::new("ada@example.com", "Ada", "L"),
    );
    assert_debug_hidden(
        "organization request",
        &CreateOrganizationRequest::new("Acme", "acme").created_by("user_1"),
    );
    assert_debug_hidden(
        "application request",
        &CreateApplicationRequest::new("Acme", "user_1", "plan_1")
            .environment_types([EnvironmentType::Production]),
    );

    let stand_in = stand_in();
    stand_in.push_fault(Fault::json(200, &application_body()));
    let client = builder(&stand_in).build().unwrap();
    let application = create_application(&client).unwrap();
    // The keys arrived intact: only their formatting hides them.
    let keys: Vec<&str> = application
        .instances
        .iter()
        .map(|i| i.secret_key.expose_secret())
        .collect();
    assert_eq!(keys, [SECRET_KEY, SECRET_KEY]);
    assert_debug_hidden("application response", &application);
    for instance in &application.instances {
        assert_debug_hidden("application instance", instance);
        assert_hidden("instance secret key", &instance.secret_key);
    }

    let user = upsert(&client).unwrap();
    assert_debug_hidden("user", &user);
    stand_in.push_fault(Fault::json(
        200,
        &json!({"object": "organization", "id": "org_1", "name": "Acme", "slug": "acme"}),
    ));
    assert_debug_hidden("organization", &create_organization(&client).unwrap());
}

#[test]
fn configuration_errors_do_not_quote_the_token() {
    let cases: Vec<(&str, Result<ManagementClient, Error>)> = vec![
        (
            "token with a line break",
            ManagementClient::builder()
                .management_token(format!("{TOKEN}\r\nX-Injected: 1"))
                .build(),
        ),
        (
            "token given as the base URL",
            ManagementClient::builder()
                .management_token(TOKEN)
                .base_url(TOKEN)
                .build(),
        ),
        (
            "secret key given as the base URL",
            ManagementClient::builder()
                .management_token(TOKEN)
                .base_url(SECRET_KEY)
                .build(),
        ),
        (
            "token as URL credentials",
            ManagementClient::builder()
                .management_token("mt_other_token")
                .base_url(format!("https://user:{TOKEN}@api.clerk.com/v1"))
                .build(),
        ),
        (
            "token in a query",
            ManagementClient::builder()
                .management_token(TOKEN)
                .base_url(format!("https://api.clerk.com/v1?token={TOKEN}"))
                .build(),
        ),
        (
            "token as a host name",
            ManagementClient::builder()
                .management_token(TOKEN)
                .base_url(format!("http://{TOKEN}.example.com"))
                .build(),
        ),
    ];
    let mut messages = Vec::new();
    for (what, result) in cases {
        let err = result.unwrap_err();
        let Error::Config { message, .. } = &err else {
            panic!("{what}: expected a configuration error, got {err:?}");
        };
        messages.push(message.clone());
        assert_error_hidden(what, &err);
    }
    // The rest of each message still says what is wrong.
    assert_eq!(
        messages[1..],
        [
            "base URL \"[redacted]\" has no scheme: it must start with https://",
            "base URL \"[redacted]\" has no scheme: it must start with https://",
            "base URL \"https://[redacted]@api.clerk.com/v1\" must not contain credentials",
            "base URL \"https://api.clerk.com/v1?token=[redacted]\" must not have a query",
            "base URL \"http://[redacted].example.com\" has no valid host and port",
        ]
    );
}

#[test]
fn per_call_errors_before_sending_do_not_quote_the_token() {
    let stand_in = stand_in();
    let client = builder(&stand_in).build().unwrap();
    let request = UpsertUserRequest::new("ada@example.com", "Ada", "L");
    let cases = [
        (
            "override token with a line break",
            RequestOptions::new().management_token(format!("{TOKEN}\nX: y")),
        ),
        (
            "whole header line as a name",
            RequestOptions::new().header(format!("Authorization: Bearer {TOKEN}"), ""),
        ),
        (
            "whole header line with a secret key as a name",
            RequestOptions::new().header(format!("X-Key: {SECRET_KEY}"), "v"),
        ),
        (
            "token in a header value with a line break",
            RequestOptions::new().header("X-Token", format!("{TOKEN}\r\n")),
        ),
        (
            "token in a reserved header",
            RequestOptions::new().header("Authorization", format!("Bearer {TOKEN}")),
        ),
    ];
    for (what, options) in cases {
        let err = client
            .upsert_user_with_options(&request, &options)
            .unwrap_err();
        assert!(
            matches!(err, Error::Config { .. } | Error::InvalidRequest { .. }),
            "{what}: {err:?}"
        );
        assert_error_hidden(what, &err);
    }
    assert!(stand_in.requests().is_empty());
}

/// A body that quotes both secrets, as a server echoing the request might.
fn echo() -> String {
    format!("token {TOKEN} and key {SECRET_KEY}")
}

#[test]
fn error_bodies_that_echo_secrets_are_masked() {
    let stand_in = stand_in();
    let client = builder(&stand_in).build().unwrap();

    // Clerk's error list, with the secrets in every string it has, once JSON-escaped.
    let escaped_key = SECRET_KEY.replace('_', "\\u005f");
    let list = format!(
        r#"{{"errors":[{{"code":"{SECRET_KEY}","message":"{}","long_message":"{escaped_key}",
        "meta":{{"param_name":"{TOKEN}","nested":[{{"value":"{SECRET_KEY}"}}]}},
        "clerk_trace_id":"{TOKEN}"}}],"meta":{{"echo":"{TOKEN}"}},"clerk_trace_id":"{TOKEN}"}}"#,
        echo()
    );
    for status in [422, 200, 500] {
        stand_in.push_fault(Fault::Respond {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: list.clone().into_bytes(),
        });
        let err = upsert(&client).unwrap_err();
        let Error::Api(api) = &err else {
            panic!("{status}: expected an api error, got {err:?}");
        };
        assert_eq!(api.status, status);
        assert_eq!(
            api.message(),
            Some("token [redacted] and key [redacted]"),
            "the rest of the message stays"
        );
        assert_eq!(api.errors[0].long_message.as_deref(), Some("[redacted]"));
        assert_error_hidden("api error", &err);
    }

    // A proxy's HTML page that quotes the request.
    stand_in.push_fault(Fault::Respond {
        status: 502,
        headers: vec![("Content-Type".into(), format!("text/html; echo={TOKEN}"))],
        body: format!("<html><body><pre>{}</pre></body></html>", echo()).into_bytes(),
    });
    let err = upsert(&client).unwrap_err();
    let Error::UnexpectedResponse(unexpected) = &err else {
        panic!("expected an unexpected response, got {err:?}");
    };
    assert_eq!(
        unexpected.body_excerpt,
        "<html><body><pre>token [redacted] and key [redacted]</pre></body></html>"
    );
    assert_error_hidden("unexpected response", &err);

    // A redirect whose target carries the token.
    stand_in.push_fault(Fault::Respond {
        status: 302,
        headers: vec![(
            "Location".into(),
            format!("https://elsewhere.example/?t={TOKEN}&k={SECRET_KEY}"),
        )],
        body: Vec::new(),
    });
    let err = upsert(&client).unwrap_err();
    assert!(matches!(err, Error::Redirect(_)), "{err:?}");
    assert_error_hidden("redirect", &err);
}

#[test]
fn decode_errors_that_quote_the_body_are_masked() {
    let stand_in = stand_in();
    let client = builder(&stand_in).build().unwrap();

    // serde quotes a mistyped string in its message, and the excerpt quotes the body.
    for secret in [TOKEN, SECRET_KEY] {
        stand_in.push_fault(Fault::json(
            200,
            &json!({"id": "user_1", "created_at": secret, "note": echo()}),
        ));
        let err = upsert(&client).unwrap_err();
        let Error::Decode(decode) = &err else {
            panic!("expected a decode error, got {err:?}");
        };
        // Keys go out sorted: the string ends after `{"created_at":"` and the secret.
        let column = r#"{"created_at":""#.len() + secret.len() + 1;
        assert_eq!(
            decode.message,
            format!("invalid type: string \"[redacted]\", expected i64 at line 1 column {column}")
        );
        assert_eq!(decode.column, column);
        assert!(decode.body_excerpt.contains("[redacted]"), "{decode:?}");
        assert_error_hidden("user decode error", &err);
    }

    stand_in.push_fault(Fault::json(
        200,
        &json!({"application_id": "app_1", "instances": SECRET_KEY}),
    ));
    let err = create_application(&client).unwrap_err();
    let Error::Decode(decode) = &err else {
        panic!("expected a decode error, got {err:?}");
    };
    assert_eq!(decode.target, "ManagementApplicationResponse");
    assert!(decode.message.contains("[redacted]"), "{decode:?}");
    assert_error_hidden("application decode error", &err);

    // A body cut off in the middle of a key.
    let body = application_body().to_string();
    let cut = body.find(SECRET_KEY).unwrap() + 12;
    stand_in.push_fault(Fault::Respond {
        status: 201,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.as_bytes()[..cut].to_vec(),
    });
    let err = create_application(&client).unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert_error_hidden("truncated application", &err);

    stand_in.push_fault(Fault::json(200, &json!({"id": 7, "name": TOKEN})));
    let err = create_organization(&client).unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert_error_hidden("organization decode error", &err);
}

#[test]
fn transport_errors_hide_the_token() {
    let stand_in = stand_in();

    stand_in.push_fault(Fault::Respond {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: format!("[\"{}\"]", echo().repeat(100)).into_bytes(),
    });
    let client = builder(&stand_in).response_body_limit(64).build().unwrap();
    let err = upsert(&client).unwrap_err();
    assert!(matches!(err, Error::ResponseTooLarge { .. }), "{err:?}");
    assert_error_hidden("too large", &err);

    let client = builder(&stand_in).build().unwrap();
    stand_in.push_fault(Fault::DropConnection);
    let err = upsert(&client).unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_error_hidden("dropped connection", &err);

    let client = builder(&stand_in)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    stand_in.push_fault(Fault::Delay(Duration::from_secs(1)));
    let err = upsert(&client).unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert_error_hidden("timeout", &err);

    // TLS spoken to a plain HTTP server.
    let https = stand_in.base_url().replace("http://", "https://");
    let client = builder(&stand_in).base_url(https).build().unwrap();
    let err = upsert(&client).unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_error_hidden("tls failure", &err);

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = builder(&stand_in)
        .base_url(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let err = upsert(&client).unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_error_hidden("connection refused", &err);
}
