"""The earlier systems' plain-WebSocket exchange with Python `websockets`: prints a JSON report."""
import asyncio
import json
import sys

import websockets


async def exchange(url):
    report = {}
    async with websockets.connect(f"{url}/ws/agent") as ws:
        connected = json.loads(await ws.recv())
        report["connected"] = connected
        await ws.send(json.dumps({"type": "ping"}))
        report["pong"] = json.loads(await ws.recv())["type"]
        await ws.send("not json")
        report["bad_frame"] = json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "message", "data": {"content": "Tell me about rivers"}, "request_id": "q1"}))
        chunks, end, ack = [], None, None
        while end is None:
            event = json.loads(await ws.recv())
            if event["type"] == "ack":
                ack = event
            elif event["type"] == "stream_chunk":
                chunks.append(event["content"])
            elif event["type"] in ("stream_end", "error", "cancelled"):
                end = event
        report["ack"] = ack
        report["chunks"] = "".join(chunks)
        report["end"] = end
    session_id = connected["session_id"]
    async with websockets.connect(f"{url}/ws/agents/{session_id}") as ws:
        again = json.loads(await ws.recv())
        report["same_session"] = again["session_id"] == session_id
        await ws.send(json.dumps({"type": "resume", "message_id": report["end"]["message_id"], "after_seq": 0, "request_id": 2}))
        replayed = []
        while True:
            event = json.loads(await ws.recv())
            if event["type"] == "stream_chunk":
                replayed.append(event["content"])
            if event["type"] == "stream_end":
                break
        report["replayed"] = "".join(replayed)
    return report


print(json.dumps(asyncio.run(exchange(sys.argv[1].replace("http", "ws", 1)))))
