"""A small on-disk cache of named NumPy arrays, for features that are slow to compute.

Entries live in :func:`cache_dir` (``$PARETOKIT_CACHE`` or ``~/.cache/paretokit``) as
uncompressed ``.npz`` files. A caller keys an entry by a name that includes a version string,
so changing how the arrays are computed invalidates old entries. Writes are atomic (a
temporary file in the same directory, then :func:`os.replace`), so a crash never leaves a
half-written entry under the final name; an entry that is unreadable or lacks an expected
array anyway (a truncated copy, a disk error) is recomputed and overwritten, never an error.
"""

from __future__ import annotations

import os
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np

ENV_VAR = "PARETOKIT_CACHE"


def cache_dir() -> Path:
    """The cache directory: ``$PARETOKIT_CACHE`` if set and non-empty, else ``~/.cache/paretokit``."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    return Path.home() / ".cache" / "paretokit"


def entry_path(name: str, directory: Path | None = None) -> Path:
    """Where the entry ``name`` is (or would be) stored."""
    return (directory if directory is not None else cache_dir()) / f"{name}.npz"


def read_entry(path: Path, keys: Iterable[str]) -> dict[str, np.ndarray] | None:
    """The arrays stored at ``path``, or None when it is missing, unreadable or lacks a key."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in keys}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return arrays


def write_entry(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Store ``arrays`` at ``path`` atomically: write a temporary file beside it, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a cache may be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_or_compute(
    name: str,
    compute: Callable[[], Mapping[str, np.ndarray]],
    keys: Iterable[str],
    directory: Path | None = None,
) -> dict[str, np.ndarray]:
    """The cached arrays for ``name``, computing and storing them first if needed.

    ``keys`` are the arrays a valid entry must hold. When the cache directory cannot be
    written, the computed arrays are still returned, with a :class:`RuntimeWarning`.
    """
    keys = list(keys)
    path = entry_path(name, directory)
    cached = read_entry(path, keys)
    if cached is not None:
        return cached
    arrays = {key: np.asarray(value) for key, value in compute().items()}
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise ValueError(f"cache entry {name!r}: compute() did not return {missing}")
    try:
        write_entry(path, arrays)
    except OSError as exc:
        warnings.warn(
            f"could not write the feature cache {path} ({exc}); they will be recomputed next "
            f"time (set {ENV_VAR} to a writable directory)",
            RuntimeWarning,
            stacklevel=2,
        )
    return arrays
