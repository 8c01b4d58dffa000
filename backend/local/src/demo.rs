//! The demo directory the local server starts with when its store is empty
//! (`demo-directory.json`, also an example of the directory file format): two tenants,
//! one with two functional groups of three agents and a supervisor.

use console_domain::model::{Agent, Tenant};

/// The demo directory's file.
pub const FILE: &str = include_str!("../demo-directory.json");

/// The demo tenants and their agents.
pub fn directory() -> Vec<(Tenant, Vec<Agent>)> {
    console_domain::directory::parse(FILE).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_directory_is_a_valid_directory_file() {
        let directory = console_domain::directory::parse(super::FILE).expect("valid");
        assert_eq!(directory.len(), 2);
        assert_eq!(directory[0].1.len(), 7);
    }
}
