//! Property tests of the help requests' rules: who sees a question or a hand, who may take
//! it and when, and that whatever the order of takes and withdrawals there is at most one
//! taker and a request never changes once it is taken or withdrawn.

use console_domain::Agent;
use console_domain::DomainError;
use console_domain::help::{HelpRequest, Taken};
use proptest::prelude::*;
use protocol::help::{HelpKind, HelpState};
use protocol::{AgentState, ChatId, Role};

const TARGET_MS: i64 = 60_000;
const ASKED_AT: i64 = 1_000;

fn agent(tenant: &str, id: &str, group: &str, role: Role) -> Agent {
    Agent {
        tenant: tenant.into(),
        id: id.into(),
        name: format!("{id} name"),
        group: group.into(),
        role,
        state: AgentState::Available,
        state_since: 0,
    }
}

/// Ann of sales, tenant t1, asks.
fn ann() -> Agent {
    agent("t1", "ann", "sales", Role::Agent)
}

fn request(kind: HelpKind) -> HelpRequest {
    let text = (kind == HelpKind::Question).then(|| "Who knows the refund rule?".to_owned());
    HelpRequest::new("h1".into(), &ann(), kind, text, None, ASKED_AT, TARGET_MS)
}

fn any_agent() -> impl Strategy<Value = Agent> {
    (
        prop::sample::select(vec!["t1", "t2"]),
        prop::sample::select(vec!["ann", "bob", "cat", "sue"]),
        prop::sample::select(vec!["sales", "support"]),
        any::<bool>(),
    )
        .prop_map(|(tenant, id, group, supervisor)| {
            let role = if supervisor {
                Role::Supervisor
            } else {
                Role::Agent
            };
            agent(tenant, id, group, role)
        })
}

fn any_kind() -> impl Strategy<Value = HelpKind> {
    prop::sample::select(vec![HelpKind::Question, HelpKind::Hand])
}

/// The rules, restated as answers.
fn expected_sees(kind: HelpKind, viewer: &Agent) -> bool {
    viewer.tenant.as_str() == "t1"
        && (viewer.id.as_str() == "ann"
            || viewer.role == Role::Supervisor
            || (kind == HelpKind::Question && viewer.group.as_str() == "sales"))
}

fn expected_may_take(kind: HelpKind, taker: &Agent, now: i64) -> bool {
    let overdue = now >= ASKED_AT + TARGET_MS;
    let supervisor = taker.role == Role::Supervisor;
    expected_sees(kind, taker)
        && taker.id.as_str() != "ann"
        && match kind {
            HelpKind::Question => taker.group.as_str() == "sales" || (supervisor && overdue),
            HelpKind::Hand => supervisor,
        }
}

proptest! {
    #[test]
    fn who_sees_and_who_may_take_follow_tenant_group_role_and_time(
        kind in any_kind(),
        viewer in any_agent(),
        now in 0i64..200_000,
    ) {
        let request = request(kind);
        prop_assert_eq!(request.is_seen_by(&viewer), expected_sees(kind, &viewer));
        prop_assert_eq!(request.may_take(&viewer, now).is_ok(), expected_may_take(kind, &viewer, now));
        prop_assert_eq!(request.is_overdue(now), now >= ASKED_AT + TARGET_MS);
    }

    #[test]
    fn whatever_the_order_there_is_at_most_one_taker_and_nothing_moves_after(
        kind in any_kind(),
        steps in prop::collection::vec((any_agent(), any::<bool>(), 0i64..200_000), 0..30),
    ) {
        let mut request = request(kind);
        let mut closed: Option<HelpRequest> = None;
        for (who, withdraw, now) in steps {
            let before = request.clone();
            if withdraw {
                let result = request.withdraw(&who, now);
                let asker = who.tenant.as_str() == "t1" && who.id.as_str() == "ann";
                match (&closed, asker) {
                    (_, false) => prop_assert!(matches!(result, Err(DomainError::NotFound(_)))),
                    (None, true) => prop_assert_eq!(result.ok(), Some(true)),
                    (Some(done), true) => match done.state {
                        HelpState::Withdrawn => prop_assert_eq!(result.ok(), Some(false)),
                        _ => prop_assert!(matches!(result, Err(DomainError::AlreadyTaken(_)))),
                    },
                }
            } else {
                let result = request.take(&who, now);
                let allowed = expected_may_take(kind, &who, now);
                match (&closed, allowed) {
                    (_, false) => prop_assert!(result.is_err()),
                    (None, true) => {
                        prop_assert_eq!(result.ok(), Some(Taken::Now));
                        prop_assert_eq!(request.taken_by.as_ref(), Some(&who.id));
                        let chat = ChatId::from("c1");
                        prop_assert!(request.attach_chat(&chat));
                        prop_assert!(!request.attach_chat(&ChatId::from("c2")), "once");
                        prop_assert_eq!(request.chat_id.as_ref(), Some(&chat));
                    }
                    (Some(done), true) => {
                        if done.taken_by.as_ref() == Some(&who.id) {
                            prop_assert_eq!(result.ok(), Some(Taken::Before));
                        } else {
                            prop_assert!(matches!(result, Err(DomainError::AlreadyTaken(_))));
                        }
                    }
                }
            }
            if let Some(done) = &closed {
                prop_assert_eq!(&request, done, "nothing changes once it is closed");
            } else if request != before {
                prop_assert!(request.state != HelpState::Waiting);
                closed = Some(request.clone());
            }
        }
    }
}

#[test]
fn questions_need_short_plain_text() {
    use console_domain::help::check_question;
    assert!(check_question("Who knows the refund rule?").is_ok());
    assert!(check_question("two\nlines\tand a tab").is_ok());
    assert!(check_question("  \n").is_err());
    assert!(check_question("bell\u{7}").is_err());
    assert!(check_question(&"x".repeat(2_001)).is_err());
    assert!(check_question(&"x".repeat(2_000)).is_ok());
    assert!(
        check_question(&"\"".repeat(1_001)).is_err(),
        "counted as JSON writes it"
    );
}
