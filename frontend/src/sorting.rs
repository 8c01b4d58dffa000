//! Putting the console's lists in order and matching their text, without the weight:
//! every list is sorted through one shared routine ([`stable_sort_by`]), and text is
//! folded to lower case by the browser ([`lowercase`]).
//!
//! Why: the standard library's stable sort is compiled anew for every element type and
//! comparison (a few KB of WASM each), and `str::to_lowercase` brings Rust's Unicode
//! case tables (some 12 KB). Sorting positions instead of elements needs the sort once;
//! the browser already has the tables.

use std::cmp::Ordering;

/// The positions `0..len` in the order `compare` puts them; equal ones keep their order.
/// Not generic, so the sort behind it is compiled once for the whole console.
fn stable_order(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    // Ties broken by position make the (smaller) unstable sort give the stable order.
    order.sort_unstable_by(|a, b| compare(*a, *b).then(a.cmp(b)));
    order
}

/// Sorts `items` by `compare`, keeping equal items in their order, as `slice::sort_by`
/// does.
pub fn stable_sort_by<T>(items: &mut Vec<T>, compare: impl Fn(&T, &T) -> Ordering) {
    let order = stable_order(items.len(), &|a, b| compare(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

/// Whether `part` occurs in `text`, as `str::contains` says.
///
/// Not `str::contains`: its searcher can fail with a message that prints a character
/// with `{:?}`, which brings Rust's escaping of strings and its Unicode tables (some
/// 4 KB) into the WASM. Comparing bytes finds the same: UTF-8 text holds another only
/// where their bytes match.
pub fn contains(text: &str, part: &str) -> bool {
    let (text, part) = (text.as_bytes(), part.as_bytes());
    part.is_empty() || text.windows(part.len()).any(|window| window == part)
}

/// `text` in lower case by the full Unicode rules (as `str::to_lowercase`), done by the
/// browser.
pub fn lowercase(text: &str) -> String {
    js_sys::JsString::from(text).to_lower_case().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn equal_items_keep_their_order() {
        let mut items = vec![(2, "b"), (1, "a"), (2, "a"), (1, "b"), (0, "c")];
        stable_sort_by(&mut items, |x, y| x.0.cmp(&y.0));
        assert_eq!(items, [(0, "c"), (1, "a"), (1, "b"), (2, "b"), (2, "a")]);
    }

    #[wasm_bindgen_test]
    fn contains_finds_what_str_contains_finds() {
        for (text, part) in [
            ("ann lee", "lee"),
            ("ann lee", "ann lee"),
            ("ann lee", ""),
            ("", ""),
            ("", "a"),
            ("ann", "anne"),
            ("élodie", "lo"),
            ("élodie", "e"),
            ("application/json; charset=utf-8", "json"),
            ("text/html", "json"),
        ] {
            assert_eq!(contains(text, part), text.contains(part), "{text} / {part}");
        }
    }

    #[wasm_bindgen_test]
    fn lower_case_follows_unicode_like_rust() {
        for text in ["Ann Lee", "ÉLODIE", "ΟΔΥΣΣΕΥΣ", "İstanbul", "ß", ""] {
            assert_eq!(lowercase(text), text.to_lowercase(), "{text}");
        }
    }
}
