"""What the suggestions' JSON API returns and takes (web/routes/suggestions/api.py): pydantic models, with
the bounds every id, version and count is held to (renda.web.forms)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import Base64Bytes, BaseModel, ConfigDict, Field

from renda.tenants.suggestions.documents import MAX_FILES
from renda.web.forms import Count, IdField, VersionField

# -- what the API returns ---------------------------------------------------------------------------


class SuggestionOut(BaseModel):
    id: int
    number: int | None
    number_label: str
    series: str
    title: str
    category: str
    state: str
    colour: str
    deadline: dt.date | None
    lead_deputy: str
    lead_unit: str | None
    is_key: bool
    round: int
    reply_class: str | None
    evaluation: str | None
    version: int


class SuggestionList(BaseModel):
    total: int
    page: int
    pages: int
    per_page: int
    counts_by_colour: dict[str, int]
    items: list[SuggestionOut]


class CosignerOut(BaseModel):
    deputy_id: int
    name: str
    confirmed: bool


class UnitOut(BaseModel):
    unit_id: int
    name: str
    lead: bool


class ReplyOut(BaseModel):
    round: int
    reply_class: str
    content: str
    signed_by: str
    unit: str
    replied_at: dt.datetime
    on_time: bool


class CommitmentOut(BaseModel):
    id: int
    content: str
    due_date: dt.date
    fulfilled_at: dt.datetime | None
    unit: str
    fulfillable: bool = Field(description="The caller may report it fulfilled now (POST …/fulfil)")


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    step: str = Field(description="The step it came with: create, edit, reply …")
    uploaded_at: dt.datetime
    url: str = Field(description="The download, for whoever may see the suggestion")


class EventOut(BaseModel):
    at: dt.datetime
    actor: str | None
    action: str
    data: dict[str, Any]


class SuggestionDetailOut(SuggestionOut):
    content: str
    actions: list[str] = Field(description="The steps the caller may take on it now (accept, assign, reply …): "
                                           "post to the step's endpoint with this version")
    cosigners: list[CosignerOut]
    units: list[UnitOut]
    replies: list[ReplyOut]
    commitments: list[CommitmentOut]
    attachments: list[AttachmentOut]
    timeline: list[EventOut]



# -- what the steps take ----------------------------------------------------------------------------


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocumentIn(Body):
    filename: str = Field(max_length=255)
    content: Base64Bytes = Field(description="The file, base64-encoded: PDF, Word or a picture")


Documents = Annotated[list[DocumentIn], Field(max_length=MAX_FILES,
                                              description="Files that come with the step: kept with it, or "
                                                          "the step is refused with them")]


class DraftIn(Body):
    title: str
    content: str
    category: str = ""
    term: Count
    session_no: Count | None = Field(None, description="None: between sessions (闭会期间)")
    cosigner_ids: list[IdField] = []
    client_token: str | None = Field(None, max_length=64, description="The same token twice makes one draft")
    documents: Documents = []


class VersionIn(Body):
    version: VersionField


class ReviewIn(VersionIn):
    decision: str = Field(description="accept | return | reference")
    note: str = ""


class AssignIn(VersionIn):
    lead_unit_id: IdField
    co_unit_ids: list[IdField] = []
    broad: bool = False
    deadline: dt.date | None = None


class ReplyIn(VersionIn):
    reply_class: str
    content: str
    signed_by: str
    commitment: str = ""
    commitment_due: dt.date | None = None
    documents: Documents = []


class EvaluateIn(VersionIn):
    evaluation: str = Field(description="satisfied | basically | dissatisfied")
    comment: str = ""


class CloseIn(VersionIn):
    note: str = ""


class EditIn(VersionIn):
    title: str
    content: str
    category: str = ""
    cosigner_ids: list[IdField] | None = Field(None, description="None: the co-signers stay as they are")
    documents: Documents = []


class ContactIn(Body):
    way: str = Field(description="visit | phone | meeting | letter | online")
    summary: str
    version: VersionField | None = None


class OpinionIn(Body):
    opinion: str
    version: VersionField | None = None


class ReasonIn(VersionIn):
    reason: str


class NoteIn(VersionIn):
    note: str = ""


class KeyIn(VersionIn):
    supervisor_user_id: IdField


class FulfilIn(Body):
    note: str
