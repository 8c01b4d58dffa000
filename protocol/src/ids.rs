//! Identifiers. Each is a string on the wire and a distinct type in code, so an agent id
//! can never be passed where a chat id is meant.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// Wraps a string as this identifier.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

string_id!(
    /// A tenant: one contact center, fully isolated from every other.
    TenantId
);
string_id!(
    /// An agent, unique within its tenant.
    AgentId
);
string_id!(
    /// A functional group of a tenant, such as `sales` or `support`.
    GroupId
);
string_id!(
    /// A chat between two agents, unique within its tenant.
    ChatId
);
