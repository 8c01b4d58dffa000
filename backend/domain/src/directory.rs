//! The directory file: tenants, functional groups and agents in JSON, as a deployer
//! imports them. Every mistake is reported with where it is: JSON syntax and bad values
//! by line and column, duplicates by their path in the file.
//!
//! ```json
//! {"tenants": [{"id": "acme", "name": "Acme Contact Center", "response_target_seconds": 60, "agents": [
//!   {"id": "ann", "name": "Ann Lee", "group": "sales", "role": "agent"},
//!   {"id": "sue", "name": "Sue Grant", "group": "support", "role": "supervisor"}
//! ]}]}
//! ```

use crate::error::DomainError;
use crate::model::{Agent, Tenant};
use crate::ports::Store;
use protocol::{AgentState, Role};
use serde::{Deserialize, Deserializer};
use std::collections::HashSet;

/// An id in the directory: 1 to 64 of `a-z 0-9 . _ -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Slug(String);

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        let valid = !raw.is_empty()
            && raw.len() <= 64
            && raw.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if valid {
            Ok(Slug(raw))
        } else {
            Err(serde::de::Error::custom(format!(
                "invalid id {raw:?}: use 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"
            )))
        }
    }
}

/// A person's or a tenant's name: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Name(String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        let trimmed = raw.trim();
        if trimmed.is_empty()
            || trimmed.chars().count() > 100
            || trimmed.chars().any(char::is_control)
        {
            return Err(serde::de::Error::custom(format!(
                "invalid name {raw:?}: use 1 to 100 characters, no control characters"
            )));
        }
        Ok(Name(trimmed.to_owned()))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAgent {
    id: Slug,
    name: Name,
    group: Slug,
    role: Role,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTenant {
    id: Slug,
    name: Name,
    /// How long a question to a group waits before it is overdue (5 to 3600 s).
    #[serde(default, deserialize_with = "response_target")]
    response_target_seconds: Option<u32>,
    agents: Vec<FileAgent>,
}

fn response_target<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    let seconds = u32::deserialize(deserializer)?;
    if (5..=3600).contains(&seconds) {
        Ok(Some(seconds))
    } else {
        Err(serde::de::Error::custom(format!(
            "invalid response_target_seconds {seconds}: use 5 to 3600"
        )))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectoryFile {
    tenants: Vec<FileTenant>,
}

/// Reads a directory file. Agents start Logged Out.
pub fn parse(text: &str) -> Result<Vec<(Tenant, Vec<Agent>)>, DomainError> {
    let mut json = serde_json::Deserializer::from_str(text);
    let file: DirectoryFile = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        DomainError::BadRequest(format!(
            "the directory file is not valid: {}{}",
            at_path(e.path()),
            e.inner()
        ))
    })?;
    checked(file)
}

/// As [`parse`], for a directory already parsed as JSON (the import function's event):
/// a mistake is reported with its path in the document (such as
/// `tenants[0].agents[3].role`), since no line of the deployer's file is known.
pub fn parse_value(value: serde_json::Value) -> Result<Vec<(Tenant, Vec<Agent>)>, DomainError> {
    let file: DirectoryFile = serde_path_to_error::deserialize(value).map_err(|e| {
        DomainError::BadRequest(format!(
            "the directory is not valid: {}{}",
            at_path(e.path()),
            e.inner()
        ))
    })?;
    checked(file)
}

/// `path: ` for a mistake inside the document, nothing for one at its top.
fn at_path(path: &serde_path_to_error::Path) -> String {
    let path = path.to_string();
    if path == "." {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// The tenants and agents of a file read, refused if an id appears twice.
fn checked(file: DirectoryFile) -> Result<Vec<(Tenant, Vec<Agent>)>, DomainError> {
    let mut tenant_ids = HashSet::new();
    let mut out = Vec::new();
    for (t, tenant) in file.tenants.into_iter().enumerate() {
        if !tenant_ids.insert(tenant.id.0.clone()) {
            return Err(DomainError::BadRequest(format!(
                "tenants[{t}].id: tenant {:?} appears more than once",
                tenant.id.0
            )));
        }
        let mut agent_ids = HashSet::new();
        let mut agents = Vec::new();
        for (a, agent) in tenant.agents.into_iter().enumerate() {
            if !agent_ids.insert(agent.id.0.clone()) {
                return Err(DomainError::BadRequest(format!(
                    "tenants[{t}].agents[{a}].id: agent {:?} appears more than once in tenant {:?}",
                    agent.id.0, tenant.id.0
                )));
            }
            agents.push(Agent {
                tenant: tenant.id.0.as_str().into(),
                id: agent.id.0.as_str().into(),
                name: agent.name.0,
                group: agent.group.0.as_str().into(),
                role: agent.role,
                state: AgentState::LoggedOut,
                state_since: 0,
            });
        }
        out.push((
            Tenant {
                id: tenant.id.0.as_str().into(),
                name: tenant.name.0,
                response_target_ms: tenant
                    .response_target_seconds
                    .map(|seconds| i64::from(seconds) * 1_000),
            },
            agents,
        ));
    }
    Ok(out)
}

/// Imports a parsed directory: creates or updates each tenant and agent. An agent who is
/// already there keeps her current state; agents missing from the file are left as they
/// are. Returns how many tenants and agents were written.
pub async fn import(
    store: &dyn Store,
    directory: Vec<(Tenant, Vec<Agent>)>,
) -> Result<(usize, usize), DomainError> {
    let mut agents_written = 0;
    let tenants = directory.len();
    for (tenant, mut agents) in directory {
        for agent in &mut agents {
            if let Some(existing) = store.agent(&tenant.id, &agent.id).await? {
                agent.state = existing.state;
                agent.state_since = existing.state_since;
            }
        }
        agents_written += agents.len();
        store.put_tenant(&tenant, &agents).await?;
    }
    Ok((tenants, agents_written))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_file_reads_into_tenants_and_agents() {
        let directory = parse(
            r#"{"tenants":[{"id":"acme","name":"Acme","agents":[
                {"id":"ann","name":"Ann Lee","group":"sales","role":"agent"},
                {"id":"sue","name":"Sue Grant","group":"support","role":"supervisor"}]}]}"#,
        )
        .expect("valid");
        assert_eq!(directory.len(), 1);
        assert_eq!(directory[0].1.len(), 2);
        assert_eq!(directory[0].1[1].role, Role::Supervisor);
    }

    #[test]
    fn a_bad_value_is_reported_with_its_line() {
        let error = parse(
            "{\"tenants\":[{\"id\":\"acme\",\"name\":\"Acme\",\"agents\":[\n{\"id\":\"Ann Lee\",\"name\":\"Ann\",\"group\":\"sales\",\"role\":\"agent\"}]}]}",
        )
        .expect_err("invalid id");
        let text = error.to_string();
        assert!(
            text.contains("invalid id \"Ann Lee\"") && text.contains("line 2"),
            "{text}"
        );
    }

    #[test]
    fn unknown_roles_and_fields_are_refused() {
        let role = parse(
            r#"{"tenants":[{"id":"a","name":"A","agents":[{"id":"x","name":"X","group":"g","role":"boss"}]}]}"#,
        );
        assert!(role.expect_err("bad role").to_string().contains("boss"));
        let field = parse(r#"{"tenants":[{"id":"a","name":"A","agents":[],"colour":"red"}]}"#);
        assert!(field.expect_err("bad field").to_string().contains("colour"));
    }

    #[test]
    fn duplicates_are_named_by_their_path() {
        let error = parse(
            r#"{"tenants":[{"id":"a","name":"A","agents":[
                {"id":"x","name":"X","group":"g","role":"agent"},
                {"id":"x","name":"Y","group":"g","role":"agent"}]}]}"#,
        )
        .expect_err("duplicate");
        assert!(
            error.to_string().starts_with("tenants[0].agents[1].id"),
            "{error}"
        );
    }

    #[test]
    fn a_mistake_is_named_by_its_path_and_in_a_file_by_its_line_too() {
        let text = "{\"tenants\":[{\"id\":\"acme\",\"name\":\"Acme\",\"agents\":[\n{\"id\":\"ann\",\"name\":\"Ann\",\"group\":\"sales\",\"role\":\"boss\"}]}]}";
        let in_file = parse(text).expect_err("bad role").to_string();
        assert!(
            in_file.contains("tenants[0].agents[0].role: ") && in_file.contains("line 2"),
            "{in_file}"
        );
        let value: serde_json::Value = serde_json::from_str(text).expect("JSON");
        let in_event = parse_value(value).expect_err("bad role").to_string();
        assert!(
            in_event.contains("tenants[0].agents[0].role: unknown variant `boss`"),
            "{in_event}"
        );
        assert!(
            !in_event.contains("line"),
            "no line of a file it never saw: {in_event}"
        );
        let good: serde_json::Value = serde_json::from_str(
            r#"{"tenants":[{"id":"acme","name":"Acme","agents":[{"id":"ann","name":"Ann","group":"sales","role":"agent"}]}]}"#,
        )
        .expect("JSON");
        assert_eq!(parse_value(good).expect("valid")[0].1.len(), 1);
    }
}
