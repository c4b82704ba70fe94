"""One small exception hierarchy, so the CLI can turn every expected failure into one line."""


class PatchkitError(Exception):
    """Base of every error patchkit raises on purpose; the CLI prints it as one line, exit 2."""


class ProfileError(PatchkitError):
    """An unknown profile or patch name, a cyclic ``extends``, or an unusable integration."""


class ConfigError(PatchkitError):
    """A configuration file that cannot be read or holds a bad key or value."""


class TargetError(PatchkitError):
    """A script or module to run or audit that is missing, unreadable or does not compile."""
