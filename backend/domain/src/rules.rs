//! The seed's rules, as pure functions: who sees whom, and what a message may hold.

use crate::error::DomainError;
use crate::model::Agent;
use protocol::{MAX_MESSAGE_BYTES, Role};

/// True when `viewer` may see `other` in her agent list and start a chat with her: both
/// in one tenant, and either in one functional group or `viewer` a supervisor.
/// Nobody is listed to herself.
pub fn can_see(viewer: &Agent, other: &Agent) -> bool {
    viewer.tenant == other.tenant
        && viewer.id != other.id
        && (viewer.role == Role::Supervisor || viewer.group == other.group)
}

/// Checks a message body: not empty or only white space, not longer than the protocol
/// allows, no control characters but new lines and tabs. The text is kept exactly as
/// typed.
pub fn check_body(body: &str) -> Result<(), DomainError> {
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(DomainError::MessageTooLarge {
            max: MAX_MESSAGE_BYTES,
            actual: body.len(),
        });
    }
    if body.trim().is_empty() {
        return Err(DomainError::EmptyMessage);
    }
    if has_control_characters(body) {
        return Err(DomainError::BadRequest(
            "a message may hold no control characters but new lines and tabs".into(),
        ));
    }
    Ok(())
}

/// True when `text` holds a control character other than a new line, carriage return or
/// tab: a NUL, an escape sequence or a bell has no place in a message a person reads,
/// and some of them upset terminals, logs and the files a transcript is downloaded to.
pub fn has_control_characters(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// Checks a customer-interaction reference (of a chat, a question, a raised hand): at
/// most 256 bytes, no control characters; a blank one is none.
pub fn check_interaction(interaction: Option<String>) -> Result<Option<String>, DomainError> {
    let interaction = interaction.filter(|reference| !reference.trim().is_empty());
    if interaction
        .as_ref()
        .is_some_and(|reference| reference.len() > 256 || has_control_characters(reference))
    {
        return Err(DomainError::BadRequest(
            "an interaction reference may hold at most 256 bytes and no control characters".into(),
        ));
    }
    Ok(interaction)
}

/// Checks a client message id: present, short and printable, because it becomes part of
/// a storage key.
pub fn check_client_msg_id(id: &str) -> Result<(), DomainError> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_graphic()) {
        return Err(DomainError::BadRequest(
            "client_msg_id must be 1 to 64 printable ASCII characters".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::AgentState;

    fn agent(tenant: &str, id: &str, group: &str, role: Role) -> Agent {
        Agent {
            tenant: tenant.into(),
            id: id.into(),
            name: id.into(),
            group: group.into(),
            role,
            state: AgentState::Available,
            state_since: 0,
        }
    }

    #[test]
    fn visibility_follows_group_role_and_tenant() {
        let ann = agent("t1", "ann", "sales", Role::Agent);
        let bob = agent("t1", "bob", "sales", Role::Agent);
        let cat = agent("t1", "cat", "support", Role::Agent);
        let sue = agent("t1", "sue", "support", Role::Supervisor);
        let zed = agent("t2", "zed", "sales", Role::Supervisor);

        assert!(can_see(&ann, &bob), "same group");
        assert!(!can_see(&ann, &cat), "other group");
        assert!(!can_see(&ann, &ann), "not herself");
        assert!(can_see(&sue, &ann), "supervisor sees other groups");
        assert!(!can_see(&sue, &zed), "supervisor never sees another tenant");
        assert!(!can_see(&zed, &ann), "nor does anyone from another tenant");
    }

    #[test]
    fn bodies_must_hold_text_within_the_limit() {
        assert!(matches!(
            check_body("  \n "),
            Err(DomainError::EmptyMessage)
        ));
        assert!(check_body("hello").is_ok());
        let long = "x".repeat(MAX_MESSAGE_BYTES + 1);
        assert!(matches!(
            check_body(&long),
            Err(DomainError::MessageTooLarge { .. })
        ));
        let long_blank = " ".repeat(MAX_MESSAGE_BYTES + 1);
        assert!(
            matches!(
                check_body(&long_blank),
                Err(DomainError::MessageTooLarge { .. })
            ),
            "the size is checked before the text is looked at"
        );
    }

    #[test]
    fn bodies_keep_new_lines_and_tabs_but_no_other_control_characters() {
        assert!(check_body("first line\nsecond\tcolumn\r\n").is_ok());
        for bad in [
            "nul\0",
            "\u{1b}[31mred",
            "bell\u{7}",
            "del\u{7f}",
            "c1\u{85}",
        ] {
            assert!(
                matches!(check_body(bad), Err(DomainError::BadRequest(_))),
                "{bad:?} is refused"
            );
        }
        assert!(check_body("<b>markup</b> & \u{202e}bidi are text").is_ok());
    }

    #[test]
    fn client_message_ids_are_short_printable_ascii() {
        assert!(check_client_msg_id("m-1").is_ok());
        assert!(check_client_msg_id("").is_err());
        assert!(check_client_msg_id("with space").is_err());
        assert!(check_client_msg_id(&"x".repeat(65)).is_err());
    }
}
