"""Errors of the release lifecycle (kinds and their meaning: the top-level `errors`)."""

from __future__ import annotations

from errors import ChargewatchError, Conflict, InputError, NotFound, Unavailable


class ReleaseError(ChargewatchError):
    """Base class of every error the releases package raises."""


class UnknownRelease(ReleaseError, NotFound):
    """A version that is not a registered release of the type (the message says which)."""


class MoveRefused(ReleaseError, InputError):
    """A move that cannot be made as asked; the message names what is wrong. Nothing moved."""


class MoveConflict(MoveRefused, Conflict):
    """Another move changed the state first (compare-and-set lost). Nothing moved."""


class StoreUnavailable(ReleaseError, Unavailable):
    """Redis did not answer a move: nothing was moved."""


class InvalidOutcome(ReleaseError, InputError):
    """An outcome that cannot be recorded as given; the message names the field."""
