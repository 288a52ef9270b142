"""Plan jobs: weeks planned off the event loop, each in its own process, kept in memory.

:class:`PlanJobs` queues requests and runs at most ``workers`` at once, each in a daemon process
started from a fork server that has the planner imported already (so a job starts in well
under a second, and a solver that holds the CPU never slows the API's event loop). The process
reads the workspace itself, plans the week with :func:`geoplan.workspace.plan_week_from_store`
and sends back step messages while it works and then the :class:`~geoplan.planning.WeekPlan`
or the reason it failed. A job that crashes or is killed fails with a plain message.

Plans are kept in memory, not in the workspace: the newest ``keep`` finished plans stay, older
ones are forgotten, and all of them are gone when the server restarts. When ``queue`` jobs are
already waiting, :meth:`PlanJobs.submit` refuses with :class:`JobsBusyError`.

Nothing here imports the web framework, so the job processes stay light.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import secrets
import threading
import traceback
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from geoplan.errors import GeoplanError, NotFoundError
from geoplan.planning import Pin, WeekPlan
from geoplan.store import open_store
from geoplan.workspace import plan_week_from_store

log = logging.getLogger("geoplan.api.plans")
KEEP = 50
"""Finished plans kept in memory."""
QUEUE = 20
"""Plans that may wait for a free worker."""
CRASHED = (
    "the planning process stopped before it finished (out of memory, or the server is shutting "
    "down); try again, with fewer teams or a shorter time limit if it happens again"
)
UNEXPECTED = "planning failed unexpectedly; the server log has the details"


class JobsBusyError(GeoplanError, RuntimeError):
    """Too many plans are waiting already."""


@dataclass(frozen=True)
class PlanSpec:
    """What to plan: the week's Sunday, teams (None: every team), pins, time limit, seed and
    the days teams are away (``TEAM:DAY``, on top of the ``team_absences`` layer)."""

    week_start: dt.date
    teams: tuple[str, ...] | None
    pins: tuple[Pin, ...]
    time_limit: float
    seed: int
    away: tuple[str, ...] = ()


@dataclass
class Job:
    """A plan job as the server knows it."""

    id: str
    spec: PlanSpec
    created: dt.datetime
    status: str = "queued"
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    step: str | None = None
    error: str | None = None
    plan: WeekPlan | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    """Outputs made from the plan so far (CSV, XLSX, map), kept with it."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class PlanJobs:
    """Plan jobs of one workspace.

    Parameters
    ----------
    workspace
        The workspace file the job processes read.
    workers
        Plans that run at once.
    queue, keep
        Plans that may wait, and finished plans kept.
    """

    def __init__(
        self, workspace: Path | str, *, workers: int, queue: int = QUEUE, keep: int = KEEP
    ) -> None:
        self.workspace = workspace
        self.workers = workers
        self.queue = queue
        self.keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._waiting: deque[str] = deque()
        self._running: dict[str, multiprocessing.process.BaseProcess] = {}
        self._lock = threading.Lock()
        self._closed = False

    # --- asking -------------------------------------------------------------------------

    def submit(self, spec: PlanSpec) -> Job:
        """Queue a plan; it starts as soon as a worker is free.

        Raises
        ------
        JobsBusyError
            If ``queue`` plans are waiting already (or the server is shutting down).
        """
        with self._lock:
            if self._closed or len(self._waiting) >= self.queue:
                msg = f"{len(self._waiting)} plans are waiting already; try again in a minute"
                raise JobsBusyError(msg)
            job = Job(id=secrets.token_hex(8), spec=spec, created=_now())
            self._jobs[job.id] = job
            self._waiting.append(job.id)
            self._forget_old()
            ready = self._take_ready()
        if ready:  # the first start waits for the fork server: answer the request meanwhile
            threading.Thread(target=self._start, args=(ready,), daemon=True).start()
        return job

    def get(self, job_id: str) -> Job:
        """A job by id.

        Raises
        ------
        NotFoundError
            If there is no such plan (never made, deleted or forgotten).
        """
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            msg = f"no plan {job_id!r}: plans are kept in memory, the newest {self.keep} only"
            raise NotFoundError(msg + ", until the server restarts; list them with GET /plans")
        return job

    def jobs(self) -> list[Job]:
        """Every job kept, newest first."""
        with self._lock:
            return list(reversed(self._jobs.values()))

    def delete(self, job_id: str) -> Job:
        """Forget a plan, stopping it first if it is running.

        Raises
        ------
        NotFoundError
            If there is no such plan.
        """
        job = self.get(job_id)
        with self._lock:
            self._jobs.pop(job_id, None)
            if job_id in self._waiting:
                self._waiting.remove(job_id)
            process = self._running.get(job_id)
        if process is not None:
            _stop(process)
        return job

    def shutdown(self) -> None:
        """Refuse new plans and stop the running ones (the server is stopping)."""
        with self._lock:
            self._closed = True
            self._waiting.clear()
            running = list(self._running.values())
        for process in running:
            _stop(process)
        for process in running:
            if process.pid is not None:
                process.join(timeout=5)

    # --- running ------------------------------------------------------------------------

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.status in ("done", "failed")]
        for job_id in finished[: max(0, len(finished) - self.keep)]:
            del self._jobs[job_id]

    def _take_ready(self) -> list[Job]:
        """Jobs to start now, marked running (call with the lock held)."""
        ready: list[Job] = []
        while self._waiting and len(self._running) + len(ready) < self.workers:
            job = self._jobs[self._waiting.popleft()]
            job.status, job.started, job.step = "running", _now(), "Starting"
            ready.append(job)
        return ready

    def _start(self, jobs: Sequence[Job]) -> None:
        for job in jobs:
            try:
                self._launch(job)
            except Exception as exc:  # the process could not start: the job fails, others go on
                log.exception("starting plan %s", job.id, exc_info=exc)
                self._finish(job, ("failed", UNEXPECTED))

    def _launch(self, job: Job) -> None:
        context = _context()
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=run_plan,
            args=(self.workspace, job.spec, send),
            name=f"geoplan-plan-{job.id}",
            daemon=True,
        )
        with self._lock:
            gone = self._closed or job.id not in self._jobs  # deleted, or shutting down
            if not gone:
                self._running[job.id] = process
        if gone:
            self._finish(job, ("failed", "the plan was deleted before it started"))
            return
        process.start()
        send.close()
        with self._lock:  # deleted, or shutting down, while it started
            if self._closed or job.id not in self._jobs:
                process.terminate()
        watcher = threading.Thread(
            target=self._watch, args=(job, process, receive), name=f"watch-{job.id}", daemon=True
        )
        watcher.start()

    def _watch(
        self, job: Job, process: multiprocessing.process.BaseProcess, messages: Connection
    ) -> None:
        outcome: tuple[str, Any] = ("failed", CRASHED)
        try:
            while True:
                kind, value = messages.recv()
                if kind != "step":
                    outcome = (kind, value)
                    break
                job.step = str(value)
        except (EOFError, OSError):
            pass  # the process ended without a result
        finally:
            messages.close()
        process.join(timeout=10)
        self._finish(job, outcome)

    def _finish(self, job: Job, outcome: tuple[str, Any]) -> None:
        kind, value = outcome
        with self._lock:
            self._running.pop(job.id, None)
            job.finished, job.step = _now(), None
            if kind == "done":
                job.status, job.plan = "done", value
            else:
                job.status, job.error = "failed", str(value)
            ready = [] if self._closed else self._take_ready()
        self._start(ready)


def _stop(process: multiprocessing.process.BaseProcess) -> None:
    """Terminate a job process; one not started yet is stopped by :meth:`PlanJobs._launch`."""
    if process.pid is not None:
        process.terminate()


def _context() -> multiprocessing.context.ForkServerContext:
    """Processes forked from a fork server with the planner imported (never forked from the
    threaded server itself, which could copy a held lock)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["api.plans"])
    return context


def run_plan(workspace: Path | str, spec: PlanSpec, results: Connection) -> None:
    """Plan a week in this (job) process and send ``("step", text)`` messages, then
    ``("done", WeekPlan)`` or ``("failed", reason)``."""

    def say(step: str, done: float, total: float | None) -> None:
        # The only measured step of a plan job is the search, in seconds of its time limit.
        text = step if total is None else f"{step} ({done:.0f} of {total:g} s)"
        results.send(("step", text))

    try:
        plan = plan_week_from_store(
            open_store(workspace),
            week=spec.week_start,
            team_ids=list(spec.teams) if spec.teams else None,
            pins=spec.pins,
            away=spec.away,
            seed=spec.seed,
            time_limit=spec.time_limit,
            progress=say,
        )
        results.send(("done", plan))
    except GeoplanError as exc:
        results.send(("failed", str(exc)))
    except Exception:
        log.error("plan failed:\n%s", traceback.format_exc())
        results.send(("failed", UNEXPECTED))
    finally:
        results.close()
