//! The console's WASM and its JavaScript glue made smaller once Trunk has built them into
//! `dist/`, with the same behaviour:
//! - the functions the WASM imports from the glue, and those of its exports the glue
//!   calls, get short names in both ([`crate::wasm_names`]): about 5 KB less after
//!   brotli (3 KB of the WASM, 2 KB of the glue);
//! - wasm-streams' classes, which the console never uses, are taken out of the glue and
//!   their exports out of the WASM ([`crate::unused_classes`]), and wasm-opt then removes
//!   the code only those exports reached;
//! - the glue is minified by terser (from npm; Trunk's own minifier cannot read the glue
//!   and leaves it whole): about 2 KB less after brotli;
//! - both files are then named by their content (Trunk names them by the WASM before
//!   wasm-opt, and a deploy serves them as immutable), and `index.html` loads them by
//!   their new names, with their new integrity (SRI) hashes.

use crate::shell::{Env, fail};
use crate::unused_classes;
use crate::wasm_names;
use std::path::Path;
use std::process::{Command, Stdio};

/// The console's binary, as `frontend/index.html` names it to Trunk (`data-bin`).
const BIN: &str = "console-frontend";

/// Shrinks the console Trunk has just built in `dist`.
pub fn shrink(env: &Env, dist: &Path) -> Result<(), String> {
    println!(
        "\n==> Shortening the names between the WASM and its JS glue, minifying the glue (terser)"
    );
    let built = built_name(dist)?;
    let (old_glue, old_wasm) = (dist.join(format!("{built}.js")), wasm_path(dist, &built));
    let old_hashes = integrity(&[&old_glue, &old_wasm])?;

    let wasm = read(&old_wasm)?;
    let glue = String::from_utf8(read(&old_glue)?).map_err(|_| "the JS glue is not UTF-8")?;
    let glue = unused_classes::without_classes(&glue)?;
    let in_wasm = |e: String| format!("{}: {e}", old_wasm.display());
    let all_exports = wasm_names::exports(&wasm).map_err(in_wasm)?;
    let dropped = exports_unnamed(&glue, &all_exports);
    let exports = exports_called(&glue, all_exports);
    let mut shortened = wasm_names::shorten(&wasm, &format!("./{BIN}_bg.js"), &exports, &dropped)
        .map_err(in_wasm)?;
    if shortened.imports.is_empty() {
        return fail(format!(
            "{} imports nothing from ./{BIN}_bg.js: has wasm-bindgen changed how it names its glue?",
            old_wasm.display()
        ));
    }
    if !dropped.is_empty() {
        write(&old_wasm, &shortened.wasm)?;
        shortened.wasm = without_dead_code(env, &old_wasm)?;
    }
    let glue = glue_renamed(&glue, &shortened.imports, &shortened.exports)?;
    write(&old_glue, glue.as_bytes())?;
    let glue = minified(env, &old_glue)?;

    let name = format!(
        "{BIN}-{:016x}",
        crate::loader::content_hash(&[&shortened.wasm, glue.as_bytes()])
    );
    let (new_glue, new_wasm) = (dist.join(format!("{name}.js")), wasm_path(dist, &name));
    remove(&old_glue)?;
    remove(&old_wasm)?;
    write(&new_glue, glue.as_bytes())?;
    write(&new_wasm, &shortened.wasm)?;
    let new_hashes = integrity(&[&new_glue, &new_wasm])?;

    let index = dist.join("index.html");
    let html = String::from_utf8(read(&index)?).map_err(|_| "index.html is not UTF-8")?;
    let page = page_renewed(
        &html,
        &[
            (&built, &name),
            (&old_hashes[0], &new_hashes[0]),
            (&old_hashes[1], &new_hashes[1]),
        ],
    )?;
    write(&index, page.as_bytes())
}

/// The name Trunk gave the console's files: `console-frontend-HASH` of
/// `console-frontend-HASH_bg.wasm`.
fn built_name(dist: &Path) -> Result<String, String> {
    let entries =
        std::fs::read_dir(dist).map_err(|e| format!("cannot read {}: {e}", dist.display()))?;
    let names: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|file| Some(file.strip_suffix("_bg.wasm")?.to_owned()))
        .filter(|name| name.starts_with(BIN))
        .collect();
    match &names[..] {
        [name] => Ok(name.clone()),
        _ => fail(format!(
            "expected one {BIN}…_bg.wasm in {}, found {names:?}",
            dist.display()
        )),
    }
}

fn wasm_path(dist: &Path, name: &str) -> std::path::PathBuf {
    dist.join(format!("{name}_bg.wasm"))
}

/// The exports of the WASM that the glue calls as `wasm.NAME`, and names in no other way
/// (a function of the glue's own may have the same name: `NAME(…)`): those can be
/// renamed in both.
fn exports_called(glue: &str, exports: Vec<String>) -> Vec<String> {
    exports
        .into_iter()
        .filter(|name| {
            let found = whole_words(glue, name);
            let called = |at: &usize| glue[..*at].ends_with("wasm.");
            let own_function = |at: &usize| {
                !glue[..*at].ends_with('.') && glue[*at + name.len()..].starts_with('(')
            };
            found.iter().any(called) && found.iter().all(|at| called(at) || own_function(at))
        })
        .collect()
}

/// The exports of [`unused_classes`] the glue no longer names once those are out: to be
/// left out of the WASM. (Other exports the glue does not name, `main` among them, stay.)
fn exports_unnamed(glue: &str, exports: &[String]) -> Vec<String> {
    exports
        .iter()
        .filter(|name| unused_classes::is_classes_export(name))
        .filter(|name| whole_words(glue, name).is_empty())
        .cloned()
        .collect()
}

/// The WASM in `path` optimized again by wasm-opt as Trunk ran it (the level and
/// parameters `frontend/index.html` gives Trunk), which removes the code that only the
/// exports left out reached.
fn without_dead_code(env: &Env, path: &Path) -> Result<Vec<u8>, String> {
    let page = env.root.join("frontend").join("index.html");
    let page = String::from_utf8(read(&page)?).map_err(|_| "index.html is not UTF-8")?;
    let level = attribute(&page, "data-wasm-opt").ok_or("index.html gives no data-wasm-opt")?;
    let params = attribute(&page, "data-wasm-opt-params").unwrap_or_default();
    let mut wasm_opt = Command::new("wasm-opt");
    wasm_opt
        .arg(format!("-O{level}"))
        .args(params.split_whitespace())
        .args(WASM_FEATURES)
        .arg(path)
        .arg("-o")
        .arg(path);
    output(env, wasm_opt)?;
    read(path)
}

/// The WebAssembly features rustc uses for `wasm32-unknown-unknown` by default: Trunk's
/// wasm-opt read them from the module's `target_features` section, which it then
/// stripped, so a second run is told them.
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
];

/// The value of the first `name="…"` in `html`.
fn attribute<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let start = html.find(&format!(" {name}=\""))? + name.len() + 3;
    let length = html[start..].find('"')?;
    Some(&html[start..start + length])
}

/// The glue with each import's key and each call of an export (`wasm.NAME`) renamed. Each import must
/// be there exactly once, as the key of its function: anything else means wasm-bindgen
/// wrote the glue in a way this does not know, and the build stops rather than ship a
/// console that cannot start.
fn glue_renamed(
    glue: &str,
    imports: &[(String, String)],
    exports: &[(String, String)],
) -> Result<String, String> {
    let mut edits = Vec::new();
    for (old, new) in imports {
        let found = whole_words(glue, old);
        match found[..] {
            [at] if glue[at + old.len()..].starts_with(':') => edits.push((at, old, new)),
            _ => {
                return fail(format!(
                    "the JS glue names the import {old} {} times, not once as a key: has \
                     wasm-bindgen changed its glue?",
                    found.len()
                ));
            }
        }
    }
    for (old, new) in exports {
        let called = whole_words(glue, old)
            .into_iter()
            .filter(|&at| glue[..at].ends_with("wasm."));
        edits.extend(called.map(|at| (at, old, new)));
    }
    edits.sort();
    let mut out = String::with_capacity(glue.len());
    let mut from = 0;
    for (at, old, new) in edits {
        out.push_str(&glue[from..at]);
        out.push_str(new);
        from = at + old.len();
    }
    out.push_str(&glue[from..]);
    Ok(out)
}

/// Where `name` is in `glue` as a whole name (not a part of a longer one).
fn whole_words(glue: &str, name: &str) -> Vec<usize> {
    let part_of_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    glue.match_indices(name)
        .map(|(at, _)| at)
        .filter(|&at| {
            !glue[..at].ends_with(part_of_name)
                && !glue[at + name.len()..].starts_with(part_of_name)
        })
        .collect()
}

/// The page with each old text (a file name, an integrity hash) replaced by the new one;
/// an old text the page does not hold is an error.
fn page_renewed(html: &str, replacements: &[(&str, &str)]) -> Result<String, String> {
    let mut page = html.to_owned();
    for (old, new) in replacements {
        if !page.contains(old) {
            return fail(format!("index.html does not hold {old}"));
        }
        page = page.replace(old, new);
    }
    Ok(page)
}

/// The glue in `path`, minified: an ES module, compressed and its local names mangled
/// (terser never renames properties, so the import keys and exports stay as they are).
fn minified(env: &Env, path: &Path) -> Result<String, String> {
    let mut terser = Command::new(&env.terser);
    terser
        .arg(path)
        .args(["--module", "--compress", "--mangle"]);
    output(env, terser)
}

/// Each file's Subresource Integrity hash, as Trunk writes it (`sha384-BASE64`).
fn integrity(files: &[&Path]) -> Result<Vec<String>, String> {
    use base64::Engine;
    use sha2::Digest;
    files
        .iter()
        .map(|file| {
            let digest = sha2::Sha384::digest(read(file)?);
            Ok(format!(
                "sha384-{}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ))
        })
        .collect()
}

/// What `command` prints, with our tools on PATH; its errors go to the terminal.
fn output(env: &Env, mut command: Command) -> Result<String, String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let result = command
        .env("PATH", &env.path)
        .current_dir(&env.root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if !result.status.success() {
        return fail(format!("{program} failed ({})", result.status));
    }
    String::from_utf8(result.stdout).map_err(|_| format!("{program} printed what is not UTF-8"))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn remove(path: &Path) -> Result<(), String> {
    std::fs::remove_file(path).map_err(|e| format!("cannot remove {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLUE: &str = "let wasm;\nfunction __wbg_get_imports() {\n    const import0 = {\n        __proto__: null,\n        __wbg_body_5f971cbc6950ca4f: function(arg0) {\n            return arg0.body;\n        },\n        __wbg___wbg_body_5f971cbc6950ca4f: function(arg0, arg1) {\n            wasm.__wbindgen_free(arg0, arg1);\n        },\n    };\n}\nfunction free(a, b) { wasm.__wbindgen_free(a, b); wasm.__wbindgen_free_all(); }\nfunction invoke__h1(a) { wasm.invoke__h1(a); }\nconst ok = wasm.__wbindgen_start, main = instance.exports.main, { invoke__h2 } = wasm;\nwasm.invoke__h2(); wasm.memory; 'memory';";

    fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(old, new)| ((*old).to_owned(), (*new).to_owned()))
            .collect()
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn only_the_exports_the_glue_calls_as_wasm_dot_name_are_renamed() {
        let exports = names(&[
            "__wbindgen_free",
            "__wbindgen_start",
            "main",
            "invoke__h1",
            "invoke__h2",
            "memory",
        ]);
        assert_eq!(
            exports_called(GLUE, exports),
            names(&["__wbindgen_free", "__wbindgen_start", "invoke__h1"])
        );
    }

    #[test]
    fn only_the_unused_classes_exports_the_glue_does_not_name_are_left_out() {
        let exports = names(&[
            "__wbindgen_free",
            "memory",
            "main",
            "__wbindgen_new_thing",
            "intounderlyingsink_write",
            "intounderlyingsink_free",
        ]);
        let glue = format!("{GLUE}\nwasm.intounderlyingsink_free(0);");
        assert_eq!(
            exports_unnamed(&glue, &exports),
            names(&["intounderlyingsink_write"])
        );
    }

    #[test]
    fn each_import_key_and_each_call_of_an_export_is_renamed_and_no_other_text() {
        let renamed = glue_renamed(
            GLUE,
            &pairs(&[
                ("__wbg___wbg_body_5f971cbc6950ca4f", "b"),
                ("__wbg_body_5f971cbc6950ca4f", "a"),
            ]),
            &pairs(&[("__wbindgen_free", "c"), ("invoke__h1", "d")]),
        )
        .expect("both keys are there");
        assert_eq!(
            renamed,
            GLUE.replace("__wbg___wbg_body_5f971cbc6950ca4f", "b")
                .replace("__wbg_body_5f971cbc6950ca4f", "a")
                .replace("wasm.__wbindgen_free(", "wasm.c(")
                .replace("wasm.invoke__h1(", "wasm.d(")
        );
        assert!(renamed.contains("function invoke__h1(a) { wasm.d(a); }"));
        assert!(renamed.contains("        a: function(arg0) {\n            return arg0.body;"));
        assert!(renamed.contains("wasm.__wbindgen_free_all()"));
    }

    #[test]
    fn an_import_the_glue_does_not_name_once_as_a_key_stops_the_build() {
        let renamed = |glue: &str, old: &str| glue_renamed(glue, &pairs(&[(old, "a")]), &[]);
        assert!(renamed(GLUE, "__wbg_head_0123456789abcdef").is_err());
        let twice = format!("{GLUE}\nimport0.__wbg_body_5f971cbc6950ca4f = null;");
        assert!(renamed(&twice, "__wbg_body_5f971cbc6950ca4f").is_err());
        let not_a_key = GLUE.replace(
            "__wbg_body_5f971cbc6950ca4f:",
            "__wbg_body_5f971cbc6950ca4f =",
        );
        assert!(renamed(&not_a_key, "__wbg_body_5f971cbc6950ca4f").is_err());
    }

    #[test]
    fn trunk_s_wasm_opt_settings_are_read_from_the_page() {
        let page = r#"<link data-trunk rel="rust" data-wasm-opt="s" data-wasm-opt-params="--converge --low-memory-unused" />"#;
        assert_eq!(attribute(page, "data-wasm-opt"), Some("s"));
        assert_eq!(
            attribute(page, "data-wasm-opt-params"),
            Some("--converge --low-memory-unused")
        );
        assert_eq!(attribute(page, "data-bin"), None);
    }

    #[test]
    fn the_page_loads_the_files_by_their_new_names_and_hashes() {
        let html = "<script type=module>import init from '/c-1.js';await init({ module_or_path: '/c-1_bg.wasm' })</script><link href=/c-1.js integrity=sha384-OLDJS rel=modulepreload><link href=/c-1_bg.wasm integrity=sha384-OLDWASM rel=preload>";
        let page = page_renewed(
            html,
            &[
                ("c-1", "c-2"),
                ("sha384-OLDJS", "sha384-NEWJS"),
                ("sha384-OLDWASM", "sha384-NEWWASM"),
            ],
        )
        .expect("all there");
        assert_eq!(
            page,
            "<script type=module>import init from '/c-2.js';await init({ module_or_path: '/c-2_bg.wasm' })</script><link href=/c-2.js integrity=sha384-NEWJS rel=modulepreload><link href=/c-2_bg.wasm integrity=sha384-NEWWASM rel=preload>"
        );
        assert!(page_renewed(html, &[("sha384-OTHER", "sha384-NEW")]).is_err());
    }
}
