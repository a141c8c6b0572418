"""Commands that go through the queue: introduce, project (both embedded or on the stack), and worker."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from pydantic import ValidationError

from implementor.cli.console import ProgressLine, done
from implementor.config import get_settings
from implementor.config.settings import Settings
from implementor.contracts.errors import ConfigError, ImplementorError, InputError
from implementor.contracts.scores import scores_table

if TYPE_CHECKING:
    from implementor.contracts.jobs import IntroduceJob, ProjectJob, Result
    from implementor.contracts.persona import Persona
    from implementor.workers.client import JobClient

TimeoutOpt = Annotated[float, typer.Option(help="Seconds to wait for the result.")]


@contextmanager
def job_client(settings: Settings) -> Iterator[JobClient]:
    """The stack's queue if IMPLEMENTOR_BROKER_URL is set, else an embedded worker in this process."""
    from implementor.workers.client import stack_client
    from implementor.workers.embedded import embedded_worker

    if settings.broker_url is None:
        settings.check_model_paths()  # a wrong path is named now, not after the job was queued
        with embedded_worker(settings) as client:
            yield client
    else:
        client = stack_client(settings)
        client.check_broker()  # one line naming the URL, not minutes of retries and a traceback
        yield client


def _run(job: IntroduceJob | ProjectJob, label: str, timeout: float) -> Result:
    import redis

    progress = ProgressLine(label)
    settings = get_settings()
    try:
        with job_client(settings) as client:  # checks the broker or the model paths first: errors come alone
            progress("starting")
            result = client.result(client.submit(job), timeout, on_progress=progress)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise ConfigError(f"lost the broker while waiting for job {job.job_id} ({exc}); it is still queued and "
                          "its result is kept for IMPLEMENTOR_RESULT_TTL_S") from None
    progress.finish()
    if result.status != "ok":
        raise ImplementorError(f"the job failed: {result.error}")
    return result


def introduce(
    name: Annotated[str | None, typer.Option(help="The colleague's name. Default: one from the seed.")] = None,
    title: Annotated[str | None, typer.Option(help="Their job title. Default: one from the seed.")] = None,
    seed: Annotated[int | None, typer.Option(help="Face seed; with it the same colleague comes back.")] = None,
    out: Annotated[Path, typer.Option(help="Directory for face.png and cv.md.")] = Path("."),
    timeout: TimeoutOpt = 900.0,
) -> None:
    """Hire a colleague: a DCGAN face and a GPT-2 CV, the best of several drafts as the BERT heads judge."""
    from implementor.contracts.cv import render_cv
    from implementor.contracts.jobs import IntroduceJob, IntroduceResult

    try:
        job = IntroduceJob(name=name, title=title, seed=seed)
    except ValidationError as exc:
        raise InputError(f"invalid introduction: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}") from None
    result = _run(job, "introduce", timeout)
    assert isinstance(result, IntroduceResult) and result.profile is not None
    profile = result.profile
    out.mkdir(parents=True, exist_ok=True)
    (out / "face.png").write_bytes(base64.b64decode(profile.png_base64))
    cv = render_cv(profile.name, profile.title, profile.cv)
    (out / "cv.md").write_text(cv, encoding="utf-8")
    typer.echo(cv)
    if result.low_confidence:
        typer.secho("(no draft passed the realism threshold; this is the most realistic one)", fg="yellow")
    done(f"face (seed {profile.seed}) and CV written: {out / 'face.png'} and {out / 'cv.md'}")


def _colleague(path: Path | None) -> Persona | None:
    """The colleague a CV file describes (`cv.md` here, if `introduce` just hired one), or None."""
    from implementor.contracts.cv import read_cv
    from implementor.contracts.persona import Persona

    if path is None:
        path = Path("cv.md")
        if not path.is_file():
            return None
    if not path.is_file():
        raise InputError(f"--colleague {path}: no such file (give the cv.md that `implementor introduce` wrote)")
    read = read_cv(path.read_text(encoding="utf-8", errors="replace"))
    if read is None:
        raise InputError(f"--colleague {path}: not a CV as `implementor introduce` writes it (# Name, **Title**)")
    name, title, body = read
    persona = Persona.from_cv(name[:200], title[:200], body)
    typer.echo(f"answering as {persona.name}, {persona.title} (from {path})", err=True)
    return persona


def project(
    request: Annotated[str, typer.Argument(help="A colleague's request for help, 10 to 1,500 characters.")],
    colleague: Annotated[Path | None, typer.Option(
        help="Who answers: a cv.md from `implementor introduce`. Default: ./cv.md if there is one.")] = None,
    explain: Annotated[bool, typer.Option(help="Also print every draft's scores.")] = False,
    timeout: TimeoutOpt = 900.0,
) -> None:
    """Bring the colleague a project: it drafts replies with GPT-2 and posts the best as BERT judges it."""
    from implementor.contracts.jobs import ProjectJob, ProjectResult

    persona = _colleague(colleague)
    try:
        job = ProjectJob(request=request, colleague=persona)
    except ValidationError as exc:
        raise InputError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
    result = _run(job, "project", timeout)
    assert isinstance(result, ProjectResult)
    if explain:
        typer.echo(scores_table(result.candidates) + "\n")  # as "Why this reply?" shows them
    typer.echo(result.reply)


def worker(
    queues: Annotated[str, typer.Option(help="Comma-separated queues to consume.")] = "gpu",
    concurrency: Annotated[int | None, typer.Option(help="Processes. Default: IMPLEMENTOR_WORKER_CONCURRENCY.")] = None,
    autoscale: Annotated[str | None, typer.Option(help="MAX,MIN processes (IMPLEMENTOR_WORKER_AUTOSCALE).")] = None,
    pool: Annotated[Literal["prefork", "solo", "threads"], typer.Option(help="Celery pool.")] = "prefork",
) -> None:
    """Start a Celery worker for the stack (needs IMPLEMENTOR_BROKER_URL)."""
    settings = get_settings()
    if settings.broker_url is None:
        raise ConfigError("a worker needs a broker: set IMPLEMENTOR_BROKER_URL (e.g. redis://localhost:6379/0)")
    from implementor.workers.client import check_redis

    settings.check_model_paths()
    check_redis(settings.broker_url.get_secret_value())
    from implementor.workers.worker import app

    argv = ["worker", "-Q", queues, "-P", pool, "-n", f"{queues.split(',')[0]}@%h", "--loglevel",
            settings.log_level, "-c", str(concurrency or settings.worker_concurrency)]
    scale = autoscale or settings.worker_autoscale
    if scale:
        argv += ["--autoscale", scale]
    app.worker_main(argv)
