"""``cyhttp.payload_streamer``: where aiohttp keeps :func:`streamer` (defined in
:mod:`cyhttp.payload`, with the payload classes it produces)."""

from .payload import StreamPayload, StreamWrapperPayload, streamer

__all__ = ("StreamPayload", "StreamWrapperPayload", "streamer")
