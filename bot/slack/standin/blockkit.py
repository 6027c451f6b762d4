"""Block Kit and view validation: Slack's limits, and each problem worded as Slack words it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.slack.standin.calls import JSON

# --- limits (../shared/slack/blockkit-limits.md) ---------------------------------------------------

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MESSAGE_TEXT_LIMIT = 40_000  # longer `text` is truncated and posted with warning message_truncated
UPDATE_TEXT_LIMIT = 4_000  # chat.update documents msg_too_long past this
VIEW_SIZE_LIMIT = 250_000
DM_LIMIT_USERS = 8


# --- Block Kit validation ----------------------------------------------------------------------------


class _Checker:
    """Collects Block Kit problems worded as Slack words them: `[ERROR] … [json-pointer:/blocks/0/…]`."""

    def __init__(self, scope: str) -> None:
        self.scope = scope  # "message" or "view": where block_ids must be unique
        self.errors: list[str] = []

    def fail(self, pointer: str, problem: str) -> None:
        self.errors.append(f"[ERROR] {problem} [json-pointer:{pointer}]")

    def _get(self, parent: JSON, key: str, base: str, required: bool) -> tuple[Any, str]:
        value = parent.get(key)
        if value is None and required:
            self.fail(base, f"missing required field: {key}")
        return value, f"{base}/{key}"

    def string(self, parent: JSON, key: str, base: str, *, hi: int, lo: int = 0, required: bool = False) -> None:
        value, ptr = self._get(parent, key, base, required)
        if value is None:
            return
        if not isinstance(value, str):
            self.fail(ptr, "must be a string")
        elif len(value) < lo:
            self.fail(ptr, f"must be more than {lo - 1} characters")
        elif len(value) > hi:
            self.fail(ptr, f"must be less than {hi + 1} characters")

    def number(self, parent: JSON, key: str, base: str, *, lo: int, hi: int) -> None:
        value, ptr = self._get(parent, key, base, False)
        if value is None:
            return
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            self.fail(ptr, f"must be an integer between {lo} and {hi}")

    def text_value(self, value: Any, ptr: str, *, hi: int = 3000, plain: bool = False) -> None:
        if not isinstance(value, dict):
            self.fail(ptr, "must provide an object")
            return
        kind = value.get("type")
        allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.fail(f"{ptr}/type", f"must be one of [{', '.join(allowed)}]")
        self.string(value, "text", ptr, lo=1, hi=hi, required=True)
        if "emoji" in value and kind != "plain_text":
            self.fail(f"{ptr}/emoji", "emoji is only allowed on plain_text")
        if "verbatim" in value and kind != "mrkdwn":
            self.fail(f"{ptr}/verbatim", "verbatim is only allowed on mrkdwn")

    def text(
        self, parent: JSON, key: str, base: str, *, hi: int = 3000, plain: bool = False, required: bool = False
    ) -> None:
        value, ptr = self._get(parent, key, base, required)
        if value is not None:
            self.text_value(value, ptr, hi=hi, plain=plain)

    def items(
        self, parent: JSON, key: str, base: str, *, hi: int, lo: int = 0, required: bool = False
    ) -> list[tuple[Any, str]]:
        value, ptr = self._get(parent, key, base, required)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(ptr, "must provide an array")
            return []
        if len(value) > hi:
            self.fail(ptr, f"no more than {hi} items allowed")
        elif len(value) < lo:
            self.fail(ptr, f"must provide at least {lo} items")
        return [(item, f"{ptr}/{index}") for index, item in enumerate(value)]

    # blocks

    def blocks(self, blocks: list[Any], base: str, *, max_blocks: int) -> None:
        if len(blocks) > max_blocks:
            self.fail(base, f"no more than {max_blocks} items allowed")
        seen: set[str] = set()
        for index, block in enumerate(blocks):
            ptr = f"{base}/{index}"
            if not isinstance(block, dict):
                self.fail(ptr, "must provide an object")
                continue
            self._block_id(block, ptr, seen)
            check = _BLOCK_CHECKS.get(str(block.get("type")))
            if check is None:
                self.fail(ptr, f"unsupported block type: {block.get('type')}")
            else:
                check(self, block, ptr)

    def _block_id(self, block: JSON, ptr: str, seen: set[str]) -> None:
        self.string(block, "block_id", ptr, hi=255)
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen:
                self.fail(f"{ptr}/block_id", f"duplicate block_id {block_id!r}: must be unique in the {self.scope}")
            seen.add(block_id)

    def section(self, block: JSON, ptr: str) -> None:
        if block.get("text") is None and block.get("fields") is None:
            self.fail(ptr, "must provide either text or fields")
        self.text(block, "text", ptr, hi=3000)
        for item, item_ptr in self.items(block, "fields", ptr, hi=10):
            self.text_value(item, item_ptr, hi=2000)
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{ptr}/accessory")

    def header(self, block: JSON, ptr: str) -> None:
        self.text(block, "text", ptr, hi=150, plain=True, required=True)

    def context(self, block: JSON, ptr: str) -> None:
        for item, item_ptr in self.items(block, "elements", ptr, hi=10, lo=1, required=True):
            if isinstance(item, dict) and item.get("type") == "image":
                self.image_element(item, item_ptr)
            else:
                self.text_value(item, item_ptr)

    def actions(self, block: JSON, ptr: str) -> None:
        action_ids: set[str] = set()
        for item, item_ptr in self.items(block, "elements", ptr, hi=25, lo=1, required=True):
            self.element(item, item_ptr)
            action_id = item.get("action_id") if isinstance(item, dict) else None
            if isinstance(action_id, str):
                if action_id in action_ids:
                    self.fail(f"{item_ptr}/action_id", f"duplicate action_id {action_id!r} in block")
                action_ids.add(action_id)

    def input(self, block: JSON, ptr: str) -> None:
        self.text(block, "label", ptr, hi=2000, plain=True, required=True)
        self.text(block, "hint", ptr, hi=2000, plain=True)
        element, element_ptr = self._get(block, "element", ptr, True)
        if element is not None:
            self.element(element, element_ptr)

    def image_block(self, block: JSON, ptr: str) -> None:
        self.image_element(block, ptr)
        self.text(block, "title", ptr, hi=2000, plain=True)

    def markdown(self, block: JSON, ptr: str) -> None:
        self.string(block, "text", ptr, lo=1, hi=12_000, required=True)

    def rich_text(self, block: JSON, ptr: str) -> None:
        self.items(block, "elements", ptr, hi=10_000, required=True)

    def anything(self, block: JSON, ptr: str) -> None:
        """Block types a support bot does not build; accepted as long as they are objects."""

    # elements

    def element(self, value: Any, ptr: str) -> None:
        if not isinstance(value, dict):
            self.fail(ptr, "must provide an object")
            return
        check = _ELEMENT_CHECKS.get(str(value.get("type")))
        if check is None:
            self.fail(ptr, f"unsupported element type: {value.get('type')}")
            return
        self.string(value, "action_id", ptr, hi=255)
        check(self, value, ptr)

    def button(self, value: JSON, ptr: str) -> None:
        self.text(value, "text", ptr, hi=75, plain=True, required=True)
        self.string(value, "value", ptr, hi=2000)
        self.string(value, "url", ptr, hi=3000)
        if value.get("style") not in (None, "primary", "danger"):
            self.fail(f"{ptr}/style", "must be one of [primary, danger]")
        self.confirm(value, ptr)

    def static_select(self, value: JSON, ptr: str) -> None:
        self.text(value, "placeholder", ptr, hi=150, plain=True)
        if value.get("options") is None and value.get("option_groups") is None:
            self.fail(ptr, "must provide either options or option_groups")
        options = self.option_list(value, "options", ptr, hi=100, plain=True)
        for group, group_ptr in self.items(value, "option_groups", ptr, hi=100):
            if isinstance(group, dict):
                self.text(group, "label", group_ptr, hi=75, plain=True, required=True)
                options += self.option_list(group, "options", group_ptr, hi=100, plain=True)
        self.initial_options(value, ptr, options)
        self.confirm(value, ptr)

    def overflow(self, value: JSON, ptr: str) -> None:
        self.option_list(value, "options", ptr, hi=5, lo=1, plain=True, required=True, url_ok=True)
        self.confirm(value, ptr)

    def choices(self, value: JSON, ptr: str) -> None:
        """checkboxes and radio_buttons: up to 10 options, which may use mrkdwn."""
        options = self.option_list(value, "options", ptr, hi=10, lo=1, plain=False, required=True)
        self.initial_options(value, ptr, options)
        self.confirm(value, ptr)

    def plain_text_input(self, value: JSON, ptr: str) -> None:
        self.text(value, "placeholder", ptr, hi=150, plain=True)
        self.number(value, "min_length", ptr, lo=0, hi=3000)
        self.number(value, "max_length", ptr, lo=1, hi=3000)

    def picker(self, value: JSON, ptr: str) -> None:
        """Selects and pickers whose options come from Slack (users, channels, dates…)."""
        self.text(value, "placeholder", ptr, hi=150, plain=True)
        self.confirm(value, ptr)

    def image_element(self, value: JSON, ptr: str) -> None:
        if value.get("image_url") is None and value.get("slack_file") is None:
            self.fail(ptr, "must provide either image_url or slack_file")
        self.string(value, "image_url", ptr, hi=3000)
        self.string(value, "alt_text", ptr, hi=2000, required=True)

    def free_element(self, value: JSON, ptr: str) -> None:
        """Elements with nothing a bot commonly gets wrong (file_input, rich_text_input, …)."""

    # composition objects

    def option_list(
        self,
        parent: JSON,
        key: str,
        base: str,
        *,
        hi: int,
        lo: int = 0,
        plain: bool,
        required: bool = False,
        url_ok: bool = False,
    ) -> list[Any]:
        options = self.items(parent, key, base, hi=hi, lo=lo, required=required)
        for option, option_ptr in options:
            self.option(option, option_ptr, plain=plain, url_ok=url_ok)
        return [option for option, _ in options]

    def option(self, value: Any, ptr: str, *, plain: bool, url_ok: bool) -> None:
        if not isinstance(value, dict):
            self.fail(ptr, "must provide an object")
            return
        self.text(value, "text", ptr, hi=75, plain=plain, required=True)
        self.string(value, "value", ptr, hi=150, required=True)
        self.text(value, "description", ptr, hi=75, plain=plain)
        if url_ok:
            self.string(value, "url", ptr, hi=3000)

    def initial_options(self, value: JSON, ptr: str, options: list[Any]) -> None:
        if value.get("initial_option") is not None and value["initial_option"] not in options:
            self.fail(f"{ptr}/initial_option", "must exactly match one of the options")
        for chosen, chosen_ptr in self.items(value, "initial_options", ptr, hi=100):
            if chosen not in options:
                self.fail(chosen_ptr, "must exactly match one of the options")

    def confirm(self, parent: JSON, base: str) -> None:
        dialog, ptr = self._get(parent, "confirm", base, False)
        if dialog is None:
            return
        if not isinstance(dialog, dict):
            self.fail(ptr, "must provide an object")
            return
        self.text(dialog, "title", ptr, hi=100, plain=True, required=True)
        self.text(dialog, "text", ptr, hi=300, required=True)
        self.text(dialog, "confirm", ptr, hi=30, plain=True, required=True)
        self.text(dialog, "deny", ptr, hi=30, plain=True, required=True)


_Check = Callable[[_Checker, JSON, str], None]

_BLOCK_CHECKS: dict[str, _Check] = {
    "section": _Checker.section,
    "header": _Checker.header,
    "context": _Checker.context,
    "actions": _Checker.actions,
    "input": _Checker.input,
    "image": _Checker.image_block,
    "markdown": _Checker.markdown,
    "rich_text": _Checker.rich_text,
    "divider": _Checker.anything,
    "file": _Checker.anything,
    "video": _Checker.anything,
    "call": _Checker.anything,
    "table": _Checker.anything,
    "context_actions": _Checker.anything,
}

_ELEMENT_CHECKS: dict[str, _Check] = {
    "button": _Checker.button,
    "static_select": _Checker.static_select,
    "multi_static_select": _Checker.static_select,
    "overflow": _Checker.overflow,
    "checkboxes": _Checker.choices,
    "radio_buttons": _Checker.choices,
    "plain_text_input": _Checker.plain_text_input,
    "image": _Checker.image_element,
    **{
        kind: _Checker.picker
        for kind in (
            "users_select",
            "multi_users_select",
            "conversations_select",
            "multi_conversations_select",
            "channels_select",
            "multi_channels_select",
            "external_select",
            "multi_external_select",
            "datepicker",
            "timepicker",
            "datetimepicker",
            "email_text_input",
            "url_text_input",
            "number_input",
        )
    },
    **{kind: _Checker.free_element for kind in ("rich_text_input", "file_input", "workflow_button")},
}


def validate_blocks(
    blocks: list[Any], *, pointer: str = "/blocks", max_blocks: int = MAX_MESSAGE_BLOCKS, scope: str = "message"
) -> list[str]:
    """Slack's complaints about `blocks` (empty when valid), as in `response_metadata.messages`."""
    checker = _Checker(scope)
    checker.blocks(blocks, pointer, max_blocks=max_blocks)
    return checker.errors


def validate_view(view: Any, *, surfaces: Sequence[str] = ("modal",)) -> list[str]:
    """Slack's complaints about a modal or Home tab view (empty when valid)."""
    checker = _Checker("view")
    base = "/view"
    if not isinstance(view, dict):
        checker.fail(base, "must provide an object")
        return checker.errors
    if view.get("type") not in surfaces:
        checker.fail(f"{base}/type", f"must be one of [{', '.join(surfaces)}]")
    if view.get("type") == "modal":
        _check_modal_chrome(checker, view, base)
    blocks, blocks_ptr = checker._get(view, "blocks", base, True)
    if isinstance(blocks, list):
        checker.blocks(blocks, blocks_ptr, max_blocks=MAX_VIEW_BLOCKS)
    elif blocks is not None:
        checker.fail(blocks_ptr, "must provide an array")
    checker.string(view, "private_metadata", base, hi=3000)
    checker.string(view, "callback_id", base, hi=255)
    checker.string(view, "external_id", base, hi=255)
    return checker.errors


def _check_modal_chrome(checker: _Checker, view: JSON, base: str) -> None:
    checker.text(view, "title", base, hi=24, plain=True, required=True)
    checker.text(view, "submit", base, hi=24, plain=True)
    checker.text(view, "close", base, hi=24, plain=True)
    blocks = view.get("blocks")
    has_input = isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if has_input and view.get("submit") is None:
        checker.fail(base, "must provide a submit property when using input blocks")
