//! The response types decode exactly as `#[derive(Deserialize)]` does with the attributes
//! their kinds stand for. Each is compared with a derived twin (in `derived`, as the types
//! were written before `response!`) on the same input: the value or the error message, read
//! from bytes, from text, from a `Value`, and leniently through [`FromValue`].

use std::fmt::Debug;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use serde_json::{Map, Value, json};

use super::{FromValue, Record, Shape};
use crate::SecretString;

/// The deserializer functions of the derived twins, as the crate had them.
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        value => Ok(serde_json::from_value(value).ok()),
    }
}

// The twins are read through `Debug` only, and keep the field names of the real types.
#[allow(dead_code, clippy::struct_field_names)]
mod derived {
    use super::{Deserialize, Map, SecretString, Value};

    #[derive(Debug, Deserialize)]
    pub(super) struct User {
        id: String,
        #[serde(default, deserialize_with = "super::null_default")]
        object: String,
        external_id: Option<String>,
        primary_email_address_id: Option<String>,
        primary_phone_number_id: Option<String>,
        primary_web3_wallet_id: Option<String>,
        username: Option<String>,
        first_name: Option<String>,
        last_name: Option<String>,
        profile_image_url: Option<String>,
        image_url: Option<String>,
        #[serde(default, deserialize_with = "super::null_default")]
        has_image: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        public_metadata: Map<String, Value>,
        private_metadata: Option<Map<String, Value>>,
        #[serde(default, deserialize_with = "super::null_default")]
        unsafe_metadata: Map<String, Value>,
        #[serde(default, deserialize_with = "super::null_default")]
        email_addresses: Vec<EmailAddress>,
        #[serde(default, deserialize_with = "super::null_default")]
        phone_numbers: Vec<PhoneNumber>,
        #[serde(default, deserialize_with = "super::null_default")]
        web3_wallets: Vec<Web3Wallet>,
        #[serde(default, deserialize_with = "super::null_default")]
        passkeys: Vec<Passkey>,
        #[serde(default, deserialize_with = "super::null_default")]
        password_enabled: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        two_factor_enabled: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        totp_enabled: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        backup_code_enabled: bool,
        mfa_enabled_at: Option<i64>,
        mfa_disabled_at: Option<i64>,
        #[serde(default, deserialize_with = "super::null_default")]
        external_accounts: Vec<ExternalAccount>,
        #[serde(default, deserialize_with = "super::null_default")]
        saml_accounts: Vec<SamlAccount>,
        last_sign_in_at: Option<i64>,
        #[serde(default, deserialize_with = "super::null_default")]
        banned: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        locked: bool,
        lockout_expires_in_seconds: Option<i64>,
        verification_attempts_remaining: Option<i64>,
        #[serde(default, deserialize_with = "super::null_default")]
        updated_at: i64,
        #[serde(default, deserialize_with = "super::null_default")]
        created_at: i64,
        #[serde(default, deserialize_with = "super::null_default")]
        delete_self_enabled: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        create_organization_enabled: bool,
        create_organizations_limit: Option<i64>,
        last_active_at: Option<i64>,
        legal_accepted_at: Option<i64>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Verification {
        #[serde(default, deserialize_with = "super::null_default")]
        status: String,
        #[serde(default, deserialize_with = "super::null_default")]
        strategy: String,
        #[serde(default, deserialize_with = "super::lenient")]
        attempts: Option<i64>,
        #[serde(default, deserialize_with = "super::lenient")]
        expire_at: Option<i64>,
        #[serde(default, deserialize_with = "super::lenient")]
        verified_at_client: Option<String>,
        #[serde(default, deserialize_with = "super::lenient")]
        nonce: Option<String>,
        #[serde(default, deserialize_with = "super::lenient")]
        message: Option<String>,
        #[serde(default, deserialize_with = "super::lenient")]
        external_verification_redirect_url: Option<String>,
        #[serde(default, deserialize_with = "super::lenient")]
        error: Option<ClerkError>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct IdentificationLink {
        #[serde(rename = "type", default, deserialize_with = "super::null_default")]
        kind: String,
        #[serde(default, deserialize_with = "super::null_default")]
        id: String,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct EmailAddress {
        #[serde(default, deserialize_with = "super::null_default")]
        id: String,
        #[serde(default, deserialize_with = "super::null_default")]
        object: String,
        #[serde(default, deserialize_with = "super::null_default")]
        email_address: String,
        #[serde(default, deserialize_with = "super::null_default")]
        reserved: bool,
        #[serde(default, deserialize_with = "super::lenient")]
        verification: Option<Verification>,
        #[serde(default, deserialize_with = "super::null_default")]
        linked_to: Vec<IdentificationLink>,
        #[serde(default, deserialize_with = "super::null_default")]
        matches_sso_connection: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        created_at: i64,
        #[serde(default, deserialize_with = "super::null_default")]
        updated_at: i64,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct PhoneNumber {
        #[serde(default, deserialize_with = "super::null_default")]
        id: String,
        #[serde(default, deserialize_with = "super::null_default")]
        object: String,
        #[serde(default, deserialize_with = "super::null_default")]
        phone_number: String,
        #[serde(default, deserialize_with = "super::null_default")]
        reserved_for_second_factor: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        default_second_factor: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        reserved: bool,
        #[serde(default, deserialize_with = "super::lenient")]
        verification: Option<Verification>,
        #[serde(default, deserialize_with = "super::null_default")]
        linked_to: Vec<IdentificationLink>,
        backup_codes: Option<Vec<String>>,
        #[serde(default, deserialize_with = "super::null_default")]
        created_at: i64,
        #[serde(default, deserialize_with = "super::null_default")]
        updated_at: i64,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Web3Wallet {
        #[serde(default, deserialize_with = "super::null_default")]
        id: String,
        #[serde(default, deserialize_with = "super::null_default")]
        object: String,
        #[serde(default, deserialize_with = "super::null_default")]
        web3_wallet: String,
        #[serde(default, deserialize_with = "super::lenient")]
        verification: Option<Verification>,
        #[serde(default, deserialize_with = "super::null_default")]
        created_at: i64,
        #[serde(default, deserialize_with = "super::null_default")]
        updated_at: i64,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Passkey {
        #[serde(default, deserialize_with = "super::null_default")]
        id: String,
        #[serde(default, deserialize_with = "super::null_default")]
        object: String,
        #[serde(default, deserialize_with = "super::null_default")]
        name: String,
        #[serde(default, deserialize_with = "super::null_default")]
        last_used_at: i64,
        #[serde(default, deserialize_with = "super::lenient")]
        verification: Option<Verification>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct ExternalAccount {
        #[serde(default, deserialize_with = "super::null_default")]
        object: String,
        #[serde(default, deserialize_with = "super::null_default")]
        id: String,
        #[serde(default, deserialize_with = "super::null_default")]
        provider: String,
        #[serde(default, deserialize_with = "super::null_default")]
        identification_id: String,
        #[serde(default, deserialize_with = "super::null_default")]
        provider_user_id: String,
        #[serde(default, deserialize_with = "super::null_default")]
        approved_scopes: String,
        #[serde(default, deserialize_with = "super::null_default")]
        email_address: String,
        #[serde(default, deserialize_with = "super::null_default")]
        first_name: String,
        #[serde(default, deserialize_with = "super::null_default")]
        last_name: String,
        avatar_url: Option<String>,
        image_url: Option<String>,
        username: Option<String>,
        phone_number: Option<String>,
        #[serde(default, deserialize_with = "super::null_default")]
        public_metadata: Map<String, Value>,
        label: Option<String>,
        #[serde(default, deserialize_with = "super::null_default")]
        created_at: i64,
        #[serde(default, deserialize_with = "super::null_default")]
        updated_at: i64,
        #[serde(default, deserialize_with = "super::lenient")]
        verification: Option<Verification>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct SamlAccount {
        #[serde(default, deserialize_with = "super::null_default")]
        id: String,
        #[serde(default, deserialize_with = "super::null_default")]
        object: String,
        #[serde(default, deserialize_with = "super::null_default")]
        provider: String,
        #[serde(default, deserialize_with = "super::null_default")]
        active: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        email_address: String,
        first_name: Option<String>,
        last_name: Option<String>,
        provider_user_id: Option<String>,
        #[serde(default, deserialize_with = "super::null_default")]
        public_metadata: Map<String, Value>,
        #[serde(default, deserialize_with = "super::lenient")]
        verification: Option<Verification>,
        #[serde(default, deserialize_with = "super::lenient")]
        saml_connection: Option<SamlConnection>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct SamlConnection {
        #[serde(default, deserialize_with = "super::null_default")]
        id: String,
        #[serde(default, deserialize_with = "super::null_default")]
        name: String,
        domain: Option<String>,
        #[serde(default, deserialize_with = "super::null_default")]
        domains: Vec<String>,
        #[serde(default, deserialize_with = "super::null_default")]
        active: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        provider: String,
        #[serde(default, deserialize_with = "super::null_default")]
        sync_user_attributes: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        allow_subdomains: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        allow_idp_initiated: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        disable_additional_identifications: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        created_at: i64,
        #[serde(default, deserialize_with = "super::null_default")]
        updated_at: i64,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct ClerkError {
        #[serde(default, deserialize_with = "super::null_default")]
        code: String,
        #[serde(default, deserialize_with = "super::null_default")]
        message: String,
        #[serde(default)]
        long_message: Option<String>,
        #[serde(default, deserialize_with = "super::lenient")]
        meta: Option<Map<String, Value>>,
        #[serde(default)]
        clerk_trace_id: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct ClerkErrors {
        errors: Vec<ClerkError>,
        #[serde(default, deserialize_with = "super::lenient")]
        meta: Option<Map<String, Value>>,
        #[serde(default, deserialize_with = "super::lenient")]
        clerk_trace_id: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct Organization {
        #[serde(default, deserialize_with = "super::null_default")]
        object: String,
        id: String,
        #[serde(default, deserialize_with = "super::null_default")]
        name: String,
        #[serde(default, deserialize_with = "super::null_default")]
        slug: String,
        image_url: Option<String>,
        #[serde(default, deserialize_with = "super::null_default")]
        has_image: bool,
        members_count: Option<i64>,
        missing_member_with_elevated_permissions: Option<bool>,
        pending_invitations_count: Option<i64>,
        #[serde(default, deserialize_with = "super::null_default")]
        max_allowed_memberships: i64,
        #[serde(default, deserialize_with = "super::null_default")]
        admin_delete_enabled: bool,
        #[serde(default, deserialize_with = "super::null_default")]
        public_metadata: Map<String, Value>,
        private_metadata: Option<Map<String, Value>>,
        created_by: Option<String>,
        #[serde(default, deserialize_with = "super::null_default")]
        created_at: i64,
        #[serde(default, deserialize_with = "super::null_default")]
        updated_at: i64,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct ManagementApplicationResponse {
        application_id: String,
        #[serde(default, deserialize_with = "super::lenient")]
        subscription: Option<ApplicationSubscription>,
        #[serde(default, deserialize_with = "super::null_default")]
        instances: Vec<ApplicationInstance>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct ApplicationSubscription {
        #[serde(default, deserialize_with = "super::null_default")]
        id: String,
        stripe_subscription_id: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    pub(super) struct ApplicationInstance {
        #[serde(default, deserialize_with = "super::null_default")]
        instance_id: String,
        #[serde(default, deserialize_with = "super::null_default")]
        environment_type: String,
        #[serde(default, deserialize_with = "super::null_default")]
        secret_key: SecretString,
        #[serde(default, deserialize_with = "super::null_default")]
        publishable_key: String,
    }
}

fn outcome<T: Debug>(result: Result<T, serde_json::Error>) -> String {
    match result {
        Ok(value) => format!("{value:?}"),
        Err(error) => format!("error: {error}"),
    }
}

/// Decodes `text` as `T` and as its twin `D` in every way there is, and requires the same.
fn same<T, D>(text: &str)
where
    T: Record + DeserializeOwned + Debug,
    D: DeserializeOwned + Debug,
{
    let ours = outcome(serde_json::from_slice::<T>(text.as_bytes()));
    assert_eq!(
        ours,
        outcome(serde_json::from_slice::<D>(text.as_bytes())),
        "{text}"
    );
    assert_eq!(
        ours,
        outcome(super::from_slice::<T>(text.as_bytes())),
        "{text}"
    );
    let ours = outcome(serde_json::from_str::<T>(text));
    assert_eq!(ours, outcome(serde_json::from_str::<D>(text)), "{text}");
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let ours = outcome(serde_json::from_value::<T>(value.clone()));
        assert_eq!(
            ours,
            outcome(serde_json::from_value::<D>(value.clone())),
            "{text}"
        );
        let lenient = format!("{:?}", serde_json::from_value::<D>(value.clone()).ok());
        assert_eq!(format!("{:?}", T::from_value(value)), lenient, "{text}");
    }
}

/// [`same`] for every response type.
fn same_for_all(text: &str) {
    use crate::create_application as app;
    use crate::upsert_user as user;
    same::<user::User, derived::User>(text);
    same::<user::Verification, derived::Verification>(text);
    same::<user::IdentificationLink, derived::IdentificationLink>(text);
    same::<user::EmailAddress, derived::EmailAddress>(text);
    same::<user::PhoneNumber, derived::PhoneNumber>(text);
    same::<user::Web3Wallet, derived::Web3Wallet>(text);
    same::<user::Passkey, derived::Passkey>(text);
    same::<user::ExternalAccount, derived::ExternalAccount>(text);
    same::<user::SamlAccount, derived::SamlAccount>(text);
    same::<user::SamlConnection, derived::SamlConnection>(text);
    same::<crate::ClerkError, derived::ClerkError>(text);
    same::<crate::client::ClerkErrors, derived::ClerkErrors>(text);
    same::<crate::create_organization::Organization, derived::Organization>(text);
    same::<app::ManagementApplicationResponse, derived::ManagementApplicationResponse>(text);
    same::<app::ApplicationSubscription, derived::ApplicationSubscription>(text);
    same::<app::ApplicationInstance, derived::ApplicationInstance>(text);
}

/// The shapes of every response type, for writing a struct as an array of its fields.
fn shapes() -> Vec<&'static Shape> {
    use crate::create_application as app;
    use crate::upsert_user as user;
    vec![
        user::User::start().shape(),
        user::Verification::start().shape(),
        user::IdentificationLink::start().shape(),
        user::EmailAddress::start().shape(),
        user::PhoneNumber::start().shape(),
        user::Web3Wallet::start().shape(),
        user::Passkey::start().shape(),
        user::ExternalAccount::start().shape(),
        user::SamlAccount::start().shape(),
        user::SamlConnection::start().shape(),
        crate::ClerkError::start().shape(),
        crate::client::ClerkErrors::start().shape(),
        crate::create_organization::Organization::start().shape(),
        app::ManagementApplicationResponse::start().shape(),
        app::ApplicationSubscription::start().shape(),
        app::ApplicationInstance::start().shape(),
    ]
}

/// A user with every field of the specification and one of every nested kind (the fixture of
/// the benchmark, shortened, with a verification that failed so that a lenient struct is in
/// it too). Written out here so that the tests of the packaged crate need no other file.
const USER: &str = r#"
    {
    "id": "user_2lQ8zKbGxYv6Ht3",
    "object": "user",
    "external_id": "crm-000417",
    "primary_email_address_id": "idn_2lQ8zNrT4u1WkXyB",
    "primary_phone_number_id": "idn_2lQ90aPq3rS5tU7v",
    "primary_web3_wallet_id": "idn_2lQ91dE7fG9hJ1kL",
    "username": "ada.lovelace",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "profile_image_url": "https://www.gravatar",
    "image_url": "https://img.clerk.co",
    "has_image": true,
    "public_metadata": {"plan": "pro", "seats": 5, "features": ["sso", "audit-log"]},
    "private_metadata": {"crm": {"account": 417, "owner": "grace@example.com"}, "flags": null},
    "unsafe_metadata": {"theme": "dark", "onboarded": true},
    "email_addresses": [{"id": "idn_2lQ8zNrT4u1WkXyB", "object": "email_address",
    "email_address": "ada@example.com", "reserved": false,
    "verification": {"status": "verified", "strategy": "email_code", "attempts": 1,
    "expire_at": 1712782061925, "verified_at_client": "client_2lQ8yXwV5u3T1",
    "error": {"code": "oauth_failed", "message": "m", "long_message": "l", "meta": {"k": [1,
    null]}, "clerk_trace_id": "t"}}, "linked_to": [{"type": "oauth_google",
    "id": "idn_2lQ92uV1wX3yZ5aB"}], "matches_sso_connection": false,
    "created_at": 1712781461925, "updated_at": 1712781520314}, {"id": "idn_2lQ93kL5mN7pQ9rS",
    "object": "email_address", "email_address": "ada@analytical-engin", "reserved": false,
    "verification": {"status": "verified", "strategy": "from_oauth_google", "error": null,
    "expire_at": null, "attempts": null, "verified_at_client": null}, "linked_to": [],
    "matches_sso_connection": true, "created_at": 1712781600000, "updated_at": 1712781600000}],
    "phone_numbers": [{"id": "idn_2lQ90aPq3rS5tU7v", "object": "phone_number",
    "phone_number": "+15555550123", "reserved_for_second_factor": true,
    "default_second_factor": true, "reserved": false, "verification": {"status": "verified",
    "strategy": "phone_code", "attempts": 2, "expire_at": 1712782100000,
    "verified_at_client": null}, "linked_to": [], "backup_codes": ["k3j9-2h8d", "p0q7-x5m1",
    "z8v4-c2n6"], "created_at": 1712781700000, "updated_at": 1712781750000}],
    "web3_wallets": [{"id": "idn_2lQ91dE7fG9hJ1kL", "object": "web3_wallet",
    "web3_wallet": "0x5aAeb6053F3E94C9b9", "verification": {"status": "verified",
    "strategy": "web3_metamask_signature", "nonce": "7f3c9a2e41b0d8f6",
    "message": "Sign in to example.c", "attempts": 1, "expire_at": 1712782200000,
    "verified_at_client": "client_2lQ8yXwV5u3T1"}, "created_at": 1712781800000,
    "updated_at": 1712781810000}],
    "passkeys": [{"id": "idn_2lQ94aB1cD3eF5gH", "object": "passkey", "name": "Laptop Touch ID",
    "last_used_at": 1712790000000, "verification": {"status": "verified",
    "strategy": "passkey", "nonce": "nonce", "message": null, "attempts": 1,
    "expire_at": 1712782300000, "verified_at_client": "client_2lQ8yXwV5u3T1"}}],
    "password_enabled": true,
    "two_factor_enabled": true,
    "totp_enabled": false,
    "backup_code_enabled": true,
    "mfa_enabled_at": 1712781900000,
    "mfa_disabled_at": null,
    "external_accounts": [{"object": "external_account", "id": "eac_2lQ95rS5tU7vW9xY",
    "provider": "oauth_google", "identification_id": "idn_2lQ92uV1wX3yZ5aB",
    "provider_user_id": "104857392018374659201", "approved_scopes": "email https://www.go",
    "email_address": "ada@analytical-engin", "first_name": "Ada", "last_name": "Lovelace",
    "avatar_url": "https://lh3.googleus", "image_url": "https://img.clerk.co",
    "username": null, "phone_number": null, "public_metadata": {"hd": "analytical-engines.e"},
    "label": null, "created_at": 1712781600000, "updated_at": 1712781650000,
    "verification": {"status": "verified", "strategy": "oauth_google",
    "external_verification_redirect_url": "", "error": null, "expire_at": 1712782200000,
    "attempts": null, "verified_at_client": "client_2lQ8yXwV5u3T1"}}],
    "saml_accounts": [{"id": "samlacc_2lQ96gH9jK1l", "object": "saml_account",
    "provider": "saml_okta", "active": true, "email_address": "ada@engines-corp.example",
    "first_name": "Ada", "last_name": "Lovelace", "provider_user_id": "00u1a2b3c4d5e6f7g8h9",
    "public_metadata": {"department": "Engineering"}, "verification": {"status": "verified",
    "strategy": "saml", "external_verification_redirect_url": null, "error": null,
    "expire_at": 1712782400000, "attempts": null, "verified_at_client": null},
    "saml_connection": {"id": "samlc_2lQ97xY3zA5bC7", "name": "Engines Corp Okta",
    "domain": "engines-corp.example", "domains": ["engines-corp.example", "engines.example"],
    "active": true, "provider": "saml_okta", "sync_user_attributes": true,
    "allow_subdomains": false, "allow_idp_initiated": false,
    "disable_additional_identifications": false, "created_at": 1712700000000,
    "updated_at": 1712700500000}}],
    "last_sign_in_at": 1712790000000,
    "banned": false,
    "locked": false,
    "lockout_expires_in_seconds": null,
    "verification_attempts_remaining": 100,
    "updated_at": 1712781520314,
    "created_at": 1712781461925,
    "delete_self_enabled": true,
    "create_organization_enabled": true,
    "create_organizations_limit": 3,
    "last_active_at": 1712789000000,
    "legal_accepted_at": 1712781461925
    }
"#;

/// A comparison of one type with its twin, as [`same`].
type Check = fn(&str);

/// One sample per top-level type, with every field and one of every nested kind, and the
/// comparison for that type (which covers the nested types inside it).
fn samples() -> Vec<(Value, Check)> {
    use crate::create_application as app;

    let user = serde_json::from_str(USER).expect("the user sample is JSON");
    let errors = json!({
        "errors": [
            {"message": "is invalid", "long_message": "email_address must be valid.",
             "code": "form_param_format_invalid", "meta": {"param_name": "email_address"}},
            {"message": "is too long", "code": "form_param_exceeds_allowed_size",
             "meta": {"param_name": "first_name"}, "clerk_trace_id": "t"}
        ],
        "meta": {},
        "clerk_trace_id": "7f1c2b9e4a6d4c0f8b3e5a2d1c9f7e6b"
    });
    vec![
        (user, same::<crate::upsert_user::User, derived::User>),
        (
            errors,
            same::<crate::client::ClerkErrors, derived::ClerkErrors>,
        ),
        (
            json!({
                "object": "organization", "id": "org_1", "name": "Acme", "slug": "acme",
                "image_url": null, "has_image": false, "members_count": 1,
                "missing_member_with_elevated_permissions": false, "pending_invitations_count": 0,
                "max_allowed_memberships": 5, "admin_delete_enabled": true,
                "public_metadata": {"x": 1}, "private_metadata": {}, "created_by": "user_1",
                "created_at": 1, "updated_at": 2
            }),
            same::<crate::create_organization::Organization, derived::Organization>,
        ),
        (
            json!({
                "application_id": "app_1",
                "subscription": {"id": "sub_1", "stripe_subscription_id": "si_1"},
                "instances": [
                    {"instance_id": "ins_1", "environment_type": "development",
                     "secret_key": "sk_test_1", "publishable_key": "pk_test_1"}
                ]
            }),
            same::<app::ManagementApplicationResponse, derived::ManagementApplicationResponse>,
        ),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    At(usize),
}

/// Every path in `value`, object keys and array indices, from the root down.
fn paths(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    let children: Vec<(Step, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (Step::Key(k.clone()), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Step::At(i), v))
            .collect(),
        _ => return,
    };
    for (step, child) in children {
        prefix.push(step);
        out.push(prefix.clone());
        paths(child, prefix, out);
        prefix.pop();
    }
}

fn at<'a>(root: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(root, |node, step| match step {
        Step::Key(key) => node.get_mut(key.as_str()),
        Step::At(index) => node.get_mut(*index),
    })
}

/// `root` with the value at `path` replaced (`None`: removed).
fn replaced(root: &Value, path: &[Step], with: Option<Value>) -> Value {
    let mut root = root.clone();
    let Some((last, parent)) = path.split_last() else {
        return with.unwrap_or(Value::Null);
    };
    match (at(&mut root, parent), last, with) {
        (Some(Value::Object(map)), Step::Key(key), Some(value)) => {
            map.insert(key.clone(), value);
        }
        (Some(Value::Object(map)), Step::Key(key), None) => {
            map.remove(key);
        }
        (Some(Value::Array(items)), Step::At(index), Some(value)) => items[*index] = value,
        (Some(Value::Array(items)), Step::At(index), None) => {
            items.remove(*index);
        }
        _ => unreachable!("paths come from the value"),
    }
    root
}

/// An object as the array of its fields in the order of the shape that knows most of its
/// keys, cut or lengthened by `delta` elements.
fn as_array(map: &Map<String, Value>, delta: isize) -> Value {
    let known = |shape: &&Shape| {
        shape
            .fields
            .iter()
            .filter(|f| map.contains_key(**f))
            .count()
    };
    let shape = shapes()
        .into_iter()
        .max_by_key(known)
        .expect("there are shapes");
    let mut items: Vec<Value> = shape
        .fields
        .iter()
        .map(|f| map.get(*f).cloned().unwrap_or(Value::Null))
        .collect();
    match delta {
        ..0 => items.truncate(items.len().saturating_sub(delta.unsigned_abs())),
        1.. => items.extend((0..delta).map(|_| json!("extra"))),
        0 => {}
    }
    Value::Array(items)
}

/// Values that do not fit the field they replace, or only just.
fn odd_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!("x"),
        json!(-1),
        json!(1.5),
        json!([]),
        json!({"id": "x", "code": 1}),
    ]
}

/// Numbers a `Value` cannot hold, or holds as a float, written in place of a marker.
const RAW: [&str; 3] = ["1e400", "18446744073709551616", "-0"];

#[test]
fn mutated_samples_decode_as_derived() {
    for (sample, same) in samples() {
        same_for_all(&sample.to_string());
        let mut all = Vec::new();
        paths(&sample, &mut Vec::new(), &mut all);
        for path in &all {
            let mut bodies = vec![replaced(&sample, path, None).to_string()];
            bodies.extend(
                odd_values()
                    .into_iter()
                    .map(|v| replaced(&sample, path, Some(v)).to_string()),
            );
            for raw in RAW {
                let marked = replaced(&sample, path, Some(json!("@@raw@@"))).to_string();
                bodies.push(marked.replace("\"@@raw@@\"", raw));
            }
            let mut root = sample.clone();
            if let Some(Value::Object(map)) = at(&mut root, path).map(|v| &*v) {
                let map = map.clone();
                for delta in [-2, -1, 0, 1] {
                    bodies.push(replaced(&sample, path, Some(as_array(&map, delta))).to_string());
                }
            }
            if let Some(Step::Key(key)) = path.last() {
                // The key again, at the end of its object: a duplicate field.
                let marked = replaced(&sample, path, Some(json!("@@dup@@"))).to_string();
                let value = at(&mut root, path).map_or(Value::Null, |v| v.clone());
                let twice = format!("{value},{}:{value}", Value::String(key.clone()));
                bodies.push(marked.replace("\"@@dup@@\"", &twice));
            }
            for body in &bodies {
                same(body);
            }
        }
    }
}

#[test]
fn whole_samples_as_arrays_decode_as_derived() {
    for (sample, _) in samples() {
        let Value::Object(map) = &sample else {
            unreachable!()
        };
        for delta in [-40, -3, -1, 0, 1] {
            same_for_all(&as_array(map, delta).to_string());
        }
    }
}

#[test]
fn odd_documents_decode_as_derived() {
    let deep_array = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let deep_object = format!("{}null{}", r#"{"a":"#.repeat(200), "}".repeat(200));
    let mut bodies = vec![
        String::new(),
        "null".into(),
        "{".into(),
        "[".into(),
        r#"{"id":"#.into(),
        r#"{"id":"u"} x"#.into(),
        r#"{"id":"u",}"#.into(),
        r#"{"id":"u","id":"v"}"#.into(),
        r#"{"id":"\u00e9\ud83d\ude00","object":"\ud800"}"#.into(),
        r"{1:2}".into(),
        deep_array.clone(),
        deep_object.clone(),
    ];
    for deep in [&deep_array, &deep_object] {
        for key in [
            "meta",
            "subscription",
            "saml_connection",
            "error",
            "public_metadata",
            "x",
        ] {
            bodies.push(format!(
                r#"{{"id":"u","errors":[],"application_id":"a","{key}":{deep}}}"#
            ));
        }
    }
    for body in &bodies {
        same_for_all(body);
    }
}

/// A JSON document with keys from the response types' fields, nested a few levels.
fn document() -> impl Strategy<Value = String> {
    let mut names: Vec<&'static str> = shapes()
        .iter()
        .flat_map(|s| s.fields.iter().copied())
        .collect();
    names.sort_unstable();
    names.dedup();
    names.push("unknown");
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (-1e3_f64..1e3).prop_map(|f| format!("{f:?}")),
        "[a-z_]{0,6}".prop_map(|s| format!("{s:?}")),
        Just("1e400".to_owned()),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        let key = prop::sample::select(names.clone());
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((key, inner), 0..8).prop_map(|entries| {
                let entries: Vec<String> = entries
                    .into_iter()
                    .map(|(k, v)| format!("{k:?}:{v}"))
                    .collect();
                format!("{{{}}}", entries.join(","))
            }),
        ]
    })
}

#[test]
fn random_documents_decode_as_derived() {
    let config = Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new(config)
        .run(&document(), |text| {
            same_for_all(&text);
            Ok(())
        })
        .unwrap();
}
