"""The Flask-SocketIO chat protocol's front end (its useWebSocket hook and ChatContainer),
with python-socketio; only the address changed (?dialect=flask-chat). argv: gateway URL."""
import json
import sys
import threading

import engineio.payload
import socketio

# python-engineio refuses a polling response of more than 16 packets (its own guard).
engineio.payload.Payload.max_decode_packets = 1000

report = {"responses": [], "errors": []}
stopped = threading.Event()
refused = threading.Event()
sio = socketio.Client(reconnection=False)


@sio.on("chat_response")
def on_chat_response(data):
    report["responses"].append(data)
    if data["type"] == "stop":
        stopped.set()


@sio.on("error")
def on_error(data):
    report["errors"].append(data)
    refused.set()


sio.connect(sys.argv[1] + "?dialect=flask-chat")
messages = []
sio.emit("chat_message", {"history": messages, "current_text": "what is 12 * (3 + 4)?", "current_image_paths": []})
report["stopped"] = stopped.wait(20)
# Hostile: an image path that names a local file.
sio.emit("chat_message", {"history": [], "current_text": "look", "current_image_paths": ["file:///etc/passwd"]})
report["refused"] = refused.wait(20)
sio.disconnect()
print(json.dumps(report))
