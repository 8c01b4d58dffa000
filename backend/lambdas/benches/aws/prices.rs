//! The list prices of docs/deploying.md ("Cost"): us-east-1, on-demand, as published in
//! 2025 — to verify on AWS's pricing pages — and what a million messages cost at them.

use crate::capacity::Units;
use crate::pushes::Pushes;
use crate::text::{dollars, price};

/// DynamoDB on-demand, per million write request units.
pub const WRITE_UNITS: f64 = 0.625;
/// DynamoDB on-demand, per million read request units.
pub const READ_UNITS: f64 = 0.125;
/// DynamoDB provisioned capacity, per write capacity unit-hour (3,600 write units).
pub const WRITE_UNIT_HOUR: f64 = 0.00065;
/// DynamoDB provisioned capacity, per read capacity unit-hour (3,600 read units).
pub const READ_UNIT_HOUR: f64 = 0.00013;
/// The share of provisioned capacity used, on average: auto scaling's target in the
/// template (`TableCapacity=provisioned`).
pub const PROVISIONED_USE: f64 = 0.70;
/// API Gateway WebSocket, per million messages (sent or received, in 32 KB units).
pub const WEBSOCKET_MESSAGES: f64 = 1.00;
/// Lambda, per million requests.
pub const LAMBDA_REQUESTS: f64 = 0.20;
/// Lambda arm64, per million GB-seconds ($0.0000133334 per GB-second).
pub const LAMBDA_GB_SECONDS: f64 = 13.3334;
/// The functions' memory (the SAM template's), in GB.
pub const LAMBDA_MEMORY_GB: f64 = 0.25;
/// How long the invocation that handles a message runs: an assumption, not measured.
pub const LAMBDA_SECONDS: f64 = 0.020;

/// One message's cost per million messages, by what is billed.
#[derive(Debug, Clone, Copy)]
pub struct PerMillion {
    pub writes: f64,
    pub reads: f64,
    pub websocket: f64,
    pub lambda: f64,
}

impl PerMillion {
    /// A message that used `units` of DynamoDB and `pushes`, received as one frame and
    /// handled in one invocation: per million messages, each count per message is
    /// multiplied by its price per million.
    pub fn of(units: Units, pushes: Pushes) -> Self {
        PerMillion {
            writes: units.write * WRITE_UNITS,
            reads: units.read * READ_UNITS,
            websocket: (1 + pushes.billed) as f64 * WEBSOCKET_MESSAGES,
            lambda: lambda(),
        }
    }

    /// The same with the table's capacity provisioned and used at [`PROVISIONED_USE`]:
    /// a million messages need units × 10⁶ / 3,600 unit-hours of each kind.
    pub fn provisioned(units: Units, pushes: Pushes) -> Self {
        let unit_hours =
            |per_message: f64, price: f64| per_message * 1e6 / 3600.0 * price / PROVISIONED_USE;
        PerMillion {
            writes: unit_hours(units.write, WRITE_UNIT_HOUR),
            reads: unit_hours(units.read, READ_UNIT_HOUR),
            ..PerMillion::of(units, pushes)
        }
    }

    pub fn total(&self) -> f64 {
        self.writes + self.reads + self.websocket + self.lambda
    }
}

/// One invocation per message, per million messages.
pub fn lambda() -> f64 {
    LAMBDA_REQUESTS + LAMBDA_MEMORY_GB * LAMBDA_SECONDS * LAMBDA_GB_SECONDS
}

/// How [`lambda`] is computed, for the report.
pub fn lambda_arithmetic() -> String {
    format!(
        "{} + {LAMBDA_MEMORY_GB} GB × {LAMBDA_SECONDS} s × {} = {}",
        dollars(LAMBDA_REQUESTS),
        price(LAMBDA_GB_SECONDS),
        dollars(lambda())
    )
}
