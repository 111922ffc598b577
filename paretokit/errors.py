"""The one exception type for errors a user can cause.

The CLI turns a :class:`ParetokitError` into one red line and exit code 1; anything else
reaching the user is a bug.
"""

from __future__ import annotations

import re


class ParetokitError(Exception):
    """An error the user can fix: the message says what was wrong and what to do."""


class MethodError(ParetokitError):
    """Bad method name, bad option, or input a method cannot handle."""


class ProblemError(ParetokitError):
    """Unknown problem, bad task selection, or missing data."""


class ResultsFileError(ParetokitError):
    """A results file that is unreadable or not one of ours."""


class StorageError(ParetokitError):
    """An Optuna storage that cannot be reached or used."""


class TrainingDiverged(ParetokitError):
    """A task loss became NaN or infinite: the run is recorded as failed with this reason."""


_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^\s:/@]*:)[^\s'\"]*@", re.I)


def mask_password(text: str) -> str:
    """``text`` with the password of every URL in it (``scheme://user:password@host``) shown
    as ``***``: storage URLs appear in messages and logs, their passwords must not."""
    return _PASSWORD.sub(r"\g<head>***@", text)
