"""Makes moto's server answer one request at a time, and its transactions cost what
they touch.

Python loads this module as it starts, because the store tests put its folder first on
the PYTHONPATH of the moto_server they start (tests/moto/mod.rs).

moto's DynamoDB runs a transaction by applying its writes one by one. When one of them
fails, it puts back a copy of the whole table taken before the transaction started. With
requests on many threads, that copy undoes another transaction's writes, or brings back
the writes of one already cancelled. DynamoDB's transactions are isolated, so neither can
happen there. One request at a time restores that isolation. Operations that read, then
write, still interleave between their requests, so the stores' races are still met.
"""

try:
    import werkzeug.serving
except ImportError:  # Another Python program than moto's server: nothing to change.
    pass
else:
    _run_simple = werkzeug.serving.run_simple

    def _one_request_at_a_time(*args, **kwargs):
        kwargs["threaded"] = False
        return _run_simple(*args, **kwargs)

    werkzeug.serving.run_simple = _one_request_at_a_time

# A transaction's copy of the whole table makes every transaction cost as much as the
# table is large: seeding a year of chats (the benchmarks) would take hours. Served one at
# a time, a transaction can instead keep the items it touches as they were and put them
# back if it is cancelled — what the table copy achieved, at the cost of the transaction.
try:
    import copy as _copy
    import moto.dynamodb.models as _models
except ImportError:  # Not moto's Python.
    pass
else:

    class _TablesNotCopied:
        """`copy`, as moto's DynamoDB module sees it during a transaction: a table is
        not copied (the items the transaction touches are kept instead)."""

        @staticmethod
        def deepcopy(value, memo=None):
            if isinstance(value, _models.Table):
                return value
            return _copy.deepcopy(value, memo)

    _transact_write_items = _models.DynamoDBBackend.transact_write_items

    def _key_of(backend, op):
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            return None
        if "Item" not in op:
            return op.get("Key")
        key = {table.hash_key_attr: op["Item"].get(table.hash_key_attr)}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = op["Item"].get(table.range_key_attr)
        return key

    def _transact_keeping_items(self, transact_items):
        kept = []
        for entry in transact_items:
            op = next(iter(entry.values()), {})
            key = _key_of(self, op)
            if key is None or None in key.values():
                continue
            try:
                current = self.get_item(op["TableName"], key)
            except Exception:  # An invalid key: the transaction itself will say so.
                continue
            attributes = current.to_json()["Attributes"] if current else None
            kept.append((op["TableName"], key, _copy.deepcopy(attributes)))
        _models.copy = _TablesNotCopied
        try:
            return _transact_write_items(self, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(kept):
                if attributes is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attributes)
            raise
        finally:
            _models.copy = _copy

    _models.DynamoDBBackend.transact_write_items = _transact_keeping_items

# werkzeug writes an answer's head and body apart; without TCP_NODELAY the body then
# waits for the client's delayed acknowledgement, about 40 ms a request on Linux.
try:
    import socket as _socket
    import werkzeug.serving as _serving
except ImportError:
    pass
else:
    _setup = _serving.WSGIRequestHandler.setup

    def _setup_without_delay(self):
        _setup(self)
        try:
            self.connection.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        except OSError:
            pass

    _serving.WSGIRequestHandler.setup = _setup_without_delay
