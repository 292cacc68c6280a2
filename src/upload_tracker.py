"""Upload progress of one request (aiohttp 3.14.4's ``UploadTracker``).

The session tells the tracker when an attempt is dispatched (each send of the request:
the first one, a redirect hop, a middleware's resend, the retry on a stale pooled
connection) and when the call is over; the request's body writer tells it what it wrote.

``bytes_written`` means "handed to the kernel": the writer notes, after each piece, how
far the connection's output had got (payload bytes so far, wire bytes so far); reading
the attribute subtracts what still waits in the transport's buffer and maps that wire
position back to payload bytes (exactly for plain bodies, linearly inside a piece that is
compressed or carries chunk framing).
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from typing import Any

from .client_exceptions import UploadAbortedError

__all__ = ("UploadTracker",)


class UploadTracker:
    """Observes the body upload of exactly one request (``upload_tracker=`` of a request).

    Make it inside a running event loop. ``attempts`` counts the times the request was
    dispatched; ``bytes_written`` the body bytes of the current attempt sent to the kernel;
    ``upload_complete`` settles once no more of the body will be sent: ``None`` when the last
    attempt wrote the whole body, that attempt's error when its upload failed, and
    :class:`~cyhttp.UploadAbortedError` when the body was never sent in full.
    """

    def __init__(self) -> None:
        self.attempts = 0
        self.upload_complete: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._bound = False
        #: the call is over: no attempt will follow the current one
        self._final = False
        #: the current attempt's outcome: True (all written), an exception (its upload
        #: failed), None (not written yet, or cut short)
        self._outcome: Any = None
        #: the connection protocol while the current attempt is writing its body
        self._proto: Any = None
        #: payload bytes the writer handed over in this attempt, and those known flushed
        self._accepted = 0
        self._flushed = 0
        #: parallel lists: wire position (protocol output_size) → payload bytes up to it;
        #: the first entry is the last point known flushed
        self._wire: list[int] = []
        self._payload: list[int] = []

    def __repr__(self) -> str:
        return (
            f"<UploadTracker attempts={self.attempts} bytes_written={self.bytes_written} "
            f"complete={self.upload_complete.done()}>"
        )

    @property
    def bytes_written(self) -> int:
        """Body bytes of the current attempt that have left the transport for the kernel."""
        self._refresh()
        return self._flushed

    # ----- the session's side -----

    def _bind(self) -> None:
        """The tracker is given to a request; a second request may not take it."""
        if self._bound:
            raise RuntimeError("this UploadTracker already observes another request")
        self._bound = True

    def _attempt_started(self) -> int:
        """A new attempt is dispatched: the counters start again. Returns the attempt's
        number, which the body writer passes back (a writer of a superseded attempt,
        still winding down, is then ignored)."""
        self.attempts += 1
        self._outcome = None
        self._proto = None
        self._accepted = self._flushed = 0
        self._wire.clear()
        self._payload.clear()
        return self.attempts

    def _finalize(self) -> None:
        """The call returned or raised. The future settles now, or, while the last
        attempt is still writing (the server answered early), when that writing ends."""
        self._final = True
        if self._proto is None:
            self._settle()

    # ----- the body writer's side -----

    def _attempt_writing(self, attempt: int, proto: Any) -> None:
        """The attempt starts writing its body on ``proto`` (the head already written)."""
        if attempt == self.attempts:
            self._proto = proto
            self._wire[:] = [proto.output_size]
            self._payload[:] = [0]

    def _add_bytes(self, attempt: int, size: int, wire_position: int) -> None:
        """``size`` more payload bytes were written; the output has reached
        ``wire_position`` (a compressor may have kept them back: no new mark then)."""
        if attempt != self.attempts or self._proto is None:
            return
        self._accepted += size
        if wire_position > self._wire[-1]:
            self._wire.append(wire_position)
            self._payload.append(self._accepted)
        # kept current as the writer goes (and the marks list short): when the upload
        # fails, the last value seen before the connection went is what remains
        self._refresh()

    def _attempt_finished(self, attempt: int) -> None:
        """The whole body of the attempt was written (an empty or absent one at once)."""
        if attempt == self.attempts and self._outcome is None:
            self._outcome = True
            self._flushed = self._accepted
            self._stop_writing()

    def _attempt_failed(self, attempt: int, exc: BaseException | None) -> None:
        """The attempt did not send its whole body: ``exc`` is the upload error, None when
        it was cut short (cancelled, the connection released, no 100 Continue)."""
        if attempt == self.attempts and self._outcome is None:
            self._refresh()
            self._outcome = exc
            self._stop_writing()

    def _writer_done(self, attempt: int) -> None:
        """The attempt's writer task ended: if it neither finished nor failed (cancelled
        before it ran, or the answer came instead of 100 Continue) it was cut short."""
        if attempt == self.attempts and self._proto is not None and self._outcome is None:
            self._attempt_failed(attempt, None)

    # ----- internals -----

    def _stop_writing(self) -> None:
        self._proto = None
        self._wire.clear()
        self._payload.clear()
        if self._final:
            self._settle()

    def _refresh(self) -> None:
        """Bring ``_flushed`` up to what the transport has passed to the kernel."""
        proto = self._proto
        wire = self._wire
        if proto is None or not wire:
            return
        transport = proto.transport
        if transport is None or transport.is_closing():
            return  # torn down: what was still buffered never left
        sent = proto.output_size - transport.get_write_buffer_size()
        # the last mark at or before ``sent``: everything up to it is flushed
        index = bisect_right(wire, sent) - 1
        if index < 0:
            return
        if index:
            del wire[:index]
            del self._payload[:index]
        flushed = self._payload[0]
        if len(wire) > 1 and sent > wire[0]:
            # part of the next piece is out: spread its payload bytes over its wire bytes
            span_payload = self._payload[1] - flushed
            flushed += span_payload * (sent - wire[0]) // (wire[1] - wire[0])
        self._flushed = max(self._flushed, flushed)

    def _settle(self) -> None:
        done = self.upload_complete
        if done.done():
            return
        outcome = self._outcome
        if outcome is True:
            done.set_result(None)
            return
        if isinstance(outcome, BaseException):
            done.set_exception(outcome)
        else:
            done.set_exception(UploadAbortedError("the request body was not sent in full"))
        done.exception()  # marked retrieved: a program that only polls is not warned
