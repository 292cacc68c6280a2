"""``make bench``: cyhttp side by side with the clients users would otherwise pick.

``python -m benchmarks`` starts its own servers (each in a process of its own, on 127.0.0.1),
runs every client in a process of its own in alternating rounds, and writes a table, a JSON
file and a PNG chart into ``benchmarks/results/``. ``--help`` lists the options.

Layout, one job per module:

- ``workloads``: what is measured (paths, bodies, sizes), shared by servers and clients.
- ``http_server``, ``ws_server``, ``nginx``: the servers, each run as its own process; the
  HTTP server also serves HTTPS (TLS 1.3) with the run's certificate from ``certs``.
- ``procs``: starting a process with a readiness handshake, CPU pinning, always stopping it.
- ``client_aiohttp`` (aiohttp *and* cyhttp: the same code), ``client_httpx``,
  ``client_aiosonic``, ``client_wreq``, ``client_pyreqwest``, ``client_curl_cffi``,
  ``client_niquests``, ``client_ws``: one adapter per client library (``clients`` lists
  them); ``client_floor``: the raw-protocol yardstick.
- ``client_main``: the client process (one library, one event loop, several workloads).
- ``client_memory``: the process behind the memory rows (RSS per connection and request).
- ``micro``: the parser and masker micro-benchmarks and the import-time row.
- ``runner``: the rounds; ``report``: medians, the table and the JSON; ``chart``: the PNG.
"""
