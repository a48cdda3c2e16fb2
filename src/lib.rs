//! A blocking client for the management endpoints of Clerk's Backend API.
//!
//! For synchronous programs (provisioning tools, build scripts, small binaries, tests) that
//! want no async runtime: every call blocks the calling thread, and the crate depends on
//! nothing but `ureq`, `serde`, `serde_json`, `thiserror` and `time`.
//!
//! # Quick start
//!
//! ```no_run
//! # fn main() -> Result<(), clerk_management::Error> {
//! use clerk_management::ManagementClient;
//! use clerk_management::upsert_user::UpsertUserRequest;
//!
//! // The token from CLERK_MANAGEMENT_TOKEN, the server from CLERK_API_URL if set.
//! let client = ManagementClient::from_env()?;
//! let user = client.upsert_user(&UpsertUserRequest::new("ada@example.com", "Ada", "Lovelace"))?;
//! println!("{}", user.id);
//! # Ok(())
//! # }
//! ```
//!
//! # The operations
//!
//! Each is a method of [`ManagementClient`], with its request and response types in a module
//! of its own. A request's required fields are its constructor's arguments, so a missing one
//! does not compile; its optional fields are consuming setters, and a field not set is left
//! out of the body (never sent as `null`).
//!
//! - [`upsert_user`]: `POST /management/users`, [`UpsertUserRequest`] → [`User`]
//! - [`create_organization`]: `POST /management/organizations`,
//!   [`CreateOrganizationRequest`] → [`Organization`]
//! - [`create_application`]: `POST /management/applications`,
//!   [`CreateApplicationRequest`] → [`ManagementApplicationResponse`]
//!
//! [`upsert_user`]: ManagementClient::upsert_user
//! [`create_organization`]: ManagementClient::create_organization
//! [`create_application`]: ManagementClient::create_application
//! [`UpsertUserRequest`]: upsert_user::UpsertUserRequest
//! [`User`]: upsert_user::User
//! [`CreateOrganizationRequest`]: create_organization::CreateOrganizationRequest
//! [`Organization`]: create_organization::Organization
//! [`CreateApplicationRequest`]: create_application::CreateApplicationRequest
//! [`ManagementApplicationResponse`]: create_application::ManagementApplicationResponse
//!
//! Every method has a `…_with_options` twin taking [`RequestOptions`]: a timeout, a retry
//! policy, extra headers or another token for that call only.
//!
//! Responses decode leniently, because the live API is looser than its specification: unknown
//! fields are ignored, nullable fields are `Option`s, enum-like strings are kept verbatim.
//!
//! # Configuration
//!
//! [`ManagementClient::builder`] sets everything in code; [`ManagementClient::from_env`]
//! reads [`TOKEN_ENV`] (`CLERK_MANAGEMENT_TOKEN`, required) and [`BASE_URL_ENV`]
//! (`CLERK_API_URL`, optional).
//!
//! | setting | builder method | default |
//! | --- | --- | --- |
//! | token | [`management_token`] | required |
//! | server | [`base_url`] | [`DEFAULT_BASE_URL`] |
//! | attempt timeout | [`timeout`] | [`DEFAULT_TIMEOUT`] (30 s) |
//! | connect timeout | [`connect_timeout`] | [`DEFAULT_CONNECT_TIMEOUT`] (10 s) |
//! | retries | [`retry`] | [`RetryConfig::default`] |
//! | body limit | [`response_body_limit`] | [`DEFAULT_RESPONSE_BODY_LIMIT`] (2 MiB) |
//! | user agent | [`user_agent`] | [`DEFAULT_USER_AGENT`] |
//! | HTTP agent | [`agent`] | a new `ureq::Agent` |
//!
//! [`management_token`]: ManagementClientBuilder::management_token
//! [`base_url`]: ManagementClientBuilder::base_url
//! [`timeout`]: ManagementClientBuilder::timeout
//! [`connect_timeout`]: ManagementClientBuilder::connect_timeout
//! [`retry`]: ManagementClientBuilder::retry
//! [`response_body_limit`]: ManagementClientBuilder::response_body_limit
//! [`user_agent`]: ManagementClientBuilder::user_agent
//! [`agent`]: ManagementClientBuilder::agent
//!
//! The client is cheap to clone and `Send + Sync`; clones share one connection pool.
//!
//! # Errors
//!
//! Every call returns `Result<T, `[`Error`]`>`. The variant says what happened; the accessors
//! work across variants:
//!
//! ```no_run
//! # fn main() {
//! use clerk_management::{Error, ManagementClient};
//! use clerk_management::create_organization::CreateOrganizationRequest;
//!
//! # let client = ManagementClient::from_env().unwrap();
//! match client.create_organization(&CreateOrganizationRequest::new("Acme", "acme")) {
//!     Ok(organization) => println!("created {}", organization.id),
//!     Err(Error::Api(api)) if api.code() == Some("form_identifier_exists") => {
//!         println!("slug taken (trace {:?})", api.clerk_trace_id);
//!     }
//!     Err(error) if error.may_have_been_applied() => {
//!         println!("unknown outcome, check before retrying: {error}");
//!     }
//!     Err(error) => println!("failed after {} attempts: {error}", error.attempts()),
//! }
//! # }
//! ```
//!
//! - [`Error::Api`]: Clerk's error list ([`ApiError`]: status, each [`ClerkError`]'s `code`,
//!   `message`, `long_message` and `meta`, the trace id, `Retry-After`).
//! - [`Error::UnexpectedResponse`]: any other status or body, such as a proxy's HTML page.
//! - [`Error::Redirect`]: a 3xx, never followed, so the token never reaches another host.
//! - [`Error::Decode`]: a success status whose body does not decode (an empty body, `null`).
//! - [`Error::ResponseTooLarge`], [`Error::Transport`], [`Error::Timeout`]: the connection.
//! - [`Error::Config`], [`Error::InvalidRequest`]: bad settings or input; nothing was sent.
//!
//! # Retries and timeouts
//!
//! [`RetryConfig`] documents the policy. By default a call is retried on 429 and 5XX, and on
//! failures before the request reached the server. The wait before retry n is 0.5 s × 1.5ⁿ⁻¹,
//! capped at 60 s, with up to a quarter taken off at random, within a 30 s budget:
//!
//! | retry | wait before it (no jitter) | time since the start (no jitter) |
//! | --- | --- | --- |
//! | 1 | 0.5 s | 0.5 s |
//! | 2 | 0.75 s | 1.25 s |
//! | 3 | 1.125 s | 2.375 s |
//! | 4 | 1.69 s | 4.06 s |
//! | 5 | 2.53 s | 6.59 s |
//! | 6 | 3.80 s | 10.39 s |
//! | 7 | 5.70 s | 16.09 s |
//! | 8 | 8.54 s | 24.63 s |
//!
//! (plus the time the attempts themselves take). A longer `Retry-After` replaces the wait,
//! clamped to 60 s; when the wait would pass the budget, the call ends with the error, which carries
//! [`Error::retry_after`]. A failure after the request may have reached the server (a reset
//! while waiting, a response timeout) is retried only for the idempotent `upsert_user`; for
//! the two creates it is returned at once, and [`Error::may_have_been_applied`] says so.
//!
//! Each attempt has a timeout from connecting to the last byte of the body (30 s), and
//! connecting has its own (10 s), so a call never lasts longer than the budget plus one
//! attempt's timeout.
//!
//! # Secrets
//!
//! The management token and the instances' secret keys ([`SecretString`]) print as
//! `[redacted]` in every `Debug` and `Display` of the crate, errors included; body excerpts in
//! errors have the token and anything shaped like `sk_…` masked. Reading a secret key takes an
//! explicit [`SecretString::expose_secret`].
//!
//! # TLS and proxies
//!
//! TLS is rustls with the webpki root certificates; the `native-tls` feature switches the
//! default agent to the platform's TLS library. Certificates are always verified. The default
//! agent takes a proxy from the first of `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` (or their
//! lowercase forms) that is set and valid, for every request, and skips it for the hosts in
//! `NO_PROXY`; for anything else, build a `ureq::Agent` and pass it to
//! [`agent`](ManagementClientBuilder::agent).
//!
//! # Testing with the stand-in
//!
//! The `testing` feature adds `testing::StandIn`, a local server that behaves like the three
//! endpoints (token check, validation, upsert by email, unique slugs, application keys) and
//! can inject faults, so tools built on this crate can be tested offline:
//!
//! ```toml
//! [dev-dependencies]
//! clerk-management = { version = "0.1", features = ["testing"] }
//! ```
//!
//! # Minimum Rust version and semver
//!
//! The crate builds with Rust 1.85 and later; raising that is a minor-version change. Before
//! 1.0, a breaking change bumps the minor version (0.1 → 0.2). Error enums and response structs
//! are `#[non_exhaustive]`: new variants and fields are not breaking changes.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::pedantic)]
// The pedantic lints this crate does not follow, each for a reason:
#![allow(
    // Accessors and constructors: a discarded result is obviously a mistake already.
    clippy::must_use_candidate,
    // Setters consume the builder, so a dropped result fails to compile at its next use.
    clippy::return_self_not_must_use,
    // Every fallible function returns the one `Error`, whose variants are documented.
    clippy::missing_errors_doc,
    // The response types mirror the API's flags one to one.
    clippy::struct_excessive_bools,
    // A two-arm `match` reads better than `if let … else` when both arms do real work.
    clippy::single_match_else
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod de;
mod error;
mod options;
mod retry;
mod secret;

pub mod create_application;
pub mod create_organization;
pub mod upsert_user;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

// Compiles every snippet of the README as a doctest, so that none of them goes stale.
#[cfg(all(doctest, feature = "testing"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use client::{
    BASE_URL_ENV, CLERK_API_VERSION, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_RESPONSE_BODY_LIMIT, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT, ManagementClient,
    ManagementClientBuilder, TOKEN_ENV,
};
pub use error::{
    ApiError, CallInfo, ClerkError, DecodeError, Error, Redirect, TimeoutError, TimeoutPhase,
    TransportError, TransportKind, UnexpectedResponse,
};
pub use options::RequestOptions;
pub use retry::RetryConfig;
pub use secret::SecretString;

/// Turns Clerk's Unix milliseconds into a date-time; `None` when out of `time`'s range.
///
/// ```
/// let at = clerk_management::datetime_from_millis(1_712_781_461_925).unwrap();
/// assert_eq!(at.to_string(), "2024-04-10 20:37:41.925 +00:00:00");
/// ```
pub fn datetime_from_millis(millis: i64) -> Option<time::OffsetDateTime> {
    let nanos = i128::from(millis) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}
