//! A write transaction that writes down every change it makes, for the journal (see
//! [`console_journal`]). The store's writes get a [`Tx`], never redb's transaction itself:
//! a table opened through it can be read as redb's, but changed only through
//! [`Logged::insert`] and [`Logged::remove`], which record the change as they make it —
//! so no change can reach redb without reaching the journal.

use crate::fail;
use console_domain::ports::StoreError;
use console_journal::{Change, decode_changes, encode_change};
use redb::{AccessGuard, Key, Table, TableDefinition, TableHandle, Value, WriteTransaction};
use std::borrow::Borrow;
use std::cell::RefCell;
use std::ops::Deref;

/// A write transaction and the changes made in it so far.
pub struct Tx<'a> {
    txn: &'a WriteTransaction,
    changes: RefCell<Vec<u8>>,
}

impl<'a> Tx<'a> {
    pub(crate) fn new(txn: &'a WriteTransaction) -> Self {
        Tx {
            txn,
            changes: RefCell::default(),
        }
    }

    /// Opens a table to read and change.
    pub fn open<K: Key + 'static, V: Value + 'static>(
        &self,
        table: TableDefinition<'_, K, V>,
    ) -> Result<Logged<'_, K, V>, StoreError> {
        Ok(Logged {
            table: self.txn.open_table(table).map_err(fail)?,
            changes: &self.changes,
        })
    }

    /// The changes made, as a journal record's payload (empty if none).
    pub(crate) fn into_changes(self) -> Vec<u8> {
        self.changes.into_inner()
    }
}

/// A table opened through a [`Tx`]: read it as a redb table; change it through this.
pub struct Logged<'t, K: Key + 'static, V: Value + 'static> {
    table: Table<'t, K, V>,
    changes: &'t RefCell<Vec<u8>>,
}

impl<K: Key + 'static, V: Value + 'static> Logged<'_, K, V> {
    /// Inserts (or replaces) `key`'s value.
    pub fn insert<'k, 'v>(
        &mut self,
        key: impl Borrow<K::SelfType<'k>>,
        value: impl Borrow<V::SelfType<'v>>,
    ) -> Result<(), StoreError> {
        let (key, value) = (key.borrow(), value.borrow());
        self.table.insert(key, value).map_err(fail)?;
        encode_change(
            &mut self.changes.borrow_mut(),
            &Change::Insert {
                table: self.table.name(),
                key: K::as_bytes(key).as_ref(),
                value: V::as_bytes(value).as_ref(),
            },
        );
        Ok(())
    }

    /// Removes `key`; its value, if it had one.
    pub fn remove<'k>(
        &mut self,
        key: impl Borrow<K::SelfType<'k>>,
    ) -> Result<Option<AccessGuard<'_, V>>, StoreError> {
        let key = key.borrow();
        encode_change(
            &mut self.changes.borrow_mut(),
            &Change::Remove {
                table: self.table.name(),
                key: K::as_bytes(key).as_ref(),
            },
        );
        self.table.remove(key).map_err(fail)
    }
}

impl<'t, K: Key + 'static, V: Value + 'static> Deref for Logged<'t, K, V> {
    type Target = Table<'t, K, V>;

    fn deref(&self) -> &Self::Target {
        &self.table
    }
}

/// Makes the changes of a journal record again, in order. `apply_to` knows the tables:
/// it opens the one named with its types and makes one change in it.
pub(crate) fn replay(
    txn: &WriteTransaction,
    payload: &[u8],
    apply_to: impl Fn(&WriteTransaction, &Change<'_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let changes = decode_changes(payload)
        .map_err(|e| StoreError::permanent(format!("embedded store: bad journal record: {e}")))?;
    for change in &changes {
        apply_to(txn, change)?;
    }
    Ok(())
}

/// Makes one journaled change in `table`, which the caller picked by the change's name.
pub(crate) fn apply<K: Key + 'static, V: Value + 'static>(
    txn: &WriteTransaction,
    table: TableDefinition<'_, K, V>,
    change: &Change<'_>,
) -> Result<(), StoreError> {
    let mut table = txn.open_table(table).map_err(fail)?;
    match change {
        Change::Insert { key, value, .. } => {
            table
                .insert(K::from_bytes(key), V::from_bytes(value))
                .map_err(fail)?;
        }
        Change::Remove { key, .. } => {
            table.remove(K::from_bytes(key)).map_err(fail)?;
        }
    }
    Ok(())
}
