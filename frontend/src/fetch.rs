//! HTTP requests by the browser's `fetch`, their answers read as text.
//!
//! Why not gloo-net's requests: its builder parses every URL again and brings the `http`
//! crate along, where the console only ever sends a method, a header or two and a text
//! body; this is the little it needs, and a smaller WASM.

use leptos::prelude::window;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// An HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// Its `Content-Type`; empty when it has none.
    pub content_type: String,
    /// Its body, or why the browser could not read it.
    pub body: Result<String, String>,
}

impl Answer {
    /// True for a success (2xx).
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends a request (`method` as `"GET"`, `"POST"`, …) with `headers` and `body`; `Err`
/// with the browser's reason when no answer came (the network, CORS, a bad URL).
pub async fn fetch(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Answer, String> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let fields = web_sys::Headers::new().map_err(reason)?;
    for (name, value) in headers {
        fields.set(name, value).map_err(reason)?;
    }
    init.set_headers(&fields);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let response: web_sys::Response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .map_err(reason)?
        .unchecked_into();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .map(|text| text.as_string().unwrap_or_default())
            .map_err(reason),
        Err(error) => Err(reason(error)),
    };
    Ok(Answer {
        status: response.status(),
        content_type: response
            .headers()
            .get("content-type")
            .ok()
            .flatten()
            .unwrap_or_default(),
        body: text,
    })
}

/// A browser error as words: its name and message (`TypeError: Failed to fetch`).
fn reason(error: JsValue) -> String {
    match error.dyn_ref::<js_sys::Error>() {
        Some(error) => format!("{}: {}", error.name(), error.message()),
        None => error
            .as_string()
            .unwrap_or_else(|| "unknown error".to_owned()),
    }
}
