"""A third-party graph driven by two independent clients on one session: python-socketio
(Debian's python3-socketio) and a plain WebSocket (python3-websockets). Issue 19's
"Done when". Prints one JSON report for the mocha test."""
import asyncio
import json
import sys
import threading
import urllib.request

import engineio.payload
import socketio
import websockets

# python-engineio refuses a polling response of more than 16 packets (its own guard).
engineio.payload.Payload.max_decode_packets = 1000

url, session_id = sys.argv[1], sys.argv[2]
DESK, DEFAULT = "py-desk", "py-default"
WAIT = 20


class SocketIoSide:
    """Client A: every event it hears, in order, and a way to wait for one."""

    def __init__(self):
        self.events = []
        self.changed = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self.heard)

    def heard(self, event, data):
        with self.changed:
            self.events.append({"type": event, **(data if isinstance(data, dict) else {})})
            self.changed.notify_all()

    def wait_for(self, kind, message_id):
        def found():
            return next((e for e in self.events if e["type"] == kind and e.get("message_id") == message_id), None)

        with self.changed:
            self.changed.wait_for(found, WAIT)
            return found()


class PlainSide:
    """Client B: frames of the plain endpoint, acks matched by request_id."""

    def __init__(self, ws):
        self.ws = ws
        self.frames = []
        self.changed = asyncio.Condition()
        self.next_request = 0

    async def read(self):
        async for raw in self.ws:
            async with self.changed:
                self.frames.append(json.loads(raw))
                self.changed.notify_all()

    async def wait(self, predicate):
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: next((f for f in self.frames if predicate(f)), None)), WAIT)
            return next(f for f in self.frames if predicate(f))

    async def wait_for(self, kind, message_id):
        return await self.wait(lambda f: f["type"] == kind and f.get("message_id") == message_id)

    async def call(self, kind, payload):
        self.next_request += 1
        request_id = self.next_request
        await self.ws.send(json.dumps({**payload, "type": kind, "request_id": request_id}))
        ack = await self.wait(lambda f: f["type"] == "ack" and f.get("request_id") == request_id)
        return {key: ack[key] for key in ("ok", "data", "error") if key in ack}


def customs(events):
    return [{"name": e["name"], "data": e["data"]} for e in events if e["type"] == "custom_event" and e.get("message_id") == DESK]


async def main():
    report = {}
    with urllib.request.urlopen(f"{url}/api/graphs") as response:
        report["graphs"] = [g["name"] for g in json.load(response)["graphs"]]

    a = SocketIoSide()
    a.sio.connect(url, auth={"session_id": session_id}, transports=["websocket"])
    async with websockets.connect(f"{url.replace('http', 'ws', 1)}/ws?session_id={session_id}") as ws:
        b = PlainSide(ws)
        reader = asyncio.create_task(b.read())
        report["b_connected"] = (await b.wait(lambda f: f["type"] == "connected"))["session_id"]

        # Listening before sending: with a fast graph the ack may come after the stream's first events.
        report["message"] = await asyncio.to_thread(
            a.sio.call, "message", {"content": "I was charged twice on my invoice", "graph": "support_desk", "message_id": DESK}
        )
        paused_a = await asyncio.to_thread(a.wait_for, "run_interrupted", DESK)
        paused_b = await b.wait_for("run_interrupted", DESK)
        report["interrupts"] = {"a": paused_a["interrupts"], "b": paused_b["interrupts"]}
        report["custom_events"] = {"a": customs(a.events), "b": customs(b.frames)}
        report["ended_before_resume"] = any(e["type"] == "stream_end" for e in a.events + b.frames)

        report["resume"] = await b.call("resume_run", {"message_id": DESK, "resume": True})
        end_b = await b.wait_for("stream_end", DESK)
        end_a = await asyncio.to_thread(a.wait_for, "stream_end", DESK)
        report["total_content"] = {"a": end_a["total_content"], "b": end_b["total_content"]}

        history = await b.call("get_history", {"graph": "support_desk"})
        report["history"] = [{"role": m["role"], "content": m["content"]} for m in history["data"]["messages"]]

        report["unknown_graph"] = await asyncio.to_thread(a.sio.call, "message", {"content": "hi", "graph": "nope"})

        report["default_ack"] = await asyncio.to_thread(a.sio.call, "message", {"content": "what is 12*7?", "message_id": DEFAULT})
        report["default_end_a"] = (await asyncio.to_thread(a.wait_for, "stream_end", DEFAULT))["total_content"]
        report["default_end_b"] = (await b.wait_for("stream_end", DEFAULT))["total_content"]
        reader.cancel()
    a.sio.disconnect()
    return report


print(json.dumps(asyncio.run(main())))
