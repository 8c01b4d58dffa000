//! Short names for what a WebAssembly module imports and exports. wasm-bindgen names each
//! function the console's WASM imports from its JavaScript glue `__wbg_NAME_HASH`, with
//! sixteen hex digits no compressor can shrink, and there are about two hundred of them,
//! each written once in the WASM and once in the glue; the functions the glue calls have
//! long names too (`wasm_bindgen__convert__closures_____invoke__HASH`, …). Here they
//! become `a`, `b`, … `Z`, `ab`, …: only the import and export sections change, the rest
//! of the module stays as it is, byte for byte.

use std::collections::BTreeSet;
use wasm_encoder::{EntityType, ExportKind, ExportSection, ImportSection, Module, RawSection};
use wasmparser::{Parser, Payload, TypeRef};

/// A module with names shortened, and each rename (old name, new name), in the order of
/// the imports and of the exports.
#[derive(Debug)]
pub struct Shortened {
    pub wasm: Vec<u8>,
    pub imports: Vec<(String, String)>,
    pub exports: Vec<(String, String)>,
}

/// The names of what `wasm` exports.
pub fn exports(wasm: &[u8]) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::ExportSection(section) = payload.map_err(unreadable)? {
            for export in section {
                names.push(export.map_err(unreadable)?.name.to_owned());
            }
        }
    }
    Ok(names)
}

/// Renames every function `wasm` imports from `module`, and the exports named in
/// `exports`; leaves out the exports named in `dropped`; its other imports and exports keep
/// their names, which no new name takes.
pub fn shorten(
    wasm: &[u8],
    module: &str,
    exports: &[String],
    dropped: &[String],
) -> Result<Shortened, String> {
    let mut out = Module::new();
    let mut imports = Vec::new();
    let mut renamed_exports = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(unreadable)? {
            Payload::ImportSection(section) => {
                let entries = section
                    .into_imports()
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unreadable)?;
                let renamed = |import: &wasmparser::Import<'_>| {
                    import.module == module && matches!(import.ty, TypeRef::Func(_))
                };
                let kept = entries
                    .iter()
                    .filter(|i| i.module == module && !renamed(i))
                    .map(|i| i.name);
                let mut namer = Namer::new(kept);
                let mut section = ImportSection::new();
                for import in &entries {
                    let name = namer.renamed(import.name, renamed(import), &mut imports);
                    let ty = EntityType::try_from(import.ty)
                        .map_err(|e| format!("an import wasm-encoder cannot write: {e:?}"))?;
                    section.import(import.module, &name, ty);
                }
                out.section(&section);
            }
            Payload::ExportSection(section) => {
                let entries = section
                    .into_iter()
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unreadable)?;
                let renamed = |name: &str| exports.iter().any(|e| e == name);
                let kept = entries.iter().map(|e| e.name).filter(|n| !renamed(n));
                let mut namer = Namer::new(kept);
                let mut section = ExportSection::new();
                for export in entries
                    .iter()
                    .filter(|e| !dropped.iter().any(|d| d == e.name))
                {
                    let name =
                        namer.renamed(export.name, renamed(export.name), &mut renamed_exports);
                    section.export(&name, ExportKind::from(export.kind), export.index);
                }
                out.section(&section);
            }
            // Every other section as it is, byte for byte (the header is the module's;
            // the code section is copied whole at its start, not function by function).
            Payload::Version { .. } | Payload::End(_) | Payload::CodeSectionEntry(_) => {}
            other => {
                let (id, range) = other
                    .as_section()
                    .ok_or("a part of the module that is not a section")?;
                out.section(&RawSection {
                    id,
                    data: &wasm[range],
                });
            }
        }
    }
    Ok(Shortened {
        wasm: out.finish(),
        imports,
        exports: renamed_exports,
    })
}

fn unreadable(error: wasmparser::BinaryReaderError) -> String {
    format!("not a WebAssembly module wasmparser can read: {error}")
}

/// Gives out short names in turn, none of them a name that is kept.
struct Namer {
    taken: BTreeSet<String>,
    next: usize,
}

impl Namer {
    fn new<'a>(kept: impl Iterator<Item = &'a str>) -> Self {
        Namer {
            taken: kept.map(str::to_owned).collect(),
            next: 0,
        }
    }

    /// `name`'s new name when it is to be renamed (the same as before when it was renamed
    /// already), else `name`.
    fn renamed(&mut self, name: &str, rename: bool, renames: &mut Vec<(String, String)>) -> String {
        if !rename {
            return name.to_owned();
        }
        if let Some((_, new)) = renames.iter().find(|(old, _)| old == name) {
            return new.clone();
        }
        let new = loop {
            let candidate = short_name(self.next);
            self.next += 1;
            if !self.taken.contains(&candidate) {
                break candidate;
            }
        };
        renames.push((name.to_owned(), new.clone()));
        new
    }
}

/// The `index`th short name: `a` … `z`, `A` … `Z`, then two letters and more.
fn short_name(mut index: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = vec![LETTERS[index % LETTERS.len()]];
    index /= LETTERS.len();
    while index > 0 {
        name.push(LETTERS[index % LETTERS.len()]);
        index /= LETTERS.len();
    }
    String::from_utf8(name).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::borrow::Cow;
    use wasm_encoder::{CustomSection, MemoryType, TypeSection};

    /// A module with a type, four imports (two functions of the glue, a memory of the
    /// glue, a function of another module), three exports and a custom section.
    fn module(imports: [&str; 4], exports: [&str; 3]) -> Vec<u8> {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        let memory = MemoryType {
            minimum: 1,
            maximum: Some(2),
            memory64: false,
            shared: false,
            page_size_log2: None,
        };
        let mut section = ImportSection::new();
        section
            .import("./c_bg.js", imports[0], EntityType::Function(0))
            .import("./c_bg.js", imports[1], memory)
            .import("./c_bg.js", imports[2], EntityType::Function(0))
            .import("./snippet.js", imports[3], EntityType::Function(0));
        module.section(&section);
        let mut section = ExportSection::new();
        section
            .export(exports[0], ExportKind::Func, 3)
            .export(exports[1], ExportKind::Memory, 0)
            .export(exports[2], ExportKind::Func, 0);
        module.section(&section);
        module.section(&CustomSection {
            name: Cow::Borrowed("note"),
            data: Cow::Borrowed(b"anything at all"),
        });
        module.finish()
    }

    const IMPORTS: [&str; 4] = [
        "__wbg_body_5f971cbc6950ca4f",
        "memory",
        "__wbg_close_294d3f727cb7a844",
        "__wbg_run_0123456789abcdef",
    ];
    const EXPORTS: [&str; 3] = ["a", "memory", "__wbindgen_malloc"];

    #[test]
    fn the_glue_functions_and_the_exports_asked_for_get_short_names_and_nothing_else_changes() {
        let wasm = module(IMPORTS, EXPORTS);
        assert_eq!(exports(&wasm).expect("a module"), EXPORTS);
        let shortened =
            shorten(&wasm, "./c_bg.js", &["__wbindgen_malloc".to_owned()], &[]).expect("a module");
        assert_eq!(
            shortened.wasm,
            module(
                ["a", "memory", "b", "__wbg_run_0123456789abcdef"],
                ["a", "memory", "b"]
            )
        );
        let pairs = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(old, new)| ((*old).to_owned(), (*new).to_owned()))
                .collect()
        };
        assert_eq!(
            shortened.imports,
            pairs(&[
                ("__wbg_body_5f971cbc6950ca4f", "a"),
                ("__wbg_close_294d3f727cb7a844", "b"),
            ])
        );
        assert_eq!(
            shortened.exports,
            pairs(&[("__wbindgen_malloc", "b")]),
            "a kept export keeps its name to itself"
        );
    }

    #[test]
    fn a_dropped_export_is_left_out_and_the_others_stay() {
        let wasm = module(IMPORTS, EXPORTS);
        let dropped =
            shorten(&wasm, "./c_bg.js", &[], &["__wbindgen_malloc".to_owned()]).expect("a module");
        assert_eq!(exports(&dropped.wasm).expect("a module"), ["a", "memory"]);
        assert!(dropped.exports.is_empty());
    }

    #[test]
    fn short_names_are_letters_and_never_repeat() {
        assert_eq!(short_name(0), "a");
        assert_eq!(short_name(51), "Z");
        assert_eq!(short_name(52), "ab");
        let names: BTreeSet<String> = (0..3000).map(short_name).collect();
        assert_eq!(names.len(), 3000);
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_alphabetic()))
        );
    }

    #[test]
    fn what_is_not_a_whole_module_is_refused() {
        assert!(shorten(b"<!doctype html>", "./c_bg.js", &[], &[]).is_err());
        let mut cut = module(IMPORTS, EXPORTS);
        cut.truncate(cut.len() - 30);
        assert!(shorten(&cut, "./c_bg.js", &[], &[]).is_err());
        assert!(exports(&cut).is_err());
    }
}
