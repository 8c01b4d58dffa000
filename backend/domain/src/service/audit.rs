//! The audit trail of transcripts, for compliance: every read or download of a
//! transcript by a supervisor is recorded — who, which chat, when, which messages —
//! before what she asked for is answered, and a supervisor can list a chat's trail.

use super::ChatService;
use crate::error::DomainError;
use crate::model::{Agent, Chat, Identity, Message, TranscriptRead};
use crate::ports::ReadCursor;
use protocol::http::{ReadKind, TranscriptReadView, TranscriptReads};
use protocol::{ChatId, Role};

/// The longest page of a chat's audit trail.
pub const MAX_READS: usize = 100;

impl ChatService<'_> {
    /// Records `me`'s read of `chat`'s `messages` if she is a supervisor (a participant
    /// reading her own chat is not audited). A read that cannot be recorded is refused:
    /// nothing is answered unrecorded.
    pub(super) async fn audit(
        &self,
        me: &Agent,
        chat: &Chat,
        kind: ReadKind,
        messages: &[Message],
    ) -> Result<(), DomainError> {
        if me.role != Role::Supervisor {
            return Ok(());
        }
        let read = TranscriptRead {
            id: self.clock.new_id(),
            tenant: chat.tenant.clone(),
            chat: chat.id.clone(),
            by: me.id.clone(),
            by_name: me.name.clone(),
            at: self.clock.now_ms(),
            kind,
            from_seq: messages.first().map_or(0, |m| m.seq),
            to_seq: messages.last().map_or(0, |m| m.seq),
        };
        Ok(self.store.record_read(&read).await?)
    }

    /// A page of a chat's audit trail, the latest read first — for a supervisor of its
    /// tenant. `cursor` is the `next` of the page before.
    pub async fn transcript_reads(
        &self,
        who: &Identity,
        chat_id: &ChatId,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<TranscriptReads, DomainError> {
        let (me, chat) = self.readable_chat(who, chat_id).await?;
        if me.role != Role::Supervisor {
            return Err(DomainError::Forbidden(
                "only a supervisor reads who has read a transcript".into(),
            ));
        }
        let before = cursor.map(parse_cursor).transpose()?;
        let limit = limit.clamp(1, MAX_READS);
        // One more than the page: whether another follows.
        let mut reads = self
            .store
            .reads_of(&chat.tenant, &chat.id, before.as_ref(), limit + 1)
            .await?;
        let more = reads.len() > limit;
        reads.truncate(limit);
        let next = more
            .then(|| reads.last().map(|last| format!("{}.{}", last.at, last.id)))
            .flatten();
        Ok(TranscriptReads {
            reads: reads
                .into_iter()
                .map(|read| TranscriptReadView {
                    by: read.by,
                    name: read.by_name,
                    at: read.at,
                    kind: read.kind,
                    from: read.from_seq,
                    to: read.to_seq,
                })
                .collect(),
            next,
        })
    }
}

/// A page's `next` (`AT.ID`) read back.
fn parse_cursor(text: &str) -> Result<ReadCursor, DomainError> {
    let bad = || DomainError::BadRequest(format!("`{text}` is not a cursor of this listing"));
    let (at, id) = text.split_once('.').ok_or_else(bad)?;
    Ok(ReadCursor {
        at: at.parse().map_err(|_| bad())?,
        id: id.to_owned(),
    })
}
