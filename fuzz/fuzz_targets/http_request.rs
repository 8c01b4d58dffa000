//! An HTTP request in its text form (`console_fuzz::http_text`: method, target, headers,
//! body, with genuinely signed tokens where the input asks for them), through
//! `http_api::handle` with the real `App` over the embedded store. The handler never
//! panics; every answer of 400 or more has a JSON error body whose code goes with its
//! status; every JSON answer is JSON; the other tenant's words are in no successful
//! answer unless the request carried that tenant's token.

#![no_main]

use console_fuzz::world::OTHER_TENANT_SECRET;
use console_fuzz::{http_text, with_world};
use console_handlers::http_api::handle;
use futures_executor::block_on;
use lambda_http::Body;
use libfuzzer_sys::fuzz_target;
use protocol::ErrorBody;

fuzz_target!(|data: &[u8]| {
    with_world(|world| {
        let now = world.app.clock.now_ms();
        let Some(input) = http_text::parse(data, &world.app.tokens, now) else {
            return;
        };
        let answer = block_on(handle(input.request, &world.app));
        let status = answer.status().as_u16();
        let body: &[u8] = match answer.body() {
            Body::Empty => b"",
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => b"",
        };
        let json = answer
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
        if status >= 400 {
            assert!(json, "an error answer ({status}) is not labelled JSON");
            let error: ErrorBody = serde_json::from_slice(body).unwrap_or_else(|e| {
                panic!(
                    "an error answer ({status}) without an error body ({e}): {}",
                    String::from_utf8_lossy(body)
                )
            });
            assert_eq!(
                error.code.http_status(),
                status,
                "the error code {:?} does not go with status {status}",
                error.code
            );
        } else if json && let Err(e) = serde_json::from_slice::<serde_json::Value>(body) {
            panic!("a JSON answer ({status}) is not JSON ({e})");
        }
        let other_tenant_asked = input.token_tenants.iter().any(|t| t == "globex")
            || data
                .windows(OTHER_TENANT_SECRET.len())
                .any(|w| w == OTHER_TENANT_SECRET.as_bytes());
        if status < 400 && !other_tenant_asked {
            let leaked = body
                .windows(OTHER_TENANT_SECRET.len())
                .any(|w| w == OTHER_TENANT_SECRET.as_bytes());
            assert!(
                !leaked,
                "the other tenant's chat leaked ({status}): {}",
                String::from_utf8_lossy(body)
            );
        }
    });
});
