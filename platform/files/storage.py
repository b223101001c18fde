"""The files' bytes: one copy per tenant and content under the folder every process shares
(``settings.attachments_dir``), at ``{tenant_id}/{sha256[:2]}/{sha256}``, written atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from renda.platform.config import Settings

CHUNK = 64 * 1024  # what a download sends at a time


def path_of(settings: Settings, tenant_id: int, digest: str) -> Path:
    return Path(settings.attachments_dir) / str(int(tenant_id)) / digest[:2] / digest


def store(settings: Settings, tenant_id: int, data: bytes) -> str:
    """Keep ``data`` for the tenant; its SHA-256, which names it. The same content is kept once.

    The bytes go to a temporary file of their own beside the final name and are renamed onto it, so
    no process (another web worker on the shared folder included) ever reads a half-written file,
    and two processes storing the same content at once both succeed.
    """
    digest = hashlib.sha256(data).hexdigest()
    path = path_of(settings, tenant_id, digest)
    if path.is_file():
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{digest[:8]}-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # on disk before it has its name: a crash leaves no empty file named so
        os.chmod(partial, 0o644)  # mkstemp's 0600 would shut out web processes running as another user
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return digest


def chunks(path: Path, size: int = CHUNK) -> Iterator[bytes]:
    """The file's bytes, ``size`` at a time; the file is opened when the first chunk is asked for."""
    with path.open("rb") as file:
        while block := file.read(size):
            yield block
