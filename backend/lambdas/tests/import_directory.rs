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

/// Runs the import function as Lambda runs it, on a stand-in of the Runtime API that
/// hands it `payload` as its one event; returns the path it answered on (`response` or
/// `error`) and what it answered.
fn invoke_function(payload: &str) -> (String, String) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = listener.local_addr().expect("address");
    let mut function = Command::new(env!("CARGO_BIN_EXE_import-directory"))
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "import-directory")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("TABLE_NAME", "console")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the function starts");
    let mut handed = false;
    let answer = loop {
        let (stream, _) = listener.accept().expect("a request");
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).expect("a line") == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().expect("a length");
            }
            head.push_str(&line);
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("the body");
        let path = head
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut stream = reader.into_inner();
        if path.ends_with("/invocation/next") && !handed {
            handed = true;
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("time")
                .as_millis()
                + 30_000;
            let response = format!(
                "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:import-directory\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{payload}",
                payload.len()
            );
            stream.write_all(response.as_bytes()).expect("the event");
        } else if path.contains("/invocation/r1/") {
            let _ = stream.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n");
            let kind = path.rsplit('/').next().unwrap_or_default().to_owned();
            break (kind, String::from_utf8_lossy(&body).into_owned());
        } else {
            panic!("the function asked {path}");
        }
    };
    let _ = function.kill();
    let _ = function.wait();
    answer
}

#[test]
fn the_import_function_names_a_mistake_by_its_path_or_by_the_line_of_the_file_sent_as_text() {
    let document = r#"{"tenants":[{"id":"acme","name":"Acme","agents":[
        {"id":"ann","name":"Ann Lee","group":"sales","role":"boss"}]}]}"#;
    let (kind, answer) = invoke_function(document);
    assert_eq!(kind, "error", "{answer}");
    assert!(
        answer.contains("tenants[0].agents[0].role: unknown variant `boss`")
            && !answer.contains("line"),
        "by its path in the document, never a line of a re-written one: {answer}"
    );
    let as_text = serde_json::json!({ "text": document }).to_string();
    let (kind, answer) = invoke_function(&as_text);
    assert_eq!(kind, "error", "{answer}");
    assert!(
        answer.contains("tenants[0].agents[0].role: ") && answer.contains("line 2"),
        "by its line in the deployer's file: {answer}"
    );
}
