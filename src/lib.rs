//! A blocking client for the management endpoints of Clerk's Backend API.
//!
//! Three operations, each a method of [`ManagementClient`] with its request type in a module of
//! its own:
//!
//! | method | endpoint | request | response |
//! | --- | --- | --- | --- |
//! | [`upsert_user`](ManagementClient::upsert_user) | `POST /management/users` | [`UpsertUserRequest`](upsert_user::UpsertUserRequest) | [`User`](upsert_user::User) |
//! | [`create_organization`](ManagementClient::create_organization) | `POST /management/organizations` | [`CreateOrganizationRequest`](create_organization::CreateOrganizationRequest) | [`Organization`](create_organization::Organization) |
//! | [`create_application`](ManagementClient::create_application) | `POST /management/applications` | [`CreateApplicationRequest`](create_application::CreateApplicationRequest) | [`ManagementApplicationResponse`](create_application::ManagementApplicationResponse) |
//!
//! ```no_run
//! # fn main() -> Result<(), clerk_management::Error> {
//! use clerk_management::ManagementClient;
//! use clerk_management::upsert_user::UpsertUserRequest;
//!
//! let client = ManagementClient::from_env()?;
//! let user = client.upsert_user(&UpsertUserRequest::new("ada@example.com", "Ada", "Lovelace"))?;
//! println!("{}", user.id);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
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
