//! The text form of an HTTP request that the `http_request` target reads its inputs as:
//! readable seeds, and mutations that keep the shape of a request.
//!
//! ```text
//! GET /api/chats/c-1/messages?after=1&limit=5
//! Authorization: Bearer {token:acme/ann}
//!
//! the body, if any
//! ```
//!
//! The first line is the method and the request target; header lines follow until an
//! empty line; the rest is the body (text if it is UTF-8, bytes otherwise). In the first
//! line and the headers, `{token:TENANT/AGENT}` stands for a token genuinely signed by
//! the server for that tenant and agent, and `{expired:TENANT/AGENT}` for one that
//! expired an hour ago, so that inputs reach past authentication.

use console_domain::Identity;
use console_handlers::TokenAuthority;
use lambda_http::{Body, Request};

/// How long before `now` an `{expired:…}` token was issued: its 12 hours and one more.
const EXPIRED_AGO_MS: i64 = 13 * 60 * 60 * 1000;

/// A request read from its text form.
#[derive(Debug)]
pub struct TextRequest {
    /// The request, as API Gateway's HTTP API would hand it to the handler.
    pub request: Request,
    /// The tenants named by the tokens it carries.
    pub token_tenants: Vec<String>,
}

/// Reads a request from its text form, with tokens issued by `tokens` at `now_ms`.
/// `None` when the method or the target is not one an HTTP server would accept; a header
/// line that is not a valid header is left out.
pub fn parse(input: &[u8], tokens: &TokenAuthority, now_ms: i64) -> Option<TextRequest> {
    let (head, body) = split_head(input);
    let mut token_tenants = Vec::new();
    let head = with_tokens(
        &String::from_utf8_lossy(head),
        tokens,
        now_ms,
        &mut token_tenants,
    );
    let mut lines = head.lines();
    let (method, target) = lines.next()?.split_once(' ')?;
    let method = http::Method::from_bytes(method.as_bytes()).ok()?;
    let mut builder = http::Request::builder()
        .method(method)
        .uri(escape_target(target.trim()));
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.trim().as_bytes()),
            http::HeaderValue::from_bytes(value.trim().as_bytes()),
        ) else {
            continue;
        };
        builder = builder.header(name, value);
    }
    let body = match std::str::from_utf8(body) {
        _ if body.is_empty() => Body::Empty,
        Ok(text) => Body::Text(text.to_owned()),
        Err(_) => Body::Binary(body.to_vec()),
    };
    let request = builder.body(body).ok()?;
    Some(TextRequest {
        request,
        token_tenants,
    })
}

/// The head (request line and headers) and the body, split at the first empty line.
fn split_head(input: &[u8]) -> (&[u8], &[u8]) {
    for (separator, at) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)] {
        if let Some(start) = input.windows(at).position(|w| w == separator) {
            return (&input[..start], &input[start + at..]);
        }
    }
    (input, b"")
}

/// `head` with every token placeholder replaced by its token, noting each one's tenant.
fn with_tokens(
    head: &str,
    tokens: &TokenAuthority,
    now_ms: i64,
    tenants: &mut Vec<String>,
) -> String {
    let mut out = String::with_capacity(head.len());
    let mut rest = head;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        let token = after.find('}').and_then(|close| {
            let inner = &after[1..close];
            let (kind, who) = inner.split_once(':')?;
            let issued_at = match kind {
                "token" => now_ms,
                "expired" => now_ms - EXPIRED_AGO_MS,
                _ => return None,
            };
            let (tenant, agent) = who.split_once('/')?;
            let identity = Identity {
                tenant: tenant.into(),
                agent: agent.into(),
            };
            let token = tokens.issue(&identity, issued_at).ok()?;
            tenants.push(tenant.to_owned());
            Some((token, close))
        });
        match token {
            Some((token, close)) => {
                out.push_str(&token);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The request target with every byte a URI may not hold percent-encoded, so that most
/// inputs make a request; `%` is kept as it is, so the handler's decoding is tried too.
fn escape_target(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    for byte in target.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_read_with_its_headers_body_and_genuine_token() {
        let tokens = TokenAuthority::new(&[1; 32]);
        let text = b"POST /api/dev/sign-in?x=a b\nAuthorization: Bearer {token:acme/ann}\nbad header\n\n{\"tenant\":\"acme\"}";
        let read = parse(text, &tokens, 1_800_000_000_000).expect("a request");
        assert_eq!(read.request.method(), http::Method::POST);
        assert_eq!(read.request.uri().query(), Some("x=a%20b"));
        assert_eq!(read.token_tenants, vec!["acme".to_owned()]);
        let header = read.request.headers()["authorization"]
            .to_str()
            .expect("text");
        let token = header.strip_prefix("Bearer ").expect("a bearer token");
        assert_eq!(read.request.headers().len(), 1);
        assert!(matches!(read.request.body(), Body::Text(t) if t == "{\"tenant\":\"acme\"}"));
        assert_eq!(tokens.verify(token).expect("valid").agent.as_str(), "ann");
    }

    #[test]
    fn a_request_line_without_a_target_or_with_a_bad_method_is_no_request() {
        let tokens = TokenAuthority::new(&[1; 32]);
        assert!(parse(b"GET", &tokens, 0).is_none());
        assert!(parse(b"G(T /api/me", &tokens, 0).is_none());
        assert!(parse(b"{token:acme/ann /api/me", &tokens, 0).is_none());
    }
}
