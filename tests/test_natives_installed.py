"""Every row of the native-client table against the real package, wherever it installs.

A row whose extension module is misnamed never matches anything (pylibmc's C extension is the
top-level ``_pylibmc``, not ``pylibmc._pylibmc``): importing the library must load at least one
of the row's extension modules, and it must be a C extension.
"""

from __future__ import annotations

import json

import pytest

from patchkit.detect import natives
from tests.helpers import json_from_stdout, run_python

PROBE = """
import importlib, json, sys
try:
    importlib.import_module({module!r})
except ImportError as exc:
    print(json.dumps({{"missing": str(exc)}}))
    raise SystemExit(0)
pq = sys.modules.get("psycopg.pq")
loaded = {{
    name: getattr(sys.modules[name], "__file__", None) or ""
    for name in {extensions!r} if name in sys.modules
}}
print(json.dumps({{"loaded": loaded, "impl": getattr(pq, "__impl__", None)}}))
"""


@pytest.mark.parametrize("row", natives.NATIVE_CLIENTS, ids=lambda row: row.library)
def test_importing_the_library_loads_the_rows_c_extension(row: natives.NativeClient) -> None:
    code = PROBE.format(module=row.module, extensions=list(row.extensions))
    result = json_from_stdout(run_python(code, timeout=60))
    if "missing" in result:
        pytest.skip(f"{row.library} is not importable here: {result['missing']}")
    if row.library == "psycopg" and result["impl"] == "python":
        pytest.skip("psycopg is installed without psycopg[c] or psycopg[binary]: no C part")
    assert result["loaded"], f"{row.library}: none of {row.extensions} loaded"
    for name, file in result["loaded"].items():
        assert file.endswith((".so", ".pyd")), json.dumps({name: file})
