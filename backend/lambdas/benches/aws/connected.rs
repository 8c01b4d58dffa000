//! The agents connected in a run, as both designs see them: one tenant, `ann` and `bob`
//! (who chat) and as many others as it takes, one console (connection) each, with ids
//! shaped like API Gateway's (16 characters of base64).

/// The tenant every agent is in.
pub const TENANT: &str = "acme";

/// The ids of `count` agents: `ann`, `bob`, then `agent00000`, `agent00001`, ….
pub fn agent_ids(count: usize) -> Vec<String> {
    ["ann".to_owned(), "bob".to_owned()]
        .into_iter()
        .chain((0..count.saturating_sub(2)).map(|i| format!("agent{i:05}")))
        .take(count)
        .collect()
}

/// An API Gateway-like connection id for the `index`th connection: 15 characters of
/// base64 and a `=`, like `L0SM9cOFvHcCIhw=`.
pub fn connection_id(index: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // splitmix64: distinct, random-looking ids from consecutive indexes.
    let mut state = (index as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let (high, low) = (next(), next());
    let mut id: String = (0..15)
        .map(|i| {
            let bits = if i < 10 {
                high >> (6 * i)
            } else {
                low >> (6 * (i - 10))
            };
            char::from(ALPHABET[(bits & 63) as usize])
        })
        .collect();
    id.push('=');
    id
}
