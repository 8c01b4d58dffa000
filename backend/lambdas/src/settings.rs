//! The functions' settings, from the environment the SAM template gives them.

/// An OpenID Connect issuer (the Cognito user pool, or another provider).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    pub issuer: String,
    pub audience: String,
    pub jwks_url: String,
    pub tenant_claim: String,
    pub agent_claim: String,
}

/// Everything a function needs to know, read once at a cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `TABLE_NAME`: the DynamoDB table.
    pub table_name: String,
    /// `WEBSOCKET_MANAGEMENT_ENDPOINT`: `https://{api}.execute-api.{region}.amazonaws.com/{stage}`.
    pub websocket_management_endpoint: String,
    /// `TOKEN_SECRET`: the HS256 key of locally signed tokens; random when unset (no
    /// such tokens are issued in AWS).
    pub token_secret: Vec<u8>,
    /// `OIDC_ISSUER`, `OIDC_AUDIENCE`, `OIDC_JWKS_URL` (default `{issuer}/.well-known/jwks.json`),
    /// `OIDC_TENANT_CLAIM` (default `custom:tenant`), `OIDC_AGENT_CLAIM` (default `custom:agent`).
    pub oidc: Option<OidcSettings>,
    /// `CONSOLE_ORIGINS`: the origins of the console's pages, comma-separated (the
    /// stack's CloudFront domain and any the deployer adds): the `$connect` authorizer
    /// denies a connection a page of any other site opens. Empty: any origin.
    pub console_origins: Vec<String>,
}

/// The names of every environment variable read, for the template check.
pub const VARIABLES: [&str; 9] = [
    "TABLE_NAME",
    "WEBSOCKET_MANAGEMENT_ENDPOINT",
    "TOKEN_SECRET",
    "OIDC_ISSUER",
    "OIDC_AUDIENCE",
    "OIDC_JWKS_URL",
    "OIDC_TENANT_CLAIM",
    "OIDC_AGENT_CLAIM",
    "CONSOLE_ORIGINS",
];

/// A setting that is missing or wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("the environment variable {0} is not set")]
    Missing(&'static str),
    #[error("OIDC_ISSUER is set, so OIDC_AUDIENCE must be too")]
    AudienceMissing,
}

impl Settings {
    /// Reads the settings through `lookup` (the process environment in the functions).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.is_empty())
                .ok_or(SettingsError::Missing(name))
        };
        let token_secret = match lookup("TOKEN_SECRET").filter(|v| v.len() >= 32) {
            Some(secret) => secret.into_bytes(),
            None => (0..2)
                .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
                .collect(),
        };
        let oidc = match lookup("OIDC_ISSUER").filter(|v| !v.is_empty()) {
            None => None,
            Some(issuer) => {
                let issuer = issuer.trim_end_matches('/').to_owned();
                Some(OidcSettings {
                    audience: lookup("OIDC_AUDIENCE")
                        .filter(|v| !v.is_empty())
                        .ok_or(SettingsError::AudienceMissing)?,
                    jwks_url: lookup("OIDC_JWKS_URL")
                        .filter(|v| !v.is_empty())
                        .unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json")),
                    tenant_claim: lookup("OIDC_TENANT_CLAIM")
                        .unwrap_or_else(|| "custom:tenant".into()),
                    agent_claim: lookup("OIDC_AGENT_CLAIM")
                        .unwrap_or_else(|| "custom:agent".into()),
                    issuer,
                })
            }
        };
        Ok(Settings {
            table_name: required("TABLE_NAME")?,
            websocket_management_endpoint: required("WEBSOCKET_MANAGEMENT_ENDPOINT")?,
            token_secret,
            oidc,
            console_origins: lookup("CONSOLE_ORIGINS")
                .unwrap_or_default()
                .split(',')
                .map(|origin| origin.trim().trim_end_matches('/').to_owned())
                .filter(|origin| !origin.is_empty())
                .collect(),
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn the_table_and_the_management_endpoint_are_required() {
        assert_eq!(settings(&[]), Err(SettingsError::Missing("TABLE_NAME")));
        assert_eq!(
            settings(&[("TABLE_NAME", "t")]),
            Err(SettingsError::Missing("WEBSOCKET_MANAGEMENT_ENDPOINT"))
        );
    }

    #[test]
    fn console_origins_are_read_as_a_list_without_blanks_or_trailing_slashes() {
        let read = settings(&[
            ("TABLE_NAME", "t"),
            ("WEBSOCKET_MANAGEMENT_ENDPOINT", "https://x/prod"),
            (
                "CONSOLE_ORIGINS",
                "https://d111.cloudfront.net/, ,https://chat.example.com",
            ),
        ])
        .expect("valid");
        assert_eq!(
            read.console_origins,
            ["https://d111.cloudfront.net", "https://chat.example.com"]
        );
        let none = settings(&[("TABLE_NAME", "t"), ("WEBSOCKET_MANAGEMENT_ENDPOINT", "e")]);
        assert!(none.expect("valid").console_origins.is_empty());
    }

    #[test]
    fn an_issuer_brings_its_jwks_url_and_default_claims() {
        let read = settings(&[
            ("TABLE_NAME", "t"),
            (
                "WEBSOCKET_MANAGEMENT_ENDPOINT",
                "https://x.execute-api.eu-west-1.amazonaws.com/prod",
            ),
            (
                "OIDC_ISSUER",
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X/",
            ),
            ("OIDC_AUDIENCE", "client"),
        ])
        .expect("valid");
        let oidc = read.oidc.expect("an issuer");
        assert_eq!(
            oidc.jwks_url,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X/.well-known/jwks.json"
        );
        assert_eq!(
            (oidc.tenant_claim.as_str(), oidc.agent_claim.as_str()),
            ("custom:tenant", "custom:agent")
        );
        assert!(read.token_secret.len() >= 32);
    }

    #[test]
    fn an_issuer_without_an_audience_is_refused() {
        assert_eq!(
            settings(&[
                ("TABLE_NAME", "t"),
                ("WEBSOCKET_MANAGEMENT_ENDPOINT", "e"),
                ("OIDC_ISSUER", "https://idp"),
            ]),
            Err(SettingsError::AudienceMissing)
        );
    }
}
