"""Plan jobs: weeks planned off the event loop, each in its own process, kept in memory.

:class:`PlanJobs` queues requests and runs at most ``workers`` at once, each in a daemon process
started from a fork server that has the planner imported already (so a job starts in well
under a second, and a solver that holds the CPU never slows the API's event loop). The process
reads the workspace itself, plans the week with :func:`geoplan.workspace.plan_week_from_store`
and sends back step messages while it works and then the :class:`~geoplan.planning.WeekPlan`
or the reason it failed. A job that crashes or is killed fails with a plain message.

A finished plan is saved in the workspace by the job process (:func:`geoplan.plans.make_plan`:
id ``2026-W50-3``, by the key's name), so it outlives the server: :meth:`PlanJobs.get` finds a
plan by its saved id or by the id of the request that made it, in memory or in the workspace.
Jobs queued, running or failed are kept in memory only (the newest ``keep``). When ``queue``
jobs are already waiting, :meth:`PlanJobs.submit` refuses with :class:`JobsBusyError`.

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
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from geoplan.errors import GeoplanError, NotFoundError
from geoplan.planning import Pin, WeekPlan
from geoplan.plans import (
    PlanInfo,
    PlanRequest,
    SavedPlan,
    delete_plan,
    list_plans,
    make_plan,
    read_plan,
)
from geoplan.store import Store, open_store

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
    """What to plan: the week's Sunday, teams (None: every team), pins, time limit and seed;
    who asks (the key's name); and for a re-plan, the saved plan, the day from which it may
    change and the team-days it keeps; the days teams are away (``TEAM:DAY``, on top of the
    ``team_absences`` layer)."""

    week_start: dt.date
    teams: tuple[str, ...] | None
    pins: tuple[Pin, ...]
    time_limit: float
    seed: int
    who: str = "api"
    replan_of: str | None = None
    kept_before: dt.date | None = None
    locks: tuple[str, ...] = ()
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
    saved: SavedPlan | None = None
    """The plan as the workspace keeps it (id, status draft/published/superseded)."""
    listed: PlanInfo | None = None
    """A saved plan as lists show it, without its routes (jobs from :meth:`PlanJobs.jobs`)."""
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
        """A plan by its saved id or its request's id: in memory while it is queued, running
        or just done, else from the workspace.

        Raises
        ------
        NotFoundError
            If there is no such plan (never made, deleted, or a request that failed and was
            forgotten).
        """
        with self._lock:
            job = self._jobs.get(job_id) or next(
                (j for j in self._jobs.values() if j.saved and j.saved.id == job_id), None
            )
        if job is not None:
            return self._fresh(job)
        saved = self._stored(job_id)
        if saved is None:
            msg = f"no plan {job_id!r}; list the plans with GET /plans"
            raise NotFoundError(msg)
        return _stored_job(job_id, saved)

    def _fresh(self, job: Job) -> Job:
        """The job with its saved plan's status as the workspace has it now (published or
        superseded since, by anyone)."""
        if job.saved is None:
            return job
        listed = list_plans(open_store(self.workspace), week=job.saved.week)
        now = next((p.status for p in listed if p.id == job.saved.id), None)
        if now is not None and now != job.saved.status:
            job.saved = replace(job.saved, status=now)
        return job

    def _stored(self, plan_id: str) -> SavedPlan | None:
        store = open_store(self.workspace)
        if store.read_plan(plan_id) is not None:
            return read_plan(store, plan_id)
        made = next((p for p in list_plans(store) if p.inputs.request_id == plan_id), None)
        return read_plan(store, made.id) if made else None

    def jobs(self) -> list[Job]:
        """Plans not saved yet (queued, running, failed), then the saved ones, newest first
        (saved ones without their routes)."""
        with self._lock:
            pending = [j for j in reversed(self._jobs.values()) if j.saved is None]
        saved = [_listed_job(p) for p in list_plans(open_store(self.workspace))]
        return pending + saved

    def store(self) -> Store:
        """The workspace the plans are saved in."""
        return open_store(self.workspace)

    def delete(self, job_id: str) -> Job:
        """Delete a plan: stop it if it is running, forget it, and delete it from the
        workspace if it was saved.

        Raises
        ------
        NotFoundError
            If there is no such plan.
        """
        job = self.get(job_id)
        with self._lock:
            memory = next((k for k, j in self._jobs.items() if j is job), None)
            if memory is not None:
                self._jobs.pop(memory, None)
                if memory in self._waiting:
                    self._waiting.remove(memory)
            process = self._running.get(memory) if memory else None
        if process is not None:
            _stop(process)
        if job.saved is not None:
            delete_plan(open_store(self.workspace), job.saved.id)
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
        # done plans are saved in the workspace: memory only spares reading them back
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
            args=(self.workspace, job.spec, job.id, send),
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
                job.status, job.plan, job.saved = "done", value.plan, value
            else:
                job.status, job.error = "failed", str(value)
            ready = [] if self._closed else self._take_ready()
        self._start(ready)


def _spec(saved: SavedPlan, who: str) -> PlanSpec:
    inputs = saved.inputs
    return PlanSpec(
        week_start=saved.plan.days[0],
        teams=inputs.teams,
        pins=tuple(Pin.parse(p) for p in inputs.pins),
        time_limit=inputs.time_limit,
        seed=inputs.seed,
        who=who,
        replan_of=inputs.replan_of,
        kept_before=inputs.kept_before,
        locks=inputs.locks,
        away=inputs.away,
    )


def _stored_job(job_id: str, saved: SavedPlan) -> Job:
    """A saved plan as a done job, under the id it was asked by."""
    return Job(
        id=job_id,
        spec=_spec(saved, saved.created_by),
        created=saved.created,
        status="done",
        finished=saved.created,
        plan=saved.plan,
        saved=saved,
    )


def _listed_job(info: PlanInfo) -> Job:
    """A saved plan as lists show it (no routes)."""
    inputs = info.inputs
    spec = PlanSpec(
        week_start=inputs.week_start or dt.date.min,
        teams=inputs.teams,
        pins=tuple(Pin.parse(p) for p in inputs.pins),
        time_limit=inputs.time_limit,
        seed=inputs.seed,
        who=info.created_by,
        replan_of=info.replan_of,
    )
    return Job(
        id=info.id,
        spec=spec,
        created=info.created,
        status="done",
        finished=info.created,
        listed=info,
    )


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


def run_plan(workspace: Path | str, spec: PlanSpec, job_id: str, results: Connection) -> None:
    """Plan a week in this (job) process, save it in the workspace, and send ``("step",
    text)`` messages, then ``("done", SavedPlan)`` or ``("failed", reason)``."""

    def say(step: str, done: float, total: float | None) -> None:
        # The only measured step of a plan job is the search, in seconds of its time limit.
        text = step if total is None else f"{step} ({done:.0f} of {total:g} s)"
        results.send(("step", text))

    try:
        request = PlanRequest(
            week=spec.week_start,
            teams=spec.teams,
            pins=tuple(p.text for p in spec.pins),
            away=spec.away,
            seed=spec.seed,
            time_limit=spec.time_limit,
            replan_of=spec.replan_of,
            kept_before=spec.kept_before,
            locks=spec.locks,
            request_id=job_id,
        )
        saved = make_plan(open_store(workspace), request, who=spec.who, progress=say)
        results.send(("done", saved))
    except GeoplanError as exc:
        results.send(("failed", str(exc)))
    except Exception:
        log.error("plan failed:\n%s", traceback.format_exc())
        results.send(("failed", UNEXPECTED))
    finally:
        results.close()
