"""The sans-IO HTTP/2 client connection, selected at import time (see :mod:`cyhttp._compat`).

:class:`H2Connection` comes from the implementation in use: the compiled
``_h2_connection`` or its pure-Python twin ``_h2_connection_py``, whose docstrings document
the API both share (bytes in, events out; bytes out on demand). The events, the caller's
errors and the stream states are the same classes whichever twin is in use
(:mod:`cyhttp._h2_events`, :mod:`cyhttp._h2_state`). ``h2connection_py`` is always the
pure-Python twin and ``h2connection_c`` the compiled one (``None`` when it is not built);
the twin that is not in use is imported only when asked for.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from . import _compat
from ._h2_events import (
    ConnectionTerminated,
    DataReceived,
    Event,
    GoAway,
    InformationalResponse,
    PingAcked,
    PingReceived,
    ResponseHeaders,
    SettingsAcked,
    SettingsChanged,
    StreamEnded,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
)
from ._h2_headers import request_headers_for, strip_connection_headers
from ._h2_models import SettingCode
from ._h2_state import (
    DEFAULT_HEADER_TABLE_SIZE,
    DEFAULT_LOCAL_SETTINGS,
    DEFAULT_WINDOW,
    UNLIMITED,
    ConnectionClosedError,
    H2UsageError,
    NoAvailableStreamError,
    StreamClosedError,
    StreamState,
)
from .h2_errors import ErrorCode

__all__ = (
    "DEFAULT_HEADER_TABLE_SIZE",
    "DEFAULT_LOCAL_SETTINGS",
    "DEFAULT_WINDOW",
    "UNLIMITED",
    "ConnectionClosedError",
    "ConnectionTerminated",
    "DataReceived",
    "ErrorCode",
    "Event",
    "GoAway",
    "H2Connection",
    "H2UsageError",
    "InformationalResponse",
    "NoAvailableStreamError",
    "PingAcked",
    "PingReceived",
    "ResponseHeaders",
    "SettingCode",
    "SettingsAcked",
    "SettingsChanged",
    "StreamClosedError",
    "StreamEnded",
    "StreamReset",
    "StreamState",
    "TrailersReceived",
    "WindowUpdated",
    "h2connection_c",
    "h2connection_py",
    "request_headers_for",
    "strip_connection_headers",
)

if TYPE_CHECKING:
    from . import _h2_connection_py as h2connection_py

    impl = h2connection_py
    h2connection_c: ModuleType | None = h2connection_py
else:
    impl = _compat.load("_h2_connection", "_h2_connection_py")

    def __getattr__(name: str) -> Any:
        twins = {"h2connection_py": "_h2_connection_py", "h2connection_c": "_h2_connection"}
        if name not in twins:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = globals()[name] = _compat.import_twin(twins[name])
        return value


H2Connection = impl.H2Connection
