//! The audit trail of transcripts: a supervisor's every read and download of a transcript
//! is recorded, and a supervisor lists a chat's trail, the latest first; an agent reading
//! her own chat is not recorded, and lists nothing.

mod support;

use console_domain::Chat;
use console_domain::ports::ChatStore;
use serde_json::{Value, json};
use support::scripted::{demo_store, http, sign_in, start_on};

#[tokio::test(flavor = "multi_thread")]
async fn every_read_of_a_transcript_by_a_supervisor_is_recorded_and_listed() {
    let data = tempfile::tempdir().expect("temp dir");
    let store = demo_store(data.path()).await;
    let tenant = "acme".into();
    store
        .open_chat(&Chat::new(
            "acme".into(),
            "c1".into(),
            "ann".into(),
            "bob".into(),
            1_000,
            None,
        ))
        .await
        .expect("opened");
    for n in 1..=30 {
        let from = if n % 2 == 0 { "bob" } else { "ann" };
        store
            .append_message(
                &tenant,
                &"c1".into(),
                &from.into(),
                &format!("m{n}"),
                "hi",
                2_000,
            )
            .await
            .expect("appended");
    }
    let server = start_on(data.path(), store.clone()).await;
    let addr = server.addr;
    let (sue, bob, ivan) = (
        sign_in(addr, "acme", "sue").await,
        sign_in(addr, "acme", "bob").await,
        sign_in(addr, "globex", "ivan").await,
    );
    let get = |token: &str, path: &str| {
        let (token, path) = (token.to_owned(), path.to_owned());
        async move { http(addr, "GET", &path, Some(&token), "").await }
    };

    // Sue reads a page, the next page, and downloads the whole; Bob reads his own chat.
    assert_eq!(get(&sue, "/api/transcripts/c1?limit=20").await.0, 200);
    assert_eq!(
        get(&sue, "/api/transcripts/c1?after=20&limit=20").await.0,
        200
    );
    assert_eq!(
        get(&sue, "/api/transcripts/c1/download?format=json")
            .await
            .0,
        200
    );
    assert_eq!(get(&bob, "/api/transcripts/c1").await.0, 200);

    let (status, trail) = get(&sue, "/api/transcripts/c1/reads").await;
    assert_eq!(status, 200, "{trail}");
    let reads: Vec<(String, String, u64, u64)> = trail["reads"]
        .as_array()
        .expect("reads")
        .iter()
        .map(|read| {
            assert_eq!(read["by"], "sue");
            assert_eq!(read["name"], "Sue Grant");
            assert!(read["at"].as_i64().is_some_and(|at| at > 0));
            (
                read["name"].as_str().unwrap_or_default().to_owned(),
                read["kind"].as_str().unwrap_or_default().to_owned(),
                read["from"].as_u64().unwrap_or_default(),
                read["to"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let sue_grant = "Sue Grant".to_owned();
    assert_eq!(
        reads,
        [
            (sue_grant.clone(), "download".to_owned(), 1, 30),
            (sue_grant.clone(), "read".to_owned(), 21, 30),
            (sue_grant, "read".to_owned(), 1, 20),
        ],
        "the latest first; Bob's read of his own chat is not among them"
    );
    assert_eq!(trail["next"], Value::Null);

    // A page at a time.
    let (_, first) = get(&sue, "/api/transcripts/c1/reads?limit=2").await;
    assert_eq!(first["reads"].as_array().map(Vec::len), Some(2));
    let cursor = first["next"].as_str().expect("a next page").to_owned();
    let (_, rest) = get(
        &sue,
        &format!("/api/transcripts/c1/reads?limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(rest["reads"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["reads"][0]["from"], 1);
    assert_eq!(rest["next"], Value::Null);

    // Bob may read his chat, not its trail; another tenant's supervisor sees no chat c1;
    // a cursor that is not one is refused.
    let (status, body) = get(&bob, "/api/transcripts/c1/reads").await;
    assert_eq!(
        (status, &body["code"]),
        (403, &json!("forbidden")),
        "{body}"
    );
    let (status, body) = get(&ivan, "/api/transcripts/c1/reads").await;
    assert_eq!(
        (status, &body["code"]),
        (404, &json!("not_found")),
        "{body}"
    );
    let (status, body) = get(&sue, "/api/transcripts/c1/reads?cursor=nonsense").await;
    assert_eq!(
        (status, &body["code"]),
        (400, &json!("bad_request")),
        "{body}"
    );
    server.stop().await;
}
