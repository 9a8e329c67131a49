"""The Starlette application: routes, sessions, templates, static files."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from . import actions, auth, pages
from .jobs import JobBoard
from .queue import RunQueue
from .ratelimit import LoginLimiter
from .security import csrf_token

HERE = Path(__file__).resolve().parent


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["csrf_token"] = csrf_token
    return templates


def routes() -> list[Any]:
    return [
        Route("/login", auth.login_page, methods=["GET"], name="login"),
        Route("/login", auth.login, methods=["POST"]),
        Route("/logout", auth.logout, methods=["POST"], name="logout"),
        Route("/", pages.connectors, methods=["GET"], name="connectors"),
        Route("/connectors/new", pages.new_connector, methods=["GET"], name="new_connector"),
        Route("/connectors/new", actions.add_connector, methods=["POST"]),
        Route("/connectors/{name}", pages.connector, methods=["GET"], name="connector"),
        Route("/connectors/{name}/plan", pages.plan, methods=["GET"], name="plan"),
        Route("/connectors/{name}/progress", pages.progress, methods=["GET"], name="progress"),
        Route("/connectors/{name}/runs/{run_id:int}", pages.run, methods=["GET"], name="run"),
        Route("/connectors/{name}/edit", pages.edit_connector, methods=["GET"], name="edit_connector"),
        Route("/connectors/{name}/edit", actions.save_connector, methods=["POST"]),
        Route("/connectors/{name}/authenticate", pages.authenticate, methods=["GET"], name="authenticate"),
        Route("/connectors/{name}/authenticate", actions.start_authenticate, methods=["POST"]),
        Route("/connectors/{name}/run", actions.run_now, methods=["POST"], name="run_now"),
        Route("/connectors/{name}/release", actions.release, methods=["POST"], name="release"),
        Route("/connectors/{name}/link", actions.link, methods=["POST"], name="link"),
        Route("/connectors/{name}/leavers/delete", actions.delete_leaver, methods=["POST"], name="delete_leaver"),
        Route("/connectors/{name}/leavers/keep", actions.keep_leaver, methods=["POST"], name="keep_leaver"),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
    # Ctrl+C or SIGTERM: a run started here stops between writes, as in 'serve'
    await run_in_threadpool(app.state.jobs.shutdown)


def create_app(store: Any, pm: Any, *, behind_https: bool = False, limiter: LoginLimiter | None = None, runs: str = "auto") -> Starlette:
    """The console for ``store`` with the plugins of ``pm``.

    Sessions and failed sign-ins live in ``store``: several consoles on one store
    share them, and a restart signs nobody out.

    :param behind_https: Mark the cookies ``Secure`` (served through HTTPS); they are
        also when the request itself came through HTTPS.
    :param limiter: Counts failed sign-ins (5 per account, 20 per address in 15 minutes by default).
    :param runs: Where "Run now" runs: ``auto`` (through the workers' queue when a
        worker is alive, else here), ``queue`` or ``here``.
    """
    app = Starlette(routes=routes(), lifespan=lifespan)
    app.state.store = store
    app.state.pm = pm
    app.state.behind_https = behind_https
    app.state.templates = make_templates()
    app.state.jobs = JobBoard(store, pm, RunQueue(store, runs))
    app.state.limiter = (limiter or LoginLimiter()).bind(store)
    return app
