#!/usr/bin/env python3
"""hookgate's MCP server driven by the official Python MCP client.

    python3 tests/mcp_client.py HOOKGATE_BIN REPO_DIR

Two clients, each its own `hookgate mcp` process with its own agent
(HOOKGATE_AGENT): list the tools, agent A reserves, agent B is refused with
A named as the holder, A releases, B reserves. Prints one PASS line, or
FAIL with the reason and exits 1. Needs `pip install mcp` (tested with 2.3.0).
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

TOOLS = {"whoami", "reserve", "release", "extend", "check", "locks", "agents",
         "send", "inbox", "read", "ack", "request_release", "respond", "requests",
         "task_add", "task_list", "task_claim", "task_next", "task_done", "task_block",
         "task_unblock"}


class Failure(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failure(what)


def server(binary, repo, agent):
    env = {"HOOKGATE_AGENT": agent}
    for key in ("HOOKGATE_CACHE", "HOOKGATE_STORE", "HOOKGATE_POLICY"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    return StdioServerParameters(command=binary, args=["mcp"], env=env, cwd=repo)


def server_name(init):
    info = getattr(init, "server_info", None) or getattr(init, "serverInfo", None)
    return getattr(info, "name", None)


def schema_of(tool):
    return getattr(tool, "input_schema", None) or getattr(tool, "inputSchema", None) or {}


def answer(result):
    """(isError, the JSON of the first text content)."""
    text = result.content[0].text if result.content else ""
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    flag = getattr(result, "is_error", None)
    if flag is None:  # mcp 1.x names it isError
        flag = getattr(result, "isError", False)
    return bool(flag), value


async def run(binary, repo):
    async with stdio_client(server(binary, repo, "py-a")) as (ra, wa), \
            ClientSession(ra, wa) as a, \
            stdio_client(server(binary, repo, "py-b")) as (rb, wb), \
            ClientSession(rb, wb) as b:
        init = await a.initialize()
        expect(server_name(init) == "hookgate", f"server name {server_name(init)}")
        await b.initialize()

        listed = await a.list_tools()
        names = {t.name for t in listed.tools}
        expect(TOOLS <= names, f"tools missing: {sorted(TOOLS - names)}")
        for t in listed.tools:
            expect(t.description and len(t.description) > 20, f"{t.name}: no description")
            expect(schema_of(t).get("type") == "object", f"{t.name}: no input schema")

        err, granted = answer(await a.call_tool("reserve", {"patterns": ["src/**"], "reason": "python client"}))
        expect(not err and granted.get("status") == "granted", f"A reserve: {granted}")
        rid = granted["reservation"]

        err, refused = answer(await b.call_tool("reserve", {"patterns": ["src/lib.rs"]}))
        expect(err, f"B's conflicting reserve must be an error result: {refused}")
        expect(refused.get("status") == "refused", f"B reserve: {refused}")
        holders = [c["holder_id"] for c in refused["conflicts"]]
        expect(holders == ["py-a"], f"holder named: {holders}")

        err, bad = answer(await b.call_tool("reserve", {"patterns": "src/lib.rs"}))
        expect(err and "invalid type" in str(bad), f"wrong argument type: {bad}")

        err, released = answer(await a.call_tool("release", {"targets": [rid]}))
        expect(not err and [r["reservation"] for r in released["released"]] == [rid],
               f"A release: {released}")

        err, again = answer(await b.call_tool("reserve", {"patterns": ["src/lib.rs"]}))
        expect(not err and again.get("status") == "granted", f"B reserve after release: {again}")

        locks = await a.read_resource("hookgate://locks")
        live = json.loads(locks.contents[0].text)["reservations"]
        expect([h["holder_id"] for h in live] == ["py-b"], f"locks resource: {live}")

        err, me = answer(await b.call_tool("whoami", {}))
        expect(not err and me["id"] == "py-b", f"whoami: {me}")
        return f"{len(names)} tools; A reserved {rid}, B refused (holder py-a), A released, B reserved {again['reservation']}"


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        summary = asyncio.run(run(sys.argv[1], sys.argv[2]))
    except Failure as e:
        print(f"FAIL mcp_client: {e}")
        return 1
    print(f"PASS mcp_client: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
