"""`vmi epc decode EPC_HEX`: print a decoded SGTIN-96 EPC as one JSON object."""

from __future__ import annotations

import argparse
import json
import sys

from edge_agent.rfid.epc import epc_to_json


def main(args: argparse.Namespace) -> int:
    """Decode `args.epc` and print it as JSON; return 0.

    Raises `EpcError` (a `VmiError`) when the EPC is not an SGTIN-96; the `vmi`
    command prints its message and exits with status 2.
    """
    decoded = epc_to_json(args.epc)
    json.dump(decoded, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
