//! The directory import command against a DynamoDB server (moto).

#[path = "../../store-dynamo/tests/moto/mod.rs"]
mod moto;

use console_domain::ports::DirectoryStore;
use console_store_dynamo::{DynamoStore, create_table};
use std::process::Command;

#[tokio::test]
async fn the_import_command_loads_a_directory_into_the_table_and_refuses_a_bad_one() {
    let moto = moto::start();
    let client = moto::client(&moto.url).await;
    create_table(&client, "console").await.expect("table");
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let good = dir.join("directory.json");
    std::fs::write(
        &good,
        r#"{"tenants":[{"id":"initech","name":"Initech","agents":[
            {"id":"peter","name":"Peter Gibbons","group":"tps","role":"agent"},
            {"id":"bill","name":"Bill Lumbergh","group":"tps","role":"supervisor"}]}]}"#,
    )
    .expect("write");
    let run = |file: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_import-directory"))
            .arg(file)
            .args(["--table", "console", "--endpoint-url", &moto.url])
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .output()
            .expect("runs")
    };
    let output = run(&good);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let store = DynamoStore::new(client, "console");
    let agents = store.agents(&"initech".into()).await.expect("agents");
    assert_eq!(agents.len(), 2);

    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        "{\"tenants\": [\n  {\"id\": \"x\", \"name\": \"X\", \"agents\": [],\n   \"colour\": 1}]}",
    )
    .expect("write");
    let output = run(&bad);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("colour") && stderr.contains("line 3"),
        "{stderr}"
    );
}
