"""The Flask-SocketIO chat protocol's front end (its useWebSocket hook and ChatContainer),
with python-socketio; only the address changed (?dialect=flask-chat). argv: gateway URL.

Its page keeps ChatUI message objects (`appendMsg` adds _id, createdAt, position, hasTime)
and sends that list whole as `history` with every later message."""
import json
import random
import string
import sys
import threading
import time

import engineio.payload
import socketio

# python-engineio refuses a polling response of more than 16 packets (its own guard).
engineio.payload.Payload.max_decode_packets = 1000

TIME_GAP = 5 * 60 * 1000
last_ts = 0
messages = []
report = {"turns": [], "errors": []}
stopped = threading.Event()
refused = threading.Event()
sio = socketio.Client(reconnection=False)


def append_msg(msg):
    """ChatUI's useMessages().appendMsg, as the page calls it."""
    global last_ts
    ts = msg.get("createdAt") or int(time.time() * 1000)
    has_time = msg.get("hasTime") or ts - last_ts > TIME_GAP
    if has_time:
        last_ts = ts
    messages.append({
        **msg,
        "_id": msg.get("_id") or "".join(random.choices(string.ascii_lowercase + string.digits, k=12)),
        "createdAt": ts,
        "position": msg.get("position") or "left",
        "hasTime": has_time,
    })


@sio.on("chat_response")
def on_chat_response(data):
    report["turns"][-1].append(data)
    if data["type"] == "text":
        append_msg({"type": "text", "content": {"text": data["content"]["data"]}})
    elif data["type"] == "agent_status":
        append_msg({"type": "text", "content": {"text": data["content"]["message"]}})
    elif data["type"] == "stop":
        stopped.set()


@sio.on("error")
def on_error(data):
    report["errors"].append(data)
    refused.set()
    stopped.set()


def handle_send(val, image_urls=()):
    """ChatContainer's handleSend: the history is the page's messages as they were."""
    history = list(messages)
    append_msg({"type": "text", "content": {"text": val}, "position": "right"})
    report["turns"].append([])
    stopped.clear()
    sio.emit("chat_message", {"history": history, "current_text": val, "current_image_paths": list(image_urls)})
    return stopped.wait(20)


sio.connect(sys.argv[1] + "?dialect=flask-chat")
report["stopped"] = handle_send("what is 12 * (3 + 4)?")
report["second_stopped"] = handle_send("and what is 2 + 2?")
report["history_sent"] = len(messages)
# Hostile: an image path that names a local file.
refused.clear()
report["turns"].append([])
sio.emit("chat_message", {"history": [], "current_text": "look", "current_image_paths": ["file:///etc/passwd"]})
report["refused"] = refused.wait(20)
sio.disconnect()
print(json.dumps(report))
