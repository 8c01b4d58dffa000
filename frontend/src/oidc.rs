//! Signing in with an OpenID Connect provider (the deployment's Cognito user pool): the
//! authorization code flow with PKCE for a public client. [`begin`] sends the browser to
//! the provider; the provider sends it back with a code, which [`finish`] exchanges for
//! an ID token — the bearer token of the HTTP API.

use crate::api;
use crate::fetch::fetch;
use crate::storage::{self, Kept};
use crate::wire::{self, Fields, FromJson, Record, ToJson};
use leptos::prelude::window;
use protocol::http::{SignInMethod, SignedIn};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// The request in flight, kept across the provider's redirect.
const PENDING_KEY: &str = "agent-console.oidc";

struct Pending {
    state: String,
    verifier: String,
}

impl FromJson for Pending {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(Pending {
            state: f.get("state")?,
            verifier: f.get("verifier")?,
        })
    }
}

impl ToJson for Pending {
    fn to_json(&self) -> JsValue {
        Record::new()
            .with("state", &self.state)
            .with("verifier", &self.verifier)
            .done()
    }
}

/// The provider's answer to the code exchange (OpenID Connect Core §3.1.3.3).
struct Tokens {
    id_token: String,
}

impl FromJson for Tokens {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(Tokens {
            id_token: Fields::of(value)?.get("id_token")?,
        })
    }
}

/// The provider's refusal (RFC 6749 §5.2).
struct TokenError {
    error: String,
    error_description: Option<String>,
}

impl FromJson for TokenError {
    fn from_json(value: &JsValue) -> Option<Self> {
        let f = Fields::of(value)?;
        Some(TokenError {
            error: f.get("error")?,
            error_description: f.get("error_description")?,
        })
    }
}

/// Where the provider sends the browser back: the console's own root.
fn redirect_uri() -> String {
    format!("{}/", window().location().origin().unwrap_or_default())
}

fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}

/// Base64url without padding (RFC 4648 §5), as PKCE wants it.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn random(bytes: usize) -> Result<String, String> {
    let mut buffer = vec![0u8; bytes];
    window()
        .crypto()
        .and_then(|crypto| crypto.get_random_values_with_u8_array(&mut buffer))
        .map_err(|_| "this browser cannot make random numbers".to_owned())?;
    Ok(base64url(&buffer))
}

async fn sha256(text: &str) -> Result<Vec<u8>, String> {
    let failed = |_| "this browser cannot hash (a secure origin is needed)".to_owned();
    let subtle = window().crypto().map_err(failed)?.subtle();
    let promise = subtle
        .digest_with_str_and_u8_array("SHA-256", text.as_bytes())
        .map_err(failed)?;
    let digest = JsFuture::from(promise).await.map_err(failed)?;
    Ok(js_sys::Uint8Array::new(&digest).to_vec())
}

/// Sends the browser to the provider's sign-in page.
pub async fn begin(method: &SignInMethod) -> Result<(), String> {
    let SignInMethod::Oidc {
        authorize_url,
        client_id,
        scope,
        ..
    } = method
    else {
        return Err("this console does not sign in with an identity provider".into());
    };
    let pending = Pending {
        state: random(16)?,
        verifier: random(32)?,
    };
    let challenge = base64url(&sha256(&pending.verifier).await?);
    let url = format!(
        "{authorize_url}?response_type=code&client_id={}&redirect_uri={}&scope={}&state={}\
         &code_challenge={challenge}&code_challenge_method=S256",
        encode(client_id),
        encode(&redirect_uri()),
        encode(scope),
        pending.state,
    );
    if !storage::save(Kept::InTab, PENDING_KEY, &pending) {
        return Err(
            "this browser cannot keep the sign-in request (its storage is off or full)".into(),
        );
    }
    window()
        .location()
        .assign(&url)
        .map_err(|_| "the browser did not open the sign-in page".to_owned())
}

/// Completes a sign-in when the provider has just sent the browser back (a `code` or an
/// `error` in the address); `None` when it has not.
pub async fn finish(method: &SignInMethod) -> Option<Result<SignedIn, String>> {
    let SignInMethod::Oidc {
        token_url,
        client_id,
        ..
    } = method
    else {
        return None;
    };
    let search = window().location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    let (code, error) = (params.get("code"), params.get("error"));
    if code.is_none() && error.is_none() {
        return None;
    }
    // The code is single-use: take it out of the address (and the history) at once.
    if let Ok(history) = window().history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some("/"));
    }
    let pending = storage::load::<Pending>(Kept::InTab, PENDING_KEY);
    storage::forget(Kept::InTab, PENDING_KEY);
    if let Some(error) = error {
        let detail = params.get("error_description").unwrap_or(error);
        return Some(Err(format!("the sign-in was refused: {detail}")));
    }
    let (Some(code), Some(pending)) = (code, pending) else {
        return Some(Err(
            "the sign-in answer came without a request; sign in again".into(),
        ));
    };
    if params.get("state").as_deref() != Some(pending.state.as_str()) {
        return Some(Err(
            "the sign-in answer does not match the request; sign in again".into(),
        ));
    }
    Some(exchange(token_url, client_id, &code, &pending.verifier).await)
}

async fn exchange(
    token_url: &str,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> Result<SignedIn, String> {
    let form = format!(
        "grant_type=authorization_code&client_id={}&code={}&redirect_uri={}&code_verifier={}",
        encode(client_id),
        encode(code),
        encode(&redirect_uri()),
        encode(verifier),
    );
    let unreachable = |e: String| format!("the sign-in service cannot be reached ({e})");
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    let answer = fetch("POST", token_url, &headers, Some(&form))
        .await
        .map_err(unreachable)?;
    if !answer.ok() {
        let refusal = answer
            .body
            .ok()
            .and_then(|text| wire::parse::<TokenError>(&text));
        let detail = match refusal {
            Some(e) => e.error_description.unwrap_or(e.error),
            None => format!("it answered {}", answer.status),
        };
        return Err(format!("the sign-in could not be completed: {detail}"));
    }
    let tokens = wire::parse::<Tokens>(&answer.body.map_err(unreachable)?)
        .ok_or("the sign-in service answered without an ID token".to_owned())?;
    let me = api::me(&tokens.id_token).await.map_err(|f| f.message)?;
    Ok(SignedIn {
        token: tokens.id_token,
        tenant: me.tenant,
        me: me.me,
    })
}

/// After the console forgot the session: ends the provider's session too, if it says
/// how.
pub fn end_session(method: &SignInMethod) {
    if let SignInMethod::Oidc {
        client_id,
        logout_url: Some(logout_url),
        ..
    } = method
    {
        let url = format!(
            "{logout_url}?client_id={}&logout_uri={}",
            encode(client_id),
            encode(&redirect_uri())
        );
        let _ = window().location().assign(&url);
    }
}
