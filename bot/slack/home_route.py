"""Delivers an App Home outbox row: reads the person's Home as it is now and publishes it."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.orm import Session, sessionmaker

from bot.home.reader import HomeReader
from bot.outbox.claims import Claimed
from bot.slack.gateway import SlackGateway
from bot.slack.home import home_view
from storage.models import HomeViewer


class HomeRoute:
    def __init__(
        self,
        *,
        slack: SlackGateway,
        reader: HomeReader,
        reads: sessionmaker[Session],
    ) -> None:
        self._slack = slack
        self._reader = reader
        self._reads = reads

    def deliver(self, row: Claimed) -> dict[str, Any]:
        user = str(row.payload["user"])
        with self._reads() as s:
            viewer = s.get(HomeViewer, user)
            page = viewer.page if viewer is not None else 0
        view = home_view(self._reader.read(user), page)
        self._slack.publish_home(user, view)
        blocks = cast(list[Any], view["blocks"])
        return {"user": user, "page": view["private_metadata"], "blocks": len(blocks)}
