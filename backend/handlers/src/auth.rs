//! Bearer tokens, checked on every HTTP request: HS256 tokens signed by the local
//! server's development sign-in, and — when an OpenID Connect issuer is configured —
//! RS256 tokens of that issuer, checked against its published keys (JWKS). A token names
//! a tenant and an agent only; group and role are read from the directory on each use.
//!
//! The issuer's keys are fetched again (from a [`KeySource`]) when a token names a key
//! that is not known — the issuer rotated its keys — at most once a minute, and when
//! they are an hour old; a failed fetch keeps the keys there are. So a key rotation is
//! followed at once, and an instance that started while the provider was unreachable
//! gets its keys at its first sign-in after it is back.

use console_domain::{DomainError, Identity};
pub use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a signed-in session lasts.
pub const TOKEN_TTL_SECONDS: i64 = 12 * 3600;

const ISSUER: &str = "agent-console";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    tid: String,
    iat: i64,
    exp: i64,
}

/// An OpenID Connect issuer whose RS256 tokens are accepted.
#[derive(Clone, Debug)]
pub struct OidcIssuer {
    /// The `iss` the tokens must carry.
    pub issuer: String,
    /// The `aud` the tokens must carry (the app client id).
    pub audience: String,
    /// The issuer's public keys.
    pub keys: JwkSet,
    /// The claim that names the tenant (e.g. `custom:tenant`).
    pub tenant_claim: String,
    /// The claim that names the agent (e.g. `custom:agent`).
    pub agent_claim: String,
}

/// How often the issuer's keys may be fetched for a token naming an unknown key.
pub const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(60);
/// How old the issuer's keys may grow before a sign-in fetches them again.
pub const KEYS_MAX_AGE: Duration = Duration::from_secs(3600);

/// Where an issuer's keys come from: its JWKS URL in AWS, a file locally.
#[async_trait::async_trait]
pub trait KeySource: Send + Sync {
    async fn fetch(&self) -> Result<JwkSet, String>;
}

/// The issuer's keys as last fetched.
struct Keys {
    set: JwkSet,
    /// When they were fetched (`None`: never, as when the provider was unreachable at
    /// start).
    fetched: Option<Instant>,
    /// When a fetch was last tried, whatever came of it.
    tried: Option<Instant>,
}

/// Signs and verifies bearer tokens.
#[derive(Clone)]
pub struct TokenAuthority {
    encoding: EncodingKey,
    decoding: DecodingKey,
    oidc: Option<OidcIssuer>,
    keys: Arc<RwLock<Keys>>,
    source: Option<Arc<dyn KeySource>>,
    /// At most one fetch for unknown keys in this long: [`REFRESH_AT_MOST_EVERY`].
    refresh_gap: Duration,
}

impl std::fmt::Debug for TokenAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenAuthority(..)")
    }
}

impl TokenAuthority {
    /// An authority over an HMAC secret (at least 32 bytes).
    pub fn new(secret: &[u8]) -> Self {
        TokenAuthority {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            oidc: None,
            keys: Arc::new(RwLock::new(Keys {
                set: JwkSet { keys: Vec::new() },
                fetched: None,
                tried: None,
            })),
            source: None,
            refresh_gap: REFRESH_AT_MOST_EVERY,
        }
    }

    /// Also accepts RS256 tokens of an OpenID Connect issuer, checked against its `keys`.
    pub fn with_oidc(mut self, mut issuer: OidcIssuer) -> Self {
        // The keys live in the authority from here on (they may be fetched again): the
        // issuer keeps none, so no stale copy is left behind.
        let set = std::mem::replace(&mut issuer.keys, JwkSet { keys: Vec::new() });
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        keys.fetched = (!set.keys.is_empty()).then(Instant::now);
        keys.set = set;
        drop(keys);
        self.oidc = Some(issuer);
        self
    }

    /// Fetches the issuer's keys again from `source` when needed (see the module's doc):
    /// in [`TokenAuthority::verify_fresh`].
    pub fn refreshing_keys_from(mut self, source: Arc<dyn KeySource>) -> Self {
        self.source = Some(source);
        self
    }

    /// Fetches for unknown keys at most once in `gap` (instead of
    /// [`REFRESH_AT_MOST_EVERY`]).
    pub fn refreshing_at_most_every(mut self, gap: Duration) -> Self {
        self.refresh_gap = gap;
        self
    }

    /// As [`TokenAuthority::verify`], after fetching the issuer's keys again if the
    /// token names one not known (at most once in the refresh gap) or they are
    /// older than [`KEYS_MAX_AGE`] (or were never fetched).
    pub async fn verify_fresh(&self, token: &str) -> Result<Identity, DomainError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(&e))?;
        if let Some(source) = &self.source
            && header.alg == Algorithm::RS256
            && self.oidc.is_some()
        {
            let now = Instant::now();
            let (stale, unknown, may_try) = {
                let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
                (
                    keys.fetched.is_none_or(|at| now - at >= KEYS_MAX_AGE),
                    header
                        .kid
                        .as_deref()
                        .is_none_or(|kid| keys.set.find(kid).is_none()),
                    keys.tried.is_none_or(|at| now - at >= self.refresh_gap),
                )
            };
            if may_try && (stale || unknown) {
                self.keys.write().unwrap_or_else(|e| e.into_inner()).tried = Some(now);
                match source.fetch().await {
                    Ok(set) => {
                        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
                        keys.set = set;
                        keys.fetched = Some(Instant::now());
                    }
                    Err(error) => {
                        tracing::warn!(%error, "the identity provider's keys could not be fetched; the ones there are stay");
                    }
                }
            }
        }
        self.verify_decoded(token, &header)
    }

    /// A token for `who`, valid from `now_ms` for [`TOKEN_TTL_SECONDS`].
    pub fn issue(&self, who: &Identity, now_ms: i64) -> Result<String, DomainError> {
        let now = now_ms / 1000;
        let claims = Claims {
            iss: ISSUER.into(),
            sub: who.agent.to_string(),
            tid: who.tenant.to_string(),
            iat: now,
            exp: now + TOKEN_TTL_SECONDS,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| DomainError::Internal(format!("could not sign a token: {e}")))
    }

    /// Who a token stands for, if it is genuine and not expired.
    pub fn verify(&self, token: &str) -> Result<Identity, DomainError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(&e))?;
        self.verify_decoded(token, &header)
    }

    /// As [`TokenAuthority::verify`], its header decoded already.
    fn verify_decoded(&self, token: &str, header: &Header) -> Result<Identity, DomainError> {
        match header.alg {
            Algorithm::HS256 => self.verify_local(token),
            Algorithm::RS256 => self.verify_oidc(token, header.kid.as_deref()),
            other => Err(DomainError::Unauthorized(format!(
                "tokens signed with {other:?} are not accepted; sign in again"
            ))),
        }
    }

    fn verify_oidc(&self, token: &str, kid: Option<&str>) -> Result<Identity, DomainError> {
        let oidc = self.oidc.as_ref().ok_or_else(|| {
            DomainError::Unauthorized("this server accepts no identity provider's tokens".into())
        })?;
        let key = kid.and_then(|kid| self.key(kid)).ok_or_else(|| {
            DomainError::Unauthorized("the token's signing key is unknown".into())
        })??;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&oidc.issuer]);
        validation.set_audience(&[&oidc.audience]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| invalid(&e))?;
        let claim = |name: &str| {
            data.claims
                .get(name)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    DomainError::Unauthorized(format!("the token has no `{name}` claim"))
                })
        };
        Ok(Identity {
            tenant: claim(&oidc.tenant_claim)?.into(),
            agent: claim(&oidc.agent_claim)?.into(),
        })
    }

    /// The issuer's key `kid`, as last fetched, ready to check a signature with.
    fn key(&self, kid: &str) -> Option<Result<DecodingKey, DomainError>> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let jwk = keys.set.find(kid)?;
        Some(DecodingKey::from_jwk(jwk).map_err(|e| invalid(&e)))
    }

    fn verify_local(&self, token: &str) -> Result<Identity, DomainError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| invalid(&e))?;
        Ok(Identity {
            tenant: data.claims.tid.as_str().into(),
            agent: data.claims.sub.as_str().into(),
        })
    }
}

fn invalid(error: &jsonwebtoken::errors::Error) -> DomainError {
    DomainError::Unauthorized(format!(
        "the sign-in token is not valid ({error}); sign in again"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }

    fn ann() -> Identity {
        Identity {
            tenant: "acme".into(),
            agent: "ann".into(),
        }
    }

    #[test]
    fn a_token_round_trips_to_the_same_identity() {
        let authority = TokenAuthority::new(&[7; 32]);
        let token = authority.issue(&ann(), now_ms()).expect("signs");
        assert_eq!(authority.verify(&token).expect("verifies"), ann());
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let token = TokenAuthority::new(&[1; 32])
            .issue(&ann(), now_ms())
            .expect("signs");
        assert!(TokenAuthority::new(&[2; 32]).verify(&token).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let authority = TokenAuthority::new(&[7; 32]);
        let long_ago = now_ms() - (TOKEN_TTL_SECONDS + 60) * 1000;
        let token = authority.issue(&ann(), long_ago).expect("signs");
        assert!(authority.verify(&token).is_err());
    }
}
