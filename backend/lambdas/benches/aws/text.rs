//! Numbers as the report writes them.

/// `12345` as `12,345`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// An amount in dollars, to the cent, with thousands separated: `$10,001.27`.
pub fn dollars(amount: f64) -> String {
    let cents = (amount * 100.0).round() as u64;
    format!("${}.{:02}", thousands((cents / 100) as usize), cents % 100)
}

/// A unit price with all its digits, and at least cents: `$0.625`, `$1.00`.
pub fn price(amount: f64) -> String {
    let plain = amount.to_string();
    match plain.split_once('.') {
        Some((_, decimals)) if decimals.len() >= 2 => format!("${plain}"),
        _ => format!("${amount:.2}"),
    }
}

/// Request units: whole or halves, as they are (`7`, `0.5`, `1,250.5`).
pub fn units(amount: f64) -> String {
    let whole = amount.trunc() as usize;
    let fraction = amount - amount.trunc();
    if fraction.abs() < 1e-9 {
        thousands(whole)
    } else {
        let decimals = format!("{fraction:.3}");
        let decimals = decimals.trim_start_matches('0').trim_end_matches('0');
        format!("{}{decimals}", thousands(whole))
    }
}

/// Milliseconds with one decimal.
pub fn millis(duration: std::time::Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// A size in bytes as MB (10⁶ bytes) with one decimal, and the exact count.
pub fn megabytes(bytes: u64) -> String {
    format!(
        "{:.1} MB ({} bytes)",
        bytes as f64 / 1e6,
        thousands(bytes as usize)
    )
}

/// `a, b and c`.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            let rest: Vec<&str> = rest.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", rest.join(", "), last.as_ref())
        }
        Some((only, _)) => only.as_ref().to_owned(),
        None => String::new(),
    }
}
