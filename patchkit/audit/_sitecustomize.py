"""The audit's bootstrap, copied as ``sitecustomize.py`` into a directory first on ``PYTHONPATH``.

Every Python interpreter the audited target starts imports it at start-up. When
``PATCHKIT_AUDIT_SPEC`` names an audit's spec, it arms the audit in that process
(``patchkit.audit.follow.bootstrap``). In every case it then runs the ``sitecustomize`` the user
would have had: Python imports only the first one on ``sys.path`` and this one comes first, so the
next one (the project's, or a distribution's in ``/usr/lib/python3.X``) is executed here, as the
``sitecustomize`` module. The audit adds to the start-up and takes nothing away.
"""

import os
import sys


def _patchkit_audit_boot() -> None:
    spec = os.environ.get("PATCHKIT_AUDIT_SPEC")
    if not spec:
        return
    try:
        from patchkit.audit import follow

        follow.bootstrap(spec)
    except ImportError:
        pass  # an interpreter that cannot import patchkit is not followed
    except Exception as exc:  # the target must start even if the audit cannot follow it
        print(f"patchkit audit: cannot follow pid {os.getpid()}: {exc!r}", file=sys.stderr)


def _chain_sitecustomize() -> None:
    import importlib.machinery
    import importlib.util

    here = os.path.realpath(os.path.dirname(os.path.abspath(__file__)))
    rest = [p for p in sys.path if os.path.realpath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module  # what `import sitecustomize` returns from now on
    spec.loader.exec_module(module)


_patchkit_audit_boot()
_chain_sitecustomize()
