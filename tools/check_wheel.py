"""cibuildwheel's test command: the installed wheel must use its compiled modules."""

import cyhttp
from cyhttp import _compat

assert cyhttp.IMPLEMENTATION == "compiled", (cyhttp.IMPLEMENTATION, _compat.IMPORT_ERRORS)
assert all(_compat.COMPILED.values()), _compat.COMPILED
print(f"cyhttp {cyhttp.__version__}: compiled modules in use: {sorted(_compat.COMPILED)}")
