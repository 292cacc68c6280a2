"""The embedded WebSocket echo server: picows (Cython) on uvloop.

Each data frame is sent back as it came (type, payload and FIN bit), so fragmented messages
are echoed fragment by fragment; pings are answered by picows itself; a close frame is
answered and the connection dropped.

Run as ``python -m benchmarks.ws_server [--loop uvloop|asyncio]``; prints ``READY <port>``.
"""

from __future__ import annotations

from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server

from benchmarks import procs, workloads


class EchoListener(WSListener):
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        msg_type = frame.msg_type
        if msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
        elif msg_type in (WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION):
            transport.send(msg_type, frame.get_payload_as_bytes(), frame.fin)


def _listener(request: WSUpgradeRequest) -> EchoListener:
    return EchoListener()


async def serve(ready: procs.Ready) -> None:
    server = await ws_create_server(
        _listener,
        "127.0.0.1",
        0,
        max_frame_size=4 * workloads.BIG_SIZE,
    )
    await procs.serve_until_stopped(server, ready)


if __name__ == "__main__":
    procs.server_main(serve, __doc__.splitlines()[0])
