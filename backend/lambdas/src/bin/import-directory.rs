//! `import-directory FILE --table NAME [--endpoint-url URL]`: imports a directory file
//! (tenants, functional groups, agents; see docs/protocol.md) into the DynamoDB table of
//! a deployment, with the AWS credentials and region of the environment.

use anyhow::Context;
use console_store_dynamo::DynamoStore;

const USAGE: &str = "usage: import-directory FILE --table NAME [--endpoint-url URL]";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
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
    let directory =
        console_domain::directory::parse(&text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    let client = aws_sdk_dynamodb::Client::new(&loader.load().await);
    let store = DynamoStore::new(client, &table);
    let (tenants, agents) = console_domain::directory::import(&store, directory)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("Imported {tenants} tenant(s) and {agents} agent(s) into {table}");
    Ok(())
}
