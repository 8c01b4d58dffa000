//! The store conformance suite against a DynamoDB-compatible server over its real
//! protocol: moto's server (PyPI `moto[server]`), started here on a free port of
//! 127.0.0.1. `cargo xtask test` installs it and sets `MOTO_SERVER`.

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use console_domain::conformance;
use console_store_dynamo::{DynamoStore, create_table};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// moto's server, stopped when dropped.
struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_program() -> PathBuf {
    std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/agent-console/venv/bin/moto_server")
        })
}

fn start_moto() -> Moto {
    let program = moto_program();
    assert!(
        program.exists(),
        "moto_server not found at {} (set MOTO_SERVER); `cargo xtask test` installs it",
        program.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = Command::new(program)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not listen within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn client(url: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region("us-east-1")
        .endpoint_url(url)
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}

#[tokio::test]
async fn passes_every_store_conformance_check_against_a_dynamodb_server() {
    let moto = start_moto();
    let client = client(&moto.url).await;
    for (i, check) in conformance::CHECKS.iter().enumerate() {
        // A fresh table per check: each starts from an empty store.
        let table = format!("console-{i}");
        create_table(&client, &table)
            .await
            .expect("the table is created");
        println!("conformance check {check}");
        conformance::run(check, &DynamoStore::new(client.clone(), table)).await;
    }
}

#[tokio::test]
async fn concurrent_sends_to_one_chat_get_gapless_sequence_numbers() {
    use console_domain::Chat;
    use console_domain::ports::{Appended, ChatStore};
    let moto = start_moto();
    let client = client(&moto.url).await;
    create_table(&client, "race").await.expect("table");
    let store = DynamoStore::new(client, "race");
    let tenant = protocol::TenantId::from("t1");
    let chat = Chat::new(
        tenant.clone(),
        "c1".into(),
        "ann".into(),
        "bob".into(),
        0,
        None,
    );
    store.open_chat(&chat).await.expect("open");
    let sends = (0..12).map(|i| {
        let store = store.clone();
        let tenant = tenant.clone();
        tokio::spawn(async move {
            let from = protocol::AgentId::from(if i % 2 == 0 { "ann" } else { "bob" });
            // Each send is tried twice, as a client retrying after a lost acknowledgement.
            let first = store
                .append_message(&tenant, &"c1".into(), &from, &format!("m{i}"), "hi", i)
                .await;
            let again = store
                .append_message(&tenant, &"c1".into(), &from, &format!("m{i}"), "hi", i)
                .await;
            (first, again)
        })
    });
    let mut seqs = Vec::new();
    for send in sends {
        let (first, again) = send.await.expect("joined");
        let seq_of = |a: Appended| match a {
            Appended::Stored { message, .. } | Appended::Duplicate { message, .. } => message.seq,
            other => panic!("unexpected {other:?}"),
        };
        let (first, again) = (seq_of(first.expect("first")), seq_of(again.expect("again")));
        assert_eq!(first, again, "a retry gets the same sequence number");
        seqs.push(first);
    }
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=12).collect::<Vec<u64>>(),
        "gapless, each stored once"
    );
    let stored = store
        .messages(&tenant, &"c1".into(), 0, 100)
        .await
        .expect("read");
    assert_eq!(stored.len(), 12);
}
