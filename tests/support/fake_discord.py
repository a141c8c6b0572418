"""A small stand-in for Discord's REST API and gateway, on 127.0.0.1, for the bot's end-to-end tests.

It speaks just enough of API v10 for discord.py to log in, connect, receive interactions and answer
them: the gateway's HELLO, IDENTIFY/READY, heartbeats, RESUME and RECONNECT; and the REST routes for
the bot user, interaction callbacks, follow-up messages (webhooks, with attachments) and their edits.
Every request is recorded for the test to inspect. `rate_limit_next(route)` answers the next matching
request with a 429 and a `retry_after`, as Discord does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

APPLICATION_ID = "900000000000000001"
BOT_USER = {"id": APPLICATION_ID, "username": "Implementor", "discriminator": "0", "bot": True, "global_name": None,
            "avatar": None}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses a body as JSON only if the content type is exactly "application/json".
    return web.Response(body=json.dumps(data).encode(), status=status, headers=headers,
                        content_type="application/json")


@dataclass
class Recorded:
    method: str
    path: str
    json: dict[str, Any] | None
    files: dict[str, bytes] = field(default_factory=dict)


class FakeDiscord:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.gateway_received: list[dict[str, Any]] = []
        self.sockets: list[web.WebSocketResponse] = []
        self.session_id = "fake-session-1"
        self.sequence = itertools.count(1)
        self.ids = itertools.count(1_000_000_000_000_000_000)
        self.ready = asyncio.Event()
        self.resumed = asyncio.Event()
        self._rate_limit: dict[str, int] = {}
        self.runner: web.AppRunner | None = None
        self.port = 0

    # --- server ---------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self.gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self.rest)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ws in self.sockets:
            await ws.close()
        if self.runner is not None:
            await self.runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # --- gateway --------------------------------------------------------------------------------

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45000}, "s": None, "t": None})
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            self.gateway_received.append(payload)
            if payload["op"] == 1:  # heartbeat
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif payload["op"] == 2:  # identify
                await self.dispatch("READY", {
                    "v": 10, "user": BOT_USER, "guilds": [], "session_id": self.session_id,
                    "resume_gateway_url": self.gateway_url, "application": {"id": APPLICATION_ID, "flags": 0},
                    "private_channels": [], "relationships": [],
                }, ws)
                self.ready.set()
            elif payload["op"] == 6:  # resume
                await self.dispatch("RESUMED", {}, ws)
                self.resumed.set()
        return ws

    async def dispatch(self, event: str, data: dict[str, Any], ws: web.WebSocketResponse | None = None) -> None:
        socket = ws or self.sockets[-1]
        await socket.send_json({"op": 0, "t": event, "s": next(self.sequence), "d": data})

    async def reconnect(self) -> None:
        """Ask the bot to reconnect (op 7), as Discord does before moving a session."""
        await self.sockets[-1].send_json({"op": 7, "d": None, "s": None, "t": None})

    async def interaction(self, command: str, options: list[dict[str, Any]], user_id: str = "42",
                          guild_id: str = "7", channel_id: str = "500", token: str | None = None) -> str:
        """Send a slash command through the gateway; returns the interaction token (made up unless given)."""
        interaction_id = str(next(self.ids))
        token = token or f"token-{interaction_id}"
        await self.dispatch("INTERACTION_CREATE", {
            "id": interaction_id, "application_id": APPLICATION_ID, "type": 2, "token": token, "version": 1,
            "guild_id": guild_id, "channel_id": channel_id,
            "channel": {"id": channel_id, "type": 0, "guild_id": guild_id, "name": "general", "position": 0,
                        "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
                        "last_message_id": None, "rate_limit_per_user": 0, "flags": 0, "permissions": "0"},
            "member": {"user": {"id": user_id, "username": f"member{user_id}", "discriminator": "0",
                                "global_name": None, "avatar": None},
                       "roles": [], "permissions": "0", "joined_at": "2026-01-01T00:00:00+00:00",
                       "deaf": False, "mute": False, "flags": 0},
            "data": {"id": str(next(self.ids)), "name": command, "type": 1, "options": options},
            "app_permissions": "0", "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "authorizing_integration_owners": {"0": guild_id}, "context": 0,
        })
        return token

    # --- REST -----------------------------------------------------------------------------------

    def rate_limit_next(self, path_prefix: str, times: int = 1) -> None:
        self._rate_limit[path_prefix] = times

    async def _read(self, request: web.Request) -> tuple[dict[str, Any] | None, dict[str, bytes]]:
        if request.content_type.startswith("multipart/"):
            body, files = None, {}
            reader = await request.multipart()
            async for part in reader:  # type: ignore[union-attr]
                data = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":  # type: ignore[union-attr]
                    body = json.loads(data)
                else:
                    files[part.filename or part.name] = bytes(data)  # type: ignore[union-attr]
            return body, files
        text = await request.text()
        return (json.loads(text) if text else None), {}

    def message(self, channel_id: str, body: dict[str, Any] | None, files: dict[str, bytes]) -> dict[str, Any]:
        body = body or {}
        return {
            "id": str(next(self.ids)), "channel_id": channel_id, "author": BOT_USER,
            "content": body.get("content") or "", "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": [{"id": str(next(self.ids)), "filename": name, "size": len(data),
                             "url": f"https://cdn.example/{name}", "proxy_url": f"https://cdn.example/{name}"}
                            for name, data in files.items()],
            "embeds": body.get("embeds") or [], "pinned": False, "type": 0, "flags": 0,
            "components": body.get("components") or [], "webhook_id": APPLICATION_ID,
        }

    async def rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        for prefix, remaining in list(self._rate_limit.items()):
            if path.startswith(prefix) and remaining > 0:
                self._rate_limit[prefix] = remaining - 1
                self.requests.append(Recorded(request.method, path, None))
                return json_response({"message": "You are being rate limited.", "retry_after": 0.25,
                                          "global": False}, status=429,
                                     # Discord's own 429s come through its proxy ("Via"); a 429 without
                                     # it is Cloudflare's, which discord.py does not retry.
                                     headers={"Retry-After": "1", "X-RateLimit-Scope": "user", "Via": "1.1 google"})
        body, files = await self._read(request)
        self.requests.append(Recorded(request.method, path, body, files))
        if path == "/users/@me":
            return json_response(BOT_USER)
        if path == "/oauth2/applications/@me":
            return json_response({"id": APPLICATION_ID, "name": "Implementor", "description": "", "icon": None,
                                  "bot_public": False, "bot_require_code_grant": False, "verify_key": "0" * 64,
                                  "owner": {**BOT_USER, "id": "800000000000000001", "bot": False}, "flags": 0,
                                  "rpc_origins": [], "team": None, "summary": ""})
        if path.startswith("/interactions/") and path.endswith("/callback"):
            kind = (body or {}).get("type", 4)
            return json_response({"interaction": {"id": path.split("/")[2], "type": 2,
                                                  "response_message_loading": kind == 5,
                                                  "response_message_ephemeral": False},
                                  "resource": {"type": kind}})
        if path.startswith(f"/webhooks/{APPLICATION_ID}/"):
            if request.method == "DELETE":
                return web.Response(status=204)
            return json_response(self.message("500", body, files))
        if path.startswith("/channels/") and path.endswith("/messages") and request.method == "POST":
            return json_response(self.message(path.split("/")[2], body, files))
        if request.method in ("PUT", "PATCH", "DELETE"):
            return json_response([] if request.method == "PUT" else {})
        return json_response({"message": f"no fake for {request.method} {path}", "code": 0}, status=404)

    # --- for assertions ---------------------------------------------------------------------------

    def calls(self, method: str, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix) and r.json is not None
                or (r.method == method and r.path.startswith(prefix) and r.files)]
