//! Bearer tokens: signed (HS256) by the local server's development sign-in and checked on
//! every HTTP request. The token names a tenant and an agent only; group and role are read
//! from the directory on each use.

use console_domain::{DomainError, Identity};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

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

/// Signs and verifies bearer tokens with one secret key.
#[derive(Clone)]
pub struct TokenAuthority {
    encoding: EncodingKey,
    decoding: DecodingKey,
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
        }
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
            .map_err(|e| DomainError::BadRequest(format!("could not sign a token: {e}")))
    }

    /// Who a token stands for, if it is genuine and not expired.
    pub fn verify(&self, token: &str) -> Result<Identity, DomainError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 5;
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(|e| {
                DomainError::Unauthorized(format!(
                    "the sign-in token is not valid ({e}); sign in again"
                ))
            })?;
        Ok(Identity {
            tenant: data.claims.tid.as_str().into(),
            agent: data.claims.sub.as_str().into(),
        })
    }
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
