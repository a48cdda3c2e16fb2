//! `POST /management/applications`: create an application, with its instances and their keys.
//!
//! ```no_run
//! # fn main() -> Result<(), clerk_management::Error> {
//! use clerk_management::ManagementClient;
//! use clerk_management::create_application::{CreateApplicationRequest, EnvironmentType};
//!
//! let client = ManagementClient::from_env()?;
//! let request = CreateApplicationRequest::new("Acme", "user_123", "plan_pro")
//!     .environment_types([EnvironmentType::Development, EnvironmentType::Production]);
//! let application = client.create_application(&request)?;
//! for instance in &application.instances {
//!     // The secret key prints as `[redacted]`; `expose_secret()` reads it.
//!     println!("{} {} {}", instance.instance_id, instance.environment_type, instance.secret_key);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Decoding is lenient, as for [`upsert_user`](crate::upsert_user): unknown fields are ignored;
//! only `application_id` is required; a string or list that is absent or `null` decodes as
//! empty; a `subscription` that is absent, `null` or of a shape not recognised is `None`; an
//! instance's `environment_type` is kept verbatim, so a new kind of environment is never a
//! decode failure. Leniency matters here: the application exists once Clerk answers, and a
//! decode failure would lose its id and keys.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::client::Operation;
use crate::{Error, ManagementClient, RequestOptions, SecretString};

/// The body of an application creation: `name`, `owner_id` and `plan_id` are required, so they
/// are the constructor's arguments; every setter adds one optional field.
///
/// A field that is not set is left out of the body (never sent as `null`); setting one again
/// replaces it. Strings are sent byte for byte, without Unicode normalization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateApplicationRequest {
    name: String,
    owner_id: String,
    plan_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    addon_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paid_externally: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    test_mode: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_allowed_users: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_allowed_organizations: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subscription_metadata: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment_types: Option<Vec<EnvironmentType>>,
}

impl CreateApplicationRequest {
    /// A request for an application called `name`, owned by `owner_id`, on the plan `plan_id`.
    pub fn new(
        name: impl Into<String>,
        owner_id: impl Into<String>,
        plan_id: impl Into<String>,
    ) -> Self {
        CreateApplicationRequest {
            name: name.into(),
            owner_id: owner_id.into(),
            plan_id: plan_id.into(),
            addon_ids: None,
            paid_externally: None,
            test_mode: None,
            max_allowed_users: None,
            max_allowed_organizations: None,
            subscription_metadata: None,
            environment_types: None,
        }
    }

    /// The add-ons to subscribe to along with the plan, in order; an empty iterator sends `[]`.
    ///
    /// ```
    /// use clerk_management::create_application::CreateApplicationRequest;
    ///
    /// let request = CreateApplicationRequest::new("Acme", "user_1", "plan_pro")
    ///     .addon_ids(["addon_sso"])
    ///     .paid_externally(false)
    ///     .test_mode(true);
    /// assert_eq!(
    ///     serde_json::to_string(&request).unwrap(),
    ///     concat!(
    ///         r#"{"name":"Acme","owner_id":"user_1","plan_id":"plan_pro","#,
    ///         r#""addon_ids":["addon_sso"],"paid_externally":false,"test_mode":true}"#,
    ///     )
    /// );
    /// ```
    pub fn addon_ids(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.addon_ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Whether the subscription is paid outside Clerk; `false` is sent, not left out.
    pub fn paid_externally(mut self, paid_externally: bool) -> Self {
        self.paid_externally = Some(paid_externally);
        self
    }

    /// Whether the application is created in test mode; `false` is sent, not left out.
    pub fn test_mode(mut self, test_mode: bool) -> Self {
        self.test_mode = Some(test_mode);
        self
    }

    /// The most users the application may have; `0` is sent as `0`, not left out.
    ///
    /// ```
    /// use clerk_management::create_application::CreateApplicationRequest;
    ///
    /// let request = CreateApplicationRequest::new("Acme", "user_1", "plan_pro")
    ///     .max_allowed_users(623_638)
    ///     .max_allowed_organizations(0);
    /// assert_eq!(
    ///     serde_json::to_string(&request).unwrap(),
    ///     concat!(
    ///         r#"{"name":"Acme","owner_id":"user_1","plan_id":"plan_pro","#,
    ///         r#""max_allowed_users":623638,"max_allowed_organizations":0}"#,
    ///     )
    /// );
    /// ```
    pub fn max_allowed_users(mut self, limit: u32) -> Self {
        self.max_allowed_users = Some(limit);
        self
    }

    /// The most organizations the application may have; `0` is sent as `0`.
    pub fn max_allowed_organizations(mut self, limit: u32) -> Self {
        self.max_allowed_organizations = Some(limit);
        self
    }

    /// Metadata for the subscription: string keys to string values only, as the API accepts.
    ///
    /// Keys are sent in sorted order; a key given twice keeps its last value. An empty
    /// iterator sends `{}`.
    ///
    /// ```
    /// use clerk_management::create_application::CreateApplicationRequest;
    ///
    /// let request = CreateApplicationRequest::new("Acme", "user_1", "plan_pro")
    ///     .subscription_metadata([("source", "partner-portal")]);
    /// assert_eq!(
    ///     serde_json::to_string(&request).unwrap(),
    ///     concat!(
    ///         r#"{"name":"Acme","owner_id":"user_1","plan_id":"plan_pro","#,
    ///         r#""subscription_metadata":{"source":"partner-portal"}}"#,
    ///     )
    /// );
    /// ```
    pub fn subscription_metadata<K, V>(mut self, metadata: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let metadata = metadata.into_iter().map(|(k, v)| (k.into(), v.into()));
        self.subscription_metadata = Some(metadata.collect());
        self
    }

    /// The environments to create an instance for, in order.
    ///
    /// ```
    /// use clerk_management::create_application::{CreateApplicationRequest, EnvironmentType};
    ///
    /// let request = CreateApplicationRequest::new("Acme", "user_1", "plan_pro")
    ///     .environment_types([EnvironmentType::Development, EnvironmentType::Production]);
    /// assert_eq!(
    ///     serde_json::to_string(&request).unwrap(),
    ///     concat!(
    ///         r#"{"name":"Acme","owner_id":"user_1","plan_id":"plan_pro","#,
    ///         r#""environment_types":["development","production"]}"#,
    ///     )
    /// );
    /// ```
    pub fn environment_types(mut self, types: impl IntoIterator<Item = EnvironmentType>) -> Self {
        self.environment_types = Some(types.into_iter().collect());
        self
    }

    /// The application's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The id of the application's owner.
    pub fn owner_id(&self) -> &str {
        &self.owner_id
    }

    /// The id of the plan.
    pub fn plan_id(&self) -> &str {
        &self.plan_id
    }
}

/// A kind of environment an instance is created for.
///
/// The request accepts exactly these three. A response may name others: see
/// [`ApplicationInstance::environment`].
///
/// ```
/// use clerk_management::create_application::EnvironmentType;
///
/// assert_eq!(EnvironmentType::Staging.as_str(), "staging");
/// assert_eq!(EnvironmentType::Production.to_string(), "production");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EnvironmentType {
    /// `development`.
    Development,
    /// `staging`.
    Staging,
    /// `production`.
    Production,
}

impl EnvironmentType {
    /// The name on the wire: `development`, `staging` or `production`.
    pub fn as_str(self) -> &'static str {
        match self {
            EnvironmentType::Development => "development",
            EnvironmentType::Staging => "staging",
            EnvironmentType::Production => "production",
        }
    }

    /// The environment type named exactly `name`, if it is one of the three.
    fn from_wire(name: &str) -> Option<Self> {
        [
            EnvironmentType::Development,
            EnvironmentType::Staging,
            EnvironmentType::Production,
        ]
        .into_iter()
        .find(|t| t.as_str() == name)
    }
}

impl fmt::Display for EnvironmentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Operation for CreateApplicationRequest {
    type Response = ManagementApplicationResponse;
    const PATH: &'static str = "/management/applications";
    const TARGET: &'static str = "ManagementApplicationResponse";
    // A second send creates a second application.
    const IDEMPOTENT: bool = false;
}

impl ManagementClient {
    /// Creates an application and its instances, returning their keys.
    ///
    /// The operation is not idempotent: it is retried after 429 and 5XX responses and after
    /// failures to connect, but never after a broken connection or a response timeout (see
    /// [`RetryConfig`](crate::RetryConfig)). After one of those the error's
    /// [`may_have_been_applied`](Error::may_have_been_applied) is true: the application may
    /// exist.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), clerk_management::Error> {
    /// # let client = clerk_management::ManagementClient::from_env()?;
    /// use clerk_management::create_application::{CreateApplicationRequest, EnvironmentType};
    ///
    /// let request = CreateApplicationRequest::new("Acme", "user_1", "plan_pro")
    ///     .environment_types([EnvironmentType::Production]);
    /// let application = client.create_application(&request)?;
    /// let production = application
    ///     .instances
    ///     .iter()
    ///     .find(|i| i.environment() == Some(EnvironmentType::Production));
    /// if let Some(instance) = production {
    ///     store_key(instance.secret_key.expose_secret());
    /// }
    /// # Ok(())
    /// # }
    /// # fn store_key(_: &str) {}
    /// ```
    pub fn create_application(
        &self,
        request: &CreateApplicationRequest,
    ) -> Result<ManagementApplicationResponse, Error> {
        self.execute(request, &RequestOptions::default())
    }

    /// [`create_application`](Self::create_application) with per-call [`RequestOptions`].
    pub fn create_application_with_options(
        &self,
        request: &CreateApplicationRequest,
        options: &RequestOptions,
    ) -> Result<ManagementApplicationResponse, Error> {
        self.execute(request, options)
    }
}

crate::de::response! {
    /// The application Clerk created: its id, its subscription and its instances.
    ///
    /// `Debug` shows no secret key: each is a [`SecretString`].
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct ManagementApplicationResponse {
        /// The application's id, `app_…`.
        pub application_id: String [Required],
        /// Its subscription, when Clerk returns one (in a shape this crate recognises).
        pub subscription: Option<ApplicationSubscription> [Lenient],
        /// Its instances, one per environment.
        pub instances: Vec<ApplicationInstance> [NullDefault],
    }
}

crate::de::response! {
    /// The subscription of a created application.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct ApplicationSubscription {
        /// The subscription's id (`""` if Clerk sends none).
        pub id: String [NullDefault],
        /// The matching Stripe subscription, if there is one.
        pub stripe_subscription_id: Option<String>,
    }
}

crate::de::response! {
    /// One instance of a created application, with its keys.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct ApplicationInstance {
        /// The instance's id, `ins_…`.
        pub instance_id: String [NullDefault],
        /// The environment, verbatim: `development`, `staging`, `production`, or a newer value.
        pub environment_type: String [NullDefault],
        /// The instance's secret key, `sk_…`; read it with
        /// [`expose_secret`](SecretString::expose_secret).
        pub secret_key: SecretString [NullDefault],
        /// The instance's publishable key, `pk_…` (not a secret).
        pub publishable_key: String [NullDefault],
    }
}

impl ApplicationInstance {
    /// [`environment_type`](Self::environment_type) as an [`EnvironmentType`]; `None` for a
    /// value other than the three the request knows.
    pub fn environment(&self) -> Option<EnvironmentType> {
        EnvironmentType::from_wire(&self.environment_type)
    }
}
