"""The AutoCode protocol (§4 message protocol): every frame an envelope {type, projectGuid,
data, timestamp, id}, with Python `websockets` on /ws/projects/{guid}/status?dialect=autocode.
argv: gateway URL, API key."""
import asyncio
import datetime
import json
import sys
import urllib.request
import uuid

import websockets


def envelope(type_, guid, data):
    return json.dumps({
        "type": type_,
        "projectGuid": guid,
        "data": data,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "id": str(uuid.uuid4()),
    })


received = []


async def until(websocket, type_):
    """The first frame of `type_` not yet taken: pushes may come before or after a reply."""
    while True:
        for index, data in enumerate(received):
            if data["type"] == type_:
                return received.pop(index)
        received.append(json.loads(await asyncio.wait_for(websocket.recv(), 10)))


async def main(http, api_key):
    guid = "ac-project"
    report = {}
    uri = f"{http.replace('http', 'ws', 1)}/ws/projects/{guid}/status?dialect=autocode"
    async with websockets.connect(uri) as websocket:
        report["connected"] = json.loads(await websocket.recv())
        report["joined"] = await until(websocket, "joined_project")
        await websocket.send(envelope("user_feedback", guid, {"content": "the login page is slow"}))
        report["feedback_response"] = await until(websocket, "user_feedback_response")
        report["project_message"] = await until(websocket, "project_message")
        body = json.dumps({"type": "project_stage_update", "data": {"stage": "coding", "progress": 40}}).encode()
        request = urllib.request.Request(
            f"{http}/api/projects/{guid}/events",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"},
        )
        await asyncio.get_running_loop().run_in_executor(None, urllib.request.urlopen, request)
        report["stage_update"] = await until(websocket, "project_stage_update")
        # Its envelope names the project on every frame, the heartbeat's ping included.
        await websocket.send(envelope("ping", guid, {}))
        report["pong"] = await until(websocket, "pong")
        await websocket.send(envelope("ping", None, {}))
        report["pong_outside"] = await until(websocket, "pong")
        # Feedback to a project this client has not joined: the refusal names that project.
        await websocket.send(envelope("user_feedback", "g-1", {"content": "hello?"}))
        report["not_in_project"] = await until(websocket, "error")
        # Hostile: a projectGuid that is not a string.
        await websocket.send(envelope("leave_project", 7, {}))
        report["error"] = await until(websocket, "error")
        await websocket.send(envelope("leave_project", guid, {}))
        report["left"] = await until(websocket, "left_project")
    return report


print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))))
