"""The recorded examples (`cloud/connectors/<kind>/examples.md`), in the Telegraf style:
what the connector sent to its stand-in and what the stand-in answered, written by a test
that fails when the file is stale (`UPDATE_EXAMPLES=1` rewrites it).

`render_http` writes a stand-in's `traffic` (every connector but Fxiaoke):
a numbered `## n. METHOD path` per exchange, the request in an ```http block (request
line, Authorization and Content-Type, the query decoded, the body pretty-printed), then
`answer: HTTP nnn` and the answer's body. `render_json_steps` writes Fxiaoke's
`exchanges` (parsed request and answer JSON: every answer is HTTP 200 with `errorCode`).
Secrets, tokens, the loopback port and today's date become placeholders.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit

import pytest

from tests.cloud.connectors.standin_http import Answer, Seen, StandInServer

CONNECTORS = Path(__file__).resolve().parents[3] / "cloud" / "connectors"
SHOWN_HEADERS = ("authorization", "content-type")
Traffic = Sequence[tuple[Seen, Answer]]
Steps = Sequence[tuple[str, int]]  # (what the connector was asked, traffic length after it)


def check_examples(path: Path, text: str) -> None:
    """`path` must hold `text`; with UPDATE_EXAMPLES=1 it is rewritten first."""
    if os.environ.get("UPDATE_EXAMPLES") == "1":
        path.write_text(text, encoding="utf-8")
    have = path.read_text(encoding="utf-8") if path.exists() else ""
    if have != text:
        diff = difflib.unified_diff(
            have.splitlines(), text.splitlines(), str(path), "recorded now", lineterm="", n=1
        )
        shown = "\n".join(list(diff)[:60])
        pytest.fail(f"{path} is stale: rerun with UPDATE_EXAMPLES=1\n{shown}", pytrace=False)


def loopback(server: StandInServer, name: str) -> dict[str, str]:
    """The stand-in's address (its port changes every run) as the placeholder `name`."""
    return {server.url: name, f"127.0.0.1:{server.port}": name}


def substitute(text: str, placeholders: Mapping[str, str]) -> str:
    """Each key of `placeholders` replaced by its value, the longest keys first."""
    for secret in sorted(placeholders, key=len, reverse=True):
        if secret:
            text = text.replace(secret, placeholders[secret])
    return text


# -- HTTP exchanges, as the stand-in saw and answered them -----------------------------


def render_http(
    head: str,
    traffic: Traffic,
    placeholders: Mapping[str, str],
    *,
    steps: Steps = (),
    label: Callable[[Seen], str] | None = None,
) -> str:
    """`head`, a line per step naming its exchanges, then every exchange in `traffic`.

    `label(seen)` adds a note to an exchange's heading (which call a POST /jsonrpc is)."""
    out = [head.rstrip()]
    if steps:
        out.append("")
        start = 0
        for title, end in steps:
            numbers = f"{start + 1}" if end == start + 1 else f"{start + 1}-{end}"
            out.append(f"- {title}: {numbers}" if end > start else f"- {title}: no request")
            start = end
    for n, (seen, answer) in enumerate(traffic, start=1):
        parts = urlsplit(seen.path)
        note = f" ({label(seen)})" if label else ""
        out.append(f"\n## {n}. {seen.method} {unquote(parts.path)}{note}\n\n```http")
        out.append(f"{seen.method} {seen.path}")
        out += [f"{h.title()}: {seen.headers[h]}" for h in SHOWN_HEADERS if h in seen.headers]
        if parts.query:
            out.append(f"# query: {unquote_plus(parts.query)}")
        if seen.body:
            out.append("\n" + _body(seen.body, seen.headers.get("content-type", ""))[1])
        out.append(f"```\n\nanswer: HTTP {answer.status}\n")
        if answer.body:
            kind, text = _body(answer.body, answer.headers.get("Content-Type", ""))
            out.append(f"```{kind}\n{text}\n```")
        else:
            out.append("(no body)")
    return substitute("\n".join(out) + "\n", placeholders)


def _body(body: bytes, content_type: str) -> tuple[str, str]:
    """(fence language, text): JSON pretty-printed; XML-RPC, forms and pages as sent."""
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            return "json", json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            return "text", text
    return ("xml" if "xml" in content_type else "text"), text.strip()


def jsonrpc_call(seen: Seen) -> str:
    """What an Odoo JSON-RPC request calls: `common.authenticate`, `purchase.order read`."""
    try:
        params = json.loads(seen.body)["params"]
        service, method, args = params["service"], params["method"], params["args"]
    except (ValueError, KeyError, TypeError):
        return "not JSON-RPC"
    if method == "execute_kw" and len(args) >= 5:
        return f"{args[3]} {args[4]}"
    return f"{service}.{method}"


# -- Fxiaoke: the parsed JSON of each call, grouped by step ---------------------------


def redact(value: Any, placeholders: Mapping[str, str]) -> Any:
    """`value` with the value of every key named in `placeholders` replaced."""
    if isinstance(value, dict):
        return {k: placeholders.get(k, redact(v, placeholders)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, placeholders) for v in value]
    return value


def render_json_steps(
    head: str,
    exchanges: Sequence[tuple[str, Any, Any]],
    steps: Steps,
    placeholders: Mapping[str, str],
) -> str:
    """Fxiaoke's (path, request, answer) exchanges under a heading per step; every answer
    is HTTP 200 (its `errorCode` says what happened); `placeholders` redacts by key."""
    out = [head.rstrip()]
    start = 0
    for title, end in steps:
        out += ["", f"## {title}"]
        for path, request, answer in exchanges[start:end]:
            where = urlsplit(path).path
            out += ["", f"`POST {where}?thirdTraceId=<uuid4>` -> HTTP 200", "", "```json"]
            out += [json.dumps(redact(request, placeholders), ensure_ascii=False, indent=2)]
            out += ["```", "", "```json"]
            out += [json.dumps(redact(answer, placeholders), ensure_ascii=False, indent=2), "```"]
        start = end
    return "\n".join(out) + "\n"
