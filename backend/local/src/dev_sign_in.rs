//! The local server's development sign-in, at [`DEV_SIGN_IN_PAGE`]: the demo directory,
//! a button per agent; choosing one signs in as her and opens the console. It stands
//! where an identity provider's page stands in AWS (Cognito's hosted UI), outside the
//! console: the console sent to agents carries no development code, and on the local
//! server goes here when nobody is signed in, as it goes to the provider in AWS.
//!
//! A page, its script and its few style rules (`dev_sign_in/`), served as they are; the
//! page takes the console's stylesheet from the built console's `index.html`, so both
//! look the same.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use protocol::http::DEV_SIGN_IN_PAGE;
use std::path::Path;

const PAGE: &str = include_str!("dev_sign_in/page.html");
const SCRIPT: &str = include_str!("dev_sign_in/sign_in.js");
const STYLE: &str = include_str!("dev_sign_in/sign_in.css");

/// The page and its script, for the console built in `console_dir`: the page is made
/// once, as the server starts (as its Content-Security-Policy is, from the same file).
pub fn routes(console_dir: &Path) -> Router {
    let index = std::fs::read_to_string(console_dir.join("index.html")).unwrap_or_default();
    let page = Html(with_stylesheet(&index));
    Router::new()
        .route(DEV_SIGN_IN_PAGE, get(move || async move { page }))
        .route(&format!("{DEV_SIGN_IN_PAGE}.js"), get(script))
        .route(&format!("{DEV_SIGN_IN_PAGE}.css"), get(style))
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
}

async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}

/// The page with the console's stylesheet link (as Trunk wrote it into `index`, with its
/// integrity hash); without one when the console is not built.
fn with_stylesheet(index: &str) -> String {
    let link = index
        .match_indices("<link")
        .filter_map(|(start, _)| Some(&index[start..start + index[start..].find('>')? + 1]))
        .find(|tag| tag.contains("rel=stylesheet") || tag.contains("rel=\"stylesheet\""))
        .unwrap_or_default();
    PAGE.replace("<!--stylesheet-->", link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_links_the_console_s_stylesheet_and_its_script() {
        let index = r#"<head><link rel="modulepreload" href="/c.js"><link rel="stylesheet" href="/style-1.css" integrity="sha384-A"/></head>"#;
        let page = with_stylesheet(index);
        assert!(
            page.contains(r#"<link rel="stylesheet" href="/style-1.css" integrity="sha384-A"/>"#)
        );
        assert!(!page.contains("modulepreload"));
        assert!(page.contains(r#"<script type="module" src="/dev/sign-in.js"></script>"#));
        let unbuilt = with_stylesheet("");
        assert!(unbuilt.contains(r#"<link rel="stylesheet" href="/dev/sign-in.css" />"#));
        assert_eq!(unbuilt.matches("<link").count(), 1);
    }
}
