"""Pure analysis of a results table: dominance and fronts, hypervolume, the ε-indicator,
Δm% and mean rank, seed statistics, the paired verdict and the cost to match.

Every function takes arrays or DataFrames and returns data; nothing here trains or prints.
Directions come from the results file's metadata (``higher_is_better`` per metric); nothing
assumes "lower is better".
"""

from paretokit.analysis.cost import (
    DEFAULT_ORDERS,
    CostToMatch,
    cost_to_match,
    dominance_matrix,
    random_orders,
)
from paretokit.analysis.distance import (
    Normalization,
    epsilon_indicator,
    epsilon_trace,
    reference_point,
)
from paretokit.analysis.dominance import (
    as_minimization,
    dominated_by_any,
    dominates,
    front_mask_min,
    non_dominated,
)
from paretokit.analysis.hypervolume import hypervolume, hypervolume_contribution
from paretokit.analysis.paired import (
    PairedVerdict,
    chosen_trials,
    gaps,
    paired_verdict,
    resolution,
)
from paretokit.analysis.scores import delta_m, mean_rank, nonpositive_baselines
from paretokit.analysis.seeds import (
    MIN_SEEDS,
    OUTCOMES,
    Outcome,
    SeedSummary,
    outcome_of,
    summarize_seeds,
    t_bounds,
    t_interval,
)
from paretokit.analysis.settings import (
    SETTING_KEYS,
    StlSummary,
    choose_setting,
    describe_setting,
    setting_keys,
    setting_rows,
    stl_summary,
    sweep_frontier,
    sweep_points,
    training_settings,
)

__all__ = [
    "DEFAULT_ORDERS",
    "MIN_SEEDS",
    "OUTCOMES",
    "SETTING_KEYS",
    "CostToMatch",
    "Normalization",
    "Outcome",
    "PairedVerdict",
    "SeedSummary",
    "StlSummary",
    "as_minimization",
    "choose_setting",
    "chosen_trials",
    "cost_to_match",
    "delta_m",
    "describe_setting",
    "dominance_matrix",
    "dominated_by_any",
    "dominates",
    "epsilon_indicator",
    "epsilon_trace",
    "front_mask_min",
    "gaps",
    "hypervolume",
    "hypervolume_contribution",
    "mean_rank",
    "non_dominated",
    "nonpositive_baselines",
    "outcome_of",
    "paired_verdict",
    "random_orders",
    "reference_point",
    "resolution",
    "setting_keys",
    "setting_rows",
    "stl_summary",
    "summarize_seeds",
    "sweep_frontier",
    "sweep_points",
    "t_bounds",
    "t_interval",
    "training_settings",
]
