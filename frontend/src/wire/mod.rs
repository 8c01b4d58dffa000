//! The protocol's JSON as the console reads and writes it: parsed and printed by the
//! browser's own `JSON`, the fields picked out here.
//!
//! Why: serde's derived code is compiled once per type and per format (and twice for the
//! `type`-tagged server frames, which serde buffers before it reads them), and
//! serde_json brings its own parser and error messages; together they were about a
//! fifth of the console's WASM. The browser parses JSON anyway. What is left is picking
//! the fields, by the rules the serde attributes in `protocol` state: a missing or
//! `null` `Option` is `None`, a `#[serde(default)]` field may be missing, fields nobody
//! asked for are ignored (`config.json` excepted: it refuses them), and one value of
//! the wrong kind refuses the whole. The tests hold every type to serde_json.
//!
//! `frames` reads and writes the WebSocket frames and what they carry; `http` the HTTP
//! API's bodies and `config.json`. This module holds the rules both follow.

use js_sys::{Array, JSON, Object, Reflect};
use protocol::help::{HelpId, HelpKind, HelpState};
use protocol::{AgentId, AgentState, ChatId, ChatStatus, ErrorCode, GroupId, Role, TenantId};
use std::collections::BTreeMap;
use wasm_bindgen::{JsCast, JsValue};

/// A value read from parsed JSON; `None` when the JSON does not have its shape.
pub trait FromJson: Sized {
    fn from_json(value: &JsValue) -> Option<Self>;
}

/// A value written as JSON.
pub trait ToJson {
    fn to_json(&self) -> JsValue;
}

/// Reads `text` as JSON of `T`'s shape.
pub fn parse<T: FromJson>(text: &str) -> Option<T> {
    T::from_json(&JSON::parse(text).ok()?)
}

/// `value` as JSON text.
pub fn print<T: ToJson>(value: &T) -> String {
    JSON::stringify(&value.to_json())
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}

/// The fields of a JSON object being read.
#[derive(Debug)]
pub struct Fields<'a>(&'a JsValue);

impl<'a> Fields<'a> {
    /// `value`'s fields, if it is an object (not an array, not `null`).
    pub fn of(value: &'a JsValue) -> Option<Self> {
        (value.is_object() && !Array::is_array(value)).then_some(Fields(value))
    }

    /// The field `name`; an `Option` field may be missing.
    pub fn get<T: FromJson>(&self, name: &str) -> Option<T> {
        T::from_json(&Reflect::get(self.0, &JsValue::from_str(name)).ok()?)
    }

    /// The field `name`, or its default when it is missing (`#[serde(default)]`).
    pub fn or_default<T: FromJson + Default>(&self, name: &str) -> Option<T> {
        let value = Reflect::get(self.0, &JsValue::from_str(name)).ok()?;
        if value.is_undefined() {
            Some(T::default())
        } else {
            T::from_json(&value)
        }
    }

    /// True when every field is one of `allowed` (`#[serde(deny_unknown_fields)]`).
    pub fn only(&self, allowed: &[&str]) -> bool {
        Object::keys(self.0.unchecked_ref::<Object>())
            .iter()
            .all(|key| key.as_string().is_some_and(|key| allowed.contains(&&*key)))
    }
}

/// A JSON object being written, its fields in the order serde writes them.
#[derive(Debug)]
pub struct Record(Object);

impl Default for Record {
    fn default() -> Self {
        Record(Object::new())
    }
}

impl Record {
    pub fn new() -> Self {
        Record::default()
    }

    /// Adds the field `name`.
    pub fn with(self, name: &str, value: &impl ToJson) -> Self {
        let _ = Reflect::set(&self.0, &JsValue::from_str(name), &value.to_json());
        self
    }

    /// The object.
    pub fn done(self) -> JsValue {
        self.0.into()
    }
}

impl FromJson for String {
    fn from_json(value: &JsValue) -> Option<Self> {
        value.as_string()
    }
}

impl ToJson for String {
    fn to_json(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl ToJson for &str {
    fn to_json(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl FromJson for bool {
    fn from_json(value: &JsValue) -> Option<Self> {
        value.as_bool()
    }
}

impl ToJson for bool {
    fn to_json(&self) -> JsValue {
        JsValue::from_bool(*self)
    }
}

/// A JSON number that is a whole number within `min..=max`. Sequence numbers, counts
/// and times in milliseconds all stay far below 2^53, where JSON numbers are exact.
fn whole(value: &JsValue, min: f64, max: f64) -> Option<f64> {
    value
        .as_f64()
        .filter(|n| n.fract() == 0.0 && (min..=max).contains(n))
}

impl FromJson for u64 {
    fn from_json(value: &JsValue) -> Option<Self> {
        whole(value, 0.0, u64::MAX as f64).map(|n| n as u64)
    }
}

impl FromJson for i64 {
    fn from_json(value: &JsValue) -> Option<Self> {
        whole(value, i64::MIN as f64, i64::MAX as f64).map(|n| n as i64)
    }
}

impl FromJson for u32 {
    fn from_json(value: &JsValue) -> Option<Self> {
        whole(value, 0.0, f64::from(u32::MAX)).map(|n| n as u32)
    }
}

impl ToJson for u64 {
    fn to_json(&self) -> JsValue {
        JsValue::from_f64(*self as f64)
    }
}

impl ToJson for i64 {
    fn to_json(&self) -> JsValue {
        JsValue::from_f64(*self as f64)
    }
}

impl ToJson for u32 {
    fn to_json(&self) -> JsValue {
        JsValue::from_f64(f64::from(*self))
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(value: &JsValue) -> Option<Self> {
        if value.is_undefined() || value.is_null() {
            Some(None)
        } else {
            T::from_json(value).map(Some)
        }
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> JsValue {
        self.as_ref().map_or(JsValue::NULL, T::to_json)
    }
}

/// A map by chat, as a JSON object (the `resume` of `hello`).
impl<T: ToJson> ToJson for BTreeMap<ChatId, T> {
    fn to_json(&self) -> JsValue {
        self.iter()
            .fold(Record::new(), |record, (chat, value)| {
                record.with(chat.as_str(), value)
            })
            .done()
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: &JsValue) -> Option<Self> {
        if !Array::is_array(value) {
            return None;
        }
        Array::from(value)
            .iter()
            .map(|item| T::from_json(&item))
            .collect()
    }
}

/// A map by chat, read from a JSON object.
impl<T: FromJson> FromJson for BTreeMap<ChatId, T> {
    fn from_json(value: &JsValue) -> Option<Self> {
        let fields = Fields::of(value)?;
        Object::keys(value.unchecked_ref::<Object>())
            .iter()
            .map(|key| {
                let key = key.as_string()?;
                let item = fields.get(&key)?;
                Some((ChatId::from(key.as_str()), item))
            })
            .collect()
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> JsValue {
        self.iter().map(T::to_json).collect::<Array>().into()
    }
}

/// A struct of `protocol` as a JSON object, each field under its own name (as serde
/// writes it): one declaration gives both directions. Reading builds the struct whole, so
/// the compiler refuses a declaration that leaves out a field or names one the struct
/// does not have; a field marked `[default]` (`#[serde(default)]`) may be missing.
macro_rules! json_object {
    ($($ty:ident { $($field:ident $([$default:ident])?),* $(,)? })*) => {$(
        impl FromJson for $ty {
            fn from_json(value: &JsValue) -> Option<Self> {
                let _fields = Fields::of(value)?;
                Some($ty { $($field: json_object!(@read _fields $field $($default)?),)* })
            }
        }

        impl ToJson for $ty {
            fn to_json(&self) -> JsValue {
                Record::new()$(.with(stringify!($field), &self.$field))*.done()
            }
        }
    )*};
    (@read $fields:ident $field:ident) => { $fields.get(stringify!($field))? };
    (@read $fields:ident $field:ident default) => { $fields.or_default(stringify!($field))? };
}

/// An enum of `protocol` tagged by the field `$tag` (`#[serde(tag = ..., rename_all =
/// "snake_case")]`), each variant's fields under their own names: one declaration gives
/// both directions, and `NAMES` lists the tags in order. Writing matches every variant,
/// so the compiler refuses a declaration that leaves one out.
macro_rules! json_tagged {
    ($ty:ident by $tag:literal {
        $($variant:ident = $name:literal $({ $($field:ident $([$default:ident])?),* $(,)? })?),* $(,)?
    }) => {
        impl FromJson for $ty {
            fn from_json(value: &JsValue) -> Option<Self> {
                let _fields = Fields::of(value)?;
                let kind: String = _fields.get($tag)?;
                Some(match kind.as_str() {
                    $($name => $ty::$variant $({
                        $($field: json_object!(@read _fields $field $($default)?),)*
                    })?,)*
                    _ => return None,
                })
            }
        }

        impl ToJson for $ty {
            fn to_json(&self) -> JsValue {
                match self {
                    $($ty::$variant $({ $($field),* })? => Record::new()
                        .with($tag, &$name)
                        $($(.with(stringify!($field), $field))*)?,)*
                }
                .done()
            }
        }

        impl Tags for $ty {
            const NAMES: &'static [&'static str] = &[$($name),*];
        }
    };
}

/// The tags of a tagged enum, in the order it declares them.
pub trait Tags {
    const NAMES: &'static [&'static str];
}

/// Identifiers are plain strings on the wire.
macro_rules! string_id {
    ($($id:ident),*) => {$(
        impl FromJson for $id {
            fn from_json(value: &JsValue) -> Option<Self> {
                value.as_string().map($id)
            }
        }

        impl ToJson for $id {
            fn to_json(&self) -> JsValue {
                JsValue::from_str(self.as_str())
            }
        }
    )*};
}

string_id!(AgentId, ChatId, GroupId, HelpId, TenantId);

/// Enums without data are their variants' names in snake case on the wire.
macro_rules! named_variants {
    ($enum:ident { $($variant:ident = $name:literal),* $(,)? }) => {
        impl FromJson for $enum {
            fn from_json(value: &JsValue) -> Option<Self> {
                match value.as_string()?.as_str() {
                    $($name => Some($enum::$variant),)*
                    _ => None,
                }
            }
        }

        impl ToJson for $enum {
            fn to_json(&self) -> JsValue {
                JsValue::from_str(match self {
                    $($enum::$variant => $name,)*
                })
            }
        }
    };
}

named_variants!(Role {
    Agent = "agent",
    Supervisor = "supervisor",
});

named_variants!(AgentState {
    Available = "available",
    Busy = "busy",
    OnBreak = "on_break",
    WorkingOffline = "working_offline",
    PostProcessing = "post_processing",
    LoggedOut = "logged_out",
});

named_variants!(ChatStatus {
    Open = "open",
    Ended = "ended",
});

named_variants!(HelpKind {
    Question = "question",
    Hand = "hand",
});

named_variants!(HelpState {
    Waiting = "waiting",
    Taken = "taken",
    Withdrawn = "withdrawn",
});

named_variants!(ErrorCode {
    BadRequest = "bad_request",
    UnknownAction = "unknown_action",
    UnsupportedProtocol = "unsupported_protocol",
    Unauthorized = "unauthorized",
    InvalidTicket = "invalid_ticket",
    EmptyMessage = "empty_message",
    MessageTooLarge = "message_too_large",
    NotFound = "not_found",
    Forbidden = "forbidden",
    ChatEnded = "chat_ended",
    SelfChat = "self_chat",
    AlreadyTaken = "already_taken",
    RateLimited = "rate_limited",
    TranscriptTooLarge = "transcript_too_large",
    MethodNotAllowed = "method_not_allowed",
    BodyTooLarge = "body_too_large",
    UnsupportedMediaType = "unsupported_media_type",
    Internal = "internal",
});

// After the macros above, which they use.
mod frames;
mod http;
#[cfg(test)]
mod tests;
