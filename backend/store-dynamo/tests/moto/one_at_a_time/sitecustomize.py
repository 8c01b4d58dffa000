"""Makes moto's server answer one request at a time.

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
