"""The FastAPI application: middleware (language, sessions, CSRF), routes and error pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import redis.asyncio
from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from starsessions import SessionAutoloadMiddleware, SessionMiddleware
from starsessions.stores.memory import InMemoryStore
from starsessions.stores.redis import RedisStore

from renda.platform import jobs
from renda.platform.config import Settings, check_secret_key, get_settings
from renda.platform.db import Database
from renda.platform.identity.oidc import OidcClient
from renda.platform.identity.throttle import LoginThrottle
from renda.web import errors, i18n, links
from renda.web.csrf import CsrfMiddleware
from renda.web.modules import install_modules, web_modules

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_modules()
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_secret_key(settings)  # the app does not start outside development with the default key
        queue = jobs.JobQueue(settings, app.state.db, translations=i18n.translations, links=links.link_for)
        jobs.install(queue)  # what this process enqueues goes to Redis, or to its own memory
        if queue.in_memory:  # embedded: no `renda worker`, so this process runs the jobs itself
            queue.start()
        yield
        if jobs.installed() is queue:
            jobs.install(None)
        queue.close()  # waits for the jobs under way
        app.state.db.dispose()
        if app.state.oidc is not None:
            app.state.oidc.close()
        if session_redis is not None:
            await session_redis.aclose()

    app = FastAPI(title="Renda 人大", docs_url="/api/docs", openapi_url="/api/v1/openapi.json",
                  redoc_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.db = Database(settings)
    app.state.throttle = LoginThrottle(settings)
    app.state.oidc = OidcClient(settings) if settings.keycloak_url else None

    @app.middleware("http")
    async def language(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        lang = i18n.pick_language(request.cookies.get(i18n.COOKIE), settings.language)
        request.state.language = lang
        i18n.activate(lang)
        response = await call_next(request)
        response.headers.setdefault("Content-Language", "zh-CN" if lang == "zh_CN" else lang)
        return response

    session_redis = (
        redis.asyncio.Redis.from_url(settings.redis_url, socket_connect_timeout=2) if settings.redis_url else None
    )
    store = RedisStore(connection=session_redis, prefix="renda:session:") if session_redis else InMemoryStore()
    app.add_middleware(SessionAutoloadMiddleware)
    app.add_middleware(SessionMiddleware, store=store, lifetime=settings.session_lifetime_seconds,
                       rolling=True, cookie_name="renda_session", cookie_https_only=settings.cookie_secure,
                       cookie_same_site="lax")
    app.add_middleware(CsrfMiddleware, secret=settings.secret_key, secure=settings.cookie_secure)

    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    for module in web_modules():
        for router in module.routers:
            app.include_router(router)

    return app
