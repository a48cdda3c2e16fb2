//! Lenient decoding helpers: the live API is looser than its spec.

use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use serde_json::Value;

/// Decodes `null` as the type's default, so a list or flag that is sometimes `null` decodes.
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Decodes a value that is informative but not essential: a shape we do not know is `None`.
pub(crate) fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    // `null` is the common case; sending it through `from_value` would build an error to drop.
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        value => Ok(serde_json::from_value(value).ok()),
    }
}
