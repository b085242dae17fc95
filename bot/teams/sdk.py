"""The one place ticketbot imports the Teams SDK (`microsoft_teams.apps`) from.

Importing that package runs `load_dotenv(find_dotenv(usecwd=True))` (microsoft_teams/apps/app.py),
which would pull any `.env` found above the working directory into os.environ. Our own rule is
environment over our `.env`, read once in `bot.cli.main`; so the SDK is imported here with
python-dotenv switched off (PYTHON_DOTENV_DISABLED) for the duration of the import, and the variable
restored. The import also warns about a preview feature we do not use (HTML widgets): that one is
muted. Import SDK names from this module, or import it before anything that imports
`microsoft_teams.apps`.
"""

from __future__ import annotations

import os
import warnings

from microsoft_teams.common.experimental import ExperimentalWarning

_DISABLE = "PYTHON_DOTENV_DISABLED"
_saved = os.environ.get(_DISABLE)
os.environ[_DISABLE] = "1"
try:
    with warnings.catch_warnings():
        # HtmlWidgetSecurityPolicy is built at import time and warns that it is a preview.
        warnings.simplefilter("ignore", ExperimentalWarning)
        from microsoft_teams.api import ActivityTypeAdapter, ApiClientSettings, TokenCredentials
        from microsoft_teams.api.auth.cloud_environment import (
            PUBLIC,
            CloudEnvironment,
            with_overrides,
        )
        from microsoft_teams.apps import ActivityContext, App
        from microsoft_teams.apps.events import CoreActivity
        from microsoft_teams.apps.http.adapter import (
            HttpMethod,
            HttpRequest,
            HttpResponse,
            HttpRouteHandler,
        )
        from microsoft_teams.common import ClientOptions, LocalStorage
finally:
    if _saved is None:
        del os.environ[_DISABLE]
    else:
        os.environ[_DISABLE] = _saved

__all__ = [
    "PUBLIC",
    "ActivityContext",
    "ActivityTypeAdapter",
    "ApiClientSettings",
    "App",
    "ClientOptions",
    "CloudEnvironment",
    "CoreActivity",
    "HttpMethod",
    "HttpRequest",
    "HttpResponse",
    "HttpRouteHandler",
    "LocalStorage",
    "TokenCredentials",
    "with_overrides",
]
