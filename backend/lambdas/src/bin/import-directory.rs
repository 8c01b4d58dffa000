//! Imports a directory (tenants, functional groups, agents; see docs/protocol.md) into
//! the DynamoDB table of a deployment. Two ways to run it:
//!
//! - as a command, `import-directory FILE --table NAME [--endpoint-url URL]`, with the
//!   AWS credentials and region of the environment;
//! - as the deployment's import function, invoked with the directory document as its
//!   event (`aws lambda invoke --payload fileb://directory.json`: a mistake is named by
//!   its path in the document, `tenants[0].agents[3].role`), or with the file's text as
//!   `{"text": "..."}` (a mistake is named by its line and column in the file too); it
//!   imports into `TABLE_NAME` and answers how many tenants and agents it wrote.

use anyhow::Context;
use console_store_dynamo::DynamoStore;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::{Value, json};

const USAGE: &str = "usage: import-directory FILE --table NAME [--endpoint-url URL]";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return function().await;
    }
    let mut args = std::env::args().skip(1);
    let (mut file, mut table, mut endpoint) = (None, None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--table" => table = args.next(),
            "--endpoint-url" => endpoint = args.next(),
            "--help" | "-h" => anyhow::bail!(USAGE),
            other if file.is_none() && !other.starts_with("--") => file = Some(other.to_owned()),
            other => anyhow::bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    let (Some(file), Some(table)) = (file, table) else {
        anyhow::bail!(USAGE);
    };
    let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {file}"))?;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    let client = aws_sdk_dynamodb::Client::new(&loader.load().await);
    let (tenants, agents) = import(&client, &table, &text)
        .await
        .map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    println!("Imported {tenants} tenant(s) and {agents} agent(s) into {table}");
    Ok(())
}

/// The Lambda function: the event is the directory document.
async fn function() -> anyhow::Result<()> {
    console_lambdas::init_logging();
    let table =
        std::env::var("TABLE_NAME").context("the environment variable TABLE_NAME is not set")?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let (client, table) = (client.clone(), table.clone());
        async move {
            let directory = match event.payload {
                Value::Object(ref fields) if fields.len() == 1 && fields.contains_key("text") => {
                    let text = fields["text"].as_str().unwrap_or_default();
                    console_domain::directory::parse(text)
                }
                document => console_domain::directory::parse_value(document),
            }
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let (tenants, agents) = store(&client, &table, directory).await?;
            tracing::info!(tenants, agents, "directory imported");
            Ok::<_, lambda_runtime::Error>(json!({"tenants": tenants, "agents": agents}))
        }
    }))
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Parses and imports a directory file; the error says what is wrong and where.
async fn import(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    text: &str,
) -> anyhow::Result<(usize, usize)> {
    let directory = console_domain::directory::parse(text).map_err(|e| anyhow::anyhow!("{e}"))?;
    store(client, table, directory).await
}

/// Writes a directory read into the table.
async fn store(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    directory: Vec<(console_domain::Tenant, Vec<console_domain::Agent>)>,
) -> anyhow::Result<(usize, usize)> {
    let store = DynamoStore::new(client.clone(), table);
    console_domain::directory::import(&store, directory)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}
