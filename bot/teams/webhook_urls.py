"""Teams webhook URLs: which are Power Automate Workflows, which are retired Office 365
connectors, and how to show one without its secret."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote_plus, urlsplit, urlunsplit

from bot.config.parsers import is_loopback

# Hosts that serve Workflows trigger URLs: the classic Logic Apps hosts
# (prod-NN.<region>.logic.azure.com) and the Power Platform ones that replaced them
# (<env>.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/…).
WORKFLOWS_HOST_SUFFIXES = (
    ".logic.azure.com",
    ".logic.azure.us",
    ".api.powerplatform.com",
    ".powerautomate.com",
)

# Office 365 connector ("incoming webhook") hosts; Microsoft retired these connectors.
_CONNECTOR_HOSTS = ("outlook.office.com", "outlook.office365.com")
_CONNECTOR_SUFFIX = ".webhook.office.com"

# Query parameters that authorize the caller: the Workflows signature and common look-alikes.
SECRET_PARAMS = frozenset({"sig", "code", "key", "token", "secret"})
REDACTED = "REDACTED"

CONNECTOR_RETIRED = (
    "is an Office 365 connector (incoming webhook) URL; Microsoft retired Office 365 "
    "connectors, so posts to it no longer arrive. In the Teams channel, create a Workflows "
    'webhook instead (Workflows → "Post to a channel when a webhook request is received") '
    "and give its URL"
)


def redact(url: str) -> str:
    """`url` with the values of its secret query parameters (sig=…) replaced by REDACTED.

    A legacy connector URL carries its secret in the path, so only its host is kept.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unparsable URL)"
    if is_legacy_connector(url):
        return f"{parts.scheme}://{parts.netloc}/{REDACTED}"
    fields = []
    for field in parts.query.split("&") if parts.query else []:
        name, eq, _ = field.partition("=")
        secret = unquote_plus(name).lower() in SECRET_PARAMS
        fields.append(f"{name}={REDACTED}" if secret and eq else field)
    return urlunsplit(parts._replace(query="&".join(fields), fragment=""))


def secrets_in(url: str) -> list[str]:
    """The secret values in `url` (to scrub them from any text that might echo the URL)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    values = []
    for field in parts.query.split("&") if parts.query else []:
        name, _, raw = field.partition("=")
        if unquote_plus(name).lower() in SECRET_PARAMS and raw:
            values += [raw, unquote_plus(raw)]  # as sent, and as a server might echo it
    if is_legacy_connector(url):
        values.append(parts.path)
    return values


def is_legacy_connector(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if host.endswith(_CONNECTOR_SUFFIX) or host == _CONNECTOR_SUFFIX[1:]:
        return True
    return host in _CONNECTOR_HOSTS and parts.path.lower().startswith("/webhook")


def workflows_url_problem(url: str) -> str | None:
    """Why `url` cannot be a client's Workflows webhook, in plain words; None when it can.

    The text starts after the URL's name, e.g. "--teams-webhook " + problem.
    """
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return "is not a URL"
    if not host or parts.scheme not in ("https", "http"):
        return "must be an https:// URL (the Workflows webhook's HTTP POST URL)"
    if is_legacy_connector(url):
        return CONNECTOR_RETIRED
    if is_loopback(host):
        return None
    if parts.scheme != "https":
        return "must be an https:// URL (http:// only to this machine, for testing)"
    if not host.endswith(WORKFLOWS_HOST_SUFFIXES):
        return (
            f"is not a Power Automate Workflows URL (host {host}); expected a host ending in "
            + ", ".join(WORKFLOWS_HOST_SUFFIXES)
            + ' (Workflows → "Post to a channel when a webhook request is received")'
        )
    if not any(k.lower() == "sig" for k, _ in parse_qsl(parts.query)):
        return (
            "has no sig= signature: that flow accepts only signed-in users. Set the trigger's "
            '"Who can trigger the flow" to "Anyone" and copy the new URL'
        )
    return None
