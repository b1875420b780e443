"""A run's recorded inputs, rechecked: every file it read (or wrote for later runs), re-hashed now.

Each input a run recorded (``run.json``'s ``inputs``, :class:`mlreport.data.InputRecord`)
says what its sha256 covers (``hash_of``); :func:`recheck_inputs` recomputes it
the same way (:func:`mlreport.data.current_sha256`), resolving relative paths
against the run's working folder. ``rerun`` refuses when one changed;
``verify`` reports them. Inputs a notebook regenerates (the built-in sample
and scenario suite) and files a run wrote (a saved reference profile) are
compared after a rerun instead (:func:`is_regenerated`, :func:`is_written`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["InputCheck", "InputReview", "recheck_inputs", "is_regenerated", "is_written", "BUILTIN_MARK"]

#: Paths of built-in inputs (the built-in scenario suite) end with it.
BUILTIN_MARK = "(built-in)"


@dataclass
class InputCheck:
    """One recorded input, re-hashed (``current`` None: missing).

    ``checkable`` is False when the record does not allow recomputing the
    hash (several files recorded by count only); ``note`` says why.
    """

    name: str
    path: str
    hash_of: str
    recorded: str | None
    current: str | None
    resolved: str = ""
    checkable: bool = True
    note: str = ""

    @property
    def ok(self) -> bool:
        """Unchanged, or not checkable (said in ``note``): nothing to refuse."""
        return not self.checkable or (self.current is not None and self.current == self.recorded)

    @property
    def missing(self) -> bool:
        return self.checkable and self.current is None

    def problem(self) -> str:
        where = self.resolved or self.path
        if self.hash_of == "written":
            return (f"{self.name!r} {where}, which the run wrote, changed since (recorded sha256 {self.recorded}, "
                    f"now {self.current}): a rerun would overwrite it")
        if self.current is None:
            return f"input {self.name!r} {where} is missing (recorded sha256 {self.recorded})"
        return f"input {self.name!r} {where} changed: recorded sha256 {self.recorded}, current {self.current}"


def is_regenerated(item: Mapping[str, Any]) -> bool:
    """Inputs the notebook regenerates itself: compared after a rerun, not before."""
    hash_of = str(item.get("hash_of") or "file")
    return hash_of == "content" or (hash_of == "text" and str(item.get("path", "")).endswith(BUILTIN_MARK))


def is_written(item: Mapping[str, Any]) -> bool:
    """Files the run wrote for later runs (a saved reference profile): a rerun writes them again."""
    return str(item.get("hash_of") or "") == "written"


def recheck_inputs(
    inputs: Iterable[Mapping[str, Any]], *, cwd: str | os.PathLike[str] | None = None,
    cache: dict[tuple[Any, ...], str | None] | None = None,
) -> list[InputCheck]:
    """Re-hash every recorded input that is read from a file (regenerated inputs are skipped).

    Relative paths are resolved against ``cwd`` (the run's working folder;
    default the current one). A file saved by the run (``"written"``) is
    checked only where it still exists: a rerun writes it again. ``cache``
    (keyed by path, kind, size and modification time) spares re-hashing a file
    that several runs read.
    """
    base = Path(cwd) if cwd else Path.cwd()
    checks = []
    for item in inputs:
        if is_regenerated(item):
            continue
        hash_of = str(item.get("hash_of") or "file")
        raw = str(item.get("path", ""))
        resolved = Path(raw) if Path(raw).is_absolute() else base / raw
        check = InputCheck(name=str(item.get("name", "")), path=raw, hash_of=hash_of, recorded=item.get("sha256"),
                           current=None, resolved=str(resolved))
        try:
            check.current = _current(item, base, resolved, cache)
        except ValueError as why:
            check.checkable, check.note = False, f"input {check.name!r} {raw} not re-hashed: {why}"
        if is_written(item) and check.current is None:
            check.checkable = False
            check.note = f"{check.name!r} {raw} (written by the run) is gone: a rerun writes it again"
        checks.append(check)
    return checks


def current_sha256(entry: Mapping[str, Any], *, base: str | os.PathLike[str] = ".") -> str | None:
    """:func:`mlreport.data.current_sha256`, imported on first use.

    mlreport.data imports pandas, a second of every command's start if this
    module (which every command imports through the record) imported it.
    """
    from ..data import current_sha256 as hash_now

    return hash_now(entry, base=base)


def _current(
    item: Mapping[str, Any], base: Path, resolved: Path, cache: dict[tuple[Any, ...], str | None] | None
) -> str | None:
    if cache is None or not resolved.is_file():
        return current_sha256(item, base=base)
    stat = resolved.stat()
    key = (str(resolved.resolve()), str(item.get("hash_of") or "file"), stat.st_size, stat.st_mtime_ns)
    if key not in cache:
        cache[key] = current_sha256(item, base=base)
    return cache[key]


class InputReview:
    """What ``verify`` says about the inputs of the runs it checks: the files they read, re-hashed now.

    An input that changed since its run is not damage to the record (data
    files are the user's to replace), so it is a note: a rerun of that run
    would be refused. Inputs in the registry that differ from those in the
    run's ``run.json`` (which the audit trail covers) are a problem:
    ``rerun`` reads the registry's.
    """

    def __init__(self) -> None:
        self.problems: list[tuple[str, str, str]] = []  # (run id, kind, message)
        self._cache: dict[tuple[Any, ...], str | None] = {}
        self._checked = 0
        self._runs = 0
        self._changed: dict[tuple[str, str], list[tuple[str, InputCheck]]] = {}
        self._unchecked: list[str] = []

    def run(self, run_id: str, run_dir: Path, registry_inputs: list[dict[str, Any]] | None,
            registry_cwd: str | None = None) -> None:
        """Recheck one run's inputs (those in its ``run.json``; skipped when it cannot be read)."""
        try:
            manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # the audited files' check says what happened to run.json
        inputs = manifest.get("inputs") if isinstance(manifest, dict) else None
        if not isinstance(inputs, list):
            return
        if registry_inputs is not None and registry_inputs != inputs:
            self.problems.append((run_id, "registry-mismatch", (
                f"run {run_id}: the registry's inputs differ from those in its run.json (covered by the audit "
                "trail): `mlreport rerun` would check the registry's; rebuild the registry from the run folders"
            )))
        self._runs += 1
        for check in recheck_inputs(inputs, cwd=manifest.get("cwd") or registry_cwd, cache=self._cache):
            self._checked += 1
            if check.note:
                self._unchecked.append(f"run {run_id}: {check.note}")
            elif not check.ok:
                self._changed.setdefault((check.resolved, str(check.current)), []).append((run_id, check))

    def notes(self) -> list[str]:
        """One line of counts, then one per changed or missing input file (with the runs that read it)."""
        if not self._runs:
            return []
        changed = sum(len(runs) for runs in self._changed.values())
        lines = [f"inputs: {self._checked} recorded input(s) of {self._runs} run(s) re-hashed, {changed} changed or "
                 "missing since their run (not damage to the record: a rerun of those runs is refused)"]
        for runs in self._changed.values():
            run_id, check = runs[0]
            others = f" and {len(runs) - 1} more run(s) ({', '.join(r for r, _ in runs[1:4])}"
            others += ", ...)" if len(runs) > 4 else ")"
            lines.append(f"run {run_id}{others if len(runs) > 1 else ''}: {check.problem()}")
        return lines + self._unchecked
