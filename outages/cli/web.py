"""Web commands: `serve` (gunicorn with deploy/gunicorn.conf.py, or Flask's server with --dev) and
`publish DIR` (the site as static files). Flask is imported inside the commands, so the core CLI never loads it."""

from __future__ import annotations

import errno
import os
import socket
import sys
import time
from pathlib import Path

import click

from outages.cli.context import Context, fail
from outages.cli.group import cli

pass_ctx = click.make_pass_decorator(Context)

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Адреса, яку слухати / Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Порт / Port to listen on.")
@click.option("--workers", type=int, default=None,
              help="Процесів gunicorn (типово — з конфігурації)"
              " / gunicorn worker processes (default: from the config).")
@click.option("--dev", is_flag=True, help="Сервер розробки Flask із перезавантаженням, не для роботи"
              " / Flask's development server with reloading (never in production).")
@pass_ctx
def serve(ctx: Context, host: str, port: int, workers: int | None, dev: bool) -> None:
    """Serve the public site / Запустити публічний сайт (gunicorn)."""
    ctx.ready_engine()  # a clear message now beats a worker crash loop later
    _check_port(host, port)
    click.echo(f"Сайт / site: http://{host}:{port}/   стрічки / feeds: http://{host}:{port}/feed.atom")
    if dev:
        from web import create_app

        create_app(ctx.settings, engine=ctx.engine).run(host=host, port=port, debug=True)
        return
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        fail("gunicorn не встановлено / gunicorn is not installed (pip install gunicorn, or use --dev)")
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}"]
    if GUNICORN_CONF.exists():
        argv += ["--config", str(GUNICORN_CONF)]
    if workers:
        argv += ["--workers", str(workers)]
    argv.append("web.wsgi:app")
    sys.stdout.flush()
    # glibc gives each of a worker's 25 threads a malloc arena of its own (up to 8 per core), and memory freed in
    # one is not reused by another: a scraper's large API pages grew each worker by tens of MB for good. Two arenas
    # keep a worker's memory flat at no measurable cost (bench/mixed_bench.py). Read by glibc at start: set here.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    os.execv(sys.executable, argv)  # gunicorn takes over this process: signals reach it directly


def _check_port(host: str, port: int) -> None:
    """Try the address before gunicorn does: it would print five raw «Connection in use» errors instead."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does: TIME_WAIT is not busy
            probe.bind((host, port))
    except OSError as exc:
        other = port + 1 if port < 65535 else 8000
        reason = ("уже зайнятий іншою програмою" if exc.errno == errno.EADDRINUSE
                  else f"недоступний ({exc.strerror or exc})")
        fail(f"порт {port} на {host} {reason}: оберіть інший — `outages serve --port {other}`"
             f" (демо: `make demo PORT={other}`) / port {port} is not available: choose another with --port", code=1)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@pass_ctx
def publish(ctx: Context, directory: Path) -> None:
    """Write every page and feed as static files into DIRECTORY, switched in atomically /
    Опублікувати сайт статичними файлами."""
    from web import create_app
    from web.publish import PublishError
    from web.publish import publish as run

    app = create_app(ctx.settings, engine=ctx.ready_engine())
    started = time.monotonic()
    try:
        done = run(app, directory, log=lambda line: click.echo(line, err=True))
    except PublishError as exc:
        fail(str(exc))
    click.echo(f"Опубліковано / published {done.urls} URL → {done.target} (→ {done.release.name}), "
               f"наново / rendered {done.rendered}, "
               f"версія даних / data version {done.version}, {time.monotonic() - started:.1f} с / s"
               + (f"; пропущено / skipped {len(done.skipped)}" if done.skipped else ""))
    if done.pruning is not None:
        done.pruning.join()  # the old releases' removal, begun once the new one was live
