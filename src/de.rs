//! Lenient decoding: the live API is looser than its specification.
//!
//! The response types get their `Deserialize` from [`response!`], which decodes exactly as
//! `#[derive(Deserialize)]` with the matching field attributes would: the same calls to the
//! deserializer, so the same wire names, errors and positions, absent fields, and structs
//! written as arrays (the tests compare the two). What differs is the amount of code. A derive
//! compiles every field of every struct for every format, with the format's parsing inlined;
//! that made up most of what the crate added to a binary. Here the generic part is shared:
//!
//! - one visitor ([`StructVisitor`]) for every struct, which drives a [`Record`] (a struct's
//!   field table, compiled once per struct whatever the format) through a [`Reader`];
//! - a [`Reader`] per way of holding a value (an object, an array, a [`Value`]), each with one
//!   method per JSON shape (string, optional integer, struct, list of structs, …), compiled
//!   once per format;
//! - a [`Field`] per field kind and type, saying which reader method reads it and what `null`
//!   and absence mean, compiled once.

use std::fmt;

use serde::Deserialize;
use serde::de::{
    self, DeserializeSeed, Deserializer, Expected, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Value};

use crate::SecretString;

/// A response struct: its shape, a value to fill, and how to fill one field of it.
pub(crate) trait Record {
    /// The struct's name and fields.
    fn shape(&self) -> &'static Shape;

    /// The struct with every field at its default: where decoding starts.
    fn start() -> Self
    where
        Self: Sized;

    /// Reads the field at `index` (of [`Shape::fields`]) with `reader`.
    fn fill(&mut self, index: usize, reader: &mut dyn Reader) -> Result<(), Stop>;
}

/// A response struct's name, its fields' wire names in declaration order, and which of them
/// must be present (one bit per field).
pub(crate) struct Shape {
    pub(crate) name: &'static str,
    pub(crate) fields: &'static [&'static str],
    pub(crate) required: u64,
}

impl Shape {
    /// The index of the field named `key`, looked for at `hint` first; `fields.len()` when
    /// there is none.
    fn index(&self, key: &[u8], hint: usize) -> usize {
        // Clerk sends the fields in the order of its schema, which is the declaration order,
        // so the field after the last one read is almost always the next key.
        if self
            .fields
            .get(hint)
            .is_some_and(|name| name.as_bytes() == key)
        {
            return hint;
        }
        let known = self.fields.iter().position(|name| name.as_bytes() == key);
        known.unwrap_or(self.fields.len())
    }

    /// Once an object is read: the first required field (in declaration order) it lacked.
    fn missing(&self, seen: u64) -> Option<&'static str> {
        match self.required & !seen {
            0 => None,
            missing => Some(self.fields[missing.trailing_zeros() as usize]),
        }
    }
}

/// A read that failed; the error itself is kept by the reader, which knows its type.
pub(crate) struct Stop;

/// What a read gives: `None` when an array ended before the field.
pub(crate) type Got<T> = Result<Option<T>, Stop>;

/// Reads one field's value, by JSON shape: from an object, from an array of the fields, or
/// from a [`Value`] already decoded (for [`FromValue`]).
///
/// Each method makes the deserializer call that the derive makes for that type (`String`,
/// `Option<bool>`, …), so errors are the same.
pub(crate) trait Reader {
    /// `String`.
    fn string(&mut self) -> Got<String>;
    /// `Option<String>`.
    fn opt_string(&mut self) -> Got<Option<String>>;
    /// `Option<bool>`.
    fn opt_bool(&mut self) -> Got<Option<bool>>;
    /// `Option<i64>`.
    fn opt_i64(&mut self) -> Got<Option<i64>>;
    /// `Option<Map<String, Value>>`.
    fn opt_map(&mut self) -> Got<Option<Map<String, Value>>>;
    /// `Option<Vec<String>>`.
    fn opt_strings(&mut self) -> Got<Option<Vec<String>>>;
    /// `Value`.
    fn value(&mut self) -> Got<Value>;
    /// `Option<T>` of a [`Record`] `T`, into `target`: `false` for `null`.
    fn opt_record(&mut self, target: &mut dyn Record) -> Got<bool>;
    /// `Vec<T>` of a [`Record`] `T`, or `Option<Vec<T>>` when `optional` (`false` for `null`).
    fn list(&mut self, list: &mut dyn List, optional: bool) -> Got<bool>;
    /// The failure for a field past the end of an array, when the field has no default.
    fn too_short(&mut self) -> Stop;
}

/// A list of records being decoded.
pub(crate) trait List {
    /// Starts one more element, fills it with `read`, and keeps it if `read` says there was
    /// one; returns what `read` said.
    fn push_with(
        &mut self,
        read: &mut dyn FnMut(&mut dyn Record) -> Result<bool, Stop>,
    ) -> Result<bool, Stop>;
}

impl<T: Record> List for Vec<T> {
    fn push_with(
        &mut self,
        read: &mut dyn FnMut(&mut dyn Record) -> Result<bool, Stop>,
    ) -> Result<bool, Stop> {
        let mut item = T::start();
        let more = read(&mut item)?;
        if more {
            self.push(item);
        }
        Ok(more)
    }
}

/// A field of this type and kind: how it is read, and what `null` makes of it.
pub(crate) trait Field<K: Kind> {
    /// Reads the field into `slot`, which holds its default.
    fn read(slot: &mut Self, reader: &mut dyn Reader) -> Result<(), Stop>;
}

/// A field's kind: the attributes it would have in a derive, and so what its absence means.
pub(crate) trait Kind {
    /// Whether a key absent from the object is a missing-field error.
    const REQUIRED: bool = false;
    /// Whether a field past the end of an array keeps its default (else a length error).
    const SHORT_OK: bool;
}

/// A field without attributes that is not an `Option`: it must be there.
pub(crate) struct Required;

/// An `Option` field without attributes: an absent key is `None`, a short array an error.
pub(crate) struct Plain;

/// `#[serde(default)]`.
pub(crate) struct OrDefault;

/// `#[serde(default, deserialize_with = …)]` with a function that decodes `Option<T>` and
/// takes `None` (`null`) as the default, so a list or flag that is sometimes `null` decodes.
pub(crate) struct NullDefault;

/// `#[serde(default, deserialize_with = …)]` with a function that decodes a [`Value`] and
/// converts it as `serde_json::from_value(value).ok()`: a value that is informative but not
/// essential, `None` when its shape is not the one we know.
///
/// Reading the value whole first leaves the input where the next field starts; JSON that a
/// `Value` does not take (nesting past `serde_json`'s limit, a number out of range) remains an
/// error.
pub(crate) struct Lenient;

impl Kind for Required {
    const REQUIRED: bool = true;
    const SHORT_OK: bool = false;
}

impl Kind for Plain {
    const SHORT_OK: bool = false;
}

impl Kind for OrDefault {
    const SHORT_OK: bool = true;
}

impl Kind for NullDefault {
    const SHORT_OK: bool = true;
}

impl Kind for Lenient {
    const SHORT_OK: bool = true;
}

/// Puts what a read got in `slot`: the value through `convert`, or for a field past the end
/// of an array, the default if the kind allows it.
fn put<K: Kind, T, V>(
    slot: &mut T,
    got: Option<V>,
    reader: &mut dyn Reader,
    convert: impl FnOnce(V) -> T,
) -> Result<(), Stop> {
    match got {
        Some(value) => settle(slot, convert(value)),
        None if K::SHORT_OK => {}
        None => return Err(reader.too_short()),
    }
    Ok(())
}

/// Puts a read value in `slot`, which still holds the default it started as.
///
/// Every field type's default owns no memory, so it is forgotten instead of dropped; that
/// keeps each field type's drop code (all of `Vec<ExternalAccount>`'s, say) out of the
/// functions that read fields.
fn settle<T>(slot: &mut T, value: T) {
    std::mem::forget(std::mem::replace(slot, value));
}

/// Implements [`Field`] for types read by one [`Reader`] method each:
/// `kind type = method, what becomes of what the method read;`.
macro_rules! fields {
    ($($kind:ident $ty:ty = $method:ident, $convert:expr;)*) => {
        $(
            impl Field<$kind> for $ty {
                fn read(slot: &mut Self, reader: &mut dyn Reader) -> Result<(), Stop> {
                    let got = reader.$method()?;
                    put::<$kind, _, _>(slot, got, reader, $convert)
                }
            }
        )*
    };
}

fields! {
    Required String = string, std::convert::identity;
    Plain Option<String> = opt_string, std::convert::identity;
    OrDefault Option<String> = opt_string, std::convert::identity;
    NullDefault String = opt_string, Option::unwrap_or_default;
    NullDefault SecretString = opt_string, |value: Option<String>| {
        SecretString::new(value.unwrap_or_default())
    };
    Plain Option<bool> = opt_bool, std::convert::identity;
    NullDefault bool = opt_bool, Option::unwrap_or_default;
    Plain Option<i64> = opt_i64, std::convert::identity;
    NullDefault i64 = opt_i64, Option::unwrap_or_default;
    Plain Option<Map<String, Value>> = opt_map, std::convert::identity;
    NullDefault Map<String, Value> = opt_map, Option::unwrap_or_default;
    Plain Option<Vec<String>> = opt_strings, std::convert::identity;
    NullDefault Vec<String> = opt_strings, Option::unwrap_or_default;
}

impl<T: Record> Field<Plain> for Option<T> {
    fn read(slot: &mut Self, reader: &mut dyn Reader) -> Result<(), Stop> {
        let mut item = T::start();
        let got = reader.opt_record(&mut item)?;
        put::<Plain, _, _>(slot, got, reader, |present| present.then_some(item))
    }
}

impl<T: Record> Field<Required> for Vec<T> {
    fn read(slot: &mut Self, reader: &mut dyn Reader) -> Result<(), Stop> {
        // The list is read straight into the slot.
        match reader.list(slot, false)? {
            Some(_) => Ok(()),
            None => Err(reader.too_short()),
        }
    }
}

impl<T: Record> Field<NullDefault> for Vec<T> {
    fn read(slot: &mut Self, reader: &mut dyn Reader) -> Result<(), Stop> {
        // The list is read straight into the slot, which starts empty and stays so for `null`
        // and past the end of an array.
        reader.list(slot, true).map(drop)
    }
}

impl<T: FromValue> Field<Lenient> for Option<T> {
    fn read(slot: &mut Self, reader: &mut dyn Reader) -> Result<(), Stop> {
        let got = reader.value()?;
        put::<Lenient, _, _>(slot, got, reader, |value| match value {
            Value::Null => None,
            value => T::from_value(value),
        })
    }
}

/// What `serde_json::from_value(value).ok()` gives, without `serde_json`'s `Value`
/// deserializer, which would bring a second copy of the decoding of every type read
/// leniently.
pub(crate) trait FromValue: Sized {
    /// The value as this type, or `None` when `from_value` would fail.
    fn from_value(value: Value) -> Option<Self>;
}

impl FromValue for String {
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::String(text) => Some(text),
            _ => None,
        }
    }
}

impl FromValue for i64 {
    fn from_value(value: Value) -> Option<Self> {
        // A float is refused, as serde refuses it for an integer, even `1.0`.
        value.as_i64()
    }
}

impl FromValue for Map<String, Value> {
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }
}

impl<T: Record> FromValue for T {
    fn from_value(value: Value) -> Option<Self> {
        let mut record = T::start();
        record_from_value(value, &mut record).then_some(record)
    }
}

/// Fills `target` from a `Value` as `serde_json::from_value` would: from an object, or from
/// an array of the fields in order; `false` when that fails.
fn record_from_value(value: Value, target: &mut dyn Record) -> bool {
    let shape = target.shape();
    let count = shape.fields.len();
    match value {
        Value::Object(map) => {
            let mut seen = 0_u64;
            for (key, value) in map {
                // Keys come sorted here, not in declaration order: no hint.
                let index = shape.index(key.as_bytes(), 0);
                if index < count {
                    if target.fill(index, &mut ValueReader(Some(value))).is_err() {
                        return false;
                    }
                    seen |= 1 << index;
                }
            }
            shape.missing(seen).is_none()
        }
        Value::Array(items) => {
            let mut items = items.into_iter();
            let filled = (0..count).all(|index| {
                let value = items.next();
                target.fill(index, &mut ValueReader(value)).is_ok()
            });
            // serde_json refuses an array longer than the struct.
            filled && items.next().is_none()
        }
        _ => false,
    }
}

/// Reads a field from a [`Value`]; `None` is an array that ended before the field.
struct ValueReader(Option<Value>);

impl ValueReader {
    /// The value through `convert`, which gives `None` for a value of the wrong shape.
    fn take<T>(&mut self, convert: impl FnOnce(Value) -> Option<T>) -> Got<T> {
        match self.0.take() {
            Some(value) => convert(value).map(Some).ok_or(Stop),
            None => Ok(None),
        }
    }

    /// An `Option<T>` as `from_value` reads it: `null` is `None`, anything else must convert.
    fn take_optional<T>(&mut self, convert: impl FnOnce(Value) -> Option<T>) -> Got<Option<T>> {
        match self.0.take() {
            Some(Value::Null) => Ok(Some(None)),
            Some(value) => convert(value).map(|value| Some(Some(value))).ok_or(Stop),
            None => Ok(None),
        }
    }
}

impl Reader for ValueReader {
    fn string(&mut self) -> Got<String> {
        self.take(String::from_value)
    }

    fn opt_string(&mut self) -> Got<Option<String>> {
        self.take_optional(String::from_value)
    }

    fn opt_bool(&mut self) -> Got<Option<bool>> {
        self.take_optional(|value| value.as_bool())
    }

    fn opt_i64(&mut self) -> Got<Option<i64>> {
        self.take_optional(i64::from_value)
    }

    fn opt_map(&mut self) -> Got<Option<Map<String, Value>>> {
        self.take_optional(Map::from_value)
    }

    fn opt_strings(&mut self) -> Got<Option<Vec<String>>> {
        self.take_optional(|value| match value {
            Value::Array(items) => items.into_iter().map(String::from_value).collect(),
            _ => None,
        })
    }

    fn value(&mut self) -> Got<Value> {
        // A lenient field read from a `Value` reads that same value again.
        self.take(Some)
    }

    fn opt_record(&mut self, target: &mut dyn Record) -> Got<bool> {
        let got = self.take_optional(|value| record_from_value(value, target).then_some(()));
        got.map(|got| got.map(|record| record.is_some()))
    }

    fn list(&mut self, list: &mut dyn List, optional: bool) -> Got<bool> {
        self.take(|value| match value {
            Value::Null if optional => Some(false),
            Value::Array(items) => {
                for item in items {
                    let mut item = Some(item);
                    let mut read = |target: &mut dyn Record| {
                        let value = item.take().ok_or(Stop)?;
                        record_from_value(value, target).then_some(true).ok_or(Stop)
                    };
                    list.push_with(&mut read).ok()?;
                }
                Some(true)
            }
            _ => None,
        })
    }

    fn too_short(&mut self) -> Stop {
        Stop
    }
}

/// Keeps the error of a failed read, for the generic code that returns it.
struct Stash<E>(Option<E>);

impl<E: de::Error> Stash<E> {
    /// `result` as a [`Got`], its error kept.
    fn got<T>(&mut self, result: Result<Option<T>, E>) -> Got<T> {
        result.map_err(|error| {
            self.0 = Some(error);
            Stop
        })
    }

    /// The error kept by the read that stopped.
    fn error(&mut self) -> E {
        // Every `Stop` comes with its error; the fallback only keeps this free of panics.
        self.0
            .take()
            .unwrap_or_else(|| E::custom("decoding stopped without an error"))
    }
}

/// Reads a field from an object: the value of the key just read.
struct MapReader<'a, A: ?Sized, E> {
    map: &'a mut A,
    stash: Stash<E>,
}

impl<'de, A: MapAccess<'de> + ?Sized> MapReader<'_, A, A::Error> {
    fn next<T: Deserialize<'de>>(&mut self) -> Got<T> {
        let result = self.map.next_value().map(Some);
        self.stash.got(result)
    }

    fn next_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Got<S::Value> {
        let result = self.map.next_value_seed(seed).map(Some);
        self.stash.got(result)
    }
}

/// The [`Reader`] methods of a reader whose `next` and `next_seed` read the next value: the
/// same for the object and the array forms.
macro_rules! next_value_methods {
    () => {
        fn string(&mut self) -> Got<String> {
            self.next()
        }
        fn opt_string(&mut self) -> Got<Option<String>> {
            self.next()
        }
        fn opt_bool(&mut self) -> Got<Option<bool>> {
            self.next()
        }
        fn opt_i64(&mut self) -> Got<Option<i64>> {
            self.next()
        }
        fn opt_map(&mut self) -> Got<Option<Map<String, Value>>> {
            self.next()
        }
        fn opt_strings(&mut self) -> Got<Option<Vec<String>>> {
            self.next()
        }
        fn value(&mut self) -> Got<Value> {
            self.next()
        }
        fn opt_record(&mut self, target: &mut dyn Record) -> Got<bool> {
            self.next_seed(OptRecordSeed(target))
        }
        fn list(&mut self, list: &mut dyn List, optional: bool) -> Got<bool> {
            self.next_seed(ListSeed { list, optional })
        }
    };
}

impl<'de, A: MapAccess<'de> + ?Sized> Reader for MapReader<'_, A, A::Error> {
    next_value_methods!();
    fn too_short(&mut self) -> Stop {
        // An object has no end before a field: never called.
        self.stash.0 = Some(de::Error::custom("no value for the field"));
        Stop
    }
}

/// Reads a field from a struct written as an array: the next element.
struct SeqReader<'a, A: ?Sized, E> {
    seq: &'a mut A,
    stash: Stash<E>,
    index: usize,
    shape: &'static Shape,
}

impl<'de, A: SeqAccess<'de> + ?Sized> SeqReader<'_, A, A::Error> {
    fn next<T: Deserialize<'de>>(&mut self) -> Got<T> {
        let result = self.seq.next_element();
        self.stash.got(result)
    }

    fn next_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Got<S::Value> {
        let result = self.seq.next_element_seed(seed);
        self.stash.got(result)
    }
}

impl<'de, A: SeqAccess<'de> + ?Sized> Reader for SeqReader<'_, A, A::Error> {
    next_value_methods!();
    fn too_short(&mut self) -> Stop {
        let error = de::Error::invalid_length(self.index, &Elements(self.shape));
        self.stash.0 = Some(error);
        Stop
    }
}

/// What a struct written as an array expects, as a derive words it.
struct Elements(&'static Shape);

impl Expected for Elements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.fields.len();
        let plural = if count == 1 { "" } else { "s" };
        write!(f, "struct {} with {count} element{plural}", self.0.name)
    }
}

/// Reads a key as the index of the field it names, as a derive's field identifier does; the
/// field at `hint` is tried first.
struct FieldIndex {
    shape: &'static Shape,
    hint: usize,
}

impl<'de> DeserializeSeed<'de> for FieldIndex {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for FieldIndex {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_u64<E: de::Error>(self, index: u64) -> Result<usize, E> {
        let count = self.shape.fields.len();
        Ok(usize::try_from(index)
            .ok()
            .filter(|i| *i < count)
            .unwrap_or(count))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<usize, E> {
        Ok(self.shape.index(key.as_bytes(), self.hint))
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<usize, E> {
        Ok(self.shape.index(key, self.hint))
    }
}

/// The one visitor of every response struct: it fills a [`Record`].
struct StructVisitor<'a>(&'a mut dyn Record);

impl<'de> Visitor<'de> for StructVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {}", self.0.shape().name)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let shape = self.0.shape();
        let mut reader = SeqReader {
            seq: &mut seq,
            stash: Stash(None),
            index: 0,
            shape,
        };
        for index in 0..shape.fields.len() {
            reader.index = index;
            if self.0.fill(index, &mut reader).is_err() {
                return Err(reader.stash.error());
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let shape = self.0.shape();
        let mut seen = 0_u64;
        let mut hint = 0;
        while let Some(index) = map.next_key_seed(FieldIndex { shape, hint })? {
            let Some(name) = shape.fields.get(index) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            hint = index + 1;
            let bit = 1 << index;
            if seen & bit != 0 {
                return Err(de::Error::duplicate_field(name));
            }
            let mut reader = MapReader {
                map: &mut map,
                stash: Stash(None),
            };
            if self.0.fill(index, &mut reader).is_err() {
                return Err(reader.stash.error());
            }
            seen |= bit;
        }
        match shape.missing(seen) {
            Some(name) => Err(de::Error::missing_field(name)),
            None => Ok(()),
        }
    }
}

/// `T::deserialize` of a struct `T`: `deserialize_struct` with the shared visitor.
pub(crate) fn deserialize_record<'de, D: Deserializer<'de>, T: Record>(
    deserializer: D,
) -> Result<T, D::Error> {
    let mut record = T::start();
    let shape = record.shape();
    deserializer.deserialize_struct(shape.name, shape.fields, StructVisitor(&mut record))?;
    Ok(record)
}

/// `serde_json::from_slice` for a response struct.
pub(crate) fn from_slice<T: Record>(body: &[u8]) -> serde_json::Result<T> {
    // As `from_slice` does, and here so that the struct's drop code (for trailing
    // characters) is the one of `deserialize_record`.
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let record = deserialize_record(&mut deserializer)?;
    deserializer.end()?;
    Ok(record)
}

/// A record as a seed: `T::deserialize` into `target`.
struct RecordSeed<'a>(&'a mut dyn Record);

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let shape = self.0.shape();
        deserializer.deserialize_struct(shape.name, shape.fields, StructVisitor(self.0))
    }
}

/// `Option<T>::deserialize` of a struct `T`, into `target`: `false` for `None`.
struct OptRecordSeed<'a>(&'a mut dyn Record);

impl<'de> DeserializeSeed<'de> for OptRecordSeed<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for OptRecordSeed<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("option")
    }

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        RecordSeed(self.0).deserialize(deserializer).map(|()| true)
    }
}

/// `Vec<T>::deserialize` of a struct `T`, or `Option<Vec<T>>` when `optional` (`false` for
/// `None`), into `list`.
struct ListSeed<'a> {
    list: &'a mut dyn List,
    optional: bool,
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        if self.optional {
            deserializer.deserialize_option(self)
        } else {
            deserializer
                .deserialize_seq(ListVisitor(self.list))
                .map(|()| true)
        }
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("option")
    }

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer
            .deserialize_seq(ListVisitor(self.list))
            .map(|()| true)
    }
}

/// `Vec<T>`'s visitor, for a struct `T`.
struct ListVisitor<'a>(&'a mut dyn List);

impl<'de> Visitor<'de> for ListVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut stash = Stash(None);
        let mut read = |target: &mut dyn Record| {
            let result = seq.next_element_seed(RecordSeed(target));
            stash.got(result).map(|got| got.is_some())
        };
        loop {
            match self.0.push_with(&mut read) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(Stop) => break,
            }
        }
        Err(stash.error())
    }
}

/// Defines a response struct, its [`Record`] and its `Deserialize` (through
/// [`deserialize_record`]).
///
/// Each field may end with its kind in brackets, as the attributes of a derive would say it:
/// `[Required]` (a field without attributes that is not an `Option`), `[OrDefault]`
/// (`#[serde(default)]`), `[NullDefault]`, `[Lenient]`; nothing for an `Option` without
/// attributes. A wire name other than the field's follows: `[NullDefault, rename = "type"]`.
/// A type and kind that [`Field`] does not know yet is a compile error, fixed by adding it
/// there. Every field type implements `Default`: decoding starts from it.
macro_rules! response {
    (@kind) => { $crate::de::Plain };
    (@kind $kind:ident) => { $crate::de::$kind };
    (@wire $field:ident) => { stringify!($field) };
    (@wire $field:ident $wire:literal) => { $wire };
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$field_attr:meta])*
                $field_vis:vis $field:ident: $ty:ty $([$kind:ident $(, rename = $wire:literal)?])?,
            )*
        }
    ) => {
        $(#[$attr])*
        $vis struct $name {
            $(
                $(#[$field_attr])*
                $field_vis $field: $ty,
            )*
        }

        const _: () = {
            #[allow(non_camel_case_types)]
            enum Index {
                $($field,)*
            }

            const SHAPE: $crate::de::Shape = $crate::de::Shape {
                name: stringify!($name),
                fields: &[$($crate::de::response!(@wire $field $($($wire)?)?),)*],
                required: 0 $(| (
                    <$crate::de::response!(@kind $($kind)?) as $crate::de::Kind>::REQUIRED as u64
                ) << Index::$field as u64)*,
            };

            // One bit per field, in a `u64`.
            const _: () = assert!(SHAPE.fields.len() <= 64);

            impl $crate::de::Record for $name {
                fn shape(&self) -> &'static $crate::de::Shape {
                    &SHAPE
                }

                fn start() -> Self {
                    $name {
                        $($field: ::core::default::Default::default(),)*
                    }
                }

                fn fill(
                    &mut self,
                    index: usize,
                    reader: &mut dyn $crate::de::Reader,
                ) -> ::core::result::Result<(), $crate::de::Stop> {
                    $(
                        if index == Index::$field as usize {
                            return <$ty as $crate::de::Field<
                                $crate::de::response!(@kind $($kind)?),
                            >>::read(&mut self.$field, reader);
                        }
                    )*
                    ::core::result::Result::Ok(())
                }
            }

            impl<'de> ::serde::Deserialize<'de> for $name {
                fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
                where
                    D: ::serde::Deserializer<'de>,
                {
                    $crate::de::deserialize_record(deserializer)
                }
            }
        };
    };
}

pub(crate) use response;

#[cfg(test)]
mod tests;
