"""Close a gunicorn worker's database connections when it exits, instead of dropping them.

Django keeps one connection per thread (CONN_MAX_AGE) and closes it only at the end of a request
that finds it too old, so a worker that stops on SIGTERM would leave its threads' connections to
the operating system: PostgreSQL sees the socket end without a goodbye. gunicorn.conf.py calls
``track`` in each new worker and ``close_all`` when the worker exits, after its last request:
every connection the worker opened, in any thread, is closed with PostgreSQL's Terminate message.
"""

import logging
import threading
import weakref

from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)

_opened = weakref.WeakSet()
_lock = threading.Lock()


def _remember(sender, connection, **kwargs):
    """Record a database connection Django just opened (in whichever thread)."""
    with _lock:
        _opened.add(connection)


def track():
    """Start recording the connections this process opens."""
    connection_created.connect(_remember, dispatch_uid="dbconnections.track")


def close_all():
    """Close every still-open connection this process opened; return how many were closed.

    The raw driver connection is closed, not Django's wrapper: the wrapper refuses to be closed
    from a thread other than its own, and the threads that opened them have finished.
    """
    with _lock:
        wrappers = list(_opened)
        _opened.clear()
    closed = 0
    for wrapper in wrappers:
        raw = wrapper.connection
        if raw is None or raw.closed:
            continue
        try:
            raw.close()
        except Exception:  # noqa: BLE001 (a broken connection is as good as closed)
            logger.warning("a database connection could not be closed cleanly", exc_info=True)
        else:
            closed += 1
        wrapper.connection = None
    return closed
