//! `upsert_user` end to end over real HTTP on 127.0.0.1: what goes on the wire, how every
//! part of a `User` decodes, and how each kind of failure comes back.

mod common;

use std::time::Duration;

use clerk_management::testing::{Fault, RecordedRequest, StandIn};
use clerk_management::upsert_user::{UpsertUserRequest, User};
use clerk_management::{
    CLERK_API_VERSION, DEFAULT_USER_AGENT, Error, ManagementClient, RequestOptions, RetryConfig,
    TimeoutPhase, TransportKind,
};
use serde_json::{Value, json};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn ada() -> UpsertUserRequest {
    UpsertUserRequest::new("ada@example.com", "Ada", "Lovelace")
}

fn json_fault(status: u16, body: &str) -> Fault {
    raw_fault(status, "application/json", body)
}

fn raw_fault(status: u16, content_type: &str, body: &str) -> Fault {
    Fault::Respond {
        status,
        headers: vec![("Content-Type".into(), content_type.into())],
        body: body.as_bytes().to_vec(),
    }
}

fn small_user() -> Value {
    json!({"id": "user_small", "object": "user", "first_name": "Ada"})
}

/// Every header of a request, sorted, as `(lowercase name, value)`.
fn sorted_headers(request: &RecordedRequest) -> Vec<(String, String)> {
    let mut headers = request.headers.clone();
    headers.sort();
    headers
}

/// Fails if `error` shows `token` in `Display` or `Debug`, or in its source chain.
fn assert_no_token(error: &Error, token: &str) {
    let mut texts = vec![error.to_string(), format!("{error:?}")];
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        texts.push(inner.to_string());
        source = inner.source();
    }
    for text in texts {
        assert!(!text.contains(token), "token leaked: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// The request
// ---------------------------------------------------------------------------------------------

#[test]
fn request_has_exact_method_path_headers_and_body() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in.client().unwrap();
    let request = UpsertUserRequest::new("zoë.o'brien+1@example.com", "Zoë \"Z\"", "O\\Brien");

    let user = client.upsert_user(&request).unwrap();
    assert_eq!(user.first_name.as_deref(), Some("Zoë \"Z\""));
    assert_eq!(user.last_name.as_deref(), Some("O\\Brien"));

    let requests = stand_in.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/management/users");
    assert_eq!(
        sent.body,
        concat!(
            r#"{"email_address":"zoë.o'brien+1@example.com","#,
            r#""first_name":"Zoë \"Z\"","last_name":"O\\Brien"}"#,
        )
        .as_bytes()
    );

    let host = stand_in.base_url().trim_start_matches("http://").to_owned();
    let length = sent.body.len().to_string();
    let mut expected: Vec<(String, String)> = [
        ("accept", "application/json"),
        ("accept-encoding", "gzip"),
        (
            "authorization",
            &format!("Bearer {}", stand_in.token()) as &str,
        ),
        ("clerk-api-version", "2025-04-10"),
        ("content-length", &length),
        ("content-type", "application/json"),
        ("host", &host),
        ("user-agent", &format!("clerk-management/{VERSION}")),
        ("x-clerk-sdk", &format!("clerk-management-rust/{VERSION}")),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    expected.sort();
    // Exactly these, each once: nothing doubled, nothing added.
    assert_eq!(sorted_headers(sent), expected);
    assert_eq!(CLERK_API_VERSION, "2025-04-10");
    assert_eq!(DEFAULT_USER_AGENT, format!("clerk-management/{VERSION}"));
}

#[test]
fn path_keeps_the_base_url_prefix_and_never_doubles_slashes() {
    let stand_in = StandIn::start().unwrap();
    let base = stand_in.base_url().to_owned();
    let cases = [
        (base.clone(), "/management/users"),
        (format!("{base}/"), "/management/users"),
        (format!("{base}//"), "/management/users"),
        (format!("{base}/v1"), "/v1/management/users"),
        (format!("{base}/v1/"), "/v1/management/users"),
        (
            format!("{base}/proxy/clerk/v1"),
            "/proxy/clerk/v1/management/users",
        ),
        (
            format!("{base}/proxy/clerk/v1/"),
            "/proxy/clerk/v1/management/users",
        ),
    ];
    for (i, (base_url, path)) in cases.iter().enumerate() {
        // The stand-in routes only `/management/users`: a queued answer makes routing moot.
        stand_in.push_fault(Fault::json(200, &small_user()));
        let client = stand_in
            .client_builder()
            .base_url(base_url)
            .build()
            .unwrap();
        assert_eq!(client.base_url(), base_url.trim_end_matches('/'));
        let user = client.upsert_user(&ada()).unwrap();
        assert_eq!(user.id, "user_small");
        assert_eq!(stand_in.requests()[i].path, *path, "{base_url}");
    }
    assert_eq!(stand_in.requests().len(), cases.len());
}

#[test]
fn user_agent_can_be_set_on_the_client() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in
        .client_builder()
        .user_agent("build-tool/2.1 (+ci)")
        .build()
        .unwrap();
    client.upsert_user(&ada()).unwrap();
    let sent = &stand_in.requests()[0];
    let agents: Vec<&(String, String)> = sent
        .headers
        .iter()
        .filter(|(n, _)| n == "user-agent")
        .collect();
    assert_eq!(
        agents,
        vec![&("user-agent".to_owned(), "build-tool/2.1 (+ci)".to_owned())]
    );
    assert_eq!(
        sent.header("x-clerk-sdk"),
        Some(format!("clerk-management-rust/{VERSION}").as_str())
    );
}

#[test]
fn extra_headers_replace_defaults_of_the_same_name_and_add_others() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in.client().unwrap();
    let options = RequestOptions::new()
        .header("USER-AGENT", "per-call/1")
        .header("X-Request-Id", "build-42")
        .header("Clerk-API-Version", "2099-01-01");
    client.upsert_user_with_options(&ada(), &options).unwrap();

    let sent = &stand_in.requests()[0];
    let named = |name: &str| -> Vec<String> {
        sent.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(named("user-agent"), vec!["per-call/1"]);
    assert_eq!(named("x-request-id"), vec!["build-42"]);
    assert_eq!(named("clerk-api-version"), vec!["2099-01-01"]);
    assert_eq!(named("content-type"), vec!["application/json"]);
    assert_eq!(named("accept"), vec!["application/json"]);
    assert_eq!(sent.headers.len(), 10);

    // The options belong to that call only.
    client.upsert_user(&ada()).unwrap();
    let next = &stand_in.requests()[1];
    assert_eq!(
        next.header("user-agent"),
        Some(format!("clerk-management/{VERSION}").as_str())
    );
    assert_eq!(next.header("x-request-id"), None);
    assert_eq!(next.header("clerk-api-version"), Some("2025-04-10"));
}

#[test]
fn per_call_token_replaces_the_clients_and_is_not_doubled() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in
        .client_builder()
        .management_token("mt_not_the_right_one")
        .build()
        .unwrap();

    let refused = client.upsert_user(&ada()).unwrap_err();
    assert_eq!(refused.status(), Some(401));
    assert_eq!(refused.code(), Some("authentication_invalid"));

    let token = stand_in.token().to_owned();
    for given in [
        token.clone(),
        format!("Bearer {token}"),
        format!("bEARER   {token}  "),
    ] {
        let options = RequestOptions::new().management_token(given);
        client.upsert_user_with_options(&ada(), &options).unwrap();
    }
    let sent: Vec<String> = stand_in
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    let expected = format!("Bearer {token}");
    assert_eq!(
        sent,
        vec![
            "Bearer mt_not_the_right_one",
            &expected,
            &expected,
            &expected
        ]
    );
}

#[test]
fn bad_per_call_token_is_refused_before_sending() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in.client().unwrap();
    for (token, reason) in [
        ("   ", "management token is empty"),
        ("Bearer", "management token is empty"),
        ("mt_secret\r\nX-Evil: 1", "at position 10"),
    ] {
        let options = RequestOptions::new().management_token(token);
        let error = client
            .upsert_user_with_options(&ada(), &options)
            .unwrap_err();
        match &error {
            Error::Config { message, .. } => assert!(message.contains(reason), "{message}"),
            other => panic!("expected Config, got {other:?}"),
        }
        assert_eq!(error.attempts(), 0);
        assert_no_token(&error, "mt_secret");
    }
    assert!(stand_in.requests().is_empty());
}

#[test]
fn reserved_and_invalid_extra_headers_are_refused_before_sending() {
    let stand_in = StandIn::start().unwrap();
    let client = stand_in.client().unwrap();
    let cases = [
        (
            "X-Note",
            "a\r\nX-Injected: 1",
            "header \"X-Note\"",
            "CR, LF",
        ),
        ("X-Note", "line\nbreak", "header \"X-Note\"", "CR, LF"),
        ("X-Note", "nul\0byte", "header \"X-Note\"", "CR, LF"),
        (
            "Bad Header",
            "v",
            "header \"Bad Header\"",
            "invalid header name",
        ),
        ("X:Colon", "v", "header \"X:Colon\"", "invalid header name"),
        ("", "v", "header \"\"", "invalid header name"),
        (
            "Authorization",
            "Bearer x",
            "header \"Authorization\"",
            "cannot be overridden",
        ),
        (
            "authorization",
            "Bearer x",
            "header \"authorization\"",
            "cannot be overridden",
        ),
        (
            "Host",
            "evil.example",
            "header \"Host\"",
            "cannot be overridden",
        ),
        (
            "Content-Length",
            "1",
            "header \"Content-Length\"",
            "cannot be overridden",
        ),
        (
            "Transfer-Encoding",
            "chunked",
            "header \"Transfer-Encoding\"",
            "cannot be overridden",
        ),
        (
            "Connection",
            "close",
            "header \"Connection\"",
            "cannot be overridden",
        ),
        (
            "Accept-Encoding",
            "br",
            "header \"Accept-Encoding\"",
            "cannot be overridden",
        ),
    ];
    for (name, value, field_expected, message_part) in cases {
        let options = RequestOptions::new()
            .header("X-Fine", "ok")
            .header(name, value);
        let error = client
            .upsert_user_with_options(&ada(), &options)
            .unwrap_err();
        match &error {
            Error::InvalidRequest { field, message, .. } => {
                assert_eq!(field, field_expected);
                assert!(message.contains(message_part), "{name}: {message}");
            }
            other => panic!("{name}: expected InvalidRequest, got {other:?}"),
        }
        assert_eq!(error.attempts(), 0);
        assert_eq!(error.call_info(), None);
        assert!(error.to_string().starts_with("invalid request: header "));
    }
    assert!(stand_in.requests().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// A user with every field the specification lists, each with a value that is not a default.
const FULL_USER: &str = r#"{
  "id": "user_2xFull",
  "object": "user",
  "external_id": "ext-42",
  "primary_email_address_id": "idn_email_1",
  "primary_phone_number_id": "idn_phone_1",
  "primary_web3_wallet_id": "idn_wallet_1",
  "username": "ada",
  "first_name": "Ada",
  "last_name": "Lovelace",
  "profile_image_url": "https://img.example/old.png",
  "image_url": "https://img.example/new.png",
  "has_image": true,
  "public_metadata": {
    "plan": {"name": "pro", "seats": [1, 2, 3], "flags": {"beta": true, "ratio": 0.25}},
    "above_f64": 9007199254740993,
    "max_u64": 18446744073709551615,
    "min_i64": -9223372036854775808,
    "nothing": null
  },
  "private_metadata": {"crm": "C-17", "unicode": "✓ ü"},
  "unsafe_metadata": {"theme": "dark"},
  "email_addresses": [
    {
      "id": "idn_email_1",
      "object": "email_address",
      "email_address": "ada@example.com",
      "reserved": true,
      "verification": {
        "status": "verified",
        "strategy": "email_code",
        "attempts": 2,
        "expire_at": 1712781461925,
        "verified_at_client": "client_abc"
      },
      "linked_to": [{"type": "oauth_google", "id": "idn_google_1"}],
      "matches_sso_connection": true,
      "created_at": 1700000000001,
      "updated_at": 1700000000002
    },
    {
      "id": "idn_email_2",
      "object": "email_address",
      "email_address": "ada@work.example",
      "reserved": false,
      "verification": {"status": "verified", "strategy": "admin", "attempts": null,
                       "expire_at": null},
      "linked_to": [],
      "created_at": 1700000000003,
      "updated_at": 1700000000004
    }
  ],
  "phone_numbers": [
    {
      "id": "idn_phone_1",
      "object": "phone_number",
      "phone_number": "+15555550100",
      "reserved_for_second_factor": true,
      "default_second_factor": true,
      "reserved": true,
      "verification": {"status": "expired", "strategy": "phone_code", "attempts": 5,
                       "expire_at": 1700000000500},
      "linked_to": [{"type": "oauth_github", "id": "idn_gh_1"}],
      "backup_codes": ["code-1", "code-2"],
      "created_at": 1700000000005,
      "updated_at": 1700000000006
    }
  ],
  "web3_wallets": [
    {
      "id": "idn_wallet_1",
      "object": "web3_wallet",
      "web3_wallet": "0x0123456789abcdef0123456789abcdef01234567",
      "verification": {
        "status": "verified",
        "strategy": "web3_metamask_signature",
        "nonce": "nonce-w3",
        "message": "Sign in to Example",
        "attempts": 1,
        "expire_at": 1700000000700,
        "verified_at_client": null
      },
      "created_at": 1700000000007,
      "updated_at": 1700000000008
    }
  ],
  "passkeys": [
    {
      "id": "idn_passkey_1",
      "object": "passkey",
      "name": "YubiKey 5",
      "last_used_at": 1700000000009,
      "verification": {
        "status": "verified",
        "strategy": "passkey",
        "nonce": "nonce",
        "message": null,
        "attempts": null,
        "expire_at": null,
        "verified_at_client": "client_pk"
      }
    }
  ],
  "password_enabled": true,
  "two_factor_enabled": true,
  "totp_enabled": true,
  "backup_code_enabled": true,
  "mfa_enabled_at": 1700000000010,
  "mfa_disabled_at": 1700000000011,
  "external_accounts": [
    {
      "object": "external_account",
      "id": "eac_1",
      "provider": "oauth_google",
      "identification_id": "idn_google_1",
      "provider_user_id": "10987654321",
      "approved_scopes": "email openid profile",
      "email_address": "ada@gmail.example",
      "first_name": "Augusta",
      "last_name": "King",
      "avatar_url": "https://img.example/g-old.png",
      "image_url": "https://img.example/g.png",
      "username": "aking",
      "phone_number": "+15555550101",
      "public_metadata": {"locale": "en-GB"},
      "label": "personal",
      "created_at": 1700000000012,
      "updated_at": 1700000000013,
      "verification": {
        "status": "failed",
        "strategy": "oauth_google",
        "external_verification_redirect_url": "https://accounts.example/o/oauth2",
        "error": {
          "code": "oauth_access_denied",
          "message": "access denied",
          "long_message": "The user denied access to the application.",
          "meta": {"provider": "google"}
        },
        "expire_at": 1700000000600,
        "attempts": 3,
        "verified_at_client": "client_oauth"
      }
    }
  ],
  "saml_accounts": [
    {
      "id": "samlacc_1",
      "object": "saml_account",
      "provider": "saml_okta",
      "active": true,
      "email_address": "ada@corp.example",
      "first_name": "Ada",
      "last_name": "L.",
      "provider_user_id": "okta-77",
      "public_metadata": {"department": "R&D"},
      "verification": {
        "status": "verified",
        "strategy": "saml",
        "external_verification_redirect_url": null,
        "error": null,
        "expire_at": 1700000000800,
        "attempts": null,
        "verified_at_client": null
      },
      "saml_connection": {
        "id": "samlc_1",
        "name": "Corp Okta",
        "domain": "corp.example",
        "domains": ["corp.example", "corp2.example"],
        "active": true,
        "provider": "saml_okta",
        "sync_user_attributes": true,
        "allow_subdomains": true,
        "allow_idp_initiated": true,
        "disable_additional_identifications": true,
        "created_at": 1700000000014,
        "updated_at": 1700000000015
      }
    }
  ],
  "last_sign_in_at": 1712781461925,
  "banned": true,
  "locked": true,
  "lockout_expires_in_seconds": 3600,
  "verification_attempts_remaining": 4,
  "updated_at": 1700000000016,
  "created_at": 1700000000017,
  "delete_self_enabled": true,
  "create_organization_enabled": true,
  "create_organizations_limit": 7,
  "last_active_at": 1700690400000,
  "legal_accepted_at": 1700690400001
}"#;

fn decode_via_stand_in(body: &str) -> User {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(json_fault(200, body));
    stand_in.client().unwrap().upsert_user(&ada()).unwrap()
}

#[test]
fn full_user_decodes_every_field() {
    let user = decode_via_stand_in(FULL_USER);

    assert_eq!(user.id, "user_2xFull");
    assert_eq!(user.object, "user");
    assert_eq!(user.external_id.as_deref(), Some("ext-42"));
    assert_eq!(
        user.primary_email_address_id.as_deref(),
        Some("idn_email_1")
    );
    assert_eq!(user.primary_phone_number_id.as_deref(), Some("idn_phone_1"));
    assert_eq!(user.primary_web3_wallet_id.as_deref(), Some("idn_wallet_1"));
    assert_eq!(user.username.as_deref(), Some("ada"));
    assert_eq!(user.first_name.as_deref(), Some("Ada"));
    assert_eq!(user.last_name.as_deref(), Some("Lovelace"));
    assert_eq!(
        user.profile_image_url.as_deref(),
        Some("https://img.example/old.png")
    );
    assert_eq!(
        user.image_url.as_deref(),
        Some("https://img.example/new.png")
    );
    assert!(user.has_image);
    assert!(user.password_enabled);
    assert!(user.two_factor_enabled);
    assert!(user.totp_enabled);
    assert!(user.backup_code_enabled);
    assert_eq!(user.mfa_enabled_at, Some(1_700_000_000_010));
    assert_eq!(user.mfa_disabled_at, Some(1_700_000_000_011));
    assert_eq!(user.last_sign_in_at, Some(1_712_781_461_925));
    assert!(user.banned);
    assert!(user.locked);
    assert_eq!(user.lockout_expires_in_seconds, Some(3600));
    assert_eq!(user.verification_attempts_remaining, Some(4));
    assert_eq!(user.updated_at, 1_700_000_000_016);
    assert_eq!(user.created_at, 1_700_000_000_017);
    assert!(user.delete_self_enabled);
    assert!(user.create_organization_enabled);
    assert_eq!(user.create_organizations_limit, Some(7));
    assert_eq!(user.last_active_at, Some(1_700_690_400_000));
    assert_eq!(user.legal_accepted_at, Some(1_700_690_400_001));

    // Timestamps as date-times.
    assert_eq!(
        user.last_sign_in_at_datetime().unwrap().to_string(),
        "2024-04-10 20:37:41.925 +00:00:00"
    );
    assert_eq!(
        user.created_at_datetime().unwrap().to_string(),
        "2023-11-14 22:13:20.017 +00:00:00"
    );
    assert_eq!(
        user.updated_at_datetime().unwrap().unix_timestamp_nanos(),
        1_700_000_000_016_000_000
    );
    assert_eq!(
        user.last_active_at_datetime().unwrap().to_string(),
        "2023-11-22 22:00:00.0 +00:00:00"
    );

    // Metadata: nested values kept, integers beyond f64's exact range kept exactly.
    let public = Value::Object(user.public_metadata.clone());
    assert_eq!(
        public,
        json!({
            "plan": {"name": "pro", "seats": [1, 2, 3], "flags": {"beta": true, "ratio": 0.25}},
            "above_f64": 9_007_199_254_740_993_u64,
            "max_u64": u64::MAX,
            "min_i64": i64::MIN,
            "nothing": null
        })
    );
    assert_eq!(public["above_f64"].as_u64(), Some((1u64 << 53) + 1));
    assert_eq!(public["max_u64"].as_u64(), Some(u64::MAX));
    assert_eq!(public["min_i64"].as_i64(), Some(i64::MIN));
    assert_eq!(
        user.private_metadata.clone().map(Value::Object),
        Some(json!({"crm": "C-17", "unicode": "✓ ü"}))
    );
    assert_eq!(
        Value::Object(user.unsafe_metadata.clone()),
        json!({"theme": "dark"})
    );

    // Email addresses.
    assert_eq!(user.email_addresses.len(), 2);
    let email = &user.email_addresses[0];
    assert_eq!(email.id, "idn_email_1");
    assert_eq!(email.object, "email_address");
    assert_eq!(email.email_address, "ada@example.com");
    assert!(email.reserved);
    assert!(email.matches_sso_connection);
    assert_eq!(email.created_at, 1_700_000_000_001);
    assert_eq!(email.updated_at, 1_700_000_000_002);
    assert_eq!(email.linked_to.len(), 1);
    assert_eq!(email.linked_to[0].kind, "oauth_google");
    assert_eq!(email.linked_to[0].id, "idn_google_1");
    let verification = email.verification.as_ref().unwrap();
    assert_eq!(verification.status, "verified");
    assert!(verification.is_verified());
    assert_eq!(verification.strategy, "email_code");
    assert_eq!(verification.attempts, Some(2));
    assert_eq!(verification.expire_at, Some(1_712_781_461_925));
    assert_eq!(
        verification.verified_at_client.as_deref(),
        Some("client_abc")
    );
    assert_eq!(verification.nonce, None);
    assert_eq!(verification.message, None);
    assert_eq!(verification.external_verification_redirect_url, None);
    assert_eq!(verification.error, None);
    assert_eq!(
        user.primary_email_address()
            .map(|e| e.email_address.as_str()),
        Some("ada@example.com")
    );
    let admin = user.email_addresses[1].verification.as_ref().unwrap();
    assert_eq!(
        (admin.status.as_str(), admin.strategy.as_str()),
        ("verified", "admin")
    );
    assert_eq!((admin.attempts, admin.expire_at), (None, None));
    assert!(user.email_addresses[1].linked_to.is_empty());
    assert!(!user.email_addresses[1].matches_sso_connection);

    // Phone numbers.
    assert_eq!(user.phone_numbers.len(), 1);
    let phone = &user.phone_numbers[0];
    assert_eq!(phone.id, "idn_phone_1");
    assert_eq!(phone.object, "phone_number");
    assert_eq!(phone.phone_number, "+15555550100");
    assert!(phone.reserved_for_second_factor);
    assert!(phone.default_second_factor);
    assert!(phone.reserved);
    assert_eq!(
        phone.backup_codes,
        Some(vec!["code-1".to_owned(), "code-2".to_owned()])
    );
    assert_eq!(phone.linked_to[0].kind, "oauth_github");
    assert_eq!(phone.linked_to[0].id, "idn_gh_1");
    assert_eq!(
        (phone.created_at, phone.updated_at),
        (1_700_000_000_005, 1_700_000_000_006)
    );
    let otp = phone.verification.as_ref().unwrap();
    assert_eq!(
        (otp.status.as_str(), otp.strategy.as_str()),
        ("expired", "phone_code")
    );
    assert!(!otp.is_verified());
    assert_eq!(
        (otp.attempts, otp.expire_at),
        (Some(5), Some(1_700_000_000_500))
    );

    // Web3 wallets.
    assert_eq!(user.web3_wallets.len(), 1);
    let wallet = &user.web3_wallets[0];
    assert_eq!(wallet.id, "idn_wallet_1");
    assert_eq!(wallet.object, "web3_wallet");
    assert_eq!(
        wallet.web3_wallet,
        "0x0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(
        (wallet.created_at, wallet.updated_at),
        (1_700_000_000_007, 1_700_000_000_008)
    );
    let signature = wallet.verification.as_ref().unwrap();
    assert_eq!(signature.strategy, "web3_metamask_signature");
    assert_eq!(signature.nonce.as_deref(), Some("nonce-w3"));
    assert_eq!(signature.message.as_deref(), Some("Sign in to Example"));
    assert_eq!(signature.attempts, Some(1));
    assert_eq!(signature.expire_at, Some(1_700_000_000_700));
    assert_eq!(signature.verified_at_client, None);

    // Passkeys.
    assert_eq!(user.passkeys.len(), 1);
    let passkey = &user.passkeys[0];
    assert_eq!(passkey.id, "idn_passkey_1");
    assert_eq!(passkey.object, "passkey");
    assert_eq!(passkey.name, "YubiKey 5");
    assert_eq!(passkey.last_used_at, 1_700_000_000_009);
    let pk = passkey.verification.as_ref().unwrap();
    assert_eq!(
        (pk.status.as_str(), pk.strategy.as_str()),
        ("verified", "passkey")
    );
    assert_eq!(pk.nonce.as_deref(), Some("nonce"));
    assert_eq!(pk.message, None);
    assert_eq!(pk.verified_at_client.as_deref(), Some("client_pk"));

    // External accounts, with a failed verification carrying Clerk's error.
    assert_eq!(user.external_accounts.len(), 1);
    let account = &user.external_accounts[0];
    assert_eq!(account.object, "external_account");
    assert_eq!(account.id, "eac_1");
    assert_eq!(account.provider, "oauth_google");
    assert_eq!(account.identification_id, "idn_google_1");
    assert_eq!(account.provider_user_id, "10987654321");
    assert_eq!(account.approved_scopes, "email openid profile");
    assert_eq!(account.email_address, "ada@gmail.example");
    assert_eq!(account.first_name, "Augusta");
    assert_eq!(account.last_name, "King");
    assert_eq!(
        account.avatar_url.as_deref(),
        Some("https://img.example/g-old.png")
    );
    assert_eq!(
        account.image_url.as_deref(),
        Some("https://img.example/g.png")
    );
    assert_eq!(account.username.as_deref(), Some("aking"));
    assert_eq!(account.phone_number.as_deref(), Some("+15555550101"));
    assert_eq!(
        Value::Object(account.public_metadata.clone()),
        json!({"locale": "en-GB"})
    );
    assert_eq!(account.label.as_deref(), Some("personal"));
    assert_eq!(
        (account.created_at, account.updated_at),
        (1_700_000_000_012, 1_700_000_000_013)
    );
    let oauth = account.verification.as_ref().unwrap();
    assert_eq!(
        (oauth.status.as_str(), oauth.strategy.as_str()),
        ("failed", "oauth_google")
    );
    assert_eq!(
        oauth.external_verification_redirect_url.as_deref(),
        Some("https://accounts.example/o/oauth2")
    );
    assert_eq!(
        (oauth.attempts, oauth.expire_at),
        (Some(3), Some(1_700_000_000_600))
    );
    assert_eq!(oauth.verified_at_client.as_deref(), Some("client_oauth"));
    let error = oauth.error.as_ref().unwrap();
    assert_eq!(error.code, "oauth_access_denied");
    assert_eq!(error.message, "access denied");
    assert_eq!(
        error.long_message.as_deref(),
        Some("The user denied access to the application.")
    );
    assert_eq!(
        error.meta.clone().map(Value::Object),
        Some(json!({"provider": "google"}))
    );
    assert_eq!(error.clerk_trace_id, None);

    // SAML accounts, with their connection.
    assert_eq!(user.saml_accounts.len(), 1);
    let saml = &user.saml_accounts[0];
    assert_eq!(saml.id, "samlacc_1");
    assert_eq!(saml.object, "saml_account");
    assert_eq!(saml.provider, "saml_okta");
    assert!(saml.active);
    assert_eq!(saml.email_address, "ada@corp.example");
    assert_eq!(saml.first_name.as_deref(), Some("Ada"));
    assert_eq!(saml.last_name.as_deref(), Some("L."));
    assert_eq!(saml.provider_user_id.as_deref(), Some("okta-77"));
    assert_eq!(
        Value::Object(saml.public_metadata.clone()),
        json!({"department": "R&D"})
    );
    let saml_verification = saml.verification.as_ref().unwrap();
    assert_eq!(saml_verification.strategy, "saml");
    assert_eq!(saml_verification.external_verification_redirect_url, None);
    assert_eq!(saml_verification.error, None);
    assert_eq!(saml_verification.expire_at, Some(1_700_000_000_800));
    let connection = saml.saml_connection.as_ref().unwrap();
    assert_eq!(connection.id, "samlc_1");
    assert_eq!(connection.name, "Corp Okta");
    assert_eq!(connection.domain.as_deref(), Some("corp.example"));
    assert_eq!(connection.domains, vec!["corp.example", "corp2.example"]);
    assert!(connection.active);
    assert_eq!(connection.provider, "saml_okta");
    assert!(connection.sync_user_attributes);
    assert!(connection.allow_subdomains);
    assert!(connection.allow_idp_initiated);
    assert!(connection.disable_additional_identifications);
    assert_eq!(
        (connection.created_at, connection.updated_at),
        (1_700_000_000_014, 1_700_000_000_015)
    );
}

#[test]
fn user_with_every_nullable_field_null_and_every_list_empty() {
    let body = r#"{
      "id": "user_nulls", "object": "user",
      "external_id": null, "primary_email_address_id": null, "primary_phone_number_id": null,
      "primary_web3_wallet_id": null, "username": null, "first_name": null, "last_name": null,
      "profile_image_url": null, "image_url": null, "has_image": null,
      "public_metadata": null, "private_metadata": null, "unsafe_metadata": null,
      "email_addresses": [], "phone_numbers": [], "web3_wallets": [], "passkeys": [],
      "password_enabled": false, "two_factor_enabled": false, "totp_enabled": false,
      "backup_code_enabled": false, "mfa_enabled_at": null, "mfa_disabled_at": null,
      "external_accounts": [], "saml_accounts": [], "last_sign_in_at": null,
      "banned": false, "locked": false, "lockout_expires_in_seconds": null,
      "verification_attempts_remaining": null, "updated_at": 1, "created_at": 2,
      "delete_self_enabled": false, "create_organization_enabled": false,
      "create_organizations_limit": null, "last_active_at": null, "legal_accepted_at": null
    }"#;
    let user = decode_via_stand_in(body);
    assert_eq!(user.id, "user_nulls");
    assert_eq!(user.object, "user");
    for field in [
        &user.external_id,
        &user.primary_email_address_id,
        &user.primary_phone_number_id,
        &user.primary_web3_wallet_id,
        &user.username,
        &user.first_name,
        &user.last_name,
        &user.profile_image_url,
        &user.image_url,
    ] {
        assert_eq!(*field, None);
    }
    for field in [
        user.mfa_enabled_at,
        user.mfa_disabled_at,
        user.last_sign_in_at,
        user.lockout_expires_in_seconds,
        user.verification_attempts_remaining,
        user.create_organizations_limit,
        user.last_active_at,
        user.legal_accepted_at,
    ] {
        assert_eq!(field, None);
    }
    assert!(!user.has_image);
    assert!(user.public_metadata.is_empty());
    assert_eq!(user.private_metadata, None);
    assert!(user.unsafe_metadata.is_empty());
    assert!(user.email_addresses.is_empty());
    assert!(user.phone_numbers.is_empty());
    assert!(user.web3_wallets.is_empty());
    assert!(user.passkeys.is_empty());
    assert!(user.external_accounts.is_empty());
    assert!(user.saml_accounts.is_empty());
    assert_eq!((user.updated_at, user.created_at), (1, 2));
    assert_eq!(user.primary_email_address(), None);
    assert_eq!(user.last_sign_in_at_datetime(), None);

    // Nested objects with their nullable parts null.
    let nested = r#"{"id": "user_n",
      "email_addresses": [{"id": "idn_1", "object": "email_address", "email_address": "a@b.c",
        "reserved": false, "verification": null, "linked_to": null,
        "created_at": 1, "updated_at": 2}],
      "phone_numbers": [{"id": "idn_2", "object": "phone_number", "phone_number": "+1",
        "reserved": false, "verification": null, "linked_to": [], "backup_codes": null,
        "created_at": 1, "updated_at": 2}],
      "web3_wallets": [{"id": "idn_3", "object": "web3_wallet", "web3_wallet": "0x1",
        "verification": null, "created_at": 1, "updated_at": 2}],
      "passkeys": [{"id": "idn_4", "object": "passkey", "name": "k", "last_used_at": 1,
        "verification": null}],
      "external_accounts": [{"object": "external_account", "id": "eac_1",
        "provider": "oauth_github", "identification_id": "idn_5", "provider_user_id": "1",
        "approved_scopes": "", "email_address": "", "first_name": "", "last_name": "",
        "image_url": null, "username": null, "phone_number": null, "public_metadata": {},
        "label": null, "created_at": 1, "updated_at": 2, "verification": null}],
      "saml_accounts": [{"id": "samlacc_1", "object": "saml_account", "provider": "saml_custom",
        "active": false, "email_address": "a@b.c", "first_name": null, "last_name": null,
        "provider_user_id": null, "verification": null, "saml_connection": null}]
    }"#;
    let user = decode_via_stand_in(nested);
    assert_eq!(user.email_addresses[0].verification, None);
    assert!(user.email_addresses[0].linked_to.is_empty());
    assert_eq!(user.phone_numbers[0].verification, None);
    assert_eq!(user.phone_numbers[0].backup_codes, None);
    assert_eq!(user.web3_wallets[0].verification, None);
    assert_eq!(user.passkeys[0].verification, None);
    let account = &user.external_accounts[0];
    assert_eq!(
        (account.image_url.clone(), account.username.clone()),
        (None, None)
    );
    assert_eq!(
        (account.phone_number.clone(), account.label.clone()),
        (None, None)
    );
    assert_eq!(account.avatar_url, None);
    assert_eq!(account.verification, None);
    let saml = &user.saml_accounts[0];
    assert_eq!(
        (saml.first_name.clone(), saml.last_name.clone()),
        (None, None)
    );
    assert_eq!(saml.provider_user_id, None);
    assert_eq!(saml.verification, None);
    assert_eq!(saml.saml_connection, None);
    assert!(saml.public_metadata.is_empty());
}

#[test]
fn user_with_only_an_id_decodes_with_defaults() {
    let user = decode_via_stand_in(r#"{"id": "user_bare"}"#);
    assert_eq!(user.id, "user_bare");
    assert_eq!(user.object, "");
    assert_eq!(user.first_name, None);
    assert!(user.email_addresses.is_empty());
    assert!(!user.banned);
    assert_eq!((user.created_at, user.updated_at), (0, 0));
}

#[test]
fn unknown_fields_are_ignored_at_every_level() {
    let body = r#"{
      "id": "user_u", "object": "user", "brand_new_field": {"deep": [1, 2]},
      "first_name": "Ada", "enterprise_accounts": [{"id": "eacc_1"}],
      "email_addresses": [{"id": "idn_1", "object": "email_address",
        "email_address": "a@b.c", "reserved": false, "linked_to": [],
        "created_at": 1, "updated_at": 2, "future_flag": true,
        "verification": {"status": "verified", "strategy": "admin", "attempts": null,
          "expire_at": null, "channel": "sms"}}],
      "saml_accounts": [{"id": "samlacc_1", "object": "saml_account", "provider": "p",
        "active": true, "email_address": "a@b.c", "verification": null, "extra": 1,
        "saml_connection": {"id": "samlc_1", "name": "n", "domains": [], "active": true,
          "provider": "p", "sync_user_attributes": false, "created_at": 1, "updated_at": 2,
          "new_setting": "x"}}]
    }"#;
    let user = decode_via_stand_in(body);
    assert_eq!(user.id, "user_u");
    assert_eq!(user.first_name.as_deref(), Some("Ada"));
    assert_eq!(user.email_addresses[0].email_address, "a@b.c");
    assert_eq!(
        user.email_addresses[0]
            .verification
            .as_ref()
            .unwrap()
            .status,
        "verified"
    );
    let connection = user.saml_accounts[0].saml_connection.as_ref().unwrap();
    assert_eq!(
        (connection.id.as_str(), connection.domain.clone()),
        ("samlc_1", None)
    );
}

#[test]
fn unknown_enum_values_are_kept_verbatim() {
    let body = r#"{
      "id": "user_e", "object": "user_v2",
      "email_addresses": [{"id": "idn_1", "object": "email_address_v2",
        "email_address": "a@b.c", "reserved": false, "linked_to": [{"type": "web3_x", "id": "1"}],
        "created_at": 1, "updated_at": 2,
        "verification": {"status": "pending_review", "strategy": "email_link",
          "attempts": null, "expire_at": null}}],
      "external_accounts": [{"object": "tiktok_account", "id": "eac_t",
        "provider": "oauth_custom_tiktok", "identification_id": "idn_t", "provider_user_id": "t",
        "approved_scopes": "", "email_address": "", "first_name": "", "last_name": "",
        "public_metadata": {}, "created_at": 1, "updated_at": 2,
        "verification": {"status": "transferable", "strategy": "oauth_token_tiktok",
          "expire_at": 9}}],
      "saml_accounts": [{"id": "samlacc_1", "object": "saml_account", "provider": "saml_new_idp",
        "active": true, "email_address": "a@b.c",
        "verification": {"status": "verified", "strategy": "enterprise_sso", "expire_at": 5}}]
    }"#;
    let user = decode_via_stand_in(body);
    assert_eq!(user.object, "user_v2");
    let email = &user.email_addresses[0];
    assert_eq!(email.object, "email_address_v2");
    assert_eq!(email.linked_to[0].kind, "web3_x");
    let verification = email.verification.as_ref().unwrap();
    assert_eq!(verification.status, "pending_review");
    assert_eq!(verification.strategy, "email_link");
    assert!(!verification.is_verified());
    let account = &user.external_accounts[0];
    assert_eq!(account.object, "tiktok_account");
    assert_eq!(account.provider, "oauth_custom_tiktok");
    let oauth = account.verification.as_ref().unwrap();
    assert_eq!(
        (oauth.status.as_str(), oauth.strategy.as_str()),
        ("transferable", "oauth_token_tiktok")
    );
    assert_eq!(oauth.expire_at, Some(9));
    let saml = &user.saml_accounts[0];
    assert_eq!(saml.provider, "saml_new_idp");
    assert_eq!(
        saml.verification.as_ref().unwrap().strategy,
        "enterprise_sso"
    );
}

#[test]
fn verification_of_a_shape_not_in_the_spec_decodes() {
    let body = r#"{
      "id": "user_v",
      "email_addresses": [{"id": "idn_1", "object": "email_address", "email_address": "a@b.c",
        "reserved": false, "linked_to": [], "created_at": 1, "updated_at": 2,
        "verification": {"object": "verification_v3", "status": "verified",
          "strategy": "magic_link", "attempts": "three", "expire_at": "tomorrow",
          "verified_at_client": 12, "nonce": {"n": 1}, "message": ["m"],
          "external_verification_redirect_url": false, "error": "denied",
          "channel": {"kind": "whatsapp"}}}],
      "phone_numbers": [{"id": "idn_2", "object": "phone_number", "phone_number": "+1",
        "reserved": false, "linked_to": [], "created_at": 1, "updated_at": 2,
        "verification": {}}],
      "saml_accounts": [{"id": "samlacc_1", "object": "saml_account", "provider": "p",
        "active": true, "email_address": "a@b.c", "verification": null,
        "saml_connection": "samlc_only_an_id"}]
    }"#;
    let user = decode_via_stand_in(body);
    let odd = user.email_addresses[0].verification.as_ref().unwrap();
    assert_eq!(odd.status, "verified");
    assert_eq!(odd.strategy, "magic_link");
    assert_eq!(odd.attempts, None);
    assert_eq!(odd.expire_at, None);
    assert_eq!(odd.verified_at_client, None);
    assert_eq!(odd.nonce, None);
    assert_eq!(odd.message, None);
    assert_eq!(odd.external_verification_redirect_url, None);
    assert_eq!(odd.error, None);
    assert!(odd.is_verified());

    let empty = user.phone_numbers[0].verification.as_ref().unwrap();
    assert_eq!((empty.status.as_str(), empty.strategy.as_str()), ("", ""));
    assert_eq!((empty.attempts, empty.expire_at), (None, None));

    assert_eq!(user.saml_accounts[0].saml_connection, None);
}

#[test]
fn verification_that_is_not_an_object_decodes_as_none() {
    let body = r#"{"id": "user_v", "email_addresses": [{"id": "idn_1",
        "email_address": "a@b.c", "verification": "verified"}]}"#;
    let user = decode_via_stand_in(body);
    assert_eq!(user.email_addresses[0].email_address, "a@b.c");
    assert_eq!(user.email_addresses[0].verification, None);
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

fn call_with(fault: Fault) -> (Error, StandIn) {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(fault);
    let error = stand_in.client().unwrap().upsert_user(&ada()).unwrap_err();
    assert_eq!(stand_in.requests().len(), 1);
    assert_eq!(error.attempts(), 1);
    assert_no_token(&error, stand_in.token());
    (error, stand_in)
}

#[test]
fn clerk_error_400_with_long_message_meta_and_trace_id() {
    let body = r#"{"errors":[{"code":"form_param_format_invalid","message":"is invalid",
      "long_message":"email_address must be a valid email address.",
      "meta":{"param_name":"email_address"}}],"clerk_trace_id":"trace_400"}"#;
    let (error, _stand_in) = call_with(json_fault(400, body));
    let Error::Api(api) = &error else {
        panic!("expected Api, got {error:?}")
    };
    assert_eq!(api.status, 400);
    assert_eq!(api.errors.len(), 1);
    let first = &api.errors[0];
    assert_eq!(first.code, "form_param_format_invalid");
    assert_eq!(first.message, "is invalid");
    assert_eq!(
        first.long_message.as_deref(),
        Some("email_address must be a valid email address.")
    );
    assert_eq!(
        first.meta.clone().map(Value::Object),
        Some(json!({"param_name": "email_address"}))
    );
    assert_eq!(api.meta, None);
    assert_eq!(api.clerk_trace_id.as_deref(), Some("trace_400"));
    assert_eq!(api.retry_after, None);
    assert_eq!(api.call.attempts, 1);
    assert_eq!(api.code(), Some("form_param_format_invalid"));
    assert_eq!(api.message(), Some("is invalid"));
    assert_eq!(first.param_name(), Some("email_address"));

    assert_eq!(error.status(), Some(400));
    assert_eq!(error.code(), Some("form_param_format_invalid"));
    assert_eq!(error.clerk_trace_id(), Some("trace_400"));
    assert!(!error.may_have_been_applied());
    let text = error.to_string();
    assert!(
        text.starts_with(
            "clerk api error (status 400): form_param_format_invalid: is invalid \
             (param email_address) [trace trace_400] (1 attempt in "
        ),
        "{text}"
    );
}

#[test]
fn clerk_error_401_without_long_message_meta_or_trace_id() {
    let body =
        r#"{"errors":[{"code":"authentication_invalid","message":"Invalid authentication"}]}"#;
    let (error, _stand_in) = call_with(json_fault(401, body));
    let Error::Api(api) = &error else {
        panic!("expected Api, got {error:?}")
    };
    assert_eq!(api.status, 401);
    assert_eq!(api.errors[0].code, "authentication_invalid");
    assert_eq!(api.errors[0].message, "Invalid authentication");
    assert_eq!(api.errors[0].long_message, None);
    assert_eq!(api.errors[0].meta, None);
    assert_eq!(api.clerk_trace_id, None);
    assert_eq!(error.clerk_trace_id(), None);
    let text = error.to_string();
    assert!(
        text.starts_with(
            "clerk api error (status 401): authentication_invalid: Invalid authentication \
             (1 attempt in "
        ),
        "{text}"
    );
}

#[test]
fn clerk_error_403_with_the_trace_id_on_the_entry() {
    let body = r#"{"errors":[{"code":"authorization_invalid","message":"Unauthorized request",
      "long_message":"You are not authorized to perform this request",
      "meta":null,"clerk_trace_id":"trace_in_entry"}]}"#;
    let (error, _stand_in) = call_with(json_fault(403, body));
    let Error::Api(api) = &error else {
        panic!("expected Api, got {error:?}")
    };
    assert_eq!(api.status, 403);
    assert_eq!(api.errors[0].meta, None);
    assert_eq!(
        api.errors[0].long_message.as_deref(),
        Some("You are not authorized to perform this request")
    );
    assert_eq!(
        api.errors[0].clerk_trace_id.as_deref(),
        Some("trace_in_entry")
    );
    assert_eq!(error.clerk_trace_id(), Some("trace_in_entry"));
    assert!(error.to_string().contains(
        "(status 403): authorization_invalid: Unauthorized request [trace trace_in_entry]"
    ));
}

#[test]
fn clerk_error_422_with_several_errors_and_list_meta() {
    let body = r#"{"errors":[
      {"code":"form_identifier_exists","message":"That email address is taken.",
       "long_message":"That email address is taken. Please try another.",
       "meta":{"param_name":"email_address"}},
      {"code":"form_param_missing","message":"first_name is missing",
       "long_message":"first_name is missing","meta":{"param_name":"first_name"}}],
      "meta":{"request":{"attempt":1}},"clerk_trace_id":"trace_422"}"#;
    let (error, _stand_in) = call_with(json_fault(422, body));
    let Error::Api(api) = &error else {
        panic!("expected Api, got {error:?}")
    };
    assert_eq!(api.status, 422);
    let codes: Vec<&str> = api.errors.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, vec!["form_identifier_exists", "form_param_missing"]);
    assert_eq!(
        api.errors[1].meta.clone().map(Value::Object),
        Some(json!({"param_name": "first_name"}))
    );
    assert_eq!(
        api.meta.clone().map(Value::Object),
        Some(json!({"request": {"attempt": 1}}))
    );
    let text = error.to_string();
    assert!(
        text.starts_with(
            "clerk api error (status 422): form_identifier_exists: That email address is taken. \
             (param email_address) (and 1 more) [trace trace_422] (1 attempt in "
        ),
        "{text}"
    );
}

#[test]
fn not_found_as_plain_text_is_an_unexpected_response() {
    let (error, _stand_in) = call_with(raw_fault(
        404,
        "text/plain; charset=utf-8",
        "404 page not found\n",
    ));
    let Error::UnexpectedResponse(response) = &error else {
        panic!("expected UnexpectedResponse, got {error:?}")
    };
    assert_eq!(response.status, 404);
    assert_eq!(
        response.content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(response.body_excerpt, "404 page not found\n");
    assert_eq!(response.retry_after, None);
    assert_eq!(error.status(), Some(404));
    assert_eq!(error.code(), None);
    let text = error.to_string();
    assert!(
        text.starts_with(
            "unexpected response (status 404, text/plain; charset=utf-8): \"404 page not found\\n\""
        ),
        "{text}"
    );
}

#[test]
fn bad_gateway_html_is_an_unexpected_response_with_a_capped_excerpt() {
    let page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let (error, _stand_in) = call_with(raw_fault(502, "text/html", page));
    let Error::UnexpectedResponse(response) = &error else {
        panic!("expected UnexpectedResponse, got {error:?}")
    };
    assert_eq!(response.status, 502);
    assert_eq!(response.content_type.as_deref(), Some("text/html"));
    assert_eq!(response.body_excerpt, page);

    // A long page is cut at 512 characters, and the token echoed in it is masked.
    let stand_in = StandIn::start().unwrap();
    let long = format!("<p>{}</p>{}", stand_in.token(), "é".repeat(1000));
    stand_in.push_fault(raw_fault(502, "text/html; charset=utf-8", &long));
    let error = stand_in.client().unwrap().upsert_user(&ada()).unwrap_err();
    assert_no_token(&error, stand_in.token());
    let Error::UnexpectedResponse(response) = &error else {
        panic!("expected UnexpectedResponse, got {error:?}")
    };
    let expected_start = "<p>[redacted]</p>é";
    assert!(response.body_excerpt.starts_with(expected_start));
    assert_eq!(response.body_excerpt.chars().count(), 513);
    assert!(response.body_excerpt.ends_with("é…"));
}

#[test]
fn success_with_an_empty_body_is_a_decode_error() {
    for content_type in ["application/json", ""] {
        let fault = if content_type.is_empty() {
            Fault::Respond {
                status: 200,
                headers: vec![],
                body: vec![],
            }
        } else {
            json_fault(200, "")
        };
        let (error, _stand_in) = call_with(fault);
        let Error::Decode(decode) = &error else {
            panic!("expected Decode, got {error:?}")
        };
        assert_eq!(decode.status, 200);
        assert_eq!(decode.target, "User");
        assert_eq!(
            decode.message,
            "EOF while parsing a value at line 1 column 0"
        );
        assert_eq!((decode.line, decode.column), (1, 0));
        assert_eq!(decode.body_excerpt, "");
        assert_eq!(
            error.to_string(),
            format!(
                "cannot decode User from the response (status 200): EOF while parsing a value \
                 at line 1 column 0 ({})",
                decode.call
            )
        );
    }
}

#[test]
fn success_with_null_is_a_decode_error() {
    let (error, _stand_in) = call_with(json_fault(200, "null"));
    let Error::Decode(decode) = &error else {
        panic!("expected Decode, got {error:?}")
    };
    assert_eq!(decode.target, "User");
    assert_eq!(
        decode.message,
        "invalid type: null, expected struct User at line 1 column 4"
    );
    assert_eq!((decode.line, decode.column), (1, 4));
    assert_eq!(decode.body_excerpt, "null");
}

#[test]
fn success_with_malformed_json_is_a_decode_error_with_position() {
    let body = "{\n  \"id\": \"user_1\",\n  \"first_name\": }";
    let (error, _stand_in) = call_with(json_fault(200, body));
    let Error::Decode(decode) = &error else {
        panic!("expected Decode, got {error:?}")
    };
    assert_eq!(decode.status, 200);
    assert_eq!(decode.target, "User");
    assert_eq!(decode.message, "expected value at line 3 column 17");
    assert_eq!((decode.line, decode.column), (3, 17));
    assert_eq!(decode.body_excerpt, body);

    // A well-formed body of the wrong shape names the field.
    let (error, _stand_in) = call_with(json_fault(200, r#"{"id": 42}"#));
    let Error::Decode(decode) = &error else {
        panic!("expected Decode, got {error:?}")
    };
    assert_eq!(
        decode.message,
        "invalid type: integer `42`, expected a string at line 1 column 9"
    );
    assert_eq!((decode.line, decode.column), (1, 9));
}

#[test]
fn success_with_a_non_json_content_type_is_an_unexpected_response() {
    let page = "<html><body>Welcome to the captive portal</body></html>";
    let (error, _stand_in) = call_with(raw_fault(200, "text/html; charset=utf-8", page));
    let Error::UnexpectedResponse(response) = &error else {
        panic!("expected UnexpectedResponse, got {error:?}")
    };
    assert_eq!(response.status, 200);
    assert_eq!(
        response.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(response.body_excerpt, page);

    // A JSON user with a JSON media type that has parameters or a suffix is fine.
    for content_type in [
        "application/json; charset=utf-8",
        "application/vnd.clerk+json",
    ] {
        let stand_in = StandIn::start().unwrap();
        stand_in.push_fault(raw_fault(200, content_type, r#"{"id":"user_ok"}"#));
        let user = stand_in.client().unwrap().upsert_user(&ada()).unwrap();
        assert_eq!(user.id, "user_ok");
    }
}

#[test]
fn redirect_is_an_error_and_is_never_followed() {
    let elsewhere = StandIn::start().unwrap();
    let target = format!("{}/management/users", elsewhere.base_url());
    for status in [301, 302, 303, 307, 308] {
        let stand_in = StandIn::start().unwrap();
        stand_in.push_fault(Fault::Respond {
            status,
            headers: vec![("Location".into(), target.clone())],
            body: Vec::new(),
        });
        let error = stand_in.client().unwrap().upsert_user(&ada()).unwrap_err();
        let Error::Redirect(redirect) = &error else {
            panic!("expected Redirect, got {error:?}")
        };
        assert_eq!(redirect.status, status);
        assert_eq!(redirect.location.as_deref(), Some(target.as_str()));
        assert_eq!(error.status(), Some(status));
        assert_eq!(error.attempts(), 1);
        assert_eq!(
            error.to_string(),
            format!(
                "redirect not followed (status {status}, to {target}, {})",
                redirect.call
            )
        );
        assert_eq!(stand_in.requests().len(), 1);
    }
    assert!(elsewhere.requests().is_empty());
}

#[test]
fn connection_refused_is_a_transport_error() {
    let port = common::refused_port();
    let client = ManagementClient::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .management_token(common::TOKEN)
        .retry(RetryConfig::none())
        .build()
        .unwrap();
    let error = client.upsert_user(&ada()).unwrap_err();
    let Error::Transport(transport) = &error else {
        panic!("expected Transport, got {error:?}")
    };
    assert_eq!(transport.kind, TransportKind::ConnectionRefused);
    assert!(!transport.may_have_been_applied());
    assert!(matches!(
        transport.ureq_error(),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused
    ));
    assert_eq!(error.attempts(), 1);
    assert_eq!(error.status(), None);
    assert!(!error.may_have_been_applied());
    assert!(std::error::Error::source(&error).is_some());
    assert!(
        error
            .to_string()
            .starts_with("connection refused (1 attempt in ")
    );
    assert_no_token(&error, common::TOKEN);
}

#[test]
fn body_cut_short_is_a_broken_connection() {
    let (error, _stand_in) = call_with(Fault::DropConnection);
    let Error::Transport(transport) = &error else {
        panic!("expected Transport, got {error:?}")
    };
    assert_eq!(transport.kind, TransportKind::ConnectionClosed);
    assert!(error.may_have_been_applied());
    assert!(error.to_string().starts_with(
        "connection closed before the response was complete; the request may have been applied"
    ));
}

#[test]
fn body_over_the_limit_is_response_too_large() {
    let stand_in = StandIn::start().unwrap();
    let big = format!(r#"{{"id":"user_big","padding":"{}"}}"#, "x".repeat(2048));
    stand_in.push_fault(json_fault(200, &big));
    let client = stand_in
        .client_builder()
        .response_body_limit(1024)
        .build()
        .unwrap();
    let error = client.upsert_user(&ada()).unwrap_err();
    let Error::ResponseTooLarge {
        limit,
        status,
        call,
        ..
    } = &error
    else {
        panic!("expected ResponseTooLarge, got {error:?}")
    };
    assert_eq!((*limit, *status, call.attempts), (1024, 200, 1));
    // A 200 means the server acted, even though its answer could not be read.
    assert!(error.may_have_been_applied());
    assert_eq!(error.retry_after(), None);
}

#[test]
fn body_over_the_limit_keeps_the_servers_retry_after() {
    let stand_in = StandIn::start().unwrap();
    stand_in.push_fault(Fault::Respond {
        status: 503,
        headers: vec![("Retry-After".into(), "7".into())],
        body: vec![b'x'; 4096],
    });
    let client = stand_in
        .client_builder()
        .response_body_limit(1024)
        .build()
        .unwrap();
    let error = client.upsert_user(&ada()).unwrap_err();
    assert!(
        matches!(error, Error::ResponseTooLarge { status: 503, .. }),
        "{error:?}"
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    assert!(!error.may_have_been_applied());
}

#[test]
fn a_request_the_agent_refuses_to_send_is_not_sent_and_not_retried() {
    let stand_in = StandIn::start().unwrap();
    let strict = ureq::Agent::config_builder()
        .https_only(true)
        .proxy(None)
        .build()
        .new_agent();
    let client = stand_in
        .client_builder()
        .agent(strict)
        .retry(RetryConfig::default().initial_interval(Duration::from_millis(1)))
        .build()
        .unwrap();
    let error = client.upsert_user(&ada()).unwrap_err();
    let Error::Transport(transport) = &error else {
        panic!("expected Transport, got {error:?}")
    };
    assert_eq!(transport.kind, TransportKind::NotSent);
    assert_eq!(error.attempts(), 1);
    assert!(!error.may_have_been_applied());
    assert!(stand_in.requests().is_empty());
    assert!(
        error
            .to_string()
            .starts_with("the http agent refused to send the request (1 attempt in "),
        "{error}"
    );
}

#[test]
fn hanging_server_is_a_response_timeout() {
    let server = common::hang();
    let client = ManagementClient::builder()
        .base_url(server.base_url())
        .management_token(common::TOKEN)
        .retry(RetryConfig::none())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = client.upsert_user(&ada()).unwrap_err();
    let Error::Timeout(timeout) = &error else {
        panic!("expected Timeout, got {error:?}")
    };
    assert_eq!(timeout.phase, TimeoutPhase::Response);
    assert_eq!(timeout.limit, Duration::from_millis(300));
    assert!(error.may_have_been_applied());
    assert!(
        error
            .to_string()
            .starts_with("timed out after 300ms; the request may have been applied (1 attempt in ")
    );
}

#[test]
fn chunked_and_close_delimited_bodies_decode() {
    let body = r#"{"id":"user_framed","first_name":"Ada"}"#;
    let (head, tail) = body.split_at(10);
    let chunked = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{head}\r\n{:x}\r\n{tail}\r\n0\r\n\r\n",
        head.len(),
        tail.len()
    );
    let close_delimited = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{body}"
    );
    for raw in [chunked, close_delimited] {
        let raw = raw.into_bytes();
        let server = common::RawServer::start(move |mut conn| {
            use std::io::Write;
            if conn.read_request().is_some() {
                let _ = conn.stream.write_all(&raw);
            }
            conn.close();
        });
        let client = ManagementClient::builder()
            .base_url(server.base_url())
            .management_token(common::TOKEN)
            .retry(RetryConfig::none())
            .build()
            .unwrap();
        let user = client.upsert_user(&ada()).unwrap();
        assert_eq!(user.id, "user_framed");
        assert_eq!(user.first_name.as_deref(), Some("Ada"));
    }
}
