//! Tokens of an OpenID Connect identity provider (RS256, checked against its JWKS), and
//! the forged ones that must be refused.

use console_handlers::auth::{OidcIssuer, TokenAuthority};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

const KEY: &[u8] = include_bytes!("fixtures/oidc-test-key.pem");
const OTHER_KEY: &[u8] = include_bytes!("fixtures/other-key.pem");
const JWKS: &str = include_str!("fixtures/oidc-test-jwks.json");
const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST";

fn authority() -> TokenAuthority {
    let keys: JwkSet = serde_json::from_str(JWKS).expect("a JWKS");
    TokenAuthority::new(&[9; 32]).with_oidc(OidcIssuer {
        issuer: ISSUER.into(),
        audience: "console-client".into(),
        keys,
        tenant_claim: "custom:tenant".into(),
        agent_claim: "custom:agent".into(),
    })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn claims(exp: i64, aud: &str) -> serde_json::Value {
    json!({
        "iss": ISSUER, "aud": aud, "sub": "0b6a-uuid", "exp": exp, "iat": now(),
        "custom:tenant": "acme", "custom:agent": "ann"
    })
}

fn sign(key: &[u8], kid: &str, claims: &serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    let key = EncodingKey::from_rsa_pem(key).expect("a private key");
    jsonwebtoken::encode(&header, claims, &key).expect("signs")
}

#[test]
fn a_token_of_the_configured_issuer_names_its_tenant_and_agent() {
    let token = sign(KEY, "test-key-1", &claims(now() + 600, "console-client"));
    let who = authority().verify(&token).expect("accepted");
    assert_eq!((who.tenant.as_str(), who.agent.as_str()), ("acme", "ann"));
}

#[test]
fn forged_expired_and_foreign_tokens_are_refused() {
    let authority = authority();
    let cases = [
        (
            "signed by another key",
            sign(
                OTHER_KEY,
                "test-key-1",
                &claims(now() + 600, "console-client"),
            ),
        ),
        (
            "unknown key id",
            sign(KEY, "nope", &claims(now() + 600, "console-client")),
        ),
        (
            "expired",
            sign(KEY, "test-key-1", &claims(now() - 600, "console-client")),
        ),
        (
            "another audience",
            sign(KEY, "test-key-1", &claims(now() + 600, "someone-else")),
        ),
    ];
    for (what, token) in cases {
        assert!(authority.verify(&token).is_err(), "{what} must be refused");
    }
}

#[test]
fn alg_none_and_alg_confusion_are_refused() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let body = b64.encode(claims(now() + 600, "console-client").to_string());
    let none = format!("{}.{body}.", b64.encode(r#"{"alg":"none","typ":"JWT"}"#));
    assert!(authority().verify(&none).is_err(), "alg none");

    // HS256 "signed" with the public JWKS as the secret must not pass as the issuer's.
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(now() + 600, "console-client"),
        &EncodingKey::from_secret(JWKS.as_bytes()),
    )
    .expect("signs");
    assert!(authority().verify(&confused).is_err(), "alg confusion");
}

#[test]
fn without_an_issuer_configured_rs256_tokens_are_refused() {
    let token = sign(KEY, "test-key-1", &claims(now() + 600, "console-client"));
    assert!(TokenAuthority::new(&[9; 32]).verify(&token).is_err());
}
