"""The interactive API docs without a CDN: ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc)
load their scripts and styles from the assets that the ``fastapi-offline`` package
ships, served under ``/docs/assets``; nothing is loaded from a CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles


def _offline_assets() -> Path | None:
    try:
        import fastapi_offline
    except ImportError:  # the docs fall back to FastAPI's CDN pages
        return None
    folder = Path(fastapi_offline.__file__).parent / "static"
    wanted = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js")
    return folder if all((folder / name).is_file() for name in wanted) else None


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` from the packaged assets, under ``/docs/assets``;
    without them (``fastapi-offline`` missing), FastAPI's own CDN pages stay."""
    assets = _offline_assets()
    if assets is None or app.openapi_url is None:
        return
    pages = {app.docs_url, app.redoc_url}
    app.router.routes[:] = [
        r for r in app.router.routes if getattr(r, "path", None) not in pages
    ]
    base = "/docs/assets"
    app.mount(base, StaticFiles(directory=str(assets)), name="docs-assets")
    openapi_url = app.openapi_url
    title = app.title

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}", title=f"{title} - Swagger UI",
            swagger_js_url=f"{root}{base}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{base}/swagger-ui.css",
            swagger_favicon_url=f"{root}{base}/favicon.png",
            oauth2_redirect_url=None, swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}", title=f"{title} - ReDoc",
            redoc_js_url=f"{root}{base}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{base}/favicon.png", with_google_fonts=False,
        )
