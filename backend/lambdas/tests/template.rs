//! The SAM template (`infra/template.yaml`) against the code it deploys: the WebSocket
//! routes are the protocol's actions, the HTTP routes are the handler's, each reaches the
//! function built from the right binary, the functions' environment holds only variables
//! the code reads (and all it needs), and the table's keys and TTL are the store's.

mod support;

use console_handlers::http_api::ROUTES;
use console_lambdas::settings::VARIABLES;
use console_local::{Config, start};
use console_store_dynamo::keys;
use serde_yaml_ng::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use support::{resources, root, text};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn of_type<'a>(
    resources: &'a BTreeMap<String, Value>,
    kind: &str,
) -> impl Iterator<Item = (&'a String, &'a Value)> {
    resources
        .iter()
        .filter(move |(_, r)| r["Type"].as_str() == Some(kind))
}

/// The logical id of the API of a protocol type (`WEBSOCKET` or `HTTP`).
fn api(resources: &BTreeMap<String, Value>, protocol: &str) -> String {
    let apis: Vec<&String> = of_type(resources, "AWS::ApiGatewayV2::Api")
        .filter(|(_, r)| r["Properties"]["ProtocolType"].as_str() == Some(protocol))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(apis.len(), 1, "one {protocol} API");
    apis[0].clone()
}

/// The binary a function is built from.
fn binary(resources: &BTreeMap<String, Value>, function: &str) -> String {
    let resource = &resources[function];
    assert_eq!(
        resource["Metadata"]["BuildMethod"].as_str(),
        Some("rust-cargolambda"),
        "{function} is built with cargo-lambda"
    );
    resource["Metadata"]["BuildProperties"]["Binary"]
        .as_str()
        .expect("a binary")
        .to_owned()
}

/// The function an integration or authorizer URI invokes: `…functions/${X.Arn}/invocations`
/// or `!GetAtt X.Arn`.
fn invoked_function(uri: &str) -> String {
    let start = uri
        .find("functions/${")
        .map_or(0, |at| at + "functions/${".len());
    uri[start..]
        .split(['.', '}'])
        .next()
        .expect("a name")
        .to_owned()
}

/// route key → the binary that serves it, for the routes of one API.
fn routes(resources: &BTreeMap<String, Value>, api_id: &str) -> BTreeMap<String, String> {
    of_type(resources, "AWS::ApiGatewayV2::Route")
        .filter(|(_, r)| text(&r["Properties"]["ApiId"]) == api_id)
        .map(|(id, route)| {
            let key = route["Properties"]["RouteKey"]
                .as_str()
                .expect("a route key");
            let target = text(&route["Properties"]["Target"]);
            let integration = target
                .strip_prefix("integrations/${")
                .and_then(|t| t.strip_suffix('}'))
                .unwrap_or_else(|| panic!("{id} targets an integration: {target}"));
            let integration = &resources[integration]["Properties"];
            assert_eq!(integration["IntegrationType"].as_str(), Some("AWS_PROXY"));
            let function = invoked_function(&text(&integration["IntegrationUri"]));
            (key.to_owned(), binary(resources, &function))
        })
        .collect()
}

#[test]
fn every_protocol_action_is_a_websocket_route_to_the_websocket_function() {
    let (_, resources) = resources();
    let ws = api(&resources, "WEBSOCKET");
    assert_eq!(
        resources[&ws]["Properties"]["RouteSelectionExpression"].as_str(),
        Some("$request.body.action"),
        "routes are chosen by the frame's `action`"
    );
    let routes = routes(&resources, &ws);
    let expected: BTreeSet<String> = ["$connect", "$disconnect", "$default"]
        .into_iter()
        .chain(protocol::ClientFrame::ACTIONS)
        .map(str::to_owned)
        .collect();
    assert_eq!(routes.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(
        routes.values().all(|binary| binary == "websocket"),
        "{routes:?}"
    );

    // `$connect` is authorized by the authorizer function, from the `ticket` parameter.
    let connect = of_type(&resources, "AWS::ApiGatewayV2::Route")
        .find(|(_, r)| r["Properties"]["RouteKey"].as_str() == Some("$connect"))
        .map(|(_, r)| r["Properties"].clone())
        .expect("a $connect route");
    assert_eq!(connect["AuthorizationType"].as_str(), Some("CUSTOM"));
    let authorizer = &resources[&text(&connect["AuthorizerId"])]["Properties"];
    assert_eq!(authorizer["AuthorizerType"].as_str(), Some("REQUEST"));
    assert_eq!(
        text(&authorizer["IdentitySource"]),
        "route.request.querystring.ticket"
    );
    let function = invoked_function(&text(&authorizer["AuthorizerUri"]));
    assert_eq!(binary(&resources, &function), "authorizer");
}

#[test]
fn the_http_routes_are_the_handler_s_and_reach_the_http_function() {
    let (_, resources) = resources();
    let http = api(&resources, "HTTP");
    let routes = routes(&resources, &http);
    assert_eq!(
        routes.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        ROUTES.into_iter().collect::<BTreeSet<_>>()
    );
    assert!(
        routes.values().all(|binary| binary == "http-api"),
        "{routes:?}"
    );
    // Paths reach the handler as the routes name them only on the `$default` stage.
    let stages: Vec<String> = of_type(&resources, "AWS::ApiGatewayV2::Stage")
        .filter(|(_, r)| text(&r["Properties"]["ApiId"]) == http)
        .map(|(_, r)| text(&r["Properties"]["StageName"]))
        .collect();
    assert_eq!(stages, ["$default"]);
}

#[tokio::test]
async fn every_listed_http_route_is_served_and_no_other() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = start(Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data.path().to_path_buf(),
        console_dir: data.path().join("no-console"),
        oidc: None,
        lifetimes: Default::default(),
        send_quota: console_domain::service::SEND_QUOTA,
        allowed_hosts: Vec::new(),
    })
    .await
    .expect("starts");
    let status = |method: &str, path: &str| {
        let addr = server.addr;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            stream.write_all(request.as_bytes()).await.expect("write");
            let mut response = String::new();
            stream.read_to_string(&mut response).await.expect("read");
            response[9..12].to_owned()
        }
    };
    for route in ROUTES {
        let (method, path) = route.split_once(' ').expect("METHOD /path");
        let path = path.replace("{chat}", "c1");
        assert_eq!(
            status(method, &path).await,
            "401",
            "{route} asks for a token"
        );
    }
    assert_eq!(status("GET", "/api/nothing-here").await, "404");
    assert_eq!(
        status("DELETE", "/api/me").await,
        "405",
        "a listed path, another method"
    );
    server.stop().await;
}

#[test]
fn the_functions_are_the_crate_s_binaries_with_the_settings_they_read() {
    let (template, resources) = resources();
    let manifest =
        std::fs::read_to_string(root().join("backend/lambdas/Cargo.toml")).expect("manifest");
    let crate_binaries: BTreeSet<String> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|section| {
            let line = section
                .lines()
                .find(|l| l.trim_start().starts_with("name"))?;
            Some(line.split('"').nth(1)?.to_owned())
        })
        .collect();
    let functions: Vec<&String> = of_type(&resources, "AWS::Serverless::Function")
        .map(|(id, _)| id)
        .collect();
    let deployed: BTreeSet<String> = functions.iter().map(|f| binary(&resources, f)).collect();
    assert_eq!(deployed, crate_binaries, "every binary is deployed, once");

    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(text(&globals["Architectures"]), "arm64");
    let global_variables = globals["Environment"]["Variables"].as_mapping();
    for function in functions {
        let properties = &resources[function]["Properties"];
        let mut variables: BTreeSet<String> = global_variables
            .into_iter()
            .chain(properties["Environment"]["Variables"].as_mapping())
            .flat_map(|m| m.keys().map(text))
            .collect();
        variables.remove("RUST_LOG");
        for variable in &variables {
            assert!(
                VARIABLES.contains(&variable.as_str()),
                "{function} is given {variable}, which the code never reads"
            );
        }
        for required in ["TABLE_NAME", "WEBSOCKET_MANAGEMENT_ENDPOINT"] {
            assert!(variables.contains(required), "{function} lacks {required}");
        }
        assert!(
            !variables.contains("TOKEN_SECRET"),
            "no locally signed tokens in AWS"
        );
    }
}

#[test]
fn the_table_has_the_store_s_keys_and_ttl_and_no_index_it_does_not_use() {
    let (template, resources) = resources();
    let tables: Vec<&Value> = of_type(&resources, "AWS::DynamoDB::Table")
        .map(|(_, r)| &r["Properties"])
        .collect();
    assert_eq!(tables.len(), 1, "one table");
    let table = tables[0];
    let schema: Vec<(String, String)> = table["KeySchema"]
        .as_sequence()
        .expect("KeySchema")
        .iter()
        .map(|k| (text(&k["AttributeName"]), text(&k["KeyType"])))
        .collect();
    assert_eq!(
        schema,
        [
            (keys::PK.to_owned(), "HASH".to_owned()),
            (keys::SK.to_owned(), "RANGE".to_owned())
        ]
    );
    for definition in table["AttributeDefinitions"].as_sequence().expect("defs") {
        assert_eq!(text(&definition["AttributeType"]), "S", "string keys");
    }
    assert!(table.get("GlobalSecondaryIndexes").is_none());
    assert!(table.get("LocalSecondaryIndexes").is_none());
    assert_eq!(
        text(&table["TimeToLiveSpecification"]["AttributeName"]),
        keys::EXPIRES
    );
    // On demand unless the deployer provisions capacity, which auto scaling then keeps
    // at 70% of use, for reads and for writes.
    assert_eq!(
        text(&table["BillingMode"]),
        "Provisioned PROVISIONED PAY_PER_REQUEST"
    );
    assert_eq!(
        text(&template["Parameters"]["TableCapacity"]["Default"]),
        "on-demand"
    );
    assert_eq!(
        text(&template["Conditions"]["Provisioned"]),
        "TableCapacity provisioned"
    );
    let mut scaled: Vec<String> =
        of_type(&resources, "AWS::ApplicationAutoScaling::ScalableTarget")
            .map(|(_, r)| text(&r["Properties"]["ScalableDimension"]))
            .collect();
    scaled.sort();
    assert_eq!(
        scaled,
        [
            "dynamodb:table:ReadCapacityUnits",
            "dynamodb:table:WriteCapacityUnits"
        ]
    );
    for (_, policy) in of_type(&resources, "AWS::ApplicationAutoScaling::ScalingPolicy") {
        assert_eq!(text(&policy["Condition"]), "Provisioned");
        assert_eq!(
            text(&policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]),
            "70"
        );
    }
    assert_eq!(
        text(&table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]),
        "true"
    );
    assert_eq!(text(&table["SSESpecification"]["SSEEnabled"]), "true");
}
