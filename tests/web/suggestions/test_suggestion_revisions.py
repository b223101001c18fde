"""A deputy revises, withdraws or gives up their own suggestion, and the work lists show what waits."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from renda.platform.db import Database, Scope
from renda.platform.tenancy.models import Tenant
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions.models import Cosigner

from suggestion_support import (
    STALE,
    draft,
    ids,
    post,
    state_of,
    step,
    submitted,
    version,
    zh,
)

# --- revising and withdrawing -----------------------------------------------------------------------


def test_the_lead_deputy_revises_a_draft_and_only_they_and_only_while_it_is_one(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    sid = draft(deputy, world, f"待修改{world.tag}", cosigners=[str(world.cosigner)])
    url = f"{world.base}/{sid}"
    page = deputy.get(url).text
    assert f'href="{url}/edit"' in page
    form = deputy.get(f"{url}/edit")
    assert form.status_code == 200 and f'value="待修改{world.tag}"' in form.text
    assert "平马镇部分村屯道路狭窄" in form.text
    assert 'id="cosigners"' in form.text and f'<option value="{world.cosigner}" selected>' in form.text

    empty = post(deputy, f"{url}/edit", {"title": "", "content": "新的内容", "category": "交通",
                                         "version": version(deputy, url)})
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text and "新的内容" in empty.text
    assert state_of(db, sid).title == f"待修改{world.tag}"

    seen = version(deputy, url)
    saved = post(deputy, f"{url}/edit", {"title": f"已修改{world.tag}", "content": "补充了具体路段", "category": "道路",
                                         "cosigners": [str(world.cosigner)], "version": seen})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=edit")
    revised = state_of(db, sid)
    assert (revised.title, revised.content, revised.category, revised.state) == (
        f"已修改{world.tag}", "补充了具体路段", "道路", "draft")
    assert re.findall(r'<li data-action="(\w+)"', deputy.get(url).text)[-1] == "edit"

    stale = post(deputy, f"{url}/edit", {"title": "过期的修改", "content": "x", "version": seen})
    assert stale.status_code == 409 and zh(STALE) in stale.text and 'id="conflict"' in stale.text
    assert state_of(db, sid).title == f"已修改{world.tag}"

    cosigner = login(world.cosigner_name)  # sees the draft, may not revise it
    assert cosigner.get(url).status_code == 200 and f'href="{url}/edit"' not in cosigner.get(url).text
    assert cosigner.get(f"{url}/edit").status_code == 403
    assert post(cosigner, f"{url}/edit", {"title": "附议人改的", "content": "x",
                                          "version": version(cosigner, url)}).status_code == 403
    admin = login(cast.username.tiandong_admin)  # a draft is the deputy's own
    assert admin.get(f"{url}/edit").status_code == 404
    assert post(admin, f"{url}/edit", {"title": "办公室改的", "content": "x", "version": "1"}).status_code == 404
    assert state_of(db, sid).title == f"已修改{world.tag}"

    assert post(cosigner, f"{url}/cosign").status_code == 303
    step(deputy, url, "submit")
    assert f'href="{url}/edit"' not in deputy.get(url).text
    late = deputy.get(f"{url}/edit")  # submitted meanwhile: the page as it is, and why
    assert late.status_code == 409 and 'data-state="submitted"' in late.text
    assert post(deputy, f"{url}/edit", {"title": "提交后修改", "content": "x",
                                        "version": version(deputy, url)}).status_code == 409
    assert state_of(db, sid).title == f"已修改{world.tag}"


def test_revising_the_text_asks_the_co_signers_again_and_the_list_of_co_signers_can_change(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    sid = draft(deputy, world, f"附议变更{world.tag}", cosigners=[str(world.cosigner)])
    url = f"{world.base}/{sid}"
    cosigner = login(world.cosigner_name)
    assert post(cosigner, f"{url}/cosign").status_code == 303

    def cosigners_of() -> list[tuple[int, bool]]:
        with db.session(Scope.system()) as s:
            return [(c.deputy_id, c.confirmed_at is not None) for c in s.scalars(
                select(Cosigner).where(Cosigner.suggestion_id == sid))]

    assert cosigners_of() == [(world.cosigner, True)]
    content = state_of(db, sid).content
    same_words = {"title": f"附议变更{world.tag}", "content": content, "category": "道路",
                  "cosigners": [str(world.cosigner)]}
    assert post(deputy, f"{url}/edit", {**same_words, "version": version(deputy, url)}).status_code == 303
    assert cosigners_of() == [(world.cosigner, True)]  # a new category alone: the endorsement stands

    assert post(deputy, f"{url}/edit", {**same_words, "content": content + "补充：涉及那坡屯。",
                                        "version": version(deputy, url)}).status_code == 303
    assert cosigners_of() == [(world.cosigner, False)]  # they endorsed the earlier words
    timeline = deputy.get(url).text
    assert zh("The text changed: each co-signer confirms it again.") in timeline
    refused = post(deputy, f"{url}/submit", {"version": version(deputy, url)})
    assert refused.status_code in (409, 422) and state_of(db, sid).state == "draft"

    with db.session(Scope.system()) as s:  # a deputy of another county
        pingguo = s.get(Tenant, cast.tenant.pingguo)
        assert pingguo is not None and pingguo.root_org_unit_id is not None
        stranger = Deputy(tenant_id=pingguo.id, name="外县代表", level="county", term=17,
                          org_unit_id=pingguo.root_org_unit_id, user_id=cast.user.pingguo_admin)
        s.add(stranger)
        s.flush()
        stranger_id = stranger.id
    other_county = {**same_words, "cosigners": [str(stranger_id)], "version": version(deputy, url)}
    bad = post(deputy, f"{url}/edit", other_county)
    assert bad.status_code == 422 and cosigners_of() == [(world.cosigner, False)]

    dropped = post(deputy, f"{url}/edit", {k: v for k, v in same_words.items() if k != "cosigners"}
                   | {"version": version(deputy, url)})  # none selected: a browser sends no field
    assert dropped.status_code == 303 and cosigners_of() == []
    step(deputy, url, "submit")
    assert state_of(db, sid).state == "submitted"


def test_the_lead_deputy_withdraws_a_submitted_suggestion_until_it_is_reviewed(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    sid = submitted(deputy, world, f"撤回{world.tag}")
    url = f"{world.base}/{sid}"
    number = state_of(db, sid).number
    page = deputy.get(url).text
    assert '<details id="step-withdraw">' in page  # offered folded: opening it is the confirmation
    stale = str(int(version(deputy, url)) - 1)
    refused = post(deputy, f"{url}/withdraw", {"version": stale})
    assert refused.status_code == 409 and zh(STALE) in refused.text and state_of(db, sid).state == "submitted"

    admin = login(cast.username.tiandong_admin)
    assert post(admin, f"{url}/withdraw", {"version": version(admin, url)}).status_code == 403
    assert state_of(db, sid).state == "submitted"

    step(deputy, url, "withdraw")
    back = state_of(db, sid)
    assert (back.state, back.number) == ("draft", number)
    page = deputy.get(url).text
    assert zh("The suggestion is withdrawn: it is a draft again and keeps its number.") in deputy.get(
        f"{url}?done=withdraw").text
    assert 'id="step-withdraw"' not in page and f'href="{url}/edit"' in page
    assert admin.get(url).status_code == 404  # a draft again: the office no longer sees it

    step(deputy, url, "submit")
    assert state_of(db, sid).number == number  # its number stays its own
    step(admin, url, "review", {"decision": "accept"})
    assert 'id="step-withdraw"' not in deputy.get(url).text
    step(deputy, url, "withdraw", expect=409)
    assert state_of(db, sid).state == "accepted"


def test_the_lead_deputy_gives_up_a_draft_and_it_leaves_every_list(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    title = f"放弃的草稿{world.tag}"
    sid = draft(deputy, world, title, cosigners=[str(world.cosigner)])
    url = f"{world.base}/{sid}"
    assert '<details id="step-discard">' in deputy.get(url).text
    cosigner = login(world.cosigner_name)
    assert post(cosigner, f"{url}/discard", {"version": version(cosigner, url)}).status_code == 403
    assert state_of(db, sid).state == "draft"

    step(deputy, url, "discard")
    gone = state_of(db, sid)
    assert (gone.state, gone.number) == ("discarded", None) and gone.closed_at is not None
    page = deputy.get(f"{url}?done=discard").text
    assert zh("The draft is given up: it no longer appears in your lists.") in page
    assert 'data-state="discarded"' in page and 'id="step-' not in page and f'href="{url}/edit"' not in page
    assert title not in deputy.get(world.base).text  # out of the deputy's lists
    assert title not in cosigner.get(world.base).text
    late = post(deputy, f"{url}/submit", {"version": version(deputy, url)})
    assert late.status_code == 409 and zh("This draft was given up: nothing more can be done to it.") in late.text

    admin = login(cast.username.tiandong_admin)  # never before the office
    assert admin.get(url).status_code == 404
    assert ids(admin.get(f"{world.base}/board", params={"q": title}).text) == []
