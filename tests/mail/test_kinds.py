"""Mail kinds are declared functions: name, template triple, label and dedupe key all come from the declaration.

The dedupe keys are pinned: rows of existing databases hold them, so a new key for the same mail would send it
twice.
"""

from __future__ import annotations

import pytest

from delphi.mail import kinds
from delphi.resources import TEMPLATE_DIR


def test_each_kind_is_named_after_its_function_and_has_its_template_triple() -> None:
    assert list(kinds.MAIL_KINDS) == [
        "invitation",
        "round_open",
        "reminder",
        "receipt",
        "final_results",
        "facilitator_notice",
        "password_reset",
        "team_invitation",
        "team_access",
    ]
    for name, kind in kinds.MAIL_KINDS.items():
        assert kind.name == kind.build.__name__ == name
        assert kind.templates == (
            f"email/{name}/subject.txt",
            f"email/{name}/body.txt",
            f"email/{name}/body.html",
        )
        assert all((TEMPLATE_DIR / t).is_file() for t in kind.templates)


def test_dedupe_keys_keep_the_form_stored_in_existing_databases() -> None:
    assert kinds.invitation.key(round_id=4, panellist_id=17) == "invitation:r4:p17"
    assert kinds.invitation.key("reissue2", round_id=4, panellist_id=17) == "invitation:r4:p17:reissue2"
    assert kinds.round_open.key(round_id=5, panellist_id=17) == "round_open:r5:p17"
    assert kinds.round_open.key("reissue3", round_id=5, panellist_id=17) == "round_open:r5:p17:reissue3"
    assert kinds.reminder.key("48h", round_id=5, panellist_id=17) == "reminder:r5:p17:48h"
    assert kinds.receipt.key(round_id=5, panellist_id=17) == "receipt:r5:p17"
    assert kinds.final_results.key(panel_id=2, panellist_id=17) == "final_results:panel2:p17"
    notice = kinds.facilitator_notice
    assert notice.key(notice="bounce", about="m91", account_id=3) == "notice:bounce:m91:a3"
    assert notice.key(notice="dead", about="p2:2026-03-01", account_id=3) == "notice:dead:p2:2026-03-01:a3"
    assert kinds.password_reset.key(account_id=3, link_id=8) == "password_reset:a3:l8"
    assert kinds.team_invitation.key("l8", invitation_id=4) == "team_invitation:i4:l8"
    assert kinds.team_access.key("g7", panel_id=2, account_id=3) == "team_access:p2:a3:g7"
    with pytest.raises(KeyError):
        kinds.invitation.key(round_id=4)


def test_labels_come_from_the_declarations() -> None:
    assert kinds.kind_label("round_open") == "new round"
    assert kinds.kind_label("facilitator_notice") == "notice to facilitators"
    assert kinds.kind_label("something_else") == "something_else"
    assert kinds.kind_label(None) == kinds.kind_label("") == "message"
    context = kinds.facilitator_notice(
        panel_title="P", panel_url="u", notice="bounce", mail_kind="final_results", pseudonym="P-1"
    )
    assert context["mail_kind"] == "final results"


def test_a_kind_cannot_be_declared_twice() -> None:
    with pytest.raises(ValueError, match="declared twice"):

        @kinds.mail_kind(label="again", key="r{round_id}")
        def invitation() -> dict:  # pragma: no cover - never called
            return {}
