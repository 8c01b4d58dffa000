//! Short names for what a WebAssembly module imports and exports. wasm-bindgen names each
//! function the console's WASM imports from its JavaScript glue `__wbg_NAME_HASH`, with
//! sixteen hex digits no compressor can shrink, and there are about two hundred of them,
//! each written once in the WASM and once in the glue; the functions the glue calls have
//! long names too (`wasm_bindgen__convert__closures_____invoke__HASH`, …). Here they
//! become `a`, `b`, … `Z`, `ab`, …: only the import and export sections change, the rest
//! of the module stays as it is, byte for byte.

use std::collections::BTreeSet;

/// A module with names shortened, and each rename (old name, new name), in the order of
/// the imports and of the exports.
#[derive(Debug)]
pub struct Shortened {
    pub wasm: Vec<u8>,
    pub imports: Vec<(String, String)>,
    pub exports: Vec<(String, String)>,
}

const HEADER: &[u8] = b"\0asm\x01\0\0\0";
const IMPORT_SECTION: u8 = 2;
const EXPORT_SECTION: u8 = 7;
const FUNCTION: u8 = 0;
const TABLE: u8 = 1;
const MEMORY: u8 = 2;
const GLOBAL: u8 = 3;
const TAG: u8 = 4;

/// The names of what `wasm` exports.
pub fn exports(wasm: &[u8]) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for (id, content) in sections(wasm)? {
        if id == EXPORT_SECTION {
            let mut reader = Reader::new(content);
            for _ in 0..reader.number()? {
                names.push(reader.name()?.to_owned());
                reader.export_description()?;
            }
        }
    }
    Ok(names)
}

/// Renames every function `wasm` imports from `module`, and the exports named in
/// `exports`; its other imports and exports keep their names, which no new name takes.
pub fn shorten(wasm: &[u8], module: &str, exports: &[String]) -> Result<Shortened, String> {
    let mut out = HEADER.to_vec();
    let mut imports = Vec::new();
    let mut renamed_exports = Vec::new();
    for (id, content) in sections(wasm)? {
        let content = match id {
            IMPORT_SECTION => imports_renamed(content, module, &mut imports)?,
            EXPORT_SECTION => exports_renamed(content, exports, &mut renamed_exports)?,
            _ => content.to_vec(),
        };
        out.push(id);
        write_number(&mut out, content.len() as u64);
        out.extend_from_slice(&content);
    }
    Ok(Shortened {
        wasm: out,
        imports,
        exports: renamed_exports,
    })
}

/// The module's sections in order: each one's id and content.
fn sections(wasm: &[u8]) -> Result<Vec<(u8, &[u8])>, String> {
    if !wasm.starts_with(HEADER) {
        return Err("not a WebAssembly module (version 1)".to_owned());
    }
    let mut reader = Reader::new(wasm);
    reader.at = HEADER.len();
    let mut sections = Vec::new();
    while !reader.done() {
        let id = reader.byte()?;
        let size = reader.number()?;
        sections.push((id, reader.take(size)?));
    }
    Ok(sections)
}

/// The import section with the functions of `module` renamed, the renames added to
/// `renames`.
fn imports_renamed(
    section: &[u8],
    module: &str,
    renames: &mut Vec<(String, String)>,
) -> Result<Vec<u8>, String> {
    let mut entries = Vec::new();
    let mut reader = Reader::new(section);
    for _ in 0..reader.number()? {
        let from = reader.name()?;
        let name = reader.name()?;
        let description = reader.import_description()?;
        let rename = from == module && description.first() == Some(&FUNCTION);
        entries.push((from, name, description, rename));
    }
    reader.finished("import")?;
    let kept = entries
        .iter()
        .filter(|(from, _, _, rename)| *from == module && !rename)
        .map(|(_, name, _, _)| *name);
    let mut namer = Namer::new(kept);
    let mut out = Vec::with_capacity(section.len());
    write_number(&mut out, entries.len() as u64);
    for (from, name, description, rename) in entries {
        write_name(&mut out, from);
        write_name(&mut out, &namer.renamed(name, rename, renames));
        out.extend_from_slice(description);
    }
    Ok(out)
}

/// The export section with the exports named in `exports` renamed, the renames added to
/// `renames`.
fn exports_renamed(
    section: &[u8],
    exports: &[String],
    renames: &mut Vec<(String, String)>,
) -> Result<Vec<u8>, String> {
    let mut entries = Vec::new();
    let mut reader = Reader::new(section);
    for _ in 0..reader.number()? {
        let name = reader.name()?;
        let description = reader.export_description()?;
        entries.push((name, description, exports.iter().any(|e| e == name)));
    }
    reader.finished("export")?;
    let kept = entries
        .iter()
        .filter(|(_, _, rename)| !rename)
        .map(|(name, _, _)| *name);
    let mut namer = Namer::new(kept);
    let mut out = Vec::with_capacity(section.len());
    write_number(&mut out, entries.len() as u64);
    for (name, description, rename) in entries {
        write_name(&mut out, &namer.renamed(name, rename, renames));
        out.extend_from_slice(description);
    }
    Ok(out)
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

fn write_number(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

fn write_name(out: &mut Vec<u8>, name: &str) {
    write_number(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
}

/// Reads a module's bytes in order.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn finished(&self, section: &str) -> Result<(), String> {
        if self.done() {
            Ok(())
        } else {
            Err(format!("the {section} section has bytes after its entries"))
        }
    }

    fn byte(&mut self) -> Result<u8, String> {
        let byte = *self.bytes.get(self.at).ok_or("the module ends too soon")?;
        self.at += 1;
        Ok(byte)
    }

    /// An unsigned LEB128 number.
    fn number(&mut self) -> Result<usize, String> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return usize::try_from(value).map_err(|_| "a number too large".to_owned());
            }
        }
        Err("a number longer than 64 bits".to_owned())
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(length).ok_or("a length too large")?;
        let bytes = self
            .bytes
            .get(self.at..end)
            .ok_or("the module ends too soon")?;
        self.at = end;
        Ok(bytes)
    }

    fn name(&mut self) -> Result<&'a str, String> {
        let length = self.number()?;
        std::str::from_utf8(self.take(length)?).map_err(|_| "a name not in UTF-8".to_owned())
    }

    /// An import's kind and type, as they are.
    fn import_description(&mut self) -> Result<&'a [u8], String> {
        let start = self.at;
        match self.byte()? {
            FUNCTION => {
                self.number()?;
            }
            TABLE => {
                self.byte()?;
                self.limits()?;
            }
            MEMORY => self.limits()?,
            GLOBAL => {
                self.byte()?;
                self.byte()?;
            }
            TAG => {
                self.byte()?;
                self.number()?;
            }
            kind => return Err(format!("an import of unknown kind {kind}")),
        }
        Ok(&self.bytes[start..self.at])
    }

    /// An export's kind and index, as they are.
    fn export_description(&mut self) -> Result<&'a [u8], String> {
        let start = self.at;
        let kind = self.byte()?;
        if kind > TAG {
            return Err(format!("an export of unknown kind {kind}"));
        }
        self.number()?;
        Ok(&self.bytes[start..self.at])
    }

    fn limits(&mut self) -> Result<(), String> {
        let flags = self.byte()?;
        self.number()?;
        if flags & 1 == 1 {
            self.number()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(out: &mut Vec<u8>, id: u8, content: &[u8]) {
        out.push(id);
        write_number(out, content.len() as u64);
        out.extend_from_slice(content);
    }

    /// A module with a type, four imports (two functions of the glue, a memory of the
    /// glue, a function of another module), three exports and a custom section.
    fn module(imports: [&str; 4], exports: [&str; 3]) -> Vec<u8> {
        let mut wasm = HEADER.to_vec();
        section(&mut wasm, 1, &[1, 0x60, 0, 0]);
        let mut content = vec![4];
        for (from, name, description) in [
            ("./c_bg.js", imports[0], &[FUNCTION, 0][..]),
            ("./c_bg.js", imports[1], &[MEMORY, 1, 1, 2]),
            ("./c_bg.js", imports[2], &[FUNCTION, 0]),
            ("./snippet.js", imports[3], &[FUNCTION, 0]),
        ] {
            write_name(&mut content, from);
            write_name(&mut content, name);
            content.extend_from_slice(description);
        }
        section(&mut wasm, IMPORT_SECTION, &content);
        let mut content = vec![3];
        for (name, description) in [
            (exports[0], [FUNCTION, 3]),
            (exports[1], [MEMORY, 0]),
            (exports[2], [FUNCTION, 0]),
        ] {
            write_name(&mut content, name);
            content.extend_from_slice(&description);
        }
        section(&mut wasm, EXPORT_SECTION, &content);
        section(&mut wasm, 0, b"\x04noteanything at all");
        wasm
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
            shorten(&wasm, "./c_bg.js", &["__wbindgen_malloc".to_owned()]).expect("a module");
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
        assert!(shorten(b"<!doctype html>", "./c_bg.js", &[]).is_err());
        let mut cut = module(IMPORTS, EXPORTS);
        cut.truncate(cut.len() - 30);
        assert!(shorten(&cut, "./c_bg.js", &[]).is_err());
        assert!(exports(&cut).is_err());
    }
}
