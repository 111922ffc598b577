"""One batch of asked trials: trained with every seed, told to the study.

The sweep asks up to P trials and trains every (trial, seed) pair together as one batched model
of P·S members (:func:`~paretokit.train.population.train_population`: members of one seed share
its data batches), then tells each trial its own result. P = 1 trains the trial's seeds one
after the other with ``train_run``, bit for bit what ``compare`` trains. A trial is one unit:
it is complete only when all its seeds are, and a seed that fails fails the trial.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import optuna
from optuna.trial import Trial, TrialState

from paretokit.errors import MethodError
from paretokit.methods._fixed import FixedWeights
from paretokit.problems import Problem, Split
from paretokit.results import STATUS_FAILED, RunRecord, trajectory_json
from paretokit.sampling import suggest_weights
from paretokit.study import records as stored
from paretokit.study import workers
from paretokit.study.config import SweepCallbacks
from paretokit.train import RunConfig, RunResult, TrainingDiverged, train_run


@dataclass
class Batch:
    """Trains asked trials, each with every training seed, and tells the study their results."""

    study: optuna.Study
    problem: Problem
    run_cfg: RunConfig
    data: dict[str, Split]
    record: Callable[..., RunRecord]
    options: dict[str, object]
    callbacks: SweepCallbacks
    seeds: list[int] = field(default_factory=lambda: [0])

    def run(self, trials: list[Trial]) -> int:
        """Train ``trials`` with every seed; returns how many trials finished. One trial: its
        seeds one after the other (``train_run``, exactly as ``compare`` trains), stopping at
        a failed seed. More: one population of every (trial, seed) pair."""
        cb = self.callbacks
        weights = [suggest_weights(t, self.problem.n_tasks) for t in trials]
        for trial, w in zip(trials, weights):  # the weights as optuna-dashboard shows them
            for task, value in zip(self.problem.task_names, w):
                trial.set_user_attr(f"w.{task}", value)
        if cb.on_batch_start:
            cb.on_batch_start([t.number for t in trials], weights)
        # results[i][j]: trial i, seed j
        if len(trials) > 1:
            results = self._train_population(weights)
        else:
            results = [[]]
            for j, seed in enumerate(self.seeds):
                if any(map(_is_failure, results[0])):
                    break
                results[0].extend(self._train(weights, seed, j))
        finished = 0
        for trial, w, per_seed in zip(trials, weights, results):
            records, reason = self._records(trial, w, per_seed, len(trials))
            if self._tell(trial, records, reason):
                finished += 1
                if cb.on_trial_end:
                    cb.on_trial_end(trial.number, records[0].status, reason)
                if cb.on_record:
                    for record in records:
                        cb.on_record(record)
        return finished

    def _records(
        self, trial: Trial, w: list[float], per_seed: list[RunResult | Exception], size: int
    ) -> tuple[list[RunRecord], str]:
        """One record per seed, and why the trial failed ('' if it did not). When a seed
        failed, every seed's record is failed: the failed seed's with its own reason, the
        others' naming it (a trial is one unit); seeds after it were not trained."""
        errors = [_failure(r, self.problem) for r in per_seed]
        bad = next((j for j, e in enumerate(errors) if e), None)
        reason = ""
        if bad is not None:
            prefix = f"seed {self.seeds[bad]}: " if len(self.seeds) > 1 else ""
            reason = prefix + errors[bad]
        records = []
        for j, seed in enumerate(self.seeds):
            record = self.record(
                run_id=f"sweep:{self.study.study_name}:{trial.number}:s{seed}",
                seed=seed,
                weights=w,
                trial=trial.number,
                options={**self.options, "population": size},
            )
            if bad is not None:
                record.status = STATUS_FAILED
                record.error = errors[j] if j == bad else f"trial failed: {reason}"
            else:
                result = per_seed[j]
                assert isinstance(result, RunResult)
                record.metrics, record.losses = result.metrics, result.losses
                record.train_seconds, record.step_ms = result.train_seconds, result.step_ms
                record.trajectory = trajectory_json(result.trajectory)
                if result.checkpoint == "best":
                    record.options["checkpoint_epoch"] = result.epoch
            records.append(record)
        return records, reason

    def _train(self, weights: list[list[float]], seed: int, j: int) -> list[RunResult | Exception]:
        """One trial's run with training seed ``seed`` (the j-th of the trial's seeds)."""
        cfg, k = dataclasses.replace(self.run_cfg, seed=seed), self.problem.n_tasks
        on_epoch = self.callbacks.on_epoch
        if on_epoch is not None:  # one bar over all seeds of the trial
            total = cfg.epochs * len(self.seeds)
            outer = on_epoch

            def on_epoch(epoch: int, _epochs: int) -> None:
                outer(j * cfg.epochs + epoch, total)

        try:
            method = FixedWeights(k, weights=weights[0])
            return [train_run(self.problem, method, cfg, on_epoch, splits=self.data)]
        except (TrainingDiverged, MethodError) as exc:
            return [exc]

    def _train_population(self, weights: list[list[float]]) -> list[list[RunResult | Exception]]:
        """Every (trial, seed) pair as one member of one population (see
        :func:`~paretokit.train.population.train_population` for the models it cannot batch
        across seeds); returns results[trial][seed]."""
        from paretokit.train.population import train_population

        pairs = [(i, seed) for seed in self.seeds for i in range(len(weights))]
        try:
            trained: list[RunResult | Exception] = list(
                train_population(
                    self.problem,
                    [weights[i] for i, _ in pairs],
                    self.run_cfg,
                    on_epoch=self.callbacks.on_epoch,
                    splits=self.data,
                    seeds=[seed for _, seed in pairs],
                )
            )
        except MethodError as exc:
            trained = [exc] * len(pairs)
        results: list[list[RunResult | Exception]] = [[] for _ in weights]
        for (i, _), result in zip(pairs, trained):
            results[i].append(result)
        return results

    def _tell(self, trial: Trial, records: list[RunRecord], reason: str) -> bool:
        """Store the records and tell the study: failed with ``reason``, or complete with each
        task's validation metric averaged over the seeds. False when the trial had been failed
        as stale meanwhile (its retry will count instead, so this result is dropped)."""
        try:
            if reason:
                trial.set_user_attr(workers.FAILURE, reason)
            trial.set_user_attr(stored.RECORD, stored.encode(records))
            if reason:
                frozen = self.study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
                return frozen.state == TrialState.FAIL and workers.FAILURE in frozen.user_attrs
            frozen = self.study.tell(trial, seed_mean(records), skip_if_finished=True)
            return frozen.state == TrialState.COMPLETE
        except RuntimeError:  # already finished (newer Optuna: UpdateFinishedTrialError)
            return False


def seed_mean(records: Sequence[RunRecord], split: str = "val") -> list[float]:
    """Each task's metric on ``split`` averaged over the records (one per seed)."""
    values = [r.metrics[split] for r in records if r.metrics is not None]
    return [math.fsum(col) / len(col) for col in zip(*values)]


def _is_failure(result: RunResult | Exception) -> bool:
    return isinstance(result, Exception) or not all(map(math.isfinite, result.metrics["val"]))


def _failure(result: RunResult | Exception, problem: Problem) -> str:
    """Why a trial failed ('' if it did not): divergence, or a non-finite validation metric."""
    if isinstance(result, Exception):
        return str(result)
    bad = [t for t, v in zip(problem.task_names, result.metrics["val"]) if not math.isfinite(v)]
    return f"non-finite validation metric for task(s) {', '.join(bad)}" if bad else ""
