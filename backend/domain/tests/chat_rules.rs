//! Property tests of the chat's rules: whatever the order in which two agents write,
//! sequence numbers are gapless, and "requires your response", the unread count and the
//! waiting time follow from the messages alone; a send is admitted to its sender's open
//! chats only, and a chat ends once.

use console_domain::Chat;
use console_domain::model::SendAdmission;
use proptest::prelude::*;
use protocol::AgentId;

fn ann() -> AgentId {
    AgentId::from("ann")
}

fn bob() -> AgentId {
    AgentId::from("bob")
}

proptest! {
    #[test]
    fn pending_unread_and_waiting_follow_from_the_messages(senders in prop::collection::vec(any::<bool>(), 0..60)) {
        let mut chat = Chat::new("t".into(), "c".into(), ann(), bob(), 0, None);
        for (i, from_ann) in senders.iter().enumerate() {
            let from = if *from_ann { ann() } else { bob() };
            let seq = chat.record_message(&from, 100 + i as i64);
            prop_assert_eq!(seq, i as u64 + 1, "gapless from 1");
        }
        prop_assert_eq!(chat.last_seq, senders.len() as u64);
        for (me, mine) in [(ann(), true), (bob(), false)] {
            // The trailing run of the other agent's messages since my last one.
            let trailing = senders.iter().rev().take_while(|from_ann| **from_ann != mine).count();
            prop_assert_eq!(chat.unread_for(&me), trailing as u32);
            prop_assert_eq!(chat.pending_for(&me), trailing > 0);
            if trailing > 0 {
                let first_of_run = senders.len() - trailing;
                prop_assert_eq!(chat.waiting_since, Some(100 + first_of_run as i64));
            }
        }
        chat.end(&ann(), 10_000);
        prop_assert!(!chat.pending_for(&ann()) && !chat.pending_for(&bob()), "an ended chat requires nobody");
    }

    #[test]
    fn seen_marks_never_pass_the_last_message_nor_go_back(marks in prop::collection::vec(0u64..80, 0..30), count in 0u64..50) {
        let mut chat = Chat::new("t".into(), "c".into(), ann(), bob(), 0, None);
        for i in 0..count {
            chat.record_message(&ann(), i as i64);
        }
        let mut highest = 0;
        for mark in marks {
            chat.mark_seen(&bob(), mark);
            highest = highest.max(mark.min(count));
            prop_assert_eq!(chat.seen_by(&bob()), highest);
        }
    }

    #[test]
    fn a_send_is_admitted_to_its_sender_s_open_chat_only(
        sender in prop::sample::select(vec!["ann", "bob", "cat", ""]),
        exists in any::<bool>(),
        ended in any::<bool>(),
        messages in 0u64..5,
    ) {
        let mut chat = Chat::new("t".into(), "c".into(), ann(), bob(), 0, None);
        for i in 0..messages {
            chat.record_message(&ann(), i as i64);
        }
        if ended {
            chat.end(&bob(), 100);
        }
        let stored = exists.then(|| chat.clone());
        let admitted = Chat::admit_send(stored, &AgentId::from(sender));
        let takes_part = sender == "ann" || sender == "bob";
        let expected = match (exists && takes_part, ended) {
            (false, _) => SendAdmission::NoSuchChat,
            (true, true) => SendAdmission::Ended(chat),
            (true, false) => SendAdmission::Open(chat),
        };
        prop_assert_eq!(admitted, expected);
    }

    #[test]
    fn a_chat_ends_once_and_keeps_who_ended_it_and_when(ends in prop::collection::vec((any::<bool>(), 1i64..1_000), 1..6)) {
        let mut chat = Chat::new("t".into(), "c".into(), ann(), bob(), 0, None);
        let (first_by, first_at) = ends[0];
        for (i, (by_ann, at)) in ends.iter().enumerate() {
            let by = if *by_ann { ann() } else { bob() };
            prop_assert_eq!(chat.end(&by, *at), i == 0, "only the first end changes the chat");
        }
        prop_assert_eq!(chat.ended_by, Some(if first_by { ann() } else { bob() }));
        prop_assert_eq!(chat.ended_at, Some(first_at));
    }
}
