//! Tokens of an OpenID Connect identity provider (RS256, checked against its JWKS), and
//! the forged ones that must be refused.

use console_handlers::auth::{KeySource, OidcIssuer, TokenAuthority};
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

/// The stand-in identity provider's published keys: what it publishes can be changed
/// (a rotation) or made unreachable, and every fetch is counted.
struct Provider {
    published: std::sync::Mutex<Option<String>>,
    fetches: std::sync::atomic::AtomicUsize,
}

impl Provider {
    fn publishing(jwks: Option<&str>) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Provider {
            published: std::sync::Mutex::new(jwks.map(str::to_owned)),
            fetches: Default::default(),
        })
    }

    fn publish(&self, jwks: Option<&str>) {
        *self.published.lock().expect("lock") = jwks.map(str::to_owned);
    }

    fn fetches(&self) -> usize {
        self.fetches.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl KeySource for Provider {
    async fn fetch(&self) -> Result<JwkSet, String> {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let published = self.published.lock().expect("lock").clone();
        let text = published.ok_or("the provider is unreachable")?;
        serde_json::from_str(&text).map_err(|e| e.to_string())
    }
}

const ROTATED_JWKS: &str = include_str!("fixtures/oidc-rotated-jwks.json");

fn issuer_with(keys: JwkSet) -> OidcIssuer {
    OidcIssuer {
        issuer: ISSUER.into(),
        audience: "console-client".into(),
        keys,
        tenant_claim: "custom:tenant".into(),
        agent_claim: "custom:agent".into(),
    }
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_when_a_token_names_it_and_forged_kids_fetch_no_more() {
    let provider = Provider::publishing(Some(JWKS));
    let authority = TokenAuthority::new(&[9; 32])
        .with_oidc(issuer_with(serde_json::from_str(JWKS).expect("a JWKS")))
        .refreshing_keys_from(provider.clone());
    let before = sign(KEY, "test-key-1", &claims(now() + 600, "console-client"));
    authority
        .verify_fresh(&before)
        .await
        .expect("the first key");
    assert_eq!(provider.fetches(), 0, "keys in hand and fresh: no fetch");

    // The provider rotates to a new key: the first token signed with it fetches them.
    provider.publish(Some(ROTATED_JWKS));
    let after = sign(
        OTHER_KEY,
        "rotated-key-2",
        &claims(now() + 600, "console-client"),
    );
    assert!(
        authority.verify(&after).is_err(),
        "not known before a fetch"
    );
    let who = authority
        .verify_fresh(&after)
        .await
        .expect("the rotated key");
    assert_eq!(who.agent.as_str(), "ann");
    assert_eq!(provider.fetches(), 1);

    // Tokens naming keys nobody published fetch nothing more within the minute.
    for n in 0..20 {
        let forged = sign(
            OTHER_KEY,
            &format!("made-up-{n}"),
            &claims(now() + 600, "console-client"),
        );
        assert!(authority.verify_fresh(&forged).await.is_err());
    }
    assert_eq!(provider.fetches(), 1, "at most one fetch a minute");
    authority
        .verify_fresh(&after)
        .await
        .expect("still accepted");
}

#[tokio::test]
async fn an_instance_that_started_while_the_provider_was_unreachable_gets_its_keys_later() {
    let provider = Provider::publishing(None);
    // The cold start found no keys (the provider did not answer): it started anyway.
    let authority = TokenAuthority::new(&[9; 32])
        .with_oidc(issuer_with(JwkSet { keys: Vec::new() }))
        .refreshing_keys_from(provider.clone())
        .refreshing_at_most_every(std::time::Duration::from_millis(100));
    let token = sign(KEY, "test-key-1", &claims(now() + 600, "console-client"));
    let refused = authority.verify_fresh(&token).await;
    assert!(refused.is_err(), "no keys yet: refused, nothing else");
    assert_eq!(provider.fetches(), 1);
    provider.publish(Some(JWKS));
    // Within the gap the provider is not asked again...
    assert!(authority.verify_fresh(&token).await.is_err());
    assert_eq!(provider.fetches(), 1);
    // ...and once it may be, the keys come and the sign-in goes through.
    tokio::time::sleep(std::time::Duration::from_millis(120)).await;
    authority
        .verify_fresh(&token)
        .await
        .expect("accepted once the provider answers");
    assert_eq!(provider.fetches(), 2);
}
