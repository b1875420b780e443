"""The audit trail: an append-only, hash-chained log of what happened to runs.

``<out>/audit.log`` holds one JSON object per line::

    {"event":"run","files":{"notebook.ipynb":"<sha256>","report.html":"<sha256>","run.json":"<sha256>"},
     "hash":"<sha256 of this entry without hash and mac>","prev":"<hash of entry 11>",
     "run_dir":"card-fraud/drift/20260314T020003Z-3f9a1c2b","run_id":"20260314T020003Z-3f9a1c2b",
     "seq":12,"status":"incident","time":"2026-03-14T02:00:41Z"}

Convention. Each line is the entry's canonical JSON, the JSON Canonicalization
Scheme of RFC 8785 (keys sorted by UTF-16 code units, no whitespace, numbers as
ECMAScript prints them, minimal string escapes, UTF-8), as the ``rfc8785``
package writes it. ``hash`` is the sha256 (hex) of the canonical JSON of the
entry without its ``hash`` and ``mac`` keys; ``prev`` is the previous entry's
``hash`` (64 zeros for the first); ``seq`` counts from 1. Entries written by
mlreport 0.1 used Python's ``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``, which differs from RFC 8785 only for non-integral
numbers' spelling (``15.0`` against ``15``) and keys beyond the BMP; such a line
is verified in the form it was written in, and nothing else is.

Reading is strict (:func:`read_log`): a line with a duplicate key, a NaN or
an infinity, or without the keys every entry has, is not an entry; a line
that is not byte for byte the canonical form of what it parses to is reported
by :func:`mlreport.record.verify`, as is an entry that does not match the
schema of its event (:data:`EVENT_KEYS`, :func:`check_entry`). Events:

- ``run``: a committed run, with the sha256 of its manifest, report and
  executed notebook, and its status;
- ``import``: a run folder the trail had never recorded, imported on request
  by ``mlreport registry rebuild --import-unrecorded``;
- ``prune``: a run folder deleted by retention, with its files' hashes just
  before deletion;
- ``deliver``: where a recorded run was sent on (notifications, metric
  exports), with each attempt's outcome;
- ``rebuild``: the registry was rebuilt from the run folders and this trail;
- ``artifact``: a file made from a recorded run afterwards (``mlreport pdf``
  writes ``report.pdf``), with its sha256.

Changing any byte of an entry breaks its hash; removing, inserting or
reordering entries breaks the next entry's ``prev`` link; rewriting the tail
consistently is caught by the registry, which stores each run's entry number
and hash. :func:`mlreport.record.verify` rechecks all of it and every file of
every run, and says what changed. Appends happen under an exclusive file lock,
so concurrent runs extend one chain.

The chain makes tampering evident, not impossible: someone who can write both
the log and the registry can append a well-formed, correctly chained entry,
or rewrite the history consistently. Two anchors outside the folder catch
that: the head (``mlreport verify --head``) copied to where they cannot write
and checked later (``--expect-head``); and, with ``MLREPORT_AUDIT_KEY`` set
in the environment of runs and of ``verify``, an HMAC-SHA256 of every entry's
hash (``mac``, with the key's id ``key_id`` inside the hashed content), which
nobody without the key can produce.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785

from ..errors import InputError, OutputError
from ._store import locked, sha256_file

__all__ = [
    "AUDIT_FILE",
    "AUDITED_FILES",
    "GENESIS",
    "AUDIT_KEY_ENV",
    "EVENT_KEYS",
    "canonical_json",
    "legacy_canonical_json",
    "entry_hash",
    "file_hashes",
    "append",
    "read_log",
    "check_entry",
    "audit_key",
    "key_id",
    "entry_mac",
    "LogLine",
]

AUDIT_FILE = "audit.log"
AUDITED_FILES = ("run.json", "report.html", "notebook.ipynb")
GENESIS = "0" * 64
AUDIT_KEY_ENV = "MLREPORT_AUDIT_KEY"
MIN_KEY_CHARS = 16
_LOCK = Path(".tmp") / "audit.lock"
#: Keys every entry has, whatever its event.
_REQUIRED = ("seq", "time", "event", "prev", "hash")
#: Keys outside the hashed content.
_UNHASHED = frozenset({"hash", "mac"})


def canonical_json(data: Mapping[str, Any]) -> bytes:
    """RFC 8785 canonical JSON of ``data`` (the bytes an entry's hash covers, without ``hash`` and ``mac``)."""
    try:
        return rfc8785.dumps(data)
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"not representable in canonical JSON (RFC 8785): {exc}") from None


def legacy_canonical_json(data: Mapping[str, Any]) -> bytes:
    """The canonical form of mlreport 0.1 (Python's sorted, compact JSON), kept to verify its entries."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def entry_hash(entry: Mapping[str, Any], *, form: Callable[[Mapping[str, Any]], bytes] = canonical_json) -> str:
    """sha256 of the entry's canonical JSON without its ``hash`` and ``mac`` keys."""
    return hashlib.sha256(form({k: v for k, v in entry.items() if k not in _UNHASHED})).hexdigest()


def audit_key(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The HMAC key from ``$MLREPORT_AUDIT_KEY`` (None when unset), or an InputError when it is too short."""
    value = (os.environ if environ is None else environ).get(AUDIT_KEY_ENV)
    if value is None or value == "":
        return None
    if len(value) < MIN_KEY_CHARS:
        raise InputError(
            f"${AUDIT_KEY_ENV}: a key of {len(value)} characters; expected at least {MIN_KEY_CHARS} (a random secret "
            "from a secret store, the same for every run and for verify)"
        )
    return value.encode("utf-8")


def key_id(key: bytes) -> str:
    """A short public name for a key (16 hex digits of an HMAC under it), so verify can say which key signed."""
    return hmac.new(key, b"mlreport audit key id", hashlib.sha256).hexdigest()[:16]


def entry_mac(key: bytes, digest: str) -> str:
    """HMAC-SHA256 of an entry's ``hash`` under ``key``, hex."""
    return hmac.new(key, digest.encode("ascii"), hashlib.sha256).hexdigest()


def file_hashes(run_dir: Path) -> dict[str, str | None]:
    """sha256 of each audited file of a run folder (None for a missing file)."""
    return {name: (sha256_file(run_dir / name) if (run_dir / name).is_file() else None) for name in AUDITED_FILES}


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _tail(path: Path, block: int = 65_536) -> tuple[bytes, bool]:
    """The last line of ``path`` (without its newline) and whether the file ends with one."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        if size == 0:
            return b"", True
        start = max(0, size - block)
        while True:
            handle.seek(start)
            data = handle.read(size - start)
            stripped = data.rstrip(b"\n")
            cut = stripped.rfind(b"\n")
            if cut >= 0 or start == 0:
                return stripped[cut + 1:], data.endswith(b"\n")
            start = max(0, start - block)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


def _append_whole(fd: int, line: bytes) -> None:
    """Write ``line`` at the end of ``fd`` and fsync it, or leave the file as it was.

    A write that fails part-way (a full disk) would leave a torn last line that
    every later entry has to link past; the file is cut back to its size
    before the write instead, so the trail stays whole and the error is raised.
    """
    size = os.fstat(fd).st_size
    try:
        view = memoryview(line)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
            os.fsync(fd)
        raise


def append(
    out_dir: Path, *, event: str, run_id: str | None = None, run_dir: str | None = None,
    files: Mapping[str, str | None] | None = None, **extra: Any,
) -> dict[str, Any]:
    """Append one entry to ``<out>/audit.log`` under the lock and return it.

    The line is written with one ``write`` and fsynced before the lock is
    released. A last line that is not an entry (an edit, a torn write) is
    linked by the sha256 of its raw bytes, so the chain continues while
    :func:`verify` still reports the damage. With ``$MLREPORT_AUDIT_KEY`` set,
    the entry carries the key's id and an HMAC of its hash.
    """
    out_dir = Path(out_dir)
    path = out_dir / AUDIT_FILE
    key = audit_key()
    try:
        with locked(out_dir / _LOCK):
            seq, prev, needs_newline = 1, GENESIS, False
            if path.exists() and path.stat().st_size:
                raw, ends_with_newline = _tail(path)
                needs_newline = not ends_with_newline
                try:
                    last = json.loads(raw)
                    seq, prev = int(last["seq"]) + 1, str(last["hash"])
                except (ValueError, KeyError, TypeError):
                    seq, prev = _count_lines(path) + 1, hashlib.sha256(raw).hexdigest()
            entry: dict[str, Any] = {"seq": seq, "time": _utc_now(), "event": event}
            if run_id is not None:
                entry["run_id"] = run_id
            if run_dir is not None:
                entry["run_dir"] = run_dir
            if files is not None:
                entry["files"] = dict(files)
            entry.update(extra)
            if key is not None:
                entry["key_id"] = key_id(key)
            entry["prev"] = prev
            entry["hash"] = entry_hash(entry)
            if key is not None:
                entry["mac"] = entry_mac(key, entry["hash"])
            line = (b"\n" if needs_newline else b"") + canonical_json(entry) + b"\n"
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                _append_whole(fd, line)
            finally:
                os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot append to the audit trail {path}: {exc}") from None
    return entry


@dataclass
class LogLine:
    """One line of the log: its number, raw bytes, and the entry when it parses strictly.

    ``form`` is the canonical form the line is written in (``"rfc8785"``, or
    ``"legacy"`` for mlreport 0.1's), or ``""`` when the bytes are neither: the
    line was rewritten by something else (reformatted, keys reordered,
    escapes changed).
    """

    line: int
    raw: bytes
    entry: dict[str, Any] | None
    error: str = ""
    form: str = ""

    def recomputed_hash(self) -> str | None:
        """The entry's hash as recomputed in the form it is written in (None: not an entry)."""
        if self.entry is None:
            return None
        return entry_hash(self.entry, form=legacy_canonical_json if self.form == "legacy" else canonical_json)


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _strict_loads(raw: bytes) -> Any:
    """JSON that means one thing: no duplicate keys (the last would silently win), no NaN or Infinity."""
    return json.loads(raw, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


def _form(raw: bytes, entry: Mapping[str, Any]) -> str:
    with contextlib.suppress(ValueError):
        if canonical_json(entry) == raw:
            return "rfc8785"
    with contextlib.suppress(ValueError):
        if "key_id" not in entry and legacy_canonical_json(entry) == raw:
            return "legacy"
    return ""


def read_log(out_dir: Path) -> list[LogLine]:
    """Every non-empty line of ``<out>/audit.log``, parsed strictly where possible."""
    path = Path(out_dir) / AUDIT_FILE
    if not path.exists():
        return []
    lines = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            raw = raw.rstrip(b"\n")
            if not raw.strip():
                continue
            try:
                entry = _strict_loads(raw)
            except _DuplicateKey as exc:
                lines.append(LogLine(number, raw, None, f"not an audit entry ({exc}: a JSON reader keeps either)"))
                continue
            except UnicodeDecodeError as exc:  # json.loads decodes bytes first
                lines.append(LogLine(number, raw, None, f"not JSON (not UTF-8: {exc.reason})"))
                continue
            except ValueError as exc:
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                lines.append(LogLine(number, raw, None, f"not JSON ({reason})"))
                continue
            if not isinstance(entry, dict) or any(key not in entry for key in _REQUIRED):
                lines.append(LogLine(number, raw, None, f"not an audit entry (needs {', '.join(_REQUIRED)})"))
                continue
            lines.append(LogLine(number, raw, entry, form=_form(raw, entry)))
    return lines


# -- the schema of each event ------------------------------------------------------------------------

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX16 = re.compile(r"[0-9a-f]{16}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_RUN_DIR_PART = re.compile(r"[A-Za-z0-9._-]+")
_STATUSES = ("ok", "warning", "incident", "failed")


def _whole(value: object, least: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _check_hex(value: object) -> str | None:
    return None if isinstance(value, str) and _HEX64.fullmatch(value) else "expected 64 lowercase hex digits"


def _check_time(value: object) -> str | None:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        return "expected a UTC time YYYY-MM-DDTHH:MM:SSZ"
    try:
        dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return "not a calendar time"
    return None


def _check_seq(value: object) -> str | None:
    return None if _whole(value, 1) else "expected a whole number >= 1"


def _check_run_id(value: object) -> str | None:
    return None if isinstance(value, str) and _RUN_DIR_PART.fullmatch(value) else "expected a run id"


def _check_run_dir(value: object) -> str | None:
    """``model/analysis/run id``, relative and inside the outputs folder (a ``..`` would send verify elsewhere)."""
    if not isinstance(value, str):
        return "expected the run folder, model/analysis/run id"
    parts = value.split("/")
    if len(parts) != 3 or not all(_RUN_DIR_PART.fullmatch(p) and p not in (".", "..") for p in parts):
        return "expected the run folder as model/analysis/run id, inside the outputs folder"
    return None


def _check_files(value: object) -> str | None:
    if not isinstance(value, dict) or set(value) != set(AUDITED_FILES):
        return f"expected the sha256 of each of {', '.join(AUDITED_FILES)}"
    if not all(v is None or (isinstance(v, str) and _HEX64.fullmatch(v)) for v in value.values()):
        return "expected each file's sha256 (64 lowercase hex digits) or null for a file the run did not have"
    return None


def _check_artifacts(value: object) -> str | None:
    if not isinstance(value, dict) or not value:
        return "expected the sha256 of each file made"
    names_ok = all(isinstance(k, str) and k and "/" not in k and "\\" not in k for k in value)
    if not names_ok or not all(isinstance(v, str) and _HEX64.fullmatch(v) for v in value.values()):
        return "expected file names (no folders) with their sha256 (64 lowercase hex digits)"
    return None


def _check_status(value: object) -> str | None:
    return None if value in _STATUSES else f"expected one of {', '.join(_STATUSES)}"


def _check_days(value: object) -> str | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    return None if ok else "expected a number of days >= 0"


def _check_deliveries(value: object) -> str | None:
    if not isinstance(value, list) or not value:
        return "expected a list of deliveries"
    for item in value:
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("kind", "channel", "status")):
            return "expected each delivery to name its kind, channel and status"
    return None


def _check_count(value: object) -> str | None:
    return None if _whole(value) else "expected a whole number >= 0"


def _check_ids(value: object) -> str | None:
    ok = isinstance(value, list) and all(_check_run_id(v) is None for v in value)
    return None if ok else "expected a list of run ids"


def _check_replaced(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"path", "sha256"} or not isinstance(value["path"], str):
        return "expected null or the old registry's path and sha256"
    return None if value["sha256"] is None or _check_hex(value["sha256"]) is None else "expected a sha256 or null"


def _check_key_id(value: object) -> str | None:
    return None if isinstance(value, str) and _HEX16.fullmatch(value) else "expected 16 lowercase hex digits"


_Check = Callable[[object], str | None]
_COMMON: dict[str, _Check] = {
    "seq": _check_seq, "time": _check_time, "event": lambda v: None, "prev": _check_hex, "hash": _check_hex,
}
_SIGNED: dict[str, _Check] = {"key_id": _check_key_id, "mac": _check_hex}
_RUN_KEYS: dict[str, _Check] = {
    "run_id": _check_run_id, "run_dir": _check_run_dir, "files": _check_files, "status": _check_status,
}
#: Every event's own keys, each with its check; an entry holds exactly these, the common keys, and
#: ``key_id`` with ``mac`` when signed (:data:`OPTIONAL_KEYS` may be left out).
EVENT_KEYS: dict[str, dict[str, _Check]] = {
    "run": _RUN_KEYS,
    "import": _RUN_KEYS,
    "prune": {"run_id": _check_run_id, "run_dir": _check_run_dir, "files": _check_files, "keep_days": _check_days},
    "deliver": {"run_id": _check_run_id, "deliveries": _check_deliveries},
    "rebuild": {"runs": _check_count, "imported": _check_ids, "replaced": _check_replaced},
    "artifact": {"run_id": _check_run_id, "run_dir": _check_run_dir, "files": _check_artifacts},
}
#: Keys an entry of the event may leave out (a prune finished by a later one records no retention of its own).
OPTIONAL_KEYS: dict[str, frozenset[str]] = {"prune": frozenset({"keep_days"})}


def check_entry(entry: Mapping[str, Any]) -> list[str]:
    """What in ``entry`` does not match its event's schema (an empty list when it all does)."""
    event = entry.get("event")
    if not isinstance(event, str) or event not in EVENT_KEYS:
        return [f"unknown event {event!r} (known: {', '.join(EVENT_KEYS)})"]
    checks = {**_COMMON, **EVENT_KEYS[event]}
    if "key_id" in entry or "mac" in entry:
        checks.update(_SIGNED)
    optional = OPTIONAL_KEYS.get(event, frozenset())
    problems = [f"missing key {name!r}" for name in checks if name not in entry and name not in optional]
    problems += [f"unknown key {name!r}" for name in entry if name not in checks]
    for name, check in checks.items():
        if name in entry:
            reason = check(entry[name])
            if reason:
                problems.append(f"key {name!r}: {reason}")
    return problems
