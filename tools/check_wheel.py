"""cibuildwheel's test command: the installed wheel must use its compiled modules."""

import cyhttp
import cyhttp.h2_frames
import cyhttp.hpack  # the HTTP/2 codecs are imported on first use: load them to check them
from cyhttp import _compat

assert cyhttp.IMPLEMENTATION == "compiled", (cyhttp.IMPLEMENTATION, _compat.IMPORT_ERRORS)
assert all(_compat.COMPILED.values()), _compat.COMPILED
print(f"cyhttp {cyhttp.__version__}: compiled modules in use: {sorted(_compat.COMPILED)}")
