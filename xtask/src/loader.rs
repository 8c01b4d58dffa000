//! The console's loader as a file of its own. Trunk writes the script that loads the
//! WASM inline in `index.html`; a Content-Security-Policy then has to name its hash, which
//! changes with every build — a deploy that does not pass the new hash (plain `sam
//! deploy`, a stale `samconfig.toml`) gets a console the browser refuses to start. Moved
//! to `loader-HASH.js` beside it, the script is allowed by `script-src 'self'` whatever
//! its content.

use std::hash::{Hash, Hasher};
use std::path::Path;

/// Moves the one inline module script of `dist/index.html` into `dist/loader-HASH.js`
/// and loads it from there. Nothing to do when there is none (already moved).
pub fn externalize(dist: &Path) -> Result<(), String> {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index)
        .map_err(|e| format!("cannot read {}: {e}", index.display()))?;
    let Some((page, script)) = moved(&html) else {
        return Ok(());
    };
    std::fs::write(dist.join(&script.0), script.1)
        .map_err(|e| format!("cannot write the loader: {e}"))?;
    std::fs::write(&index, page).map_err(|e| format!("cannot write {}: {e}", index.display()))
}

/// The page with its inline module script loaded from a file instead, and that file's
/// name and content; `None` when the page has no inline module script.
fn moved(html: &str) -> Option<(String, (String, String))> {
    let open = ["<script type=module>", "<script type=\"module\">"]
        .iter()
        .find_map(|tag| html.find(tag).map(|at| (at, tag.len())))?;
    let body_start = open.0 + open.1;
    let body_end = body_start + html[body_start..].find("</script>")?;
    let script = &html[body_start..body_end];
    let name = format!("loader-{:016x}.js", content_hash(&[script.as_bytes()]));
    let page = format!(
        "{}<script type=module src=/{name}></script>{}",
        &html[..open.0],
        &html[body_end + "</script>".len()..]
    );
    Some((page, (name, script.to_owned())))
}

/// A hash of a file's content (or of several files' together), to name it by: another
/// content, another name, so that a browser never takes an old file for a new one.
pub fn content_hash(parts: &[&[u8]]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUNK: &str = "<!doctype html><title>Agent Console</title><script type=module>import init from '/c-1.js';\nawait init({ module_or_path: '/c-1_bg.wasm' });</script><link href=/style-2.css rel=stylesheet></head>";

    #[test]
    fn the_inline_loader_moves_to_a_file_named_by_its_content() {
        let (page, (name, script)) = moved(TRUNK).expect("an inline script");
        assert!(
            name.starts_with("loader-") && name.ends_with(".js"),
            "{name}"
        );
        assert_eq!(
            script,
            "import init from '/c-1.js';\nawait init({ module_or_path: '/c-1_bg.wasm' });"
        );
        assert_eq!(
            page,
            format!(
                "<!doctype html><title>Agent Console</title><script type=module src=/{name}></script><link href=/style-2.css rel=stylesheet></head>"
            )
        );
        assert!(moved(&page).is_none(), "nothing inline is left");
        let other = TRUNK.replace("c-1", "c-2");
        assert_ne!(
            moved(&other).expect("inline").1.0,
            name,
            "another build, another name"
        );
    }
}
