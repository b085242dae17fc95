"""The same app over Socket Mode: envelopes over the emulator's websocket, acked by Bolt."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.messages import ids
from bot.sandbox.stack import CAST, Stack
from tests.acceptance.helpers import card, client_root, ok, replies, ticket


def test_critical_ticket_over_socket_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'socket.db'}"
    with Stack(database_url=url, socket_mode=True) as stack:
        answer = ok(stack.emu.slash_command(CAST.employee, CAST.client_channel, ""))
        assert answer.status == 200
        ok(
            stack.emu.submit_view(
                CAST.employee,
                values={"title": "Server down", "priority": "critical", "affected": "all"},
            )
        )
        stack.wait_delivered()
        c = card(stack, 1)
        assert c.text.startswith("<!here>")
        ok(stack.emu.click(CAST.manager, CAST.tech_channel, c.ts, ids.ASSIGN))
        ok(stack.emu.submit_view(CAST.manager, values={"assignee": CAST.tech1}))
        ts, delivered = stack.emu.post_message(
            CAST.tech1, CAST.tech_channel, "restarting the VM", thread_ts=c.ts
        )
        assert delivered.status == 200
        stack.wait_delivered()
        assert ticket(stack, 1).state == "in_progress"
        thread = replies(stack, CAST.client_channel, client_root(stack, 1).ts)
        assert any("restarting the VM" in m.text for m in thread)
        # In Socket Mode the HTTP endpoint does not take Slack traffic.
        request = urllib.request.Request(
            f"{stack.base_url}/slack/events", data=b"{}", method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 404
