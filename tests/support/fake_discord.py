"""A small stand-in for Discord's REST API and gateway, on 127.0.0.1, for the bot's end-to-end and fault tests.

It speaks just enough of API v10 for discord.py to log in, connect, receive interactions and answer
them: the gateway's HELLO, IDENTIFY/READY, heartbeats, RESUME and RECONNECT; and the REST routes
for the bot user, interaction callbacks (with the response message, as `with_response` asks),
follow-up messages and their edits (webhooks), channel messages (send, edit, delete, history), and the
bulk overwrite of application commands (global or per guild).
Messages are kept per channel, so a test can read a channel as a member would, and a bot can read
its history back. Every request is recorded. `rate_limit_next(prefix, times)` answers the next
matching requests with 429 and a `retry_after`, as Discord does; `expire(token)` makes an
interaction's token dead (Discord answers 404 Unknown Webhook after 15 minutes).

Members can mention the bot (`mention(...)`: a MESSAGE_CREATE in a server the bot was told about with
`add_guild()`), and the bot can DM them (a DM channel per member, POST /users/@me/channels); a member
in `closed_dms` refuses DMs, and Discord answers 403 with code 50007, as it does.

A sharded bot's connections each IDENTIFY with `shard: [id, count]`; an event of a server goes to the
connection serving that server's shard, by Discord's formula ((server id >> 22) % count; DMs shard 0),
and `GET /gateway/bot` says `max_concurrency` (`self.max_concurrency`). `identifies` keeps each IDENTIFY's
shard and time, to check that no bucket identified twice within 5 s. `hold_posts_in` holds a bot mid-post.

A channel message created with a `nonce` and `enforce_nonce` is created once: the same nonce again within
`NONCE_WINDOW_S` returns the first message (as Discord does), which `nonce_repeats` counts.

For the harvest, members can speak too: `say(...)` puts a member's (or another bot's) message in a
channel or thread, as a Discord reply or not, with reactions; history pages honour `after`, reaction
users and active and archived threads are served, as Discord serves them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

APPLICATION_ID = "900000000000000001"
BOT_USER = {"id": APPLICATION_ID, "username": "Implementor", "discriminator": "0", "bot": True, "global_name": None,
            "avatar": None}
CHANNEL = {"type": 0, "guild_id": "7", "name": "general", "position": 0, "permission_overwrites": [], "nsfw": False,
           "parent_id": None, "topic": None, "last_message_id": None, "rate_limit_per_user": 0, "flags": 0,
           "permissions": "0"}
NONCE_WINDOW_S = 300.0  # Discord remembers an enforced nonce "for a few minutes"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses a body as JSON only if the content type is exactly "application/json".
    return web.Response(body=json.dumps(data).encode(), status=status, headers=headers,
                        content_type="application/json")


def member(user_id: str) -> dict[str, Any]:
    return {"user": {"id": user_id, "username": f"member{user_id}", "discriminator": "0", "global_name": None,
                     "avatar": None},
            "roles": [], "permissions": "0", "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False, "mute": False,
            "flags": 0}


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
        self.identified = 0
        self._rate_limit: dict[str, int] = {}
        self._rate_limit_skip: dict[str, int] = {}
        self.channels: dict[str, list[dict[str, Any]]] = {}  # channel id -> messages, oldest first
        self.files: dict[str, dict[str, bytes]] = {}  # message id -> its attachments
        self.interactions: dict[str, dict[str, Any]] = {}  # token -> {"channel", "original", "ephemeral"}
        self.expired: set[str] = set()
        self.reactions: dict[str, dict[str, list[dict[str, Any]]]] = {}  # message id -> emoji -> users
        self.threads: list[dict[str, Any]] = []
        self.dm_channels: dict[str, str] = {}  # member id -> their DM channel with the bot
        self.closed_dms: set[str] = set()  # members whose DMs are closed to the bot
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or "guilds/ID" -> the registered commands
        self.nonces: dict[str, tuple[float, dict[str, Any]]] = {}  # enforced nonce -> (when, the message it made)
        self.nonce_repeats = 0  # creates answered with the first message of their nonce
        self.shard_of_socket: dict[int, tuple[int, int]] = {}  # id(socket) -> (shard id, shard count)
        self.identifies: list[tuple[int, float]] = []  # (shard id, when) of every IDENTIFY
        self.max_concurrency = 1
        self.overwrite_delay_s = 0.0  # how long a bulk overwrite of commands takes (a real global one is slow)
        # Messages created in these channels are kept, but their senders wait for `released` to hear back: a
        # bot caught mid-post (its result out, not yet recorded), for as long as the test holds it there.
        self.hold_posts_in: set[str] = set()
        self.released = asyncio.Event()
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
                self.identified += 1
                shard = payload["d"].get("shard") or [0, 1]
                self.shard_of_socket[id(ws)] = (int(shard[0]), int(shard[1]))
                self.identifies.append((int(shard[0]), time.monotonic()))
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

    def connected(self) -> bool:
        return any(not ws.closed for ws in self.sockets)

    def serving(self, guild_id: str | None) -> web.WebSocketResponse | None:
        """The open connection serving a server's shard (a DM's: shard 0), or None when none is connected."""
        for socket in reversed(self.sockets):
            shard, count = self.shard_of_socket.get(id(socket), (0, 1))
            if not socket.closed and shard == (0 if guild_id is None else (int(guild_id) >> 22) % count):
                return socket
        return None

    async def dispatch(self, event: str, data: dict[str, Any], ws: web.WebSocketResponse | None = None) -> None:
        socket = ws or self.serving(data.get("guild_id"))
        if socket is None:
            raise ConnectionError(f"no bot connection serves the shard of server {data.get('guild_id')}")
        await socket.send_json({"op": 0, "t": event, "s": next(self.sequence), "d": data})

    async def reconnect(self) -> None:
        """Ask the bot to reconnect (op 7), as Discord does before moving a session."""
        await self.sockets[-1].send_json({"op": 7, "d": None, "s": None, "t": None})

    async def add_guild(self, guild_id: str = "7", channel_id: str = "500") -> None:
        """Tell the bot about a server and its channel (GUILD_CREATE), so that its messages have a guild."""
        await self.dispatch("GUILD_CREATE", {
            "id": guild_id, "name": f"server{guild_id}", "owner_id": "1", "member_count": 1, "unavailable": False,
            "channels": [{**CHANNEL, "id": channel_id, "guild_id": guild_id}], "threads": [], "members": [],
            "roles": [{"id": guild_id, "name": "@everyone", "permissions": "0", "position": 0, "color": 0,
                       "hoist": False, "managed": False, "mentionable": False, "flags": 0}],
            "emojis": [], "stickers": [], "features": [], "voice_states": [], "presences": [], "large": False,
            "preferred_locale": "en-US", "premium_tier": 0, "verification_level": 0, "nsfw_level": 0,
            "explicit_content_filter": 0, "default_message_notifications": 0, "mfa_level": 0,
            "system_channel_flags": 0, "joined_at": "2026-01-01T00:00:00+00:00"})

    async def mention(self, author: str, content: str, channel_id: str = "500", guild_id: str = "7") -> dict[str, Any]:
        """A member's message that mentions the bot, kept in the channel and sent through the gateway."""
        message = self.say(channel_id, author, f"<@{APPLICATION_ID}> {content}")
        message.update(guild_id=guild_id, mentions=[BOT_USER], member=member(author))
        await self.dispatch("MESSAGE_CREATE", {k: v for k, v in message.items() if k != "member"}
                            | {"member": {k: v for k, v in member(author).items() if k != "user"}})
        return message

    def dms(self, member_id: str) -> list[dict[str, Any]]:
        """What the bot sent a member privately."""
        return self.messages(self.dm_channels[member_id]) if member_id in self.dm_channels else []

    def _dm_channel(self, body: dict[str, Any] | None) -> web.Response:
        recipient = str((body or {}).get("recipient_id"))
        channel_id = self.dm_channels.setdefault(recipient, str(next(self.ids)))
        user = member(recipient)["user"]
        return json_response({"id": channel_id, "type": 1, "recipients": [user], "last_message_id": None})

    def _interaction(self, kind: int, data: dict[str, Any], user_id: str, guild_id: str, channel_id: str,
                     token: str | None, **extra: Any) -> tuple[str, dict[str, Any]]:
        interaction_id = str(next(self.ids))
        token = token or f"token-{interaction_id}"
        self.interactions[token] = {"channel": channel_id, "original": None, "created": time.monotonic()}
        return token, {
            "id": interaction_id, "application_id": APPLICATION_ID, "type": kind, "token": token, "version": 1,
            "guild_id": guild_id, "channel_id": channel_id, "channel": {"id": channel_id, **CHANNEL},
            "member": member(user_id), "data": data, "app_permissions": "0", "locale": "en-US",
            "guild_locale": "en-US", "entitlements": [], "attachment_size_limit": 10 * 1024 * 1024,
            "authorizing_integration_owners": {"0": guild_id}, "context": 0, **extra,
        }

    async def interaction(self, command: str, options: list[dict[str, Any]], user_id: str = "42",
                          guild_id: str = "7", channel_id: str = "500", token: str | None = None) -> str:
        """Send a slash command through the gateway; returns the interaction token (made up unless given)."""
        data = {"id": str(next(self.ids)), "name": command, "type": 1, "options": options}
        token, payload = self._interaction(2, data, user_id, guild_id, channel_id, token)
        await self.dispatch("INTERACTION_CREATE", payload)
        return token

    async def click(self, message: dict[str, Any], custom_id: str, user_id: str = "51") -> str:
        """Press a button on a message the bot posted; returns the interaction token."""
        data = {"custom_id": custom_id, "component_type": 2}
        token, payload = self._interaction(3, data, user_id, "7", message["channel_id"], None, message=message)
        self.interactions[token]["message"] = message["id"]
        await self.dispatch("INTERACTION_CREATE", payload)
        return token

    async def choose(self, message: dict[str, Any], custom_id: str, values: list[str], user_id: str = "51",
                     manage_messages: bool = False) -> str:
        """Pick from a select menu (component type 3) on a message the bot posted; returns the token."""
        data = {"custom_id": custom_id, "component_type": 3, "values": values}
        token, payload = self._interaction(3, data, user_id, "7", message["channel_id"], None, message=message)
        if manage_messages:  # Manage Messages (1 << 13) in the channel, as Discord sends it
            payload["member"]["permissions"] = str(1 << 13)
        self.interactions[token]["message"] = message["id"]
        await self.dispatch("INTERACTION_CREATE", payload)
        return token

    async def submit(self, message: dict[str, Any], custom_id: str, fields: dict[str, str],
                     user_id: str = "51") -> str:
        """Submit a modal (interaction type 5) opened from a button on `message`; returns the token."""
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in fields.items()]
        token, payload = self._interaction(5, {"custom_id": custom_id, "components": rows}, user_id, "7",
                                           message["channel_id"], None, message=message)
        self.interactions[token]["message"] = message["id"]
        await self.dispatch("INTERACTION_CREATE", payload)
        return token

    def modal(self, token: str) -> dict[str, Any] | None:
        """The modal the bot opened in answer to an interaction (callback type 9), if it did."""
        return self.interactions.get(token, {}).get("modal")

    async def reply(self, author: str, to: dict[str, Any], content: str, mention: bool = True) -> dict[str, Any]:
        """A member's Discord reply to `to`. Without a mention the bot gets it with empty text, as a bot
        without the Message Content intent does; with one, the text is prefixed by the mention."""
        text = f"<@{APPLICATION_ID}> {content}" if mention else content
        message = self.say(to["channel_id"], author, text, reply_to=to)
        message.update(guild_id="7", mentions=[BOT_USER] if mention else [], member=member(author))
        sent = {k: v for k, v in message.items() if k != "member"} | {
            "member": {k: v for k, v in member(author).items() if k != "user"},
            "content": text if mention else ""}
        await self.dispatch("MESSAGE_CREATE", sent)
        return message

    def expire(self, token: str) -> None:
        self.expired.add(token)

    # --- REST -----------------------------------------------------------------------------------

    def rate_limit_next(self, path_prefix: str, times: int = 1, after: int = 0) -> None:
        """Answer 429 to `times` requests under the prefix, once `after` of them have gone through."""
        self._rate_limit[path_prefix] = times
        self._rate_limit_skip[path_prefix] = after

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

    def message(self, channel_id: str, body: dict[str, Any] | None, files: dict[str, bytes],
                keep: bool = True) -> dict[str, Any]:
        """A message as Discord returns it; kept in the channel unless `keep` is False (ephemeral)."""
        body = body or {}
        message = {
            "id": str(next(self.ids)), "channel_id": channel_id, "author": BOT_USER,
            "content": body.get("content") or "", "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": [{"id": str(next(self.ids)), "filename": name, "size": len(data),
                             "url": f"https://cdn.example/{name}", "proxy_url": f"https://cdn.example/{name}"}
                            for name, data in files.items()],
            "embeds": body.get("embeds") or [], "pinned": False, "type": 0, "flags": body.get("flags") or 0,
            "components": body.get("components") or [], "webhook_id": APPLICATION_ID,
        }
        if body.get("message_reference"):  # a Discord reply: it names the message it answers
            reference = {k: str(v) if k.endswith("_id") else v for k, v in body["message_reference"].items()}
            message.update(type=19, message_reference={"channel_id": channel_id, **reference})
        if keep:
            self.channels.setdefault(channel_id, []).append(message)
            self.files[message["id"]] = files
        return message

    def find(self, message_id: str) -> dict[str, Any] | None:
        return next((m for msgs in self.channels.values() for m in msgs if m["id"] == message_id), None)

    def _edit(self, message_id: str, body: dict[str, Any] | None) -> web.Response:
        found = self.find(message_id)
        if found is None:
            return json_response({"message": "Unknown Message", "code": 10008}, status=404)
        for key in ("content", "embeds", "components"):
            if body and key in body:
                found[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        found["edited_timestamp"] = datetime.now(UTC).isoformat()
        return json_response(found)

    def _limited(self, request: web.Request, path: str) -> web.Response | None:
        for prefix, remaining in list(self._rate_limit.items()):
            if path.startswith(prefix) and remaining > 0:
                if self._rate_limit_skip.get(prefix, 0) > 0:
                    self._rate_limit_skip[prefix] -= 1
                    continue
                self._rate_limit[prefix] = remaining - 1
                self.requests.append(Recorded(request.method, path, None))
                return json_response({"message": "You are being rate limited.", "retry_after": 0.25,
                                      "global": False}, status=429,
                                     # Discord's own 429s come through its proxy ("Via"); a 429 without
                                     # it is Cloudflare's, which discord.py does not retry.
                                     headers={"Retry-After": "1", "X-RateLimit-Scope": "user", "Via": "1.1 google"})
        return None

    async def rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        limited = self._limited(request, path)
        if limited is not None:
            return limited
        body, files = await self._read(request)
        self.requests.append(Recorded(request.method, path, body, files))
        parts = path.strip("/").split("/")
        answer = await self._answer(request, path, parts, body, files)
        if request.method == "POST" and self._posted_in(parts) in self.hold_posts_in:
            await self.released.wait()  # the message is made; its sender hears back only once released
        return answer

    def _posted_in(self, parts: list[str]) -> str | None:
        """The channel a message create goes to (a follow-up webhook's: its interaction's), if it is one."""
        if parts[0] == "webhooks" and len(parts) == 3:
            return self.interactions.get(parts[2], {}).get("channel")
        return parts[1] if parts[0] == "channels" and parts[-1] == "messages" else None

    async def _answer(self, request: web.Request, path: str, parts: list[str], body: dict[str, Any] | None,
                      files: dict[str, bytes]) -> web.Response:
        if path == "/users/@me":
            return json_response(BOT_USER)
        if path == "/gateway/bot":
            return json_response({"url": self.gateway_url, "shards": 1, "session_start_limit": {
                "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": self.max_concurrency}})
        if path == "/oauth2/applications/@me":
            return json_response({"id": APPLICATION_ID, "name": "Implementor", "description": "", "icon": None,
                                  "bot_public": False, "bot_require_code_grant": False, "verify_key": "0" * 64,
                                  "owner": {**BOT_USER, "id": "800000000000000001", "bot": False}, "flags": 0,
                                  "rpc_origins": [], "team": None, "summary": ""})
        if path == "/users/@me/channels" and request.method == "POST":
            return self._dm_channel(body)
        if parts[0] == "applications" and parts[-1] == "commands" and request.method == "PUT":
            await asyncio.sleep(self.overwrite_delay_s)
            return self._overwrite_commands("/".join(parts[2:-1]) or "global", body)
        if parts[0] == "interactions" and parts[-1] == "callback":
            return self._callback(parts[2], body or {}, files)
        if parts[0] == "webhooks" and parts[1] == APPLICATION_ID:
            return self._webhook(request.method, parts[2], parts[4] if len(parts) > 4 else None, body, files)
        history = self._history(request, parts)
        if history is not None:
            return history
        if parts[0] == "channels" and len(parts) >= 3 and parts[2] == "messages":
            return self._channel(request, parts[1], parts[3] if len(parts) > 3 else None, body, files)
        if request.method in ("PUT", "PATCH", "DELETE"):
            return json_response([] if request.method == "PUT" else {})
        return json_response({"message": f"no fake for {request.method} {path}", "code": 0}, status=404)

    def _overwrite_commands(self, scope: str, body: Any) -> web.Response:
        """A bulk overwrite of the global commands (or a guild's, scope `guilds/ID`): Discord echoes them with ids."""
        registered = [{**command, "id": str(next(self.ids)), "application_id": APPLICATION_ID, "version": "1",
                       "default_member_permissions": command.get("default_member_permissions"),
                       **({"guild_id": scope.split("/")[1]} if scope != "global" else {})}
                      for command in body or []]
        self.commands[scope] = registered
        return json_response(registered)

    def _callback(self, token: str, body: dict[str, Any], files: dict[str, bytes]) -> web.Response:
        kind = body.get("type", 4)
        state = self.interactions.setdefault(token, {"channel": "500", "original": None, "created": time.monotonic()})
        if state["original"] is None and time.monotonic() - state["created"] > 3:  # Discord's deadline
            return json_response({"message": "Unknown interaction", "code": 10062}, status=404)
        message = None
        if kind == 9:  # a modal: nothing is posted; the member sees the form
            state["modal"] = body.get("data") or {}
            state["original"] = {}
        if kind == 7:  # the clicked message, edited in place
            self._edit(state.get("message", ""), body.get("data") or {})
            state["original"] = {}
        if kind in (4, 5):
            data = body.get("data") or {}
            ephemeral = bool((data.get("flags") or 0) & 64)
            message = self.message(state["channel"], data if kind == 4 else {}, files, keep=not ephemeral)
            state["original"] = message
        return json_response({
            "interaction": {"id": str(next(self.ids)), "type": 2, "response_message_loading": kind == 5,
                            "response_message_ephemeral": False,
                            **({"response_message_id": message["id"]} if message else {})},
            "resource": {"type": kind, **({"message": message} if message else {})},
        })

    def _webhook(self, method: str, token: str, message_id: str | None, body: dict[str, Any] | None,
                 files: dict[str, bytes]) -> web.Response:
        state = self.interactions.get(token)
        # Discord forgets an interaction that got no first answer within 3 s, and every token after 15 min.
        unanswered = state is not None and state["original"] is None and time.monotonic() - state["created"] > 3
        if token in self.expired or state is None or unanswered:
            return json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        if message_id == "@original":
            message_id = (state["original"] or {}).get("id")
        if method == "POST":
            ephemeral = bool(((body or {}).get("flags") or 0) & 64)
            return json_response(self.message(state["channel"], body, files, keep=not ephemeral))
        if method == "GET":
            found = self.find(message_id or "")
            return json_response(found) if found else json_response({"code": 10008}, status=404)
        if method == "PATCH":
            return self._edit(message_id or "", body)
        return self._delete(message_id or "")

    def _delete(self, message_id: str) -> web.Response:
        if self.find(message_id) is None:
            return json_response({"message": "Unknown Message", "code": 10008}, status=404)
        for messages in self.channels.values():
            messages[:] = [m for m in messages if m["id"] != message_id]
        return web.Response(status=204)

    def _create_once(self, channel_id: str, body: dict[str, Any] | None, files: dict[str, bytes]) -> dict[str, Any]:
        key = f"{channel_id}/{body['nonce']}" if body and body.get("nonce") and body.get("enforce_nonce") else None
        seen = self.nonces.get(key) if key else None
        if seen is not None and time.monotonic() - seen[0] < NONCE_WINDOW_S:
            self.nonce_repeats += 1
            return seen[1]
        message = self.message(channel_id, body, files)
        if key is not None:
            message["nonce"] = body["nonce"]  # type: ignore[index]
            self.nonces[key] = (time.monotonic(), message)
        return message

    def _channel(self, request: web.Request, channel_id: str, message_id: str | None, body: dict[str, Any] | None,
                 files: dict[str, bytes]) -> web.Response:
        if request.method == "POST" and message_id is None:
            if any(dm == channel_id and who in self.closed_dms for who, dm in self.dm_channels.items()):
                return json_response({"message": "Cannot send messages to this user", "code": 50007}, status=403)
            return json_response(self._create_once(channel_id, body, files))
        if request.method == "GET" and message_id is None:
            limit = int(request.query.get("limit", "50"))
            messages = self.channels.get(channel_id, [])
            if "after" in request.query:  # the `limit` oldest after that id, newest first (as Discord does)
                after = [m for m in messages if int(m["id"]) > int(request.query["after"])][:limit]
                return json_response(list(reversed(after)))
            return json_response(list(reversed(messages))[:limit])  # newest first
        if request.method == "PATCH" and message_id is not None:
            return self._edit(message_id, body)
        if request.method == "DELETE" and message_id is not None:
            return self._delete(message_id)
        return json_response({"message": "no fake for that", "code": 0}, status=404)

    # --- members' history, reactions and threads (for the harvest) ---------------------------------

    def say(self, channel_id: str, author: str, content: str, *, bot: bool = False,
            reply_to: dict[str, Any] | None = None, reactions: dict[str, list[str]] | None = None,
            at: datetime | None = None) -> dict[str, Any]:
        """A member's message (or another bot's), as a reply to `reply_to` if given, with reactions by user id."""
        message = self.message(channel_id, {"content": content}, {})
        message.update(author={"id": author, "username": f"member{author}", "discriminator": "0",
                               "global_name": None, "avatar": None, **({"bot": True} if bot else {})},
                       webhook_id=None, timestamp=(at or datetime.now(UTC)).isoformat())
        if reply_to is not None:
            message.update(type=19, referenced_message=reply_to,
                           message_reference={"message_id": reply_to["id"], "channel_id": channel_id})
        for emoji, users in (reactions or {}).items():
            self.react(message, emoji, users)
        return message

    def react(self, message: dict[str, Any], emoji: str, users: list[str], bots: tuple[str, ...] = ()) -> None:
        people = [{"id": u, "username": f"member{u}", "discriminator": "0", "global_name": None, "avatar": None,
                   **({"bot": True} if u in bots else {})} for u in users]
        self.reactions.setdefault(message["id"], {})[emoji] = people
        message["reactions"] = [{"emoji": {"id": None, "name": e}, "count": len(us), "me": False}
                                for e, us in self.reactions[message["id"]].items()]

    def thread(self, parent_id: str, archived: bool = False) -> str:
        thread_id = str(next(self.ids))
        self.threads.append({"id": thread_id, "parent_id": parent_id, "guild_id": "7", "type": 11, "name": "t",
                             "thread_metadata": {"archived": archived}})
        self.channels.setdefault(thread_id, [])
        return thread_id

    def _history(self, request: web.Request, parts: list[str]) -> web.Response | None:
        from urllib.parse import unquote

        if request.method != "GET":
            return None
        if parts[0] == "guilds" and parts[2:] == ["threads", "active"]:
            active = [t for t in self.threads if not t["thread_metadata"]["archived"]]
            return json_response({"threads": active, "members": []})
        if parts[0] == "channels" and parts[2:] == ["threads", "archived", "public"]:
            archived = [t for t in self.threads if t["thread_metadata"]["archived"] and t["parent_id"] == parts[1]]
            return json_response({"threads": archived, "members": [], "has_more": False})
        if parts[0] == "channels" and len(parts) == 6 and parts[4] == "reactions":
            users = self.reactions.get(parts[3], {}).get(unquote(parts[5]), [])
            after = int(request.query.get("after", "0"))
            return json_response([u for u in users if int(u["id"]) > after][: int(request.query.get("limit", "25"))])
        return None

    # --- for assertions ---------------------------------------------------------------------------

    def calls(self, method: str, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix) and r.json is not None
                or (r.method == method and r.path.startswith(prefix) and r.files)]

    def messages(self, channel_id: str = "500") -> list[dict[str, Any]]:
        """The channel as a member sees it, oldest first."""
        return list(self.channels.get(channel_id, []))

    def results(self, channel_id: str = "500") -> list[dict[str, Any]]:
        """Posted results: messages with an embed and the job's buttons (status lines have none)."""
        return [m for m in self.messages(channel_id) if m["embeds"] and any(
            c.get("custom_id", "").startswith(("implementor:rate:", "implementor:why:"))
            for row in m["components"] for c in row.get("components", []))]

    @staticmethod
    def job_of(message: dict[str, Any]) -> str | None:
        """The job id a message's buttons name, if any."""
        for row in message["components"]:
            for c in row.get("components", []):
                parts = c.get("custom_id", "").split(":")
                if len(parts) >= 3 and parts[0] == "implementor":
                    return parts[2]
        return None
