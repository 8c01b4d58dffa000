//! What a journal record holds: the inserts and removes of one transaction, each with
//! its table, key and value as the store encodes them.

/// One change a transaction made, as it is journaled.
#[derive(Debug, PartialEq, Eq)]
pub enum Change<'a> {
    Insert {
        table: &'a str,
        key: &'a [u8],
        value: &'a [u8],
    },
    Remove {
        table: &'a str,
        key: &'a [u8],
    },
}

impl Change<'_> {
    /// The name of the table changed.
    pub fn table(&self) -> &str {
        match self {
            Change::Insert { table, .. } | Change::Remove { table, .. } => table,
        }
    }
}

const INSERT: u8 = 1;
const REMOVE: u8 = 2;

/// Adds `change` to a record's payload.
pub fn encode_change(payload: &mut Vec<u8>, change: &Change<'_>) {
    let (kind, table, key, value) = match change {
        Change::Insert { table, key, value } => (INSERT, table, key, Some(value)),
        Change::Remove { table, key } => (REMOVE, table, key, None),
    };
    payload.push(kind);
    put_bytes(payload, table.as_bytes());
    put_bytes(payload, key);
    if let Some(value) = value {
        put_bytes(payload, value);
    }
}

fn put_bytes(payload: &mut Vec<u8>, bytes: &[u8]) {
    payload.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    payload.extend_from_slice(bytes);
}

/// The changes of a record's payload, in order; an error names what is malformed.
pub fn decode_changes(mut payload: &[u8]) -> Result<Vec<Change<'_>>, String> {
    let mut changes = Vec::new();
    while let Some((&kind, rest)) = payload.split_first() {
        payload = rest;
        let table = std::str::from_utf8(take_bytes(&mut payload)?)
            .map_err(|_| "a table name is not UTF-8".to_owned())?;
        let key = take_bytes(&mut payload)?;
        changes.push(match kind {
            INSERT => Change::Insert {
                table,
                key,
                value: take_bytes(&mut payload)?,
            },
            REMOVE => Change::Remove { table, key },
            other => return Err(format!("unknown change kind {other}")),
        });
    }
    Ok(changes)
}

fn take_bytes<'a>(payload: &mut &'a [u8]) -> Result<&'a [u8], String> {
    let truncated = || "a change is cut short".to_owned();
    let length = payload.get(..4).ok_or_else(truncated)?;
    let length = u32::from_le_bytes([length[0], length[1], length[2], length[3]]) as usize;
    let bytes = payload.get(4..4 + length).ok_or_else(truncated)?;
    *payload = &payload[4 + length..];
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_decoded_as_they_were_encoded_and_garbage_is_refused() {
        let changes = [
            Change::Insert {
                table: "chats",
                key: b"k1",
                value: b"{\"v\":1}",
            },
            Change::Remove {
                table: "open_pairs",
                key: b"",
            },
        ];
        let mut payload = Vec::new();
        for change in &changes {
            encode_change(&mut payload, change);
        }
        assert_eq!(decode_changes(&payload).expect("decodes"), changes);
        assert!(decode_changes(&payload[..payload.len() - 1]).is_err());
        assert!(decode_changes(&[9, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
