//! Long lists (an agent list of thousands, a chat of ten thousand messages) keep only
//! the rows on show in the page, plus a margin: which rows those are, and how much room
//! the rows left out take above and below them, so that the scroll bar stays true.

/// The rows of a long list that are rendered (`first..end`) and the height in pixels of
/// the rows left out above and below them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Slice {
    pub first: usize,
    pub end: usize,
    pub above: f64,
    pub below: f64,
}

/// The slice of `count` rows of height `row` that lies within `margin` pixels of the
/// view `[top, top + height)`, `top` measured from the list's first row.
pub fn uniform(count: usize, row: f64, top: f64, height: f64, margin: f64) -> Slice {
    let row = row.max(1.0);
    let index = |px: f64| (px / row).max(0.0) as usize;
    let first = index(top - margin).min(count);
    let end = (index(top + height + margin) + 1).clamp(first, count);
    Slice {
        first,
        end,
        above: first as f64 * row,
        below: (count - end) as f64 * row,
    }
}

/// The slice of rows of different heights that lies within `margin` pixels of the view
/// `[top, top + height)`. `starts` holds where each row starts and then where the last
/// one ends (one more entry than rows), in increasing order.
pub fn varied(starts: &[f64], top: f64, height: f64, margin: f64) -> Slice {
    let Some((&total, row_starts)) = starts.split_last() else {
        return Slice::default();
    };
    let count = row_starts.len();
    // The first row that ends below the top of the margin, and the first row that starts
    // below the bottom of the margin.
    let first = starts[1..]
        .partition_point(|end| *end <= top - margin)
        .min(count);
    let end = row_starts
        .partition_point(|start| *start < top + height + margin)
        .max(first);
    Slice {
        first,
        end,
        above: starts[first],
        below: total - starts[end],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn uniform_rows_show_the_view_and_its_margin_and_leave_out_the_rest() {
        // 5,000 rows of 40 px, the view 400 px high scrolled to 2,000 px, 80 px margin.
        let slice = uniform(5_000, 40.0, 2_000.0, 400.0, 80.0);
        assert_eq!((slice.first, slice.end), (48, 63));
        assert_eq!(slice.above, 48.0 * 40.0);
        assert_eq!(slice.below, (5_000.0 - 63.0) * 40.0);
        // At the top, and with fewer rows than fill the view.
        assert_eq!(uniform(5_000, 40.0, -300.0, 400.0, 80.0).first, 0);
        let short = uniform(3, 40.0, 0.0, 800.0, 80.0);
        assert_eq!((short.first, short.end, short.below), (0, 3, 0.0));
        assert_eq!(uniform(0, 40.0, 0.0, 800.0, 80.0), Slice::default());
    }

    #[wasm_bindgen_test]
    fn varied_rows_are_found_by_where_they_start_and_end() {
        // Rows of 10, 30, 10, 50 and 20 px.
        let starts = [0.0, 10.0, 40.0, 50.0, 100.0, 120.0];
        let slice = varied(&starts, 45.0, 10.0, 0.0);
        assert_eq!((slice.first, slice.end), (2, 4), "{slice:?}");
        assert_eq!((slice.above, slice.below), (40.0, 20.0));
        let all = varied(&starts, 0.0, 1_000.0, 0.0);
        assert_eq!((all.first, all.end, all.above, all.below), (0, 5, 0.0, 0.0));
        // Scrolled to the bottom of the view: the last rows.
        let bottom = varied(&starts, 100.0, 20.0, 0.0);
        assert_eq!((bottom.first, bottom.end), (4, 5));
        assert_eq!(varied(&[0.0], 0.0, 100.0, 10.0), Slice::default());
    }
}
