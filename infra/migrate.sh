#!/bin/sh
# The compose file's one-shot `migrate` service: as renda_owner (RENDA_DATABASE_URL), bring the
# schema up to date, then give renda_app its privileges again (new tables need them).
set -eu
renda db upgrade
python - "$(dirname "$0")/postgres/grants.sql" <<'PY'
import os
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

lines = [line for line in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines()
         if not line.lstrip().startswith("--")]
statements = [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
engine = create_engine(os.environ["RENDA_DATABASE_URL"])
with engine.begin() as conn:
    for statement in statements:
        conn.execute(text(statement))
engine.dispose()
print(f"✓ {len(statements)} grant statements applied for renda_app")
PY
