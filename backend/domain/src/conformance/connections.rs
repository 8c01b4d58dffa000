//! Connections, found by who sees them and by their agent.

use super::connection;
use crate::model::ConnectionId;
use crate::ports::Store;
use protocol::{AgentId, TenantId};

pub(super) async fn connections_are_found_by_who_sees_them(store: &dyn Store) {
    let t1 = TenantId::from("t1");
    for (id, tenant, agent, group, supervisor) in [
        ("s1", "t1", "ann", "sales", false),
        ("s2", "t1", "ann", "sales", false),
        ("s3", "t1", "bob", "sales", false),
        ("u1", "t1", "dan", "support", false),
        ("v1", "t1", "sue", "support", true),
        ("v2", "t1", "sam", "sales", true),
        ("x1", "t2", "ann", "sales", true),
    ] {
        store
            .put_connection(&connection(id, tenant, agent, group, supervisor))
            .await
            .expect("put connection");
    }
    let seeing = |group: &'static str| {
        let t1 = t1.clone();
        async move {
            let mut ids: Vec<String> = store
                .connections_seeing(&t1, &group.into())
                .await
                .expect("connections seeing")
                .into_iter()
                .map(|c| c.id.0)
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(
        seeing("sales").await,
        ["s1", "s2", "s3", "v1", "v2"],
        "the group's and every supervisor's, each once, none of another tenant"
    );
    assert_eq!(seeing("support").await, ["u1", "v1", "v2"]);
    assert_eq!(
        seeing("billing").await,
        ["v1", "v2"],
        "supervisors see every group"
    );
    store
        .delete_connection(&ConnectionId("v2".into()))
        .await
        .expect("delete");
    store
        .delete_connection(&ConnectionId("s1".into()))
        .await
        .expect("delete");
    assert_eq!(
        seeing("sales").await,
        ["s2", "s3", "v1"],
        "gone with the connection"
    );
}

pub(super) async fn connections_are_listed_per_agent(store: &dyn Store) {
    let t1 = TenantId::from("t1");
    for (id, tenant, agent) in [
        ("c1", "t1", "ann"),
        ("c2", "t1", "ann"),
        ("c3", "t1", "annie"),
        ("c4", "t2", "ann"),
    ] {
        store
            .put_connection(&connection(id, tenant, agent, "sales", false))
            .await
            .expect("put connection");
    }
    let mut in_t1: Vec<String> = store
        .connections_in_tenant(&t1)
        .await
        .expect("tenant connections")
        .into_iter()
        .map(|c| c.id.0)
        .collect();
    in_t1.sort();
    assert_eq!(
        in_t1,
        vec!["c1", "c2", "c3"],
        "another tenant's connection is not listed"
    );
    let mut ann = store
        .connections_of(&t1, &"ann".into())
        .await
        .expect("list");
    ann.sort();
    assert_eq!(
        ann,
        vec![ConnectionId("c1".into()), ConnectionId("c2".into())]
    );
    let mut both = store
        .connections_of_agents(&t1, &["annie".into(), "ann".into(), "nobody".into()])
        .await
        .expect("list of several");
    both.sort();
    assert_eq!(
        both,
        ["c1", "c2", "c3"].map(|id| ConnectionId(id.into())),
        "each agent's, of her tenant only; an agent without any adds none"
    );
    let gone = store
        .delete_connection(&ConnectionId("c1".into()))
        .await
        .expect("delete");
    assert_eq!(gone.map(|c| c.agent), Some(AgentId::from("ann")));
    assert_eq!(
        store
            .connections_of(&t1, &"ann".into())
            .await
            .expect("list"),
        vec![ConnectionId("c2".into())]
    );
    assert!(
        store
            .delete_connection(&ConnectionId("c1".into()))
            .await
            .expect("delete again")
            .is_none()
    );
}
