//! The JavaScript classes wasm-bindgen writes into the console's glue for wasm-streams
//! (`IntoUnderlyingSource`, `IntoUnderlyingSink`, `IntoUnderlyingByteSource`), taken out
//! with the WASM exports only they call. Leptos turns on server_fn's `browser` feature
//! whatever the app, and that feature brings wasm-streams, whose `#[wasm_bindgen]` classes
//! are exported from the WASM and so kept by the linker, used or not; the console has no
//! server functions and never makes a stream. Taking them out: about 1.6 KB less after
//! brotli (1.3 KB of the WASM, 0.3 KB of the glue).

/// The classes taken out of the glue.
pub const CLASSES: [&str; 3] = [
    "IntoUnderlyingByteSource",
    "IntoUnderlyingSink",
    "IntoUnderlyingSource",
];

/// The glue without [`CLASSES`]: each class's declaration, its finalization registry and
/// its `Symbol.dispose` line. A class the glue does not declare is left as it is (a later
/// Leptos may not bring it); one declared in a shape this does not know, or still named
/// once taken out, stops the build.
pub fn without_classes(glue: &str) -> Result<String, String> {
    let mut glue = glue.to_owned();
    for class in CLASSES {
        let declaration = format!("export class {class} {{\n");
        let Some(start) = glue.find(&declaration) else {
            continue;
        };
        let end = glue[start..]
            .find("\n}\n")
            .map(|at| start + at + 3)
            .ok_or_else(|| format!("the glue's class {class} has no end wasm-bindgen writes"))?;
        glue.replace_range(start..end, "");
        let dispose = format!(
            "if (Symbol.dispose) {class}.prototype[Symbol.dispose] = {class}.prototype.free;\n"
        );
        glue = glue.replacen(&dispose, "", 1);
        let registry = format!("const {class}Finalization = ");
        if let Some(start) = glue.find(&registry) {
            let end = glue[start..]
                .find(";\n")
                .map(|at| start + at + 2)
                .ok_or_else(|| format!("the glue's {class}Finalization has no end"))?;
            glue.replace_range(start..end, "");
        }
        if glue.contains(class) {
            return Err(format!(
                "the glue still names {class} once its class is taken out: has wasm-bindgen \
                 changed its glue?"
            ));
        }
    }
    Ok(glue)
}

/// True when `export`, an export of the WASM, is one of [`CLASSES`]' (wasm-bindgen names
/// them after the class in lower case: `intounderlyingsource_pull`,
/// `__wbg_intounderlyingsource_free`).
pub fn is_classes_export(export: &str) -> bool {
    CLASSES
        .iter()
        .any(|class| export.contains(&class.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The glue's shape, as wasm-bindgen 0.2 writes it, around a class of the console.
    const GLUE: &str = "export class IntoUnderlyingSink {\n    __destroy_into_raw() {\n        IntoUnderlyingSinkFinalization.unregister(this);\n    }\n    write(chunk) {\n        return wasm.intounderlyingsink_write(this.__wbg_ptr, chunk);\n    }\n}\nif (Symbol.dispose) IntoUnderlyingSink.prototype[Symbol.dispose] = IntoUnderlyingSink.prototype.free;\n\nexport class Kept {\n    run() {}\n}\nfunction f() {}\nconst IntoUnderlyingSinkFinalization = (typeof FinalizationRegistry === 'undefined')\n    ? { register: () => {}, unregister: () => {} }\n    : new FinalizationRegistry(ptr => wasm.__wbg_intounderlyingsink_free(ptr, 1));\nconst KeptFinalization = 1;\n";

    #[test]
    fn a_class_goes_with_its_registry_and_dispose_line_and_nothing_else() {
        let glue = without_classes(GLUE).expect("the shape wasm-bindgen writes");
        assert_eq!(
            glue,
            "\nexport class Kept {\n    run() {}\n}\nfunction f() {}\nconst KeptFinalization = 1;\n"
        );
        assert_eq!(without_classes(&glue).expect("nothing to take"), glue);
    }

    #[test]
    fn a_class_still_named_once_taken_out_stops_the_build() {
        let named = format!("{GLUE}window.x = IntoUnderlyingSink;\n");
        assert!(without_classes(&named).is_err());
        let endless = "export class IntoUnderlyingSource {\n    pull() {}";
        assert!(without_classes(endless).is_err());
    }

    #[test]
    fn the_classes_exports_are_known_by_their_lower_case_names() {
        assert!(is_classes_export("intounderlyingbytesource_pull"));
        assert!(is_classes_export("__wbg_intounderlyingsink_free"));
        assert!(!is_classes_export("__wbindgen_start"));
        assert!(!is_classes_export("memory"));
    }
}
