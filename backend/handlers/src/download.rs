//! Transcript downloads: as plain text for a person, or as JSON for a program.

use crate::respond::response;
use console_domain::DomainError;
use console_domain::service::DOWNLOAD_BYTES;
use lambda_http::{Body, Response};
use protocol::http::Transcript;
use protocol::{AgentId, ChatStatus};

/// The download of a transcript in `format` (`text` or `json`), as an attachment.
pub fn respond(transcript: &Transcript, format: &str) -> Result<Response<Body>, DomainError> {
    let (body, content_type, extension) = match format {
        "text" | "txt" => (as_text(transcript), "text/plain; charset=utf-8", "txt"),
        "json" => (
            serde_json::to_string_pretty(transcript).map_err(|e| {
                DomainError::Internal(format!("could not encode a transcript: {e}"))
            })?,
            "application/json",
            "json",
        ),
        other => {
            return Err(DomainError::BadRequest(format!(
                "format must be `text` or `json`, not `{other}`"
            )));
        }
    };
    if body.len() > DOWNLOAD_BYTES {
        return Err(DomainError::TranscriptTooLarge {
            max: DOWNLOAD_BYTES,
        });
    }
    let mut answer = response(200, body);
    let headers = answer.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    let disposition = format!(
        "attachment; filename=\"chat-{}.{extension}\"",
        transcript.chat.id
    );
    if let Ok(value) = http::HeaderValue::from_str(&disposition) {
        headers.insert(http::header::CONTENT_DISPOSITION, value);
    }
    Ok(answer)
}

/// The transcript as text: a heading, then one line per message in sequence order.
pub fn as_text(transcript: &Transcript) -> String {
    let chat = &transcript.chat;
    let name_of = |id: &AgentId| {
        chat.participants
            .iter()
            .find(|p| &p.id == id)
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    };
    let people: Vec<String> = chat
        .participants
        .iter()
        .map(|p| format!("{} ({})", p.name, p.group))
        .collect();
    let mut out = format!("Chat between {}\n", people.join(" and "));
    out.push_str(&format!("Started {}\n", utc(chat.started_at)));
    if chat.status == ChatStatus::Ended {
        out.push_str(&format!(
            "Ended {}\n",
            chat.ended_at.map(utc).unwrap_or_default()
        ));
    }
    if let Some(interaction) = &chat.interaction {
        out.push_str(&format!("Interaction {interaction}\n"));
    }
    out.push('\n');
    for message in &transcript.messages {
        out.push_str(&format!(
            "[{}] #{} {}: {}\n",
            utc(message.sent_at),
            message.seq,
            name_of(&message.from),
            message.body.replace('\n', "\n    ")
        ));
    }
    out
}

/// A time as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        (rest / 60) % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_795_642_427_123), "2026-11-25 21:33:47 UTC");
    }
}
