//! A stand-in OpenID Connect provider on 127.0.0.1, for browser tests of the console's
//! sign-in (Cognito's hosted UI cannot run here): a sign-in page, the authorization code
//! flow with PKCE (S256) and single-use codes, RS256 ID tokens signed by the test key the
//! handler tests use, and a logout endpoint.

use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The console's client id at the provider.
pub const CLIENT_ID: &str = "agent-console";

/// The fixtures of the handler tests: the provider's signing key and its JWKS.
pub fn fixtures() -> PathBuf {
    crate::workspace_root().join("backend/handlers/tests/fixtures")
}

/// A running provider.
#[derive(Debug)]
pub struct Provider {
    pub url: String,
    state: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    url: String,
    key: EncodingKey,
    /// username → (tenant, agent)
    people: HashMap<String, (String, String)>,
    codes: Mutex<HashMap<String, Grant>>,
    logouts: Mutex<usize>,
}

#[derive(Debug)]
struct Grant {
    challenge: String,
    redirect_uri: String,
    username: String,
}

impl Provider {
    /// Starts a provider that knows `people` (username, tenant, agent).
    pub async fn start(people: &[(&str, &str, &str)]) -> anyhow::Result<Provider> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let key = EncodingKey::from_rsa_pem(&std::fs::read(fixtures().join("oidc-test-key.pem"))?)?;
        let state = Arc::new(Shared {
            url: url.clone(),
            key,
            people: people
                .iter()
                .map(|(user, tenant, agent)| {
                    (user.to_string(), (tenant.to_string(), agent.to_string()))
                })
                .collect(),
            codes: Mutex::default(),
            logouts: Mutex::default(),
        });
        let router = Router::new()
            .route("/authorize", get(authorize))
            .route("/login", post(login))
            .route("/token", post(token))
            .route("/logout", get(logout))
            .with_state(state.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Provider { url, state })
    }

    /// How many times the logout endpoint was visited.
    pub fn logouts(&self) -> usize {
        *self.state.logouts.lock().expect("lock")
    }

    /// The local server's settings for accepting this provider's tokens.
    pub fn settings(&self) -> console_local::config::OidcSettings {
        console_local::config::OidcSettings {
            issuer: self.url.clone(),
            audience: CLIENT_ID.into(),
            jwks_file: fixtures().join("oidc-test-jwks.json"),
            tenant_claim: "custom:tenant".into(),
            agent_claim: "custom:agent".into(),
        }
    }

    /// The console's `config.json` for this provider.
    pub fn console_config(&self) -> serde_json::Value {
        json!({
            "sign_in": {
                "kind": "oidc",
                "authorize_url": format!("{}/authorize", self.url),
                "token_url": format!("{}/token", self.url),
                "client_id": CLIENT_ID,
                "scope": "openid email profile",
                "logout_url": format!("{}/logout", self.url),
            }
        })
    }
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
}

fn refuse(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Html(format!("<p>{message}</p>"))).into_response()
}

/// The sign-in page.
async fn authorize(Query(query): Query<AuthorizeQuery>) -> Response {
    if query.response_type != "code"
        || query.client_id != CLIENT_ID
        || query.code_challenge_method != "S256"
        || query.code_challenge.len() != 43
    {
        return refuse("bad authorization request");
    }
    let hidden =
        |name: &str, value: &str| format!(r#"<input type="hidden" name="{name}" value="{value}">"#);
    Html(format!(
        r#"<!DOCTYPE html><html lang="en"><head><title>Identity provider</title></head><body>
        <main><h1>Sign in</h1><form method="post" action="/login">
        {}{}{}
        <label>Username <input name="username" autocomplete="username"></label>
        <button name="decision" value="allow">Continue</button>
        <button name="decision" value="deny">Cancel</button>
        </form></main></body></html>"#,
        hidden("redirect_uri", &query.redirect_uri),
        hidden("state", &query.state),
        hidden("code_challenge", &query.code_challenge),
    ))
    .into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    redirect_uri: String,
    state: String,
    code_challenge: String,
    username: String,
    decision: String,
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn login(State(shared): State<Arc<Shared>>, Form(form): Form<LoginForm>) -> Response {
    let back = &form.redirect_uri;
    if form.decision != "allow" {
        return Redirect::to(&format!(
            "{back}?error=access_denied&error_description={}&state={}",
            encode("The user cancelled the sign-in"),
            encode(&form.state)
        ))
        .into_response();
    }
    if !shared.people.contains_key(&form.username) {
        return refuse("unknown user");
    }
    let code = uuid_like();
    shared.codes.lock().expect("lock").insert(
        code.clone(),
        Grant {
            challenge: form.code_challenge,
            redirect_uri: form.redirect_uri.clone(),
            username: form.username,
        },
    );
    Redirect::to(&format!("{back}?code={code}&state={}", encode(&form.state))).into_response()
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("code-{nanos:x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    client_id: String,
    code: String,
    redirect_uri: String,
    code_verifier: String,
}

/// The token endpoint, open to the console's origin as Cognito's is.
async fn token(State(shared): State<Arc<Shared>>, Form(form): Form<TokenForm>) -> Response {
    let cors = || [(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")];
    let grant = shared.codes.lock().expect("lock").remove(&form.code);
    let invalid = |reason: &str| {
        (
            StatusCode::BAD_REQUEST,
            cors(),
            Json(json!({"error": "invalid_grant", "error_description": reason})),
        )
            .into_response()
    };
    let Some(grant) = grant else {
        return invalid("unknown or used code");
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(form.code_verifier.as_bytes()));
    if form.grant_type != "authorization_code"
        || form.client_id != CLIENT_ID
        || form.redirect_uri != grant.redirect_uri
        || challenge != grant.challenge
    {
        return invalid("the code does not match the request");
    }
    let (tenant, agent) = shared.people[&grant.username].clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-key-1".into());
    let claims = json!({
        "iss": shared.url, "aud": CLIENT_ID, "sub": grant.username, "token_use": "id",
        "iat": now, "exp": now + 3600,
        "custom:tenant": tenant, "custom:agent": agent,
    });
    match jsonwebtoken::encode(&header, &claims, &shared.key) {
        Ok(id_token) => (
            StatusCode::OK,
            cors(),
            Json(json!({"id_token": id_token, "access_token": "unused", "token_type": "Bearer", "expires_in": 3600})),
        )
            .into_response(),
        Err(error) => invalid(&error.to_string()),
    }
}

#[derive(Deserialize)]
struct LogoutQuery {
    client_id: String,
    logout_uri: String,
}

async fn logout(State(shared): State<Arc<Shared>>, Query(query): Query<LogoutQuery>) -> Response {
    if query.client_id != CLIENT_ID {
        return refuse("unknown client");
    }
    *shared.logouts.lock().expect("lock") += 1;
    Redirect::to(&query.logout_uri).into_response()
}
