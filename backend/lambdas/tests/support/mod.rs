//! What the Lambda package's tests share: the SAM template read as YAML, and bearer
//! tokens as the functions' token authority signs them.
#![allow(dead_code)]

use console_domain::Identity;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The repository's root.
pub fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The template, and its resources by logical id.
pub fn resources() -> (Value, BTreeMap<String, Value>) {
    let path = root().join("infra/template.yaml");
    let text = std::fs::read_to_string(&path).expect("infra/template.yaml is readable");
    let template: Value = serde_yaml_ng::from_str(&text).expect("the template is YAML");
    let resources = template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(k, v)| (k.as_str().expect("a logical id").to_owned(), v.clone()))
        .collect();
    (template, resources)
}

/// The text of a scalar or of an intrinsic function (`!Ref X`, `!Sub "…"`, `!GetAtt X.Y`).
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Tagged(tagged) => text(&tagged.value),
        Value::Sequence(items) => items.iter().map(text).collect::<Vec<_>>().join(" "),
        Value::Mapping(map) => map
            .iter()
            .map(|(k, v)| format!("{} {}", text(k), text(v)))
            .collect::<Vec<_>>()
            .join(" "),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

/// A bearer token for `agent` of tenant `acme`, signed with `secret` as the functions'
/// token authority signs it.
pub fn token(secret: &str, agent: &str) -> String {
    console_handlers::TokenAuthority::new(secret.as_bytes())
        .issue(
            &Identity {
                tenant: "acme".into(),
                agent: agent.into(),
            },
            now_ms(),
        )
        .expect("a token")
}
