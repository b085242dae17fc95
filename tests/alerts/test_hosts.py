"""Client matching by domain: which host names an alert yields, and which client's domain wins."""

from __future__ import annotations

import pytest

from bot.alerts.hosts import host_hints, match_domain
from bot.alerts.model import Alert, AlertStatus

DOMAINS = {"acme.test": "Acme", "eu.acme.test": "Acme Europe", "contoso.example": "Contoso"}


def alert(title: str = "Alert", description: str = "", **labels: str) -> Alert:
    return Alert(
        source="generic",
        status=AlertStatus.FIRING,
        group_key="generic:k",
        fingerprint="fp",
        title=title,
        description=description,
        labels=labels,
    )


def matched(a: Alert) -> tuple[str, str] | None:
    found = match_domain(host_hints(a), DOMAINS)
    return None if found is None else (found[1], found[0].describe())


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # suffix rules: the domain itself, any depth below it, the longest domain first
        (alert("acme.test down"), ("Acme", "matched host acme.test")),
        (alert("fs01.acme.test down"), ("Acme", "matched host fs01.acme.test")),
        (alert("a.b.c.acme.test down"), ("Acme", "matched host a.b.c.acme.test")),
        (alert("fs01.eu.acme.test down"), ("Acme Europe", "matched host fs01.eu.acme.test")),
        (alert("eu.acme.test down"), ("Acme Europe", "matched host eu.acme.test")),
        (alert("FS01.ACME.TEST. down"), ("Acme", "matched host FS01.ACME.TEST")),
        # a suffix of labels, not of characters
        (alert("fs01.notacme.test down"), None),
        (alert("acme.test.evil.example down"), None),
        (alert("seu.acme.test"), ("Acme", "matched host seu.acme.test")),
        # ports and instance labels
        (alert(instance="fs01.acme.test:9100"), ("Acme", "matched instance fs01.acme.test:9100")),
        (alert(host="fs01.eu.acme.test"), ("Acme Europe", "matched host fs01.eu.acme.test")),
        # URLs: user info, query and fragment are not shown
        (
            alert(description="see https://shop.acme.test/cart?token=s3cret#x"),
            ("Acme", "matched URL https://shop.acme.test/cart"),
        ),
        (
            alert(url="https://bob:pw@shop.eu.acme.test:8443/health"),
            ("Acme Europe", "matched url https://shop.eu.acme.test:8443/health"),
        ),
        # IP addresses never match, in any form
        (alert("10.20.0.5 unreachable", instance="10.20.0.5:9100"), None),
        (alert(description="http://192.168.1.10/ and http://[2001:db8::1]:80/"), None),
        (alert("::ffff:10.0.0.1 down"), None),
        # e-mail addresses and file names are no hosts of a client
        (alert("mail from carl@acme.test bounced"), None),
        (alert("/var/log/acme.test.log grew"), None),
        # host-like labels come before the text
        (
            alert("contoso.example probe", instance="fs01.acme.test:9100"),
            ("Acme", "matched instance fs01.acme.test:9100"),
        ),
        (alert("nothing here", site="HQ"), None),
    ],
)
def test_client_matching_table(given: Alert, expected: tuple[str, str] | None) -> None:
    assert matched(given) == expected


def test_two_clients_with_nested_domains_each_keep_their_hosts() -> None:
    hosts = ["web.acme.test", "web.eu.acme.test", "x.y.eu.acme.test", "eu-acme.test"]
    clients = [matched(alert(f"{h} down")) for h in hosts]
    assert [c[0] if c else None for c in clients] == ["Acme", "Acme Europe", "Acme Europe", None]


def test_the_first_host_that_matches_wins() -> None:
    a = alert("fs01.other.example then fs02.contoso.example then fs03.acme.test")
    assert matched(a) == ("Contoso", "matched host fs02.contoso.example")
