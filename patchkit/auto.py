"""``import patchkit.auto`` as the first line of an entry point: patch before anything else.

Installs the first-importer hook (so a later audit can name who imported what) and applies the
configured profile: ``PATCHKIT_PROFILE``, then the project's config, then ``full``.
"""

from patchkit import imports
from patchkit.manager import apply

imports.install()
PROFILE = apply()
