"""Build the optional C tracer of the hub watch; all metadata stays in setup.cfg.

``optional=True``: where no compiler or Python headers exist, the install still succeeds and
``patchkit.detect.watch`` uses its pure-Python tracer (same findings, higher cost per switch).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "patchkit.detect._switchtimer",
            ["patchkit/detect/_switchtimer.c"],
            optional=True,
        )
    ]
)
