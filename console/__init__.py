"""The counsellor console: pages, the JSON API and live updates, mounted on the gateway app.

`register(app)` is the only entry point: the gateway's app factory calls it; everything the console keeps at run
time (Jinja environment, templates, throttling state) hangs on `app.ctx` so several apps never share state.
"""

from __future__ import annotations

from pathlib import Path

from sanic import Sanic

STATIC = Path(__file__).resolve().parent / "static"


def register(app: Sanic) -> None:
    """Attach the console's blueprints to the gateway app."""
    from console import (
        about,
        account,
        admin,
        api,
        broadcast_media,
        broadcasts,
        canned,
        cases,
        contact_details,
        duty,
        follow_ups,
        live,
        login,
        openapi,
        pages,
        records,
        referral_pages,
        referrals,
        retention_views,
        securechat,
        survey_results,
        training,
        worklog,
    )
    from console.headers import install as install_headers
    from console.render import make_environment
    from console.worklog_report import load_columns

    app.ctx.console_jinja = make_environment()
    app.ctx.console_templates = canned.load_groups()
    app.ctx.worklog_columns = load_columns()  # a broken console/data/worklog.yml fails at start-up
    app.ctx.support_groups = referrals.load_support_groups(app.ctx.settings.data_dir / "services.yml")
    app.ctx.console_ip_failures = {}
    app.ctx.console_typing = {}
    app.ctx.console_tasks = set()
    for module in (login, account, pages, records, worklog, survey_results, duty, retention_views, referral_pages,
                   admin, training, live, api, cases, contact_details, canned, openapi, broadcasts, about, securechat,
                   follow_ups, broadcast_media):
        app.blueprint(module.bp)
    app.blueprint(broadcasts.page_bp)
    app.static("/console/static", str(STATIC), name="console_static")
    from console import bounds

    bounds.install(app, STATIC)  # ids past any row's and static names that are no file: 404/400, never 500
    install_headers(app)
