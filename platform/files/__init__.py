"""Files: uploads recognised by their content, kept once per tenant and content, served in chunks.

Every module's documents and photos share one table (``attachments``), keyed like the timeline by the
record they belong to: ``subject_type`` and ``subject_id``. The module decides who may add and see
them (its ``access_<noun>``); this package does the rest, so a new module copies nothing:

    from renda.platform import files

    # Adding a photo to a citizen's opinion (the module checked the opinion is the actor's to touch):
    files.attach(session, settings, tenant_id=opinion.tenant_id, subject_type="opinion",
                 subject_id=opinion.id, actor_id=None, filename=upload.filename, data=upload.data,
                 accepts=files.PICTURES, step="submit")
    files.listed(session, tenant_id, "opinion", opinion.id)          # what the opinion's page lists
    row = files.find(session, tenant_id, "opinion", attachment_id)   # NotFound for another subject's
    download = files.open_download(settings, row)                    # path, type, name, chunks()

``attach`` refuses an empty file, one over ``settings.attachment_max_bytes`` and one whose content is
not of the kinds the caller ``accepts`` (``DOCUMENTS``, ``PICTURES``, ``DOCUMENTS_AND_PICTURES``), each
as a ``ValidationFailed`` on the field ``file``, before anything is written; it records an ``attach``
event on the subject's timeline. The web layer turns a ``Download`` into a streaming response
(renda.web.downloads). Activities' photos do the same with ``subject_type="activity"``.
"""

from renda.platform.files.kinds import DOCUMENTS, DOCUMENTS_AND_PICTURES, PICTURES, Accepts, sniff
from renda.platform.files.models import Attachment
from renda.platform.files.service import Download, attach, find, listed, open_download, remove

__all__ = ["DOCUMENTS", "DOCUMENTS_AND_PICTURES", "PICTURES", "Accepts", "Attachment", "Download", "attach", "find",
           "listed", "open_download", "remove", "sniff"]
