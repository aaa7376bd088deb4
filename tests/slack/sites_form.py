"""The ``/medialink sites`` modal's form, filled in as Slack sends it on submit."""

from __future__ import annotations

from tests.fakes.slack import Json


def sites_form_values(action: str, **fields: str) -> dict[str, dict[str, Json]]:
    """``view.state.values`` for ``action`` (add, remove, default, ...) and ``fields``:
    ``site`` and ``channel`` as their selects send them, any other as a text input."""
    values: dict[str, dict[str, Json]] = {
        "sites_action": {
            "sites_action_select": {
                "type": "static_select",
                "selected_option": {
                    "value": action,
                    "text": {"type": "plain_text", "text": action},
                },
            }
        }
    }
    for name, value in fields.items():
        if name == "site":
            values["sites_site"] = {
                "sites_site_select": {"type": "static_select", "selected_option": {"value": value}}
            }
        elif name == "channel":
            values["sites_channel"] = {
                "sites_channel_select": {
                    "type": "conversations_select",
                    "selected_conversation": value,
                }
            }
        else:
            values[f"sites_{name}"] = {"value": {"type": "plain_text_input", "value": value}}
    return values
