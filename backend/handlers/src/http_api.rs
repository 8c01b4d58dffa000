//! The HTTP API (`/api/...`), as one function over a `lambda_http` request: API Gateway's
//! HTTP API in AWS, the local server's emulator locally.

use crate::app::App;
use crate::download;
use crate::respond::{error_response, json};
use console_domain::service::{
    ChatCursor, ChatPage, MAX_PAGE, MAX_READS, MAX_TRANSCRIPTS, TranscriptCursor, TranscriptFilter,
};
use console_domain::{DomainError, Identity};
use lambda_http::{Body, Request, Response};
use protocol::http::{
    AgentList, ChatList, DevAgent, DevDirectory, DevSignIn, DevTenant, MessagePage, SignedIn,
    WsTicket,
};
use protocol::{ChatId, ChatStatus};
use serde::de::DeserializeOwned;
use tracing::Instrument;

/// The routes of the HTTP API in AWS, as the SAM template must route them to the
/// function (`{chat}` is a path parameter); the development sign-in is the local
/// server's only. Every one needs a bearer token.
pub const ROUTES: [&str; 9] = [
    "GET /api/me",
    "POST /api/ws-ticket",
    "GET /api/agents",
    "GET /api/chats",
    "GET /api/chats/{chat}/messages",
    "GET /api/transcripts",
    "GET /api/transcripts/{chat}",
    "GET /api/transcripts/{chat}/download",
    "GET /api/transcripts/{chat}/reads",
];

/// Answers one HTTP API request. Every failure is a 4xx/5xx with an [`ErrorBody`].
pub async fn handle(request: Request, app: &App) -> Response<Body> {
    // Everything logged while this request is answered names it; `authenticate` adds
    // whose it is.
    let span = tracing::info_span!(
        "http",
        method = %request.method(),
        path = request.uri().path(),
        tenant = tracing::field::Empty,
        agent = tracing::field::Empty,
    );
    async {
        match route(&request, app).await {
            Ok(response) => response,
            Err(error) => error_response(&error),
        }
    }
    .instrument(span)
    .await
}

async fn route(request: &Request, app: &App) -> Result<Response<Body>, DomainError> {
    let method = request.method().as_str();
    let path = request.uri().path().trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let service = app.service();
    match (method, segments.as_slice()) {
        ("GET", ["api", "dev", "directory"]) if app.dev_sign_in => {
            let mut tenants = Vec::new();
            for tenant in app.store.tenants().await? {
                let agents = app
                    .store
                    .agents(&tenant.id)
                    .await?
                    .into_iter()
                    .map(|a| DevAgent {
                        id: a.id,
                        name: a.name,
                        group: a.group,
                        role: a.role,
                    })
                    .collect();
                tenants.push(DevTenant {
                    id: tenant.id,
                    name: tenant.name,
                    agents,
                });
            }
            json(200, &DevDirectory { tenants })
        }
        ("POST", ["api", "dev", "sign-in"]) if app.dev_sign_in => {
            let body: DevSignIn = parse_body(request)?;
            let who = Identity {
                tenant: body.tenant,
                agent: body.agent,
            };
            let me = service
                .agent(&who)
                .await
                .map_err(|_| DomainError::NotFound("no such agent in that tenant".into()))?;
            let token = app.tokens.issue(&who, app.clock.now_ms())?;
            json(
                200,
                &SignedIn {
                    token,
                    tenant: who.tenant,
                    me: me.view(),
                },
            )
        }
        ("GET", ["api", "me"]) => {
            let who = authenticate(request, app).await?;
            let me = service.agent(&who).await?.view();
            json(
                200,
                &protocol::http::Me {
                    tenant: who.tenant,
                    me,
                },
            )
        }
        ("POST", ["api", "ws-ticket"]) => {
            let who = authenticate(request, app).await?;
            let ticket = service.issue_ticket(&who).await?;
            json(
                200,
                &WsTicket {
                    ticket: ticket.id,
                    expires_in_seconds: (console_domain::service::TICKET_TTL_MS / 1000) as u32,
                },
            )
        }
        ("GET", ["api", "agents"]) => {
            let who = authenticate(request, app).await?;
            json(
                200,
                &AgentList {
                    agents: service.visible_agents(&who).await?,
                },
            )
        }
        ("GET", ["api", "chats"]) => {
            let who = authenticate(request, app).await?;
            let status = match query_text(request, "status").as_deref() {
                None | Some("open") => ChatStatus::Open,
                Some("ended") => ChatStatus::Ended,
                Some(other) => {
                    return Err(DomainError::BadRequest(format!(
                        "status must be open or ended, not {other:?}"
                    )));
                }
            };
            let page = ChatPage {
                cursor: ChatCursor::parse(
                    status,
                    &query_text(request, "cursor").unwrap_or_default(),
                )?,
                limit: query_number(request, "limit")?.unwrap_or(20).min(1000) as usize,
            };
            let (chats, next) = service.chats(&who, &page).await?;
            json(200, &ChatList { chats, next })
        }
        ("GET", ["api", "chats", chat, "messages"]) => {
            let who = authenticate(request, app).await?;
            let chat = ChatId::from(*chat);
            let limit = query_number(request, "limit")?.unwrap_or(100).min(1000) as usize;
            let (messages, more) = match query_number(request, "before")? {
                Some(_) if query_number(request, "after")?.is_some() => {
                    return Err(DomainError::BadRequest(
                        "ask for messages after a number or before one, not both".into(),
                    ));
                }
                Some(before) => service.messages_before(&who, &chat, before, limit).await?,
                None => {
                    let after = query_number(request, "after")?.unwrap_or(0);
                    service.messages(&who, &chat, after, limit).await?
                }
            };
            json(200, &MessagePage { messages, more })
        }
        ("GET", ["api", "transcripts"]) => {
            let who = authenticate(request, app).await?;
            let filter = TranscriptFilter {
                agent: query_text(request, "agent").map(|a| a.as_str().into()),
                group: query_text(request, "group").map(|g| g.as_str().into()),
                from: query_time(request, "from")?,
                to: query_time(request, "to")?,
                text: query_text(request, "q"),
            };
            let cursor = query_text(request, "cursor")
                .map(|text| TranscriptCursor::parse(&text))
                .transpose()?;
            let limit = query_number(request, "limit")?.map_or(MAX_TRANSCRIPTS, |n| {
                usize::try_from(n).unwrap_or(MAX_TRANSCRIPTS)
            });
            json(
                200,
                &service
                    .transcripts(&who, &filter, cursor.as_ref(), limit)
                    .await?,
            )
        }
        ("GET", ["api", "transcripts", chat]) => {
            let who = authenticate(request, app).await?;
            let after = query_number(request, "after")?.unwrap_or(0);
            let limit = query_number(request, "limit")?
                .map_or(MAX_PAGE, |n| usize::try_from(n).unwrap_or(MAX_PAGE));
            json(
                200,
                &service
                    .transcript(&who, &ChatId::from(*chat), after, limit)
                    .await?,
            )
        }
        ("GET", ["api", "transcripts", chat, "reads"]) => {
            let who = authenticate(request, app).await?;
            let cursor = query_text(request, "cursor");
            let limit = query_number(request, "limit")?
                .map_or(MAX_READS, |n| usize::try_from(n).unwrap_or(MAX_READS));
            json(
                200,
                &service
                    .transcript_reads(&who, &ChatId::from(*chat), cursor.as_deref(), limit)
                    .await?,
            )
        }
        ("GET", ["api", "transcripts", chat, "download"]) => {
            let who = authenticate(request, app).await?;
            let transcript = service.whole_transcript(&who, &ChatId::from(*chat)).await?;
            let format = query_text(request, "format").unwrap_or_else(|| "text".into());
            download::respond(&transcript, &format)
        }
        _ => {
            let allowed = allowed_methods(app, &segments);
            Err(if allowed.is_empty() {
                DomainError::NotFound(format!("no API endpoint {path}"))
            } else {
                DomainError::MethodNotAllowed(format!(
                    "{path} takes {}, not {method}",
                    allowed.join(" or ")
                ))
            })
        }
    }
}

/// The methods the API answers at `segments`: its routes (and the development sign-in's,
/// where it is offered) whose path matches, `{chat}` matching any one segment.
fn allowed_methods(app: &App, segments: &[&str]) -> Vec<&'static str> {
    const DEVELOPMENT: [&str; 2] = ["GET /api/dev/directory", "POST /api/dev/sign-in"];
    let development = if app.dev_sign_in {
        &DEVELOPMENT[..]
    } else {
        &[]
    };
    ROUTES
        .iter()
        .chain(development)
        .filter_map(|route| {
            let (method, pattern) = route.split_once(' ')?;
            let parts: Vec<&str> = pattern.split('/').skip(1).collect();
            let matches = parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(segments)
                    .all(|(part, segment)| part.starts_with('{') || part == segment);
            matches.then_some(method)
        })
        .collect()
}

/// The identity behind the request's bearer token.
async fn authenticate(request: &Request, app: &App) -> Result<Identity, DomainError> {
    let header = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| {
            DomainError::Unauthorized("sign in first: no bearer token was sent".into())
        })?;
    let token = header.strip_prefix("Bearer ").ok_or_else(|| {
        DomainError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
    })?;
    let who = app.tokens.verify_fresh(token.trim()).await?;
    let span = tracing::Span::current();
    span.record("tenant", tracing::field::display(&who.tenant));
    span.record("agent", tracing::field::display(&who.agent));
    Ok(who)
}

/// The request's JSON body as `T`. It must say it is JSON (`Content-Type:
/// application/json`): a page of another site can send a form or plain text without
/// asking, but not JSON.
fn parse_body<T: DeserializeOwned>(request: &Request) -> Result<T, DomainError> {
    let json = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(DomainError::UnsupportedMediaType(
            "the request body must be JSON, sent with Content-Type: application/json".into(),
        ));
    }
    let bytes: &[u8] = match request.body() {
        Body::Empty => b"",
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    serde_json::from_slice(bytes).map_err(|e| {
        DomainError::BadRequest(format!(
            "the request body is not valid JSON of the expected shape: {e}"
        ))
    })
}

/// A query parameter, percent-decoded; `None` when absent or empty.
fn query_text(request: &Request, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name)
            .then(|| percent_decode(value))
            .filter(|v| !v.is_empty())
    })
}

/// A time (ms since the epoch) in the query: a whole number up to `i64::MAX`.
fn query_time(request: &Request, name: &str) -> Result<Option<i64>, DomainError> {
    query_number(request, name)?
        .map(|n| {
            i64::try_from(n).map_err(|_| {
                DomainError::BadRequest(format!(
                    "query parameter `{name}` is a time in milliseconds, at most {}",
                    i64::MAX
                ))
            })
        })
        .transpose()
}

fn query_number(request: &Request, name: &str) -> Result<Option<u64>, DomainError> {
    query_text(request, name)
        .map(|value| {
            value.parse().map_err(|_| {
                DomainError::BadRequest(format!("query parameter `{name}` must be a whole number"))
            })
        })
        .transpose()
}

/// Decodes `%XX` escapes and `+` (a space in a query string).
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let byte = bytes
                    .get(i + 1..i + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok());
                match byte {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(
            percent_decode("billing%20question+today"),
            "billing question today"
        );
        assert_eq!(percent_decode("caf%C3%A9"), "café");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
