"""Slack Block Kit limits (docs.slack.dev/reference/block-kit) and visible truncation of lists."""

from __future__ import annotations

from collections.abc import Sequence

Block = dict[str, object]


MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
MAX_FIELDS = 10
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTION_TEXT = 75
OPTION_VALUE = 150
OPTION_DESCRIPTION = 75
MAX_OPTIONS = 100
PLACEHOLDER_TEXT = 150
INPUT_LABEL = 2000
INPUT_HINT = 2000
BLOCK_ID = 255
VIEW_TITLE = 24
VIEW_BUTTON = 24
PRIVATE_METADATA = 3000
TEXT_OBJECT = 3000
MESSAGE_TEXT = 40000
FALLBACK_TEXT = 3000
# Slack answers `msg_blocks_too_long` at roughly 13.2k characters of block text in one message even
# when every block is within its own limit (bolt-js#2509); stay under it with a margin.
MESSAGE_BLOCK_TEXT = 12000


def more_not_shown(count: int) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": f"… {count} more not shown"}],
    }


def fit_blocks(blocks: Sequence[Block], max_blocks: int) -> list[Block]:
    """`blocks` if at most `max_blocks`, else the first ones and a final "… N more not shown"."""
    if len(blocks) <= max_blocks:
        return list(blocks)
    kept = list(blocks[: max_blocks - 1])
    return [*kept, more_not_shown(len(blocks) - len(kept))]


def block_text_size(value: object) -> int:
    """Total length of every `text` string inside a block structure (for MESSAGE_BLOCK_TEXT)."""
    if isinstance(value, dict):
        return sum(
            len(v) if k == "text" and isinstance(v, str) else block_text_size(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return sum(block_text_size(v) for v in value)
    return 0
