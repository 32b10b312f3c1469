"""Every core exchange, driven by python-socketio (Debian's python3-socketio), an
independent Socket.IO implementation. Prints one JSON report for the mocha test."""
import json
import sys
import threading

import engineio.payload
import socketio

# python-engineio refuses a polling response of more than 16 packets (its own guard);
# a streaming answer batches many chunks into one response, so allow more.
engineio.payload.Payload.max_decode_packets = 1000

url, transport = sys.argv[1], sys.argv[2]
report = {"events": []}
done = {"stream_end": threading.Event(), "discussion": threading.Event(), "agent_response": threading.Event()}
chunks = []
sio = socketio.Client(reconnection=False)


@sio.on("*")
def any_event(event, data):
    report["events"].append(event)
    if event == "stream_chunk" and data["message_id"] == "py-1":
        chunks.append(data)
    if event == "stream_end" and data["message_id"] == "py-1":
        report["total_content"] = data["total_content"]
        done["stream_end"].set()
    if event == "stream_end" and data["message_id"] == "py-talk":
        done["discussion"].set()
    if event == "agent_response":
        report["agent_response"] = data
        done["agent_response"].set()
    if event == "error":
        report.setdefault("errors", []).append(data)
    if event == "connected":
        report["connected"] = data


sio.connect(url, auth={"session_id": f"python-{transport}"}, transports=[transport])
report["pong"] = sio.call("ping", {})
report["tool"] = sio.call("tool_call", {"tool_name": "calculator", "params": {"expression": "123 + 456"}})
report["join"] = sio.call("join_project", {"project_id": "py"})
report["feedback"] = sio.call("user_feedback", {"project_id": "py", "content": "from python"})
report["unknown"] = sio.call("no_such_type", {})
report["invalid"] = sio.call("join_project", {"project_id": 7})
report["cancel_nothing"] = sio.call("cancel", {})
report["message"] = sio.call("message", {"content": "what is 12 * (3 + 4)?", "message_id": "py-1"})
done["stream_end"].wait(20)
report["chunks"] = "".join(c["content"] for c in chunks)
report["seqs_contiguous"] = [c["seq"] for c in chunks] == list(range(1, len(chunks) + 1))
report["resume"] = sio.call("resume", {"message_id": "py-1", "after_seq": 0})
report["agent_query"] = sio.call("agent_query", {"query": "Describe a kettle"})
done["agent_response"].wait(20)
report["discussion"] = sio.call("start_conversation", {"topic": "tea", "rounds": 1, "message_id": "py-talk"})
done["discussion"].wait(20)
report["leave"] = sio.call("leave_project", {"project_id": "py"})
sio.disconnect()
print(json.dumps(report))
