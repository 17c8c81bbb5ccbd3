"""Background jobs (`flask --app app worker`): slow work never runs inside a request.

The queue is huey's: it only carries a job's id to a worker. The job itself, its
state and its progress, is a row of `job` in the CRM's database, so every server
shows it, and a job whose worker died is found and marked failed (`reap`), never left
"running" for ever. Which queue (`CRM_QUEUE_URL`):

- unset: a SQLite file in the instance folder (huey's SqliteHuey): no server to run,
  `make run` starts a worker beside the web server;
- `redis://...` (RedisHuey) or `postgresql://...` (PostgresHuey) when several servers
  share the work; any number of workers on any number of servers;
- `immediate`: each job runs at once in the process that commits it (tests only: the
  request then waits for it).

A kind of job is a function registered with `@handler(kind)`; it receives the database
session, the job's `ref_id` and a `Progress`, and raises `JobFailed(message)` to fail
with a message for the person who started it. `start(session, kind, ref_id, undo)` adds the
job; it is put on the queue once the session commits (so a worker never looks for a
row that is not there yet). A request commits with `commit(session)`: when the queue then
refuses the job (Redis down), a second transaction withdraws it (its row deleted, its object
put back by `undo`) and `QueueDown` tells the caller, who answers 503: no job is left waiting
that nobody will run. Jobs committed otherwise (the command line) wait as "queued" when the
queue is down; every worker sends the waiting jobs again at its start and every minute.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import huey
from flask import current_app
from flask_babel import lazy_gettext as _l
from huey import crontab
from sqlalchemy import and_, delete, event, func, or_, select, update
from sqlalchemy.orm import Session

from models import Job, db

from . import clock
from .errors import RuleViolation

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10  # a running job's sign of life
STALE_SECONDS = 60  # no sign of life for this long: its worker is gone (unless seen alive on this host)
PROGRESS_SECONDS = 0.5  # progress is written at most this often
RESEND_SECONDS = 60  # a job still queued this long after it was started is sent again (every minute)
WAIT_SECONDS = 600  # a scan whose job waited this long for a worker no longer holds back a new one
WORKER = f"{socket.gethostname()}:{os.getpid()}"

DIED = _l("The background worker stopped while it worked on this (it was killed or restarted); nothing of it was "
          "written. Start it again.")
FAILED = _l("The background job failed unexpectedly; nothing of it was written. The error is in the worker's log.")
QUEUE_DOWN = _l("The background queue cannot be reached right now, so nothing was started. Please try again in a "
                "moment; if this lasts, tell your system administrator (the queue server, CRM_QUEUE_URL).")
WAITED = _l("No background worker took this job in time; it was stopped so that a new one can start. If this "
            "happens again, the background worker is not running: tell your system administrator.")


class QueueDown(RuleViolation):
    """The queue refused a job: it was withdrawn, nothing was started (503)."""

    def __init__(self):
        super().__init__(QUEUE_DOWN, code="unavailable")


class JobFailed(Exception):
    """A job ends as failed with this message for the person who started it."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class _Kind:
    run: callable
    failed: callable | None  # (session, ref_id, message, job_id): the job's object says so too


HANDLERS: dict[str, _Kind] = {}


def handler(kind, failed=None):
    """Register `run(session, ref_id, progress)` as the job kind `kind`; `failed(session, ref_id,
    message, job_id)` is called (in a fresh transaction) when such a job fails or its worker died."""
    def decorate(run):
        HANDLERS[kind] = _Kind(run, failed)
        return run
    return decorate


# --- the queue ----------------------------------------------------------------------------

def init_app(app):
    """The app's queue (huey) and its one task, `run_job(job_id)`, in app.extensions["crm_queue"]."""
    queue = _make_queue(app)
    run_task = queue.task(name="run_job")(lambda job_id: run(app, job_id))
    app.extensions["crm_queue"] = (queue, run_task)

    @queue.periodic_task(crontab(minute="*"), name="resend_waiting")
    def resend():  # a message the queue lost (or a job whose enqueue failed unseen) is sent again
        resend_waiting(app, older_than=app.config.get("CRM_JOB_RESEND_SECONDS", RESEND_SECONDS))



def _make_queue(app):
    url = app.config.get("CRM_QUEUE_URL") or ""
    if url == "immediate":
        return huey.MemoryHuey("crm", immediate=True, results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return huey.RedisHuey("crm", url=url, results=False)
    if url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        return huey.PostgresHuey("crm", dsn=url.replace("postgresql+psycopg://", "postgresql://"), results=False)
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else str(Path(app.instance_path) / "queue.sqlite3")
    return huey.SqliteHuey("crm", filename=path, results=False)


def queue_of(app):
    return app.extensions["crm_queue"][0]


def start(session, kind, ref_id=None, undo=None):
    """A new job of `kind` on `ref_id`, put on the queue when `session` commits. `undo(session, job_id)` puts
    its object back as it was before, by statements and no longer naming the job, should the queue refuse the
    job (see `commit`)."""
    if kind not in HANDLERS:
        raise ValueError(f"unknown job kind {kind}")
    job = Job(kind=kind, ref_id=ref_id, status="queued", done=0, created_at=clock.now())
    session.add(job)
    session.flush()
    session.info.setdefault("jobs_to_send", []).append(job.id)
    session.info.setdefault("jobs_undo", {})[job.id] = undo
    return job


def commit(session):
    """Commit, then queue the jobs started in the transaction; a job the queue refuses is withdrawn and
    QueueDown raised (the caller answers 503). The job row is committed before it is queued (a worker must
    find it), so the refusal is undone by a second transaction; a worker that took the job meanwhile (the
    periodic resend) keeps it."""
    ids = session.info.pop("jobs_to_send", None) or []
    undo = session.info.pop("jobs_undo", None) or {}
    session.commit()
    if not ids:
        return
    unsent = _send(current_app._get_current_object(), ids) or []
    withdrawn = [job_id for job_id in unsent if _withdraw_unsent(session, job_id, undo.get(job_id))]
    if withdrawn:
        raise QueueDown()


def _withdraw_unsent(session, job_id, undo):
    """Delete a job the queue refused, and put its object back, unless a worker claimed it already."""
    try:
        if not withdraw(session, job_id, QUEUE_DOWN):
            session.rollback()
            return False
        if undo is not None:
            undo(session, job_id)
        session.execute(delete(Job).where(Job.id == job_id))
        session.commit()
        return True
    except Exception:  # the database is away too: the job waits as "queued"; a worker's resend takes it
        session.rollback()
        log.exception("could not withdraw job %s that the queue refused", job_id)
        return False


def withdraw(session, job_id, message):
    """Fail a job that no worker has taken yet (in the caller's transaction): True when it was still
    queued. A worker's `claim` and this are one conditional UPDATE each: exactly one wins."""
    return session.execute(update(Job).where(Job.id == job_id, Job.status == "queued").values(
        status="failed", message=str(message), finished_at=clock.now())).rowcount == 1


@event.listens_for(Session, "after_commit")
def _send_after_commit(session):
    ids = session.info.pop("jobs_to_send", None)
    session.info.pop("jobs_undo", None)
    if ids:
        _send(current_app._get_current_object(), ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    session.info.pop("jobs_to_send", None)
    session.info.pop("jobs_undo", None)


def _send(app, ids):
    """Queue the jobs; the ids the queue refused (it is down)."""
    _queue, run_task = app.extensions["crm_queue"]
    unsent = []
    for job_id in ids:
        try:
            run_task(job_id)
        except Exception:  # the queue is down
            log.exception("could not queue job %s", job_id)
            unsent.append(job_id)
    return unsent


def resend_waiting(app, older_than=None):
    """Queue again the jobs still waiting (the queue lost them, or none was running): at a worker's
    start, and every minute those started over `older_than` seconds ago (a periodic task). Two workers
    taking one job is harmless: only one `claim` wins."""
    with app.app_context():
        query = select(Job.id).where(Job.status == "queued").order_by(Job.id)
        if older_than is not None:
            query = query.where(Job.created_at < clock.now() - timedelta(seconds=older_than))
        ids = db.session.scalars(query).all()
        db.session.remove()
    _send(app, ids)
    return ids


def waited_too_long(job, now=None):
    """Whether a queued job has waited for a worker longer than CRM_JOB_WAIT_SECONDS."""
    seconds = current_app.config.get("CRM_JOB_WAIT_SECONDS", WAIT_SECONDS)
    return job.status == "queued" and job.created_at < (now or clock.now()) - timedelta(seconds=seconds)


@dataclass
class Waiting:
    """Where a queued job stands: `ahead` jobs before it (running, or queued earlier), and whether no worker
    seems to be there to take it (`down`)."""
    ahead: int
    down: bool


def waiting(session, job, now=None):
    """A queued job's place in the queue, from the job table (huey carries only ids, in the order they were
    sent: the lower id first), or None once a worker took it."""
    if job is None or job.status != "queued":
        return None
    ahead = session.scalar(select(func.count()).select_from(Job).where(
        or_(Job.status == "running", and_(Job.status == "queued", Job.id < job.id))))
    return Waiting(ahead, worker_down(session, job, now))


def worker_down(session, job, now=None):
    """Whether no worker seems to run: nothing is running, and the last worker of this host that took a job
    has exited (`alive`), or the job waited longer than a live worker lets one wait (it takes a new job at
    once, and the periodic resend sends a lost one again every minute)."""
    if session.scalar(select(Job.id).where(Job.status == "running").limit(1)) is not None:
        return False  # a worker is busy (one whose heartbeat stopped was failed by `reap`)
    last = session.scalar(select(Job.worker).where(Job.worker.is_not(None)).order_by(Job.id.desc()).limit(1))
    if _alive_here(last) is False:
        return True
    seconds = 2 * current_app.config.get("CRM_JOB_RESEND_SECONDS", RESEND_SECONDS)  # sent, and sent again
    return job.created_at < (now or clock.now()) - timedelta(seconds=seconds)


# --- running a job ------------------------------------------------------------------------

class Progress:
    """A job's progress, written on a connection of its own (not the job's transaction) at most
    every PROGRESS_SECONDS, so that any server shows it while the job works.

    On SQLite a job's write transaction holds the database's one write lock: while it does
    (`holding`), progress is kept for the end and the reaper recognises the live worker by
    its process id instead of its heartbeat.
    """

    def __init__(self, engine, job_id):
        self.engine = engine
        self.job_id = job_id
        self.done = 0
        self.total = None
        self.hold = False
        self._written = 0.0

    def __call__(self, done, total=None, force=False):
        self.done, self.total = done, total if total is not None else self.total
        now = time.monotonic()
        if force or now - self._written >= PROGRESS_SECONDS:
            self._written = now
            self.write()

    def holding(self, session):
        """Whether writes on another connection must wait for `session`'s transaction (SQLite)."""
        self.hold = session.get_bind().dialect.name == "sqlite"
        return self

    def write(self, **values):
        if self.hold:
            return
        values = {"done": self.done, "total": self.total, "heartbeat_at": clock.now(), **values}
        try:
            with self.engine.begin() as connection:
                connection.execute(update(Job).where(Job.id == self.job_id).values(**values))
        except Exception:  # progress is a courtesy: never fail the work for it
            log.warning("could not write the progress of job %s", self.job_id, exc_info=True)


def _heartbeat(progress, stop):
    while not stop.wait(HEARTBEAT_SECONDS):
        progress.write()


def claim(session, job_id):
    """Take the queued job for this worker: True for exactly one worker."""
    now = clock.now()
    taken = session.execute(update(Job).where(Job.id == job_id, Job.status == "queued").values(
        status="running", worker=WORKER, started_at=now, heartbeat_at=now)).rowcount
    session.commit()
    return taken == 1


def run(app, job_id):
    """Run one job (huey's task): claim it, call its handler, record how it ended."""
    with app.app_context():
        session = db.session
        try:
            if not claim(session, job_id):
                return
            job = session.get(Job, job_id)
            kind, ref_id = HANDLERS.get(job.kind), job.ref_id
            session.commit()
            progress = Progress(db.engine, job_id)
            stop = threading.Event()
            beat = threading.Thread(target=_heartbeat, args=(progress, stop), daemon=True)
            beat.start()
            try:
                if kind is None:
                    raise JobFailed(FAILED)
                kind.run(session, ref_id, progress)
                session.commit()
            finally:
                stop.set()
                beat.join()
            progress.hold = False
            progress.write(status="done", finished_at=clock.now())
        except JobFailed as failure:
            session.rollback()
            fail(session, job_id, failure.message)
        except Exception:
            log.exception("job %s failed", job_id)
            session.rollback()
            fail(session, job_id, FAILED)
        finally:
            db.session.remove()


def fail(session, job_id, message):
    """Mark the job failed with `message` and tell its kind (the import it worked on)."""
    job = session.get(Job, job_id)
    if job is None or job.status in ("done", "failed"):
        return
    job.status, job.message, job.finished_at = "failed", str(message), clock.now()
    kind = HANDLERS.get(job.kind)
    if kind is not None and kind.failed is not None:
        kind.failed(session, job.ref_id, str(message), job_id)
    session.commit()


def mark_failed(session, model, ref_id, message, while_in, job_id=None):
    """The object a failed job worked on (an import, a scan) says so too, unless its own transaction ended it
    already (a worker that died after committing, before its job was marked done): only while in `while_in`,
    and only while the job is still its current one (`job_id`; a later start leaves an older job powerless).
    True when it did."""
    query = update(model).where(model.id == ref_id, model.status.in_(while_in))
    if job_id is not None:
        query = query.where(model.job_id == job_id)
    return session.execute(query.values(status="failed", message=message, finished_at=clock.now())).rowcount == 1


def _alive_here(worker):
    """Whether `worker` ("host:pid") is a live process of this host; None when it is another host's."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    return alive(int(pid))


def alive(pid):
    """Whether process `pid` of this host lives."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def reap(session, now=None):
    """Mark failed the running jobs whose worker is gone: no heartbeat for STALE_SECONDS and not a
    live process of this host (a SQLite job holding the write lock beats no heart). Returns their ids."""
    now = now or clock.now()
    seconds = current_app.config.get("CRM_JOB_STALE_SECONDS", STALE_SECONDS)
    stale = session.scalars(select(Job).where(Job.status == "running",
                                              Job.heartbeat_at < now - timedelta(seconds=seconds))).all()
    dead = [job.id for job in stale if not _alive_here(job.worker)]
    for job_id in dead:
        fail(session, job_id, DIED)
    return dead


def worker(app, threads=1):
    """Run a worker until SIGINT/SIGTERM: reap the dead workers' jobs, queue the waiting ones again,
    then take jobs (and the periodic ones) from the queue."""
    with app.app_context():
        reap(db.session)
        db.session.remove()
    resend_waiting(app)
    # SIGTERM (systemd's stop, `kill`) lets the running job finish; SIGINT (Ctrl-C) stops at once, and
    # the job, whose transaction dies with the process, is marked failed by the next `reap`
    consumer = queue_of(app).create_consumer(workers=threads, worker_type="thread", periodic=True,
                                             check_worker_health=True, graceful_signal="TERM")
    consumer.run()
