"""`python -m cloud.migrations revision "message" DATABASE_URL`: autogenerate a migration."""

from __future__ import annotations

import sys

from cloud.migrations import main

raise SystemExit(main(sys.argv[1:]))
