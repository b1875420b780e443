"""A reference profile fitted once, and mergeable count summaries of any batch.

:class:`ReferenceProfile` learns from the reference data what every later
comparison needs: each column's kind, its bins (reference quantiles), its
categories, its range and a few shares. :meth:`ReferenceProfile.summarize`
then turns any batch (a file, a period, a worker's partition) into
:class:`~mlreport.profile.Summaries`: plain counts on those fixed
bins, which add up (``a + b``, :func:`~mlreport.profile.merge`).
Every drift statistic in :mod:`mlreport.drift` is computed from such counts,
so a SQL backend (DuckDB, Spark) only has to produce the same counts
(``GROUP BY`` over bin indices) to give the same numbers.

This module fits, applies, saves and loads the profile (JSON with a sha256
fingerprint of its content). The rest, one module each:

* ``_fit``: one column's kind, bins, categories and mode (the conventions);
* ``_column``: :class:`~mlreport.profile.ColumnProfile`, what was fitted;
* ``_summaries``: :class:`~mlreport.profile.Summaries`, counts that add;
* ``_counts``: counting a batch on the bins (:func:`~mlreport.profile.bin_index`);
* ``_sorted``: a column's sorted numbers (quantiles, moments);
* ``_values``: missing, non-finite and invalid values, canonical labels;
* ``_periods``: the period labels a batch is cut by.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import DataError, OutputError, ParameterError
from ._column import ColumnProfile
from ._counts import _BLOCK_ROWS, Factorized, _count_encoded, _Counter, _Encoded, _factorize
from ._fit import _fit_column
from ._summaries import ColumnSummary, Summaries, merge
from ._threads import column_map
from ._values import _is_datetime

__all__ = [
    "PROFILE_VERSION",
    "DEFAULT_SENTINELS",
    "ReferenceProfile",
]

PROFILE_VERSION = 1
"""Version of the profile's JSON layout and of its binning conventions."""

DEFAULT_SENTINELS: tuple[float, ...] = (0, -1, 999, 9999, 99999, 999999, -999)


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    """Bins, categories and reference counts fitted once on the reference data.

    Build with :meth:`fit`; apply to any batch with :meth:`summarize` /
    :meth:`summarize_by`; save with :meth:`save` and reuse with :meth:`load`.
    ``reference`` holds the reference's own :class:`Summaries`, so a saved
    profile is all a later run needs to compare a new batch.
    """

    columns: Mapping[str, ColumnProfile]
    reference: Summaries
    rows: int
    settings: Mapping[str, Any]
    version: int = PROFILE_VERSION

    # -- fitting -----------------------------------------------------------
    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        columns: Sequence[str] | None = None,
        *,
        categorical: Sequence[str] | None = None,
        numeric: Sequence[str] | None = None,
        bins: int = 10,
        fine_bins: int = 100,
        max_categories: int = 50,
        sentinels: Sequence[float] = DEFAULT_SENTINELS,
        discrete_max: int = 12,
    ) -> ReferenceProfile:
        """Fit the profile of ``columns`` (default: every non-datetime column).

        See :mod:`mlreport.profile` for the kind rule, bins and categories.
        Raises :class:`DataError` for an empty frame, a missing or datetime
        column, and :class:`ParameterError` for unusable settings.
        """
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"reference data must be a pandas DataFrame, got {type(frame).__name__}")
        for value, label, minimum in (
            (bins, "bins", 2),
            (fine_bins, "fine_bins", 2),
            (max_categories, "max_categories", 1),
        ):
            if not isinstance(value, (int, np.integer)) or value < minimum:
                raise ParameterError(f"{label} must be an integer >= {minimum}, got {value!r}", name=label)
        if not isinstance(discrete_max, (int, np.integer)) or discrete_max < 0:
            raise ParameterError(
                f"discrete_max must be an integer >= 0, got {discrete_max!r}", name="discrete_max"
            )
        sentinel_values = tuple(float(s) for s in sentinels)
        if len(frame) == 0:
            raise DataError("reference data has no rows: nothing to fit a profile on")
        if columns is None:
            names = [c for c in frame.columns if not _is_datetime(frame[c].dtype)]
        else:
            names = list(columns)
        declared_cat = set(categorical or ())
        declared_num = set(numeric or ())
        both = declared_cat & declared_num
        if both:
            raise ParameterError(
                f"columns declared both categorical and numeric: {sorted(both)}", name="categorical"
            )
        checked: list[tuple[str, pd.Series]] = []
        for name in names:
            if not isinstance(name, str):
                raise DataError(f"column names must be strings, got {name!r}", column=str(name))
            if name not in frame.columns:
                raise DataError(f"column {name!r} is not in the reference data", column=name)
            series = frame[name]
            if isinstance(series, pd.DataFrame):
                raise DataError(f"column {name!r} appears more than once in the reference data", column=name)
            if _is_datetime(series.dtype):
                raise DataError(
                    f"column {name!r} holds timestamps; drift is profiled on features, "
                    "use timestamps to cut periods instead",
                    column=name,
                )
            checked.append((name, series))

        def fit_one(item: tuple[str, pd.Series]) -> tuple[ColumnProfile, ColumnSummary]:
            name, series = item
            return _fit_column(
                name,
                series,
                categorical=declared_cat,
                numeric=declared_num,
                discrete_max=int(discrete_max),
                bins=int(bins),
                fine_bins=int(fine_bins),
                max_categories=int(max_categories),
                sentinels=sentinel_values,
            )

        # Each column is fitted on its own (a sort per column of numbers): the columns side by side.
        results = column_map(fit_one, checked)
        fitted = {name: profile for (name, _), (profile, _) in zip(checked, results, strict=True)}
        reference = {name: summary for (name, _), (_, summary) in zip(checked, results, strict=True)}
        settings = {
            "bins": int(bins),
            "fine_bins": int(fine_bins),
            "max_categories": int(max_categories),
            "sentinels": list(sentinel_values),
            "discrete_max": int(discrete_max),
        }
        return cls(
            columns=fitted,
            reference=Summaries(rows=len(frame), columns=reference),
            rows=len(frame),
            settings=settings,
        )

    # -- applying ----------------------------------------------------------
    @property
    def sentinels(self) -> tuple[float, ...]:
        return tuple(float(s) for s in self.settings.get("sentinels", ()))

    def __getitem__(self, name: str) -> ColumnProfile:
        return self.columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def _check_frame(self, frame: pd.DataFrame) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"data to summarise must be a pandas DataFrame, got {type(frame).__name__}")

    def _summaries(
        self, frame: pd.DataFrame, groups: npt.NDArray[np.int64] | None, n_groups: int
    ) -> list[Summaries]:
        return self._summaries_many(frame, [(groups, n_groups)])[0]

    def _summaries_many(
        self, frame: pd.DataFrame, groupings: Sequence[tuple[npt.NDArray[np.int64] | None, int]],
        factorized: Mapping[str, Factorized] | None = None,
    ) -> list[list[Summaries]]:
        """Summaries per group of each grouping (group codes per row, or None for the whole frame, and their number).

        Each column is encoded once per block (:class:`~mlreport.profile._counts._Encoded`) and every
        grouping counted from that encoding: each grouping's numbers are those of a pass of its own.
        ``factorized`` holds string columns already factorized over the whole frame (grouping keys): their
        codes are reused, not computed again.
        """
        factorized = factorized or {}
        if len(frame) > _BLOCK_ROWS:
            # Count block by block and add: the same numbers, less memory traffic.
            blocks = []
            for start in range(0, len(frame), _BLOCK_ROWS):
                stop = start + _BLOCK_ROWS
                part = [(None if groups is None else groups[start:stop], n) for groups, n in groupings]
                block_codes = {name: (codes[start:stop], labels) for name, (codes, labels) in factorized.items()}
                blocks.append(self._block_summaries(frame.iloc[start:stop], part, block_codes))
            # every block has the same groupings and groups
            return [
                [merge(parts) for parts in zip(*per_block, strict=True)]
                for per_block in zip(*blocks, strict=True)
            ]
        return self._block_summaries(frame, groupings, factorized)

    def _block_summaries(
        self, frame: pd.DataFrame, groupings: Sequence[tuple[npt.NDArray[np.int64] | None, int]],
        factorized: Mapping[str, Factorized] | None = None,
    ) -> list[list[Summaries]]:
        counters = [_Counter(groups, n_groups) for groups, n_groups in groupings]
        per_column: list[dict[str, list[ColumnSummary]]] = [{} for _ in counters]
        absent: list[str] = []
        for name, column in self.columns.items():
            if name not in frame.columns:
                absent.append(name)
                continue
            series = frame[name]
            if isinstance(series, pd.DataFrame):
                raise DataError(f"column {name!r} appears more than once in the data", column=name)
            encoded = _Encoded(column, series, self.sentinels, (factorized or {}).get(name))
            for counted, counter in zip(per_column, counters, strict=True):
                counted[name] = _count_encoded(encoded, counter)
            del encoded
        results = []
        for counted, (groups, n_groups) in zip(per_column, groupings, strict=True):
            rows = np.array([len(frame)]) if groups is None else np.bincount(groups, minlength=n_groups)
            results.append([
                Summaries(
                    rows=int(rows[g]),
                    columns={name: parts[g] for name, parts in counted.items()},
                    absent=tuple(absent),
                )
                for g in range(n_groups)
            ])
        return results

    def summarize(self, frame: pd.DataFrame) -> Summaries:
        """Counts of ``frame`` on this profile's bins (one vectorised pass per column).

        Profiled columns missing from ``frame`` are listed in ``absent``;
        columns of ``frame`` not in the profile are ignored.
        """
        self._check_frame(frame)
        return self._summaries(frame, None, 1)[0]

    def summarize_by(self, frame: pd.DataFrame, key: pd.Series | str) -> dict[Hashable, Summaries]:
        """Summaries per group of ``key`` (a Series aligned with ``frame``, or a column name).

        Groups come back in sorted key order; rows whose key is missing are
        left out. Each group's summaries equal ``summarize`` of that group's
        rows, and together they merge to the whole frame's (less those rows).
        """
        self._check_frame(frame)
        codes, labels = self._key_codes(frame, key)
        keep = codes >= 0
        if not keep.all():
            frame = frame.loc[keep]
            codes = codes[keep]
        if len(labels) == 0:
            return {}
        parts = self._summaries(frame, codes.astype(np.int64), len(labels))
        return {label: part for label, part in zip(labels, parts, strict=True)}

    def summarize_by_each(
        self, frame: pd.DataFrame, keys: Sequence[pd.Series | str]
    ) -> list[dict[Hashable, Summaries]]:
        """``[summarize_by(frame, key) for key in keys]``, sharing the per-row work (see :meth:`summarize_with`)."""
        return self._summarize_each(frame, keys, whole=False)[1]

    def summarize_with(
        self, frame: pd.DataFrame, keys: Sequence[pd.Series | str]
    ) -> tuple[Summaries, list[dict[Hashable, Summaries]]]:
        """``summarize(frame)`` and ``summarize_by(frame, key)`` for each key, sharing the per-row work.

        Each column is read, converted and binned once for all the groupings
        (the whole frame and every key), then counted per grouping: the
        same numbers, to the last bit, as the separate calls, in about the
        time of one of them plus a ``bincount`` per grouping. Rows whose key
        is missing are left out of that key's groups only.
        """
        whole, per_key = self._summarize_each(frame, keys, whole=True)
        assert whole is not None
        return whole, per_key

    def _summarize_each(
        self, frame: pd.DataFrame, keys: Sequence[pd.Series | str], *, whole: bool
    ) -> tuple[Summaries | None, list[dict[Hashable, Summaries]]]:
        self._check_frame(frame)
        groupings: list[tuple[npt.NDArray[np.int64] | None, int]] = [(None, 1)] if whole else []
        coded: list[tuple[int, Any] | None] = []
        separate: dict[int, dict[Hashable, Summaries]] = {}
        factorized: dict[str, Factorized] = {}  # string key columns, factorized once for the key and the column
        for position, key in enumerate(keys):
            codes, labels = self._key_codes(frame, key, factorized)
            missing = codes < 0
            has_missing = bool(missing.any())
            if has_missing and len(frame) > _BLOCK_ROWS:
                # Left-out rows would move the block boundaries of a separate call, and with them the
                # rounding of merged sums: count this key on its own rows to keep the same numbers.
                separate[position] = self.summarize_by(frame, key)
                coded.append(None)
                continue
            if len(labels) == 0:
                separate[position] = {}
                coded.append(None)
                continue
            groups = codes.astype(np.int64)
            if has_missing:
                groups[missing] = len(labels)  # a group of its own, dropped below
            groupings.append((groups, len(labels) + int(has_missing)))
            coded.append((len(groupings) - 1, labels))
        counted = self._summaries_many(frame, groupings, factorized)
        per_key: list[dict[Hashable, Summaries]] = []
        for position, entry in enumerate(coded):
            if entry is None:
                per_key.append(separate[position])
                continue
            slot, labels = entry
            per_key.append({label: part for label, part in zip(labels, counted[slot][: len(labels)], strict=True)})
        return (counted[0][0] if whole else None), per_key

    def _key_codes(
        self, frame: pd.DataFrame, key: pd.Series | str, factorized: dict[str, Factorized] | None = None
    ) -> tuple[npt.NDArray[np.intp], Any]:
        """Sorted group codes of ``key`` (a Series aligned with ``frame``, or a column name) per row; -1 missing.

        A column name of Arrow strings factorized here is added to ``factorized`` (when given), for the
        column's own counts in the same pass.
        """
        name = key if isinstance(key, str) else None
        if isinstance(key, str):
            if key not in frame.columns:
                raise DataError(f"period key column {key!r} is not in the data", column=key)
            key = frame[key]
        if not isinstance(key, pd.Series):
            key = pd.Series(key)
            if len(key) != len(frame):
                raise ParameterError(
                    f"key has {len(key)} values for {len(frame)} rows", name="key"
                )
            key.index = frame.index
        elif not key.index.equals(frame.index):
            if len(key) == len(frame) and not key.index.is_unique:
                raise ParameterError("key index does not match the data's index", name="key")
            key = key.reindex(frame.index)
        if isinstance(key.dtype, pd.StringDtype) and key.dtype.storage == "pyarrow":
            # Arrow's dictionary encoding, then the few labels sorted: pd.factorize(sort=True)'s codes and
            # labels (Arrow strings sort by UTF-8 bytes, Python's by code points: the same order), faster.
            codes, uniques = _factorize(key)
            if name is not None and factorized is not None:
                factorized[name] = (codes, uniques)
            order = np.argsort(uniques, kind="stable")
            rank = np.empty(len(order) + 1, dtype=np.intp)
            rank[order] = np.arange(len(order))
            rank[-1] = -1  # code -1, a missing key, stays -1
            return rank[codes], uniques[order]
        codes, labels = pd.factorize(key, sort=True, use_na_sentinel=True)
        return codes, labels

    # -- serialisation -----------------------------------------------------
    def _content(self) -> dict[str, Any]:
        return {
            "settings": dict(self.settings),
            "rows": self.rows,
            "columns": {name: column.to_dict() for name, column in self.columns.items()},
            "reference": self.reference.to_dict(),
        }

    @property
    def fingerprint(self) -> str:
        """sha256 of the canonical JSON (sorted keys, no spaces) of the fitted content."""
        canonical = json.dumps(
            self._content(), sort_keys=True, separators=(",", ":"), allow_nan=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready content with ``version`` and ``fingerprint``."""
        return {"version": self.version, "fingerprint": self.fingerprint, **self._content()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> ReferenceProfile:
        """Rebuild a profile; checks the version and, when present, the fingerprint."""
        where = f" in {source}" if source else ""
        if not isinstance(data, Mapping):
            raise DataError(f"reference profile{where} is not a JSON object", path=source)
        version = data.get("version")
        if version != PROFILE_VERSION:
            raise DataError(
                f"reference profile{where} has version {version!r}; this mlreport reads "
                f"version {PROFILE_VERSION}: refit the profile",
                path=source,
            )
        try:
            profile = cls(
                columns={
                    str(name): ColumnProfile.from_dict(value)
                    for name, value in dict(data["columns"]).items()
                },
                reference=Summaries.from_dict(data["reference"]),
                rows=int(data["rows"]),
                settings=dict(data["settings"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"reference profile{where} is malformed: {error}", path=source) from None
        expected = data.get("fingerprint")
        if expected is not None and expected != profile.fingerprint:
            raise DataError(
                f"reference profile{where} does not match its fingerprint (edited or corrupted): "
                f"stored {str(expected)[:12]}..., computed {profile.fingerprint[:12]}...",
                path=source,
            )
        return profile

    def to_bytes(self) -> bytes:
        """The file :meth:`save` writes: the JSON of :meth:`to_dict`, UTF-8 (the same bytes for the same profile)."""
        return json.dumps(self.to_dict(), indent=1, allow_nan=False).encode("utf-8")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_bytes` (atomically: a temporary file moved into place)."""
        target = Path(path)
        content = self.to_bytes()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
            )
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
            os.replace(temporary, target)
        except OSError as error:
            raise OutputError(f"cannot write reference profile {target}: {error}") from None
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReferenceProfile:
        """Read a profile written by :meth:`save`; :class:`DataError` if unusable."""
        source = str(path)
        try:
            content = Path(path).read_bytes()
        except OSError as error:
            raise DataError(f"cannot read reference profile {source}: {error}", path=source) from None
        return cls.from_bytes(content, source=source)

    @classmethod
    def from_bytes(cls, content: bytes, *, source: str = "<bytes>") -> ReferenceProfile:
        """A profile from the bytes of a file :meth:`save` wrote (read once by the caller, who may hash them)."""
        try:
            data = json.loads(content.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise DataError(f"reference profile {source} is not UTF-8 text: {error}", path=source) from None
        except json.JSONDecodeError as error:
            raise DataError(f"reference profile {source} is not valid JSON: {error}", path=source) from None
        return cls.from_dict(data, source=source)
