"""One module per ``python -m patchkit`` command, each with ``main(argv) -> int``."""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import NoReturn

WEEK_S = 7 * 24 * 3600.0  # upper bound for every duration patchkit accepts: no run lasts longer


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (and exit 2), not a usage dump.

    Abbreviated options are refused: ``--form json`` is a typo, not ``--format json``.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(allow_abbrev=False, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        warn(f"{self.prog}: {message} (see '{self.prog} --help')")
        raise SystemExit(2)

    def value_options(self) -> tuple[str, ...]:
        """The option strings that take the next word as their value (``--format``, ``-o``)."""
        return tuple(
            name
            for action in self._actions
            if action.nargs != 0 and action.option_strings
            for name in action.option_strings
        )


def warn(line: str) -> None:
    """One line on stderr; nothing when stderr is closed (never onto stdout, never a traceback)."""
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def bounded_number(text: str, *, upper: float, unit: str) -> float:
    """A finite number in (0, upper]; ValueError with the reason otherwise.

    ``float()`` accepts ``nan`` and ``inf``: a ``--timeout nan`` would never fire (every
    comparison with nan is false), so such values are refused here, once, for every option.
    """
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0 or value > upper:
        raise ValueError(f"must be a number of {unit} above 0 and at most {upper:.12g}: {text!r}")
    return value


def seconds(text: str) -> float:
    """argparse type for a duration in seconds: (0, one week]."""
    try:
        return bounded_number(text, upper=WEEK_S, unit="seconds")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def milliseconds(text: str) -> float:
    """argparse type for a threshold in milliseconds: (0, one week]."""
    try:
        return bounded_number(text, upper=WEEK_S * 1000, unit="milliseconds")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def write_stdout(text: str) -> None:
    """Write the report whatever stdout is: closed, a pipe its reader closed, or not UTF-8.

    A name that is not UTF-8 goes out as the bytes it was; a character the stream's encoding
    cannot hold (``PYTHONIOENCODING=ascii``) as a backslash escape. A closed reader is the
    reader's choice (``| head -c0``): the report is dropped, the exit status still tells.
    """
    stream = sys.stdout
    if stream is None:  # started with stdout closed (>&-)
        return
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        data = text.encode(encoding, "surrogateescape")
    except UnicodeEncodeError:
        data = text.encode(encoding, "backslashreplace")
    try:
        buffer = getattr(stream, "buffer", None)
        if buffer is None:
            stream.write(data.decode(encoding, "replace"))
        else:
            stream.flush()
            buffer.write(data)
        stream.flush()
    except BrokenPipeError:
        silence_stdout()
    except (OSError, ValueError):  # a bad descriptor or a stream closed under us
        pass


def silence_stdout() -> None:
    """After a broken pipe: point stdout at devnull so the exit-time flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
