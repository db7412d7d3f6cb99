"""config-init: load the stack's catalog file into the collector's catalog database.

    python load_catalog.py --config cloud.toml --catalog catalog.yaml [--url URL] [--uid UID]

The database is the `[catalog] url` of the (rendered) collector config, or
`--url`. Loading upserts every entry by its code, all or nothing, and never
deletes (cloud/catalog/loader.py): loading the same file again changes
nothing. Without a `[catalog] url` it loads nothing and says so.

`--uid`: when run as root, become this user (and group) after reading the
file, so the SQLite files it creates belong to the collector that opens them
later (the image's user `vmi`, 10001). deploy/init-secrets.sh runs it; `vmi`
has no command that loads a catalog file.
"""

from __future__ import annotations

import argparse
import os
import sys

from cloud.catalog import Catalog, read_catalog_file
from cloud.config import load_cloud_config
from vmi.errors import VmiError


def _become(uid: int) -> None:
    if os.getuid() == 0 and uid != 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="the collector's config (TOML)")
    parser.add_argument("--catalog", required=True, help="the catalog file (YAML)")
    parser.add_argument("--url", help="the catalog database instead of the config's")
    parser.add_argument("--uid", type=int, help="run as this user and group when root")
    args = parser.parse_args(argv)
    try:
        url = args.url or load_cloud_config(args.config).catalog.url
        if url is None:
            print(
                f"config-init: no [catalog] url in {args.config}: catalog not loaded",
                file=sys.stderr,
            )
            return 0
        entries = read_catalog_file(args.catalog)  # as root: the file may be private
        if args.uid is not None:
            _become(args.uid)
        catalog = Catalog(url)
        try:
            report = catalog.load(entries, source=args.catalog)
        finally:
            catalog.close()
    except VmiError as exc:
        print(f"config-init: {exc}", file=sys.stderr)
        return 1
    print(f"config-init: catalog {report.summary()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
