//! `POST /management/users`: create a user, or update the one with the same email address.
//!
//! ```no_run
//! # fn main() -> Result<(), clerk_management::Error> {
//! use clerk_management::ManagementClient;
//! use clerk_management::upsert_user::UpsertUserRequest;
//!
//! let client = ManagementClient::from_env()?;
//! let request = UpsertUserRequest::new("ada@example.com", "Ada", "Lovelace");
//! let user = client.upsert_user(&request)?;
//! println!("{} is {:?}", user.id, user.first_name);
//! # Ok(())
//! # }
//! ```
//!
//! Decoding is lenient, because the live API is looser than its specification: unknown fields
//! are ignored; a field the specification marks nullable is an `Option`; a list, flag, number or
//! string that is absent or `null` decodes as empty, `false`, `0` or `""`; enum-like strings
//! (`object`, `status`, `strategy`, `provider`, …) are kept verbatim, so a new value is never a
//! decode failure. Timestamps are Unix milliseconds; [`crate::datetime_from_millis`] turns one
//! into a [`time::OffsetDateTime`].

use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::client::Operation;
use crate::error::ClerkError;
use crate::{Error, ManagementClient, RequestOptions};

/// The body of an upsert: all three fields are required, so each is a constructor argument.
///
/// Strings are sent byte for byte, without Unicode normalization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpsertUserRequest {
    email_address: String,
    first_name: String,
    last_name: String,
}

impl UpsertUserRequest {
    /// A request for the user with `email_address`, to be given these names.
    pub fn new(
        email_address: impl Into<String>,
        first_name: impl Into<String>,
        last_name: impl Into<String>,
    ) -> Self {
        UpsertUserRequest {
            email_address: email_address.into(),
            first_name: first_name.into(),
            last_name: last_name.into(),
        }
    }

    /// The email address that identifies the user.
    pub fn email_address(&self) -> &str {
        &self.email_address
    }

    /// The first name to set.
    pub fn first_name(&self) -> &str {
        &self.first_name
    }

    /// The last name to set.
    pub fn last_name(&self) -> &str {
        &self.last_name
    }
}

impl Operation for UpsertUserRequest {
    type Response = User;
    const PATH: &'static str = "/management/users";
    const TARGET: &'static str = "User";
    // Upserting by email twice leaves the same user with the same names.
    const IDEMPOTENT: bool = true;
}

impl ManagementClient {
    /// Creates the user with this email address, or updates the names of the existing one.
    ///
    /// The operation is idempotent, so besides 429 and 5XX it is also retried after a broken
    /// connection or a response timeout (see [`RetryConfig`](crate::RetryConfig)).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), clerk_management::Error> {
    /// # let client = clerk_management::ManagementClient::from_env()?;
    /// use clerk_management::upsert_user::UpsertUserRequest;
    ///
    /// let first = client.upsert_user(&UpsertUserRequest::new("a@example.com", "A", "B"))?;
    /// let again = client.upsert_user(&UpsertUserRequest::new("a@example.com", "A", "C"))?;
    /// assert_eq!(first.id, again.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn upsert_user(&self, request: &UpsertUserRequest) -> Result<User, Error> {
        self.execute(request, &RequestOptions::default())
    }

    /// [`upsert_user`](Self::upsert_user) with per-call [`RequestOptions`].
    pub fn upsert_user_with_options(
        &self,
        request: &UpsertUserRequest,
        options: &RequestOptions,
    ) -> Result<User, Error> {
        self.execute(request, options)
    }
}

crate::de::response! {
    /// A Clerk user, as the upsert returns it.
    #[derive(Debug, Clone, PartialEq)]
    #[non_exhaustive]
    pub struct User {
        /// The user's id, `user_…`.
        pub id: String [Required],
        /// Always `user` today.
        pub object: String [NullDefault],
        /// The id in the caller's own system, if one was set.
        pub external_id: Option<String>,
        /// The id of the primary [`EmailAddress`].
        pub primary_email_address_id: Option<String>,
        /// The id of the primary [`PhoneNumber`].
        pub primary_phone_number_id: Option<String>,
        /// The id of the primary [`Web3Wallet`].
        pub primary_web3_wallet_id: Option<String>,
        /// The username, where usernames are enabled.
        pub username: Option<String>,
        /// The first name.
        pub first_name: Option<String>,
        /// The last name.
        pub last_name: Option<String>,
        /// Deprecated by Clerk in favour of `image_url`.
        pub profile_image_url: Option<String>,
        /// The profile image.
        pub image_url: Option<String>,
        /// Whether the user uploaded an image.
        pub has_image: bool [NullDefault],
        /// Metadata readable from the frontend, writable from the backend.
        pub public_metadata: Map<String, Value> [NullDefault],
        /// Backend-only metadata; `None` when Clerk leaves it out.
        pub private_metadata: Option<Map<String, Value>>,
        /// Metadata readable and writable from the frontend.
        pub unsafe_metadata: Map<String, Value> [NullDefault],
        /// The user's email addresses.
        pub email_addresses: Vec<EmailAddress> [NullDefault],
        /// The user's phone numbers.
        pub phone_numbers: Vec<PhoneNumber> [NullDefault],
        /// The user's Web3 wallets.
        pub web3_wallets: Vec<Web3Wallet> [NullDefault],
        /// The user's passkeys.
        pub passkeys: Vec<Passkey> [NullDefault],
        /// Whether the user has a password.
        pub password_enabled: bool [NullDefault],
        /// Whether a second factor is enabled.
        pub two_factor_enabled: bool [NullDefault],
        /// Whether an authenticator app is enabled.
        pub totp_enabled: bool [NullDefault],
        /// Whether backup codes are enabled.
        pub backup_code_enabled: bool [NullDefault],
        /// When multi-factor authentication was enabled (Unix milliseconds).
        pub mfa_enabled_at: Option<i64>,
        /// When multi-factor authentication was disabled (Unix milliseconds).
        pub mfa_disabled_at: Option<i64>,
        /// Accounts from OAuth providers.
        pub external_accounts: Vec<ExternalAccount> [NullDefault],
        /// Accounts from SAML connections.
        pub saml_accounts: Vec<SamlAccount> [NullDefault],
        /// The last sign-in (Unix milliseconds).
        pub last_sign_in_at: Option<i64>,
        /// Whether the user is banned.
        pub banned: bool [NullDefault],
        /// Whether the user is locked out.
        pub locked: bool [NullDefault],
        /// Seconds until the lockout ends.
        pub lockout_expires_in_seconds: Option<i64>,
        /// Sign-in attempts left before a lockout.
        pub verification_attempts_remaining: Option<i64>,
        /// Last update (Unix milliseconds; `0` if Clerk leaves it out).
        pub updated_at: i64 [NullDefault],
        /// Creation (Unix milliseconds; `0` if Clerk leaves it out).
        pub created_at: i64 [NullDefault],
        /// Whether the user may delete their own account.
        pub delete_self_enabled: bool [NullDefault],
        /// Whether the user may create organizations.
        pub create_organization_enabled: bool [NullDefault],
        /// How many organizations the user may create, if limited.
        pub create_organizations_limit: Option<i64>,
        /// The last activity (Unix milliseconds).
        pub last_active_at: Option<i64>,
        /// When the user accepted the legal terms (Unix milliseconds).
        pub legal_accepted_at: Option<i64>,
    }
}

impl User {
    /// [`created_at`](Self::created_at) as a date-time.
    pub fn created_at_datetime(&self) -> Option<OffsetDateTime> {
        crate::datetime_from_millis(self.created_at)
    }

    /// [`updated_at`](Self::updated_at) as a date-time.
    pub fn updated_at_datetime(&self) -> Option<OffsetDateTime> {
        crate::datetime_from_millis(self.updated_at)
    }

    /// [`last_sign_in_at`](Self::last_sign_in_at) as a date-time.
    pub fn last_sign_in_at_datetime(&self) -> Option<OffsetDateTime> {
        self.last_sign_in_at.and_then(crate::datetime_from_millis)
    }

    /// [`last_active_at`](Self::last_active_at) as a date-time.
    pub fn last_active_at_datetime(&self) -> Option<OffsetDateTime> {
        self.last_active_at.and_then(crate::datetime_from_millis)
    }

    /// The primary email address, if the user has one.
    pub fn primary_email_address(&self) -> Option<&EmailAddress> {
        let id = self.primary_email_address_id.as_deref()?;
        self.email_addresses.iter().find(|e| e.id == id)
    }
}

crate::de::response! {
    /// How an identifier was (or is being) verified.
    ///
    /// One type for every shape Clerk sends (one-time code, admin, OAuth, SAML, ticket, Web3,
    /// passkey, Google One Tap, and whatever comes next): each field is absent where that kind of
    /// verification does not have it.
    #[derive(Debug, Clone, PartialEq)]
    #[non_exhaustive]
    pub struct Verification {
        /// `unverified`, `verified`, `failed`, `expired`, `transferable`, or a newer value.
        pub status: String [NullDefault],
        /// How it was verified: `email_code`, `admin`, `oauth_google`, `saml`, `ticket`, ….
        pub strategy: String [NullDefault],
        /// Attempts made, where counted.
        pub attempts: Option<i64> [Lenient],
        /// When the verification expires (Unix milliseconds).
        pub expire_at: Option<i64> [Lenient],
        /// The client that verified it.
        pub verified_at_client: Option<String> [Lenient],
        /// The nonce of a Web3 or passkey verification.
        pub nonce: Option<String> [Lenient],
        /// The message of a Web3 or passkey verification.
        pub message: Option<String> [Lenient],
        /// Where an OAuth or SAML verification sends the user.
        pub external_verification_redirect_url: Option<String> [Lenient],
        /// Why an OAuth, SAML or Google One Tap verification failed.
        pub error: Option<ClerkError> [Lenient],
    }
}

impl Verification {
    /// Whether `status` is `verified`.
    pub fn is_verified(&self) -> bool {
        self.status == "verified"
    }
}

crate::de::response! {
    /// A link from an identifier to the account it came from.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct IdentificationLink {
        /// The `type` field, such as `oauth_google`.
        pub kind: String [NullDefault, rename = "type"],
        /// The id of the linked account.
        pub id: String [NullDefault],
    }
}

crate::de::response! {
    /// One of a user's email addresses.
    #[derive(Debug, Clone, PartialEq)]
    #[non_exhaustive]
    pub struct EmailAddress {
        /// The id, `idn_…`.
        pub id: String [NullDefault],
        /// Always `email_address` today.
        pub object: String [NullDefault],
        /// The address.
        pub email_address: String [NullDefault],
        /// Whether the address is reserved.
        pub reserved: bool [NullDefault],
        /// Its verification.
        pub verification: Option<Verification> [Lenient],
        /// Accounts it is linked to.
        pub linked_to: Vec<IdentificationLink> [NullDefault],
        /// Whether it matches an enterprise SSO connection.
        pub matches_sso_connection: bool [NullDefault],
        /// Creation (Unix milliseconds).
        pub created_at: i64 [NullDefault],
        /// Last update (Unix milliseconds).
        pub updated_at: i64 [NullDefault],
    }
}

crate::de::response! {
    /// One of a user's phone numbers.
    #[derive(Debug, Clone, PartialEq)]
    #[non_exhaustive]
    pub struct PhoneNumber {
        /// The id, `idn_…`.
        pub id: String [NullDefault],
        /// Always `phone_number` today.
        pub object: String [NullDefault],
        /// The number.
        pub phone_number: String [NullDefault],
        /// Whether it is reserved for second-factor use.
        pub reserved_for_second_factor: bool [NullDefault],
        /// Whether it is the default second factor.
        pub default_second_factor: bool [NullDefault],
        /// Whether it is reserved.
        pub reserved: bool [NullDefault],
        /// Its verification.
        pub verification: Option<Verification> [Lenient],
        /// Accounts it is linked to.
        pub linked_to: Vec<IdentificationLink> [NullDefault],
        /// Backup codes, when Clerk returns them.
        pub backup_codes: Option<Vec<String>>,
        /// Creation (Unix milliseconds).
        pub created_at: i64 [NullDefault],
        /// Last update (Unix milliseconds).
        pub updated_at: i64 [NullDefault],
    }
}

crate::de::response! {
    /// One of a user's Web3 wallets.
    #[derive(Debug, Clone, PartialEq)]
    #[non_exhaustive]
    pub struct Web3Wallet {
        /// The id, `idn_…`.
        pub id: String [NullDefault],
        /// Always `web3_wallet` today.
        pub object: String [NullDefault],
        /// The wallet address.
        pub web3_wallet: String [NullDefault],
        /// Its verification.
        pub verification: Option<Verification> [Lenient],
        /// Creation (Unix milliseconds).
        pub created_at: i64 [NullDefault],
        /// Last update (Unix milliseconds).
        pub updated_at: i64 [NullDefault],
    }
}

crate::de::response! {
    /// One of a user's passkeys.
    #[derive(Debug, Clone, PartialEq)]
    #[non_exhaustive]
    pub struct Passkey {
        /// The id, `idn_…`.
        pub id: String [NullDefault],
        /// Always `passkey` today.
        pub object: String [NullDefault],
        /// The name the user gave it.
        pub name: String [NullDefault],
        /// Its last use (Unix milliseconds).
        pub last_used_at: i64 [NullDefault],
        /// Its verification.
        pub verification: Option<Verification> [Lenient],
    }
}

crate::de::response! {
    /// An account from an OAuth provider, linked to the user.
    #[derive(Debug, Clone, PartialEq)]
    #[non_exhaustive]
    pub struct ExternalAccount {
        /// `external_account`, or an older per-provider value such as `google_account`.
        pub object: String [NullDefault],
        /// The id, `eac_…`.
        pub id: String [NullDefault],
        /// The provider, such as `oauth_google`.
        pub provider: String [NullDefault],
        /// The id of the identification it created.
        pub identification_id: String [NullDefault],
        /// The user's id at the provider.
        pub provider_user_id: String [NullDefault],
        /// The scopes granted, space-separated.
        pub approved_scopes: String [NullDefault],
        /// The email address at the provider.
        pub email_address: String [NullDefault],
        /// The first name at the provider.
        pub first_name: String [NullDefault],
        /// The last name at the provider.
        pub last_name: String [NullDefault],
        /// Deprecated by Clerk in favour of `image_url`.
        pub avatar_url: Option<String>,
        /// The image at the provider.
        pub image_url: Option<String>,
        /// The username at the provider.
        pub username: Option<String>,
        /// The phone number at the provider.
        pub phone_number: Option<String>,
        /// Metadata from the provider.
        pub public_metadata: Map<String, Value> [NullDefault],
        /// A label for the account.
        pub label: Option<String>,
        /// Creation (Unix milliseconds).
        pub created_at: i64 [NullDefault],
        /// Last update (Unix milliseconds).
        pub updated_at: i64 [NullDefault],
        /// Its verification.
        pub verification: Option<Verification> [Lenient],
    }
}

crate::de::response! {
    /// An account from a SAML connection, linked to the user.
    #[derive(Debug, Clone, PartialEq)]
    #[non_exhaustive]
    pub struct SamlAccount {
        /// The id, `samlacc_…`.
        pub id: String [NullDefault],
        /// Always `saml_account` today.
        pub object: String [NullDefault],
        /// The SAML provider.
        pub provider: String [NullDefault],
        /// Whether the account is active.
        pub active: bool [NullDefault],
        /// The email address at the identity provider.
        pub email_address: String [NullDefault],
        /// The first name at the identity provider.
        pub first_name: Option<String>,
        /// The last name at the identity provider.
        pub last_name: Option<String>,
        /// The user's id at the identity provider.
        pub provider_user_id: Option<String>,
        /// Metadata from the identity provider.
        pub public_metadata: Map<String, Value> [NullDefault],
        /// Its verification.
        pub verification: Option<Verification> [Lenient],
        /// The connection it came through; `None` also when its shape is not recognised.
        pub saml_connection: Option<SamlConnection> [Lenient],
    }
}

crate::de::response! {
    /// The SAML connection a [`SamlAccount`] came through.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct SamlConnection {
        /// The id, `samlc_…`.
        pub id: String [NullDefault],
        /// Its name.
        pub name: String [NullDefault],
        /// Deprecated by Clerk in favour of `domains`.
        pub domain: Option<String>,
        /// The email domains it serves.
        pub domains: Vec<String> [NullDefault],
        /// Whether it is active.
        pub active: bool [NullDefault],
        /// The identity provider.
        pub provider: String [NullDefault],
        /// Whether user attributes are synced on sign-in.
        pub sync_user_attributes: bool [NullDefault],
        /// Whether subdomains of its domains are accepted.
        pub allow_subdomains: bool [NullDefault],
        /// Whether sign-in may start at the identity provider.
        pub allow_idp_initiated: bool [NullDefault],
        /// Whether other identifications are disabled for its users.
        pub disable_additional_identifications: bool [NullDefault],
        /// Creation (Unix milliseconds).
        pub created_at: i64 [NullDefault],
        /// Last update (Unix milliseconds).
        pub updated_at: i64 [NullDefault],
    }
}
