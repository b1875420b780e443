"""What a model could not score: the rows, and why.

A model that works on the population as given can still fail on a scenario's
inputs: it returns NaN when a feature is missing, raises on an unseen
category, or answers with a decision label it never used before. In
production those rows would get no decision, which is an integration risk
worth reporting, so scoring collects such failures instead of stopping at the
first (:meth:`~mlreport.stress.Model.try_score`): a :class:`ScoringFailure`
holds the rows that could not be scored and a line per kind of problem.

Convention: a batch whose call raised, or returned the wrong number of
scores or non-numbers, fails as a whole (which of its rows caused it cannot
be told apart); NaN and infinite scores, missing decisions and unknown
decision labels fail row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import ModelError

__all__ = ["ScoringFailure", "FailureLog", "rows_text", "baseline_error"]

#: How many rows a message lists before "and N more".
SHOWN_ROWS = 5


@dataclass(frozen=True)
class ScoringFailure:
    """Rows of a frame that a model could not score, and why.

    ``rows`` is a boolean mask over the frame's rows (in order);
    ``problems`` one line per kind of problem (``"returned NaN for 2,000
    rows"``, ``"raised ValueError: ... (whole batches failed: 100,000
    rows)"``); ``error`` the :class:`~mlreport.errors.ModelError` of the
    first problem, as :meth:`~mlreport.stress.Model.score` raises it.
    """

    model: str
    scenario: str
    rows: npt.NDArray[np.bool_]
    problems: tuple[str, ...]
    error: ModelError

    @property
    def count(self) -> int:
        """How many rows could not be scored."""
        return int(self.rows.sum())

    @property
    def total(self) -> int:
        """How many rows were scored."""
        return len(self.rows)

    def positions(self, limit: int = SHOWN_ROWS) -> str:
        """The unscored rows in words: ``rows 3, 17, 25, 40, 41 and 95 more`` (0-based positions)."""
        return rows_text(np.flatnonzero(self.rows), limit=limit)

    def describe(self) -> str:
        """One sentence: the model, the scenario, how many rows of how many, and why."""
        return (
            f"model {self.model!r} cannot score scenario {self.scenario!r} for {self.count:,} of {_rows(self.total)} "
            f"({self.positions()}): {'; '.join(self.problems)}"
        )

    def merged(self, other: ScoringFailure | None) -> ScoringFailure:
        """This failure and ``other`` (of the same frame) as one: rows of either, problems of both."""
        if other is None:
            return self
        return ScoringFailure(
            model=self.model, scenario=self.scenario, rows=self.rows | other.rows,
            problems=self.problems + tuple(p for p in other.problems if p not in self.problems), error=self.error,
        )


class FailureLog:
    """Collects a model's problems on one frame, batch by batch, into a :class:`ScoringFailure`."""

    def __init__(self, model: str, scenario: str, rows: int) -> None:
        self.model = model
        self.scenario = scenario
        self.mask = np.zeros(rows, dtype=bool)
        self._whole: dict[str, int] = {}  # problem -> rows of the batches that failed with it
        self._by_row: dict[str, int] = {}  # "NaN" -> rows
        self._first: ModelError | None = None

    def batch(self, start: int, stop: int, problem: str, error: ModelError) -> None:
        """A batch (rows ``start`` to ``stop - 1``) failed as a whole."""
        self.mask[start:stop] = True
        self._whole[problem] = self._whole.get(problem, 0) + (stop - start)
        self._first = self._first or error

    def rows(self, start: int, bad: npt.NDArray[np.bool_], what: str, error: ModelError) -> None:
        """Rows of the batch starting at ``start`` failed one by one (``bad`` is the batch's mask)."""
        self.mask[start : start + len(bad)] |= bad
        self._by_row[what] = self._by_row.get(what, 0) + int(bad.sum())
        self._first = self._first or error

    def failure(self) -> ScoringFailure | None:
        """What failed, or None when every row was scored."""
        if self._first is None:
            return None
        problems = [f"{problem} (whole batches failed: {_rows(count)})" for problem, count in self._whole.items()]
        problems += [f"returned {what} for {_rows(count)}" for what, count in self._by_row.items()]
        return ScoringFailure(
            model=self.model, scenario=self.scenario, rows=self.mask, problems=tuple(problems), error=self._first
        )


def _rows(count: int) -> str:
    return f"{count:,} row" + ("" if count == 1 else "s")


def rows_text(positions: npt.NDArray[np.intp], *, limit: int = SHOWN_ROWS) -> str:
    """Row positions in words: ``row 3``, ``rows 3, 17 and 25``, ``rows 3, 17, 25, 40, 41 and 95 more``."""
    shown = ", ".join(f"{int(p):,}" for p in positions[:limit])
    more = len(positions) - limit
    if len(positions) == 1:
        return f"row {shown}"
    if more > 0:
        return f"rows {shown} and {more:,} more"
    head, _, last = shown.rpartition(", ")
    return f"rows {head} and {last}"


def baseline_error(failure: ScoringFailure, frame: pd.DataFrame, features: tuple[str, ...]) -> ModelError:
    """The input error of a model that cannot score the population as given (no scenario applied).

    Names the model, how many rows and which, why, and the model's features
    missing in those rows (the usual cause: a model without a rule for
    missing values).
    """
    unscored = frame.loc[failure.rows, [f for f in features if f in frame.columns]]
    missing = unscored.isna().sum()
    missing = missing[missing > 0].sort_values(ascending=False, kind="stable")
    hint = ""
    if len(missing):
        hint = "; those rows hold missing values in " + ", ".join(
            f"{column} ({_rows(int(count))})" for column, count in missing.head(5).items()
        )
    return ModelError(
        f"model {failure.model!r} cannot score the population as given (scenario 'baseline', before any shock): "
        f"{'; '.join(failure.problems)}; {failure.count:,} of {failure.total:,} rows ({failure.positions()}, "
        f"0-based positions in the data as read){hint}. The baseline needs a finite score for every row: drop or "
        "fill those rows, or give a model that handles them",
        model=failure.model,
        scenario="baseline",
    )
