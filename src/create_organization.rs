//! `POST /management/organizations`: create an organization.
//!
//! ```no_run
//! # fn main() -> Result<(), clerk_management::Error> {
//! use clerk_management::ManagementClient;
//! use clerk_management::create_organization::CreateOrganizationRequest;
//!
//! let client = ManagementClient::from_env()?;
//! let request = CreateOrganizationRequest::new("Acme Inc.", "acme").created_by("user_123");
//! let organization = client.create_organization(&request)?;
//! println!("{} is {}", organization.id, organization.slug);
//! # Ok(())
//! # }
//! ```
//!
//! Decoding is lenient, as for [`upsert_user`](crate::upsert_user): unknown fields are ignored;
//! the fields the specification leaves optional are an `Option`, absent or `null` giving
//! `None`; the others, except `id`, decode `null` or absence as empty, `false` or `0`.
//! Timestamps are Unix milliseconds, with date-time helpers.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::client::Operation;
use crate::{Error, ManagementClient, RequestOptions};

/// The body of an organization creation: `name` and `slug` are required, so they are the
/// constructor's arguments; every setter adds one optional field.
///
/// A field that is not set is left out of the body (never sent as `null`). Strings are sent
/// byte for byte, without Unicode normalization.
///
/// Metadata and `created_at` are converted to JSON when they are set; a value that cannot be
/// sent (metadata that is not a JSON object, a date-time RFC 3339 cannot express) makes the
/// call fail with [`Error::InvalidRequest`] naming the field, before anything is sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateOrganizationRequest {
    name: String,
    slug: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_allowed_memberships: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_metadata: Option<Converted<Map<String, Value>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_metadata: Option<Converted<Map<String, Value>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<Converted<String>>,
}

impl CreateOrganizationRequest {
    /// A request for an organization called `name`, at the URL-friendly `slug`.
    pub fn new(name: impl Into<String>, slug: impl Into<String>) -> Self {
        CreateOrganizationRequest {
            name: name.into(),
            slug: slug.into(),
            created_by: None,
            max_allowed_memberships: None,
            public_metadata: None,
            private_metadata: None,
            created_at: None,
        }
    }

    /// The id of the user who creates the organization (`user_…`); Clerk makes them its admin.
    ///
    /// ```
    /// use clerk_management::create_organization::CreateOrganizationRequest;
    ///
    /// let request = CreateOrganizationRequest::new("Acme", "acme")
    ///     .created_by("user_2abc")
    ///     .max_allowed_memberships(25);
    /// assert_eq!(
    ///     serde_json::to_string(&request).unwrap(),
    ///     r#"{"name":"Acme","slug":"acme","created_by":"user_2abc","max_allowed_memberships":25}"#
    /// );
    /// ```
    pub fn created_by(mut self, user_id: impl Into<String>) -> Self {
        self.created_by = Some(user_id.into());
        self
    }

    /// The most memberships the organization may have.
    ///
    /// `0` is a value like any other: it is sent as `0`, not left out. Negative limits mean
    /// nothing, so the type is unsigned.
    pub fn max_allowed_memberships(mut self, limit: u32) -> Self {
        self.max_allowed_memberships = Some(limit);
        self
    }

    /// Metadata readable from the frontend and the backend: a [`serde_json::Map`], a
    /// [`serde_json::Value`] object, or anything else that serializes to a JSON object (a
    /// struct, a `HashMap<String, _>`, …).
    ///
    /// It is sent exactly as given: nested objects, arrays, Unicode keys, integers up to
    /// `u64::MAX` and down to `i64::MIN`, and strings needing escapes arrive unchanged. Setting
    /// metadata again replaces it. As with any conversion through `serde_json`, a non-finite
    /// float becomes `null`.
    ///
    /// A value that is not an object (a string, an array, `null`, …) or that does not
    /// serialize to JSON is kept until the call, which then fails with
    /// [`Error::InvalidRequest`] whose `field` is `public_metadata`; nothing is sent.
    ///
    /// ```
    /// use clerk_management::create_organization::CreateOrganizationRequest;
    /// use serde_json::json;
    ///
    /// let request = CreateOrganizationRequest::new("Acme", "acme")
    ///     .public_metadata(json!({"plan": {"seats": 9_007_199_254_740_993_u64}}))
    ///     .private_metadata(json!({"crm_id": "C-17"}));
    /// assert_eq!(
    ///     serde_json::to_string(&request).unwrap(),
    ///     concat!(
    ///         r#"{"name":"Acme","slug":"acme","#,
    ///         r#""public_metadata":{"plan":{"seats":9007199254740993}},"#,
    ///         r#""private_metadata":{"crm_id":"C-17"}}"#,
    ///     )
    /// );
    /// ```
    pub fn public_metadata(mut self, metadata: impl Serialize) -> Self {
        self.public_metadata = Some(Converted::metadata(metadata));
        self
    }

    /// Metadata readable from the backend only; accepted and sent like
    /// [`public_metadata`](Self::public_metadata), and rejected with `field`
    /// `private_metadata`.
    pub fn private_metadata(mut self, metadata: impl Serialize) -> Self {
        self.private_metadata = Some(Converted::metadata(metadata));
        self
    }

    /// When the organization was created, for an organization brought over from elsewhere.
    ///
    /// Sent as RFC 3339 with the date-time's own offset (`Z` for UTC) and its fractional
    /// seconds as given, trailing zeros dropped. A date-time without a zone cannot be
    /// expressed: the type asks for an offset. A year outside 0–9999 or an offset with seconds
    /// has no RFC 3339 form: the call then fails with [`Error::InvalidRequest`] whose `field`
    /// is `created_at`.
    ///
    /// ```
    /// use clerk_management::create_organization::CreateOrganizationRequest;
    /// use time::{Date, Month, Time, UtcOffset};
    ///
    /// let at = Date::from_calendar_date(2024, Month::April, 10)
    ///     .unwrap()
    ///     .with_time(Time::from_hms_milli(20, 37, 41, 925).unwrap())
    ///     .assume_offset(UtcOffset::from_hms(5, 30, 0).unwrap());
    /// let request = CreateOrganizationRequest::new("Acme", "acme").created_at(at);
    /// assert_eq!(
    ///     serde_json::to_string(&request).unwrap(),
    ///     r#"{"name":"Acme","slug":"acme","created_at":"2024-04-10T20:37:41.925+05:30"}"#
    /// );
    /// ```
    pub fn created_at(mut self, at: OffsetDateTime) -> Self {
        self.created_at = Some(match at.format(&Rfc3339) {
            Ok(text) => Converted::Valid(text),
            // time's own message is a sentence in another style; the cause is one of two.
            Err(_) => Converted::Invalid(
                "has no RFC 3339 form (a year outside 0 to 9999, or an offset with seconds)"
                    .to_owned(),
            ),
        });
        self
    }

    /// The organization's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The organization's slug.
    pub fn slug(&self) -> &str {
        &self.slug
    }
}

/// A field converted to its wire form when it was set, or the reason it could not be.
///
/// Converting in the setter keeps the setters chainable; the reason waits for `check()`.
/// Comparing the wire form also makes two requests equal exactly when their bodies are
/// (`OffsetDateTime`'s own equality ignores the offset, which is sent).
#[derive(Debug, Clone, PartialEq)]
enum Converted<T> {
    Valid(T),
    Invalid(String),
}

impl Converted<Map<String, Value>> {
    fn metadata(metadata: impl Serialize) -> Self {
        // Limitation: keys go out in the order of serde_json's `Map`, which is sorted unless
        // some crate in the build enables serde_json's `preserve_order`. JSON objects are
        // unordered, so only the bytes differ, never the content.
        match serde_json::to_value(metadata) {
            Ok(Value::Object(map)) => Converted::Valid(map),
            Ok(other) => {
                Converted::Invalid(format!("must be a JSON object, not {}", json_kind(&other)))
            }
            Err(e) => Converted::Invalid(format!("does not serialize to JSON: {e}")),
        }
    }
}

impl<T> Converted<T> {
    fn check(field: &str, converted: Option<&Self>) -> Result<(), Error> {
        match converted {
            Some(Converted::Invalid(message)) => Err(Error::invalid_request(field, message)),
            _ => Ok(()),
        }
    }
}

impl<T: Serialize> Serialize for Converted<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Converted::Valid(value) => value.serialize(serializer),
            // `check()` reports this first; serializing anyway must fail, not send a stand-in.
            Converted::Invalid(message) => Err(serde::ser::Error::custom(message)),
        }
    }
}

/// The kind of a JSON value, for a message that does not echo the value itself.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Operation for CreateOrganizationRequest {
    type Response = Organization;
    const PATH: &'static str = "/management/organizations";
    const TARGET: &'static str = "Organization";
    // A second send creates a second organization (or fails on the taken slug).
    const IDEMPOTENT: bool = false;

    fn check(&self) -> Result<(), Error> {
        Converted::check("public_metadata", self.public_metadata.as_ref())?;
        Converted::check("private_metadata", self.private_metadata.as_ref())?;
        Converted::check("created_at", self.created_at.as_ref())
    }
}

impl ManagementClient {
    /// Creates an organization.
    ///
    /// The operation is not idempotent: it is retried after 429 and 5XX responses and after
    /// failures to connect, but never after a broken connection or a response timeout (see
    /// [`RetryConfig`](crate::RetryConfig)). After one of those the error's
    /// [`may_have_been_applied`](Error::may_have_been_applied) is true: the organization may
    /// exist.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), clerk_management::Error> {
    /// # let client = clerk_management::ManagementClient::from_env()?;
    /// use clerk_management::create_organization::CreateOrganizationRequest;
    ///
    /// let request = CreateOrganizationRequest::new("Acme", "acme").max_allowed_memberships(0);
    /// let organization = client.create_organization(&request)?;
    /// assert_eq!(organization.max_allowed_memberships, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn create_organization(
        &self,
        request: &CreateOrganizationRequest,
    ) -> Result<Organization, Error> {
        self.execute(request, &RequestOptions::default())
    }

    /// [`create_organization`](Self::create_organization) with per-call [`RequestOptions`].
    pub fn create_organization_with_options(
        &self,
        request: &CreateOrganizationRequest,
        options: &RequestOptions,
    ) -> Result<Organization, Error> {
        self.execute(request, options)
    }
}

crate::de::response! {
    /// A Clerk organization, as the creation returns it.
    ///
    /// Limitation: metadata integers beyond the `i64`/`u64` range arrive as floats (lossy), since
    /// the crate decodes numbers with plain `serde_json`.
    #[derive(Debug, Clone, PartialEq)]
    #[non_exhaustive]
    pub struct Organization {
        /// Always `organization` today.
        pub object: String [NullDefault],
        /// The organization's id, `org_…`.
        pub id: String [Required],
        /// Its name.
        pub name: String [NullDefault],
        /// Its slug.
        pub slug: String [NullDefault],
        /// Its logo.
        pub image_url: Option<String>,
        /// Whether a logo was uploaded.
        pub has_image: bool [NullDefault],
        /// How many members it has, when Clerk counts them.
        pub members_count: Option<i64>,
        /// Whether it lacks a member with elevated permissions, when Clerk says.
        pub missing_member_with_elevated_permissions: Option<bool>,
        /// How many invitations are pending, when Clerk counts them.
        pub pending_invitations_count: Option<i64>,
        /// The most memberships it may have.
        pub max_allowed_memberships: i64 [NullDefault],
        /// Whether an admin may delete it.
        pub admin_delete_enabled: bool [NullDefault],
        /// Metadata readable from the frontend, writable from the backend.
        pub public_metadata: Map<String, Value> [NullDefault],
        /// Backend-only metadata; `None` when Clerk leaves it out.
        pub private_metadata: Option<Map<String, Value>>,
        /// The id of the user who created it.
        pub created_by: Option<String>,
        /// Creation (Unix milliseconds; `0` if Clerk leaves it out).
        pub created_at: i64 [NullDefault],
        /// Last update (Unix milliseconds; `0` if Clerk leaves it out).
        pub updated_at: i64 [NullDefault],
    }
}

impl Organization {
    /// [`created_at`](Self::created_at) as a date-time.
    pub fn created_at_datetime(&self) -> Option<OffsetDateTime> {
        crate::datetime_from_millis(self.created_at)
    }

    /// [`updated_at`](Self::updated_at) as a date-time.
    pub fn updated_at_datetime(&self) -> Option<OffsetDateTime> {
        crate::datetime_from_millis(self.updated_at)
    }
}
