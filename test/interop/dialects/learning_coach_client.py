"""The learning-coach protocol's client (TASK-013 §2 message protocol) with Python
`websockets` on its own paths; only the address changed. argv: gateway URL, API key."""
import asyncio
import json
import sys
import urllib.request

import websockets


async def chat(base, session_id):
    async with websockets.connect(f"{base}/ws/agents/{session_id}") as websocket:
        connected = json.loads(await websocket.recv())
        await websocket.send(json.dumps({"type": "message", "content": "Tell me about rivers", "metadata": {"question_id": "q_001"}}))
        frames = []
        while True:
            data = json.loads(await websocket.recv())
            if data["type"].startswith("stream_"):
                frames.append(data)
            if data["type"] in ("stream_end", "error"):
                return connected, frames


async def project_status(base, http, api_key):
    async with websockets.connect(f"{base}/ws/projects/lc-project/status") as websocket:
        while json.loads(await websocket.recv())["type"] != "joined_project":
            pass
        body = json.dumps({"type": "progress_update", "data": {"stage": "整体架构分析", "completed": 3, "total": 10}}).encode()
        request = urllib.request.Request(
            f"{http}/api/projects/lc-project/events",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"},
        )
        await asyncio.get_running_loop().run_in_executor(None, urllib.request.urlopen, request)
        while True:
            data = json.loads(await websocket.recv())
            if data["type"] == "progress_update":
                return data


async def main(http, api_key):
    base = http.replace("http", "ws", 1)
    connected, frames = await chat(base, "learner-1")
    progress = await project_status(base, http, api_key)
    return {"connected": connected, "frames": frames, "progress": progress}


print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))))
