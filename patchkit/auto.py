"""``import patchkit.auto`` as the first line of an entry point: patch before anything else.

Installs the first-importer hook (so a later audit can name who imported what) and applies the
configured profile: ``PATCHKIT_PROFILE``, then the project's config, then ``full``. With
``watch = MS`` in the config (or ``PATCHKIT_WATCH``) it also starts the production hub watch.
"""

from patchkit import imports
from patchkit.manager import apply

imports.install()
PROFILE = apply()

from patchkit.detect.production import start_from_config  # noqa: E402 - after patching

WATCH = start_from_config()
