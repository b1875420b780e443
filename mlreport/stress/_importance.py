"""Which features move the model: permutation importance without labels.

It ranks the features that the sensitivity sweep and reverse stress look at,
and orders the ``@top_numeric`` / ``@top_categorical`` selectors of a
scenario file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._population import Population
from .scenarios import is_numeric

__all__ = ["permutation_importance"]


def permutation_importance(population: Population, *, sample_rows: int = 5_000) -> pd.DataFrame:
    """Permutation importance of each feature of ``population``, without labels.

    For each feature the column is shuffled (seeded by the population's seed
    and the feature) within a seeded sample of ``sample_rows`` rows
    (:meth:`Population.subsample <mlreport.stress.Population.subsample>`);
    importance is the mean absolute change of the score, and the share of rows
    whose decision changes is given too. Sorted, most important first.
    """
    sample = population.subsample(sample_rows)
    rows = []
    for feature in sample.features:
        rng = sample.rng(f"importance:{feature}")
        frame = sample.frame.copy(deep=False)
        # set_axis keeps the dtype (categorical, nullable) that to_numpy would lose.
        frame[feature] = frame[feature].iloc[rng.permutation(len(frame))].set_axis(frame.index)
        scores, codes = sample.evaluate(frame, f"importance: {feature} shuffled")
        rows.append(
            {
                "feature": feature,
                "kind": "numeric" if is_numeric(sample.frame[feature]) else "categorical",
                "mean_abs_score_change": float(np.mean(np.abs(scores - sample.scores))),
                "decision_flip_rate": float(np.mean(codes != sample.codes)),
            }
        )
    table = pd.DataFrame(rows).sort_values(
        ["mean_abs_score_change", "feature"], ascending=[False, True], ignore_index=True
    )
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table
