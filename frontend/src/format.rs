//! How times and durations read in the console.

/// A duration as `m:ss`, or `h:mm:ss` past an hour.
pub fn elapsed(ms: i64) -> String {
    let total = (ms.max(0)) / 1000;
    let (hours, minutes, seconds) = (total / 3600, (total / 60) % 60, total % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes}:{seconds:02}")
    }
}

/// A moment as the local `HH:MM`.
pub fn clock_time(ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// A moment as the local `YYYY-MM-DD`.
pub fn date(ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date()
    )
}

/// How long something lasted, in whole minutes ("12 min", "1 h 5 min"); "< 1 min" under
/// a minute.
pub fn lasted(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match (minutes / 60, minutes % 60) {
        (0, 0) => "< 1 min".to_owned(),
        (0, m) => format!("{m} min"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// A count with its thousands grouped by commas ("16,384").
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (at, digit) in digits.chars().enumerate() {
        if at > 0 && (digits.len() - at).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// A count and its noun, singular for one ("1 transcript", "2 transcripts").
pub fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// The Chat tab's number in words: "1 chat requires your response", "2 chats require
/// your response".
pub fn requiring_response(n: usize, questions: usize) -> String {
    let verb = if n == 1 { "requires" } else { "require" };
    let chats = format!("{} {verb} your response", counted(n, "chat", "chats"));
    if questions == 0 {
        return chats;
    }
    let verb = if questions == 1 { "waits" } else { "wait" };
    format!(
        "{chats}; {} {verb} to be taken",
        counted(questions, "question", "questions")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test]
    fn the_chat_tab_s_number_reads_as_people_say_it() {
        assert_eq!(requiring_response(0, 0), "0 chats require your response");
        assert_eq!(requiring_response(1, 0), "1 chat requires your response");
        assert_eq!(requiring_response(2, 0), "2 chats require your response");
        assert_eq!(
            requiring_response(1, 2),
            "1 chat requires your response; 2 questions wait to be taken"
        );
    }

    #[wasm_bindgen_test]
    fn a_count_of_one_takes_the_singular() {
        assert_eq!(counted(0, "chat", "chats"), "0 chats");
        assert_eq!(counted(1, "chat", "chats"), "1 chat");
        assert_eq!(counted(1_200, "chat", "chats"), "1,200 chats");
    }

    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn durations_read_as_minutes_and_seconds() {
        assert_eq!(elapsed(0), "0:00");
        assert_eq!(elapsed(65_000), "1:05");
        assert_eq!(elapsed(3_725_000), "1:02:05");
        assert_eq!(elapsed(-5), "0:00");
    }

    #[wasm_bindgen_test]
    fn how_long_a_chat_lasted_reads_in_minutes() {
        assert_eq!(lasted(59_999), "< 1 min");
        assert_eq!(lasted(12 * 60_000 + 30_000), "12 min");
        assert_eq!(lasted(65 * 60_000), "1 h 5 min");
        assert_eq!(lasted(-1), "< 1 min");
    }

    #[wasm_bindgen_test]
    fn counts_group_their_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(16_384), "16,384");
        assert_eq!(count(1_234_567), "1,234,567");
    }
}
