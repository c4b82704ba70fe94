"""Profiles: named sets of gevent patch names, built in or from the project's config.

A patch name is a keyword argument of ``gevent.monkey.patch_all``; a profile resolves to the
exact ``patch_all(**settings)`` call, so patchkit never patches anything gevent would not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from patchkit import integrations as integrations_mod
from patchkit.errors import ProfileError

if TYPE_CHECKING:  # plain data parsed by patchkit.config, which never imports this module
    from patchkit.config import ProfileSpec, ProjectConfig

# Every keyword of gevent.monkey.patch_all, in its signature order, with its default there.
# ``sys``, ``builtins`` and ``contextvars`` do nothing on supported Pythons (gevent 23.7+), and
# ``Event`` only matters together with ``thread``; they stay so profiles mirror patch_all 1:1.
PATCH_ALL_DEFAULTS: dict[str, bool] = {
    "socket": True,
    "dns": True,
    "time": True,
    "select": True,  # also patches selectors (gevent's patch_all ties them together)
    "thread": True,
    "os": True,
    "ssl": True,
    "subprocess": True,
    "sys": False,
    "aggressive": True,  # removes the blocking extras: select.epoll, selectors.EpollSelector, ...
    "Event": True,
    "builtins": True,
    "signal": True,
    "queue": True,
    "contextvars": True,
}
PATCH_NAMES: tuple[str, ...] = tuple(PATCH_ALL_DEFAULTS)
_FULL = frozenset(name for name, default in PATCH_ALL_DEFAULTS.items() if default)

# The built-in profiles: name -> (patch names, what it is for). One table; docs/profiles.md shows it
# and a test keeps the two equal.
BUILTINS: dict[str, tuple[frozenset[str], str]] = {
    "full": (_FULL, "gunicorn/uWSGI gevent workers, Locust, pure-gevent services"),
    # grpcio, Kafka clients and multiprocessing.Pool need real OS threads and locks. queue goes
    # too: gevent's queue.Queue cannot be woken by a real thread (measured: a get() with a 3 s
    # timeout missed an item a thread put at 0.2 s; ThreadPoolExecutor and Pool hung).
    "nothread": (
        _FULL - {"thread", "Event", "queue"},
        "apps whose libraries need real OS threads (grpcio, Kafka clients, multiprocessing.Pool)",
    ),
    # aggressive keeps select.epoll & co. from bypassing the patched select/selectors.
    "network": (
        frozenset({"socket", "dns", "ssl", "select", "aggressive"}),
        "cooperative network I/O inside a mostly threaded program",
    ),
    "none": (frozenset(), "the baseline column of the compatibility matrix"),
}

DEFAULT_PROFILE = "full"
BUILTIN_SOURCE = "built-in"


class Profile(NamedTuple):
    """A resolved profile: the final patch set and the integrations to run after patching.

    A NamedTuple rather than a dataclass: immutable and hashable, and ``import patchkit`` stays
    cheap (dataclass creation costs about a millisecond each at import).
    """

    name: str
    patches: frozenset[str]
    integrations: tuple[str, ...] = ()
    source: str = BUILTIN_SOURCE

    def settings(self) -> dict[str, bool]:
        """The keyword arguments for ``gevent.monkey.patch_all`` that apply exactly this profile."""
        return {name: name in self.patches for name in PATCH_NAMES}

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "source": self.source,
            "patches": sorted(self.patches, key=PATCH_NAMES.index),
            "settings": self.settings(),
            "integrations": list(self.integrations),
        }


_CANONICAL = {name.lower(): name for name in PATCH_NAMES}


def canonical_patch(name: str, where: str) -> str:
    """gevent's spelling of a patch name (INI keys and values may lose ``Event``'s capital)."""
    try:
        return _CANONICAL[name.strip().lower()]
    except KeyError:
        raise ProfileError(
            f"{where}: unknown patch name {name!r} (choose from {', '.join(PATCH_NAMES)})"
        ) from None


def builtin(name: str) -> Profile:
    patches, _ = BUILTINS[name]
    return Profile(name, patches)


def names(config: ProjectConfig | None = None) -> list[str]:
    """Every profile name: built-ins first, then the project's in file order."""
    extra = [n for n in (config.profiles if config else {}) if n not in BUILTINS]
    return [*BUILTINS, *extra]


def resolve(name: str | None = None, config: ProjectConfig | None = None) -> Profile:
    """The profile ``name`` (or the configured one, or ``full``), with ``extends`` resolved.

    The one resolver: built-ins and the project's profiles (plain data from ``patchkit.config``)
    become the final patch set here. An empty name is a mistake, not "the default".
    """
    where = "profile"
    if name is None and config is not None and config.profile:
        name, where = config.profile, config.profile_origin
    if name is not None and not name.strip():
        raise ProfileError(f"{where}: empty profile name (choose from {', '.join(names(config))})")
    name = name or DEFAULT_PROFILE
    specs: Mapping[str, ProfileSpec] = config.profiles if config else {}
    for spec in specs.values():
        if spec.name in BUILTINS:
            raise ProfileError(
                f"{spec.file}: [{spec.section}]: {spec.name!r} is a built-in profile; "
                "choose another name"
            )
    if name not in BUILTINS and name not in specs:
        raise ProfileError(
            f"{where}: unknown profile {name!r} (choose from {', '.join(names(config))})"
        )
    return _resolve(name, specs)


def for_apply(name: str | None = None) -> Profile:
    """The profile ``patchkit.apply(name)`` applies: an explicit built-in needs no config file.

    Skipping the config search for ``apply("full")`` keeps that call nearly free.
    """
    if name is not None and name in BUILTINS:
        return resolve(name)
    from patchkit.config import load_config

    return resolve(name, load_config())


def resolve_all(config: ProjectConfig | None = None) -> list[Profile]:
    return [resolve(n, config) for n in names(config)]


def _chain(name: str, specs: Mapping[str, ProfileSpec]) -> list[ProfileSpec]:
    """``name``'s spec, then the spec it extends, and so on down to a built-in (not included).

    A loop, not recursion: a chain thousands of profiles deep is as valid as a short one.
    """
    chain: list[ProfileSpec] = []
    seen: set[str] = set()
    while name in specs:
        spec = specs[name]
        if name in seen:
            loop = [s.name for s in chain][[s.name for s in chain].index(name) :] + [name]
            if len(loop) > 8:  # a long loop stays one readable line
                loop = [*loop[:3], f"... {len(loop) - 6} more ...", *loop[-3:]]
            raise ProfileError(
                f"{chain[-1].where('extends')}: cyclic extends ({' -> '.join(loop)})"
            )
        seen.add(name)
        chain.append(spec)
        if spec.extends is None:
            break
        if spec.extends not in BUILTINS and spec.extends not in specs:
            raise ProfileError(
                f"{spec.where('extends')}: unknown profile {spec.extends!r} "
                f"(choose from {', '.join(n for n in [*BUILTINS, *specs] if n != name)})"
            )
        name = spec.extends
    return chain


def _resolve(name: str, specs: Mapping[str, ProfileSpec]) -> Profile:
    chain = _chain(name, specs)
    if not chain:
        return builtin(name)
    base = chain[-1].extends
    profile = builtin(base) if base is not None else Profile(name, frozenset())
    for spec in reversed(chain):
        profile = _extend(profile, spec)
    return profile


def _extend(base: Profile, spec: ProfileSpec) -> Profile:
    """``spec`` applied over the profile it extends."""
    added = {canonical_patch(p, spec.where("patch")) for p in spec.patch}
    skipped = {canonical_patch(p, spec.where("skip")) for p in spec.skip}
    patches = (base.patches | added) - skipped
    if "thread" not in patches:
        patches -= {"Event"}  # gevent only patches Event as part of thread
    integrations = base.integrations
    for integration in spec.integrations:
        integrations_mod.check_known(integration, spec.where("integrations"))
        if integration not in integrations:
            integrations = (*integrations, integration)
    return Profile(spec.name, frozenset(patches), integrations, spec.source)


def builtin_table() -> str:
    """The built-in profiles as a Markdown table: docs/profiles.md embeds it, a test compares."""
    lines = [
        "| profile | patch names | `patch_all` arguments set to False | for |",
        "|---|---|---|---|",
    ]
    for name, (patches, purpose) in BUILTINS.items():
        profile = builtin(name)
        on = ", ".join(f"`{p}`" for p in PATCH_NAMES if p in patches) or "(nothing)"
        off = ", ".join(f"`{k}`" for k, v in profile.settings().items() if not v)
        lines.append(f"| `{name}` | {on} | {off} | {purpose} |")
    return "\n".join(lines)
