"""Federated equipment and know-how sharing for the Mouvement des Régies de Quartier."""

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: config → extensions → blueprints → CLI → errors."""
    app = Flask(__name__, instance_relative_config=True)
    _configure(app, config)

    import federation
    from sharing import errors, extensions, headers, observability, security, web
    from sharing.accounts import api as accounts_api
    from sharing.accounts import views as accounts_views
    from sharing.audit import api as audit_api
    from sharing.audit import views as audit_views
    from sharing.catalogue import api as catalogue_api
    from sharing.catalogue import views as catalogue_views
    from sharing.cli import register_commands
    from sharing.library import api as library_api
    from sharing.library import views as library_views
    from sharing.loans import api as loans_api
    from sharing.loans import cli as loans_cli
    from sharing.loans import views as loans_views
    from sharing.meta import bp as meta_bp
    from sharing.regies import api as regies_api
    from sharing.regies import views as regies_views

    observability.init_app(app)  # first: request ids and timing around everything else
    extensions.db.init_app(app)
    extensions.migrate.init_app(
        app, extensions.db, directory=os.path.join(app.root_path, "..", "migrations")
    )
    security.init_app(app)
    headers.init_app(app)
    extensions.babel.init_app(
        app, locale_selector=lambda: "fr", timezone_selector=web.user_timezone
    )
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    extensions.api.init_app(app)

    for module in (accounts_api, regies_api, catalogue_api, loans_api, library_api, audit_api):
        extensions.csrf.exempt(module.bp)  # protect_api checks CSRF for cookie sessions
        extensions.api.register_blueprint(module.bp)
    for blueprint in (
        meta_bp,
        accounts_views.bp,
        regies_views.bp,
        catalogue_views.bp,
        loans_views.bp,
        library_views.bp,
        audit_views.bp,
    ):
        app.register_blueprint(blueprint)

    web.init_app(app)
    register_commands(app)
    app.cli.add_command(loans_cli.loans_cli)
    federation.init_app(app)  # the one place sharing meets federation: /federation/v1, CLI
    errors.register(app)
    return app


def _configure(app: Flask, config: Mapping[str, Any] | None) -> None:
    from sharing.config import Config

    app.config.from_object(Config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
        app.instance_path, "sharing.sqlite"
    )
    app.config.from_prefixed_env()
    if config:
        app.config.update(config)
