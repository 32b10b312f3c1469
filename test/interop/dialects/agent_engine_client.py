"""The agent-engine protocol's client, as its document writes it, against the gateway's
/ws/agent (only the address changed). Prints a JSON report for test/dialect-clients.test.ts."""
import asyncio
import json
import sys
import urllib.request

import websockets


async def recv_until(websocket, types):
    """Frames until one of `types`; returns (that frame, the types seen before it)."""
    seen = []
    while True:
        data = json.loads(await websocket.recv())
        if data["type"] in types:
            return data, seen
        seen.append(data["type"])


async def test_websocket(uri):
    report = {}
    # The agent-engine document's "programming test / Python example" (编程测试 / Python 示例),
    # verbatim but for the address and the report.
    async with websockets.connect(uri) as websocket:
        welcome = await websocket.recv()
        report["welcome"] = json.loads(welcome)
        # "获取统计信息": its statistics panel reads the list without a key.
        with urllib.request.urlopen(uri.replace("ws", "http", 1).replace("/ws/agent", "/ws/statistics")) as response:
            report["statistics"] = json.loads(response.read())
        query = {"type": "streaming_query", "query": "你好，请介绍一下你自己"}
        await websocket.send(json.dumps(query))
        chunks = []
        while True:
            response = await websocket.recv()
            data = json.loads(response)
            if data["type"] == "stream_chunk":
                chunks.append(data["content"])
            elif data["type"] == "stream_end":
                report["stream_end"] = data
                break
        report["chunks"] = "".join(chunks)

        # §2 ping/pong
        await websocket.send(json.dumps({"type": "ping"}))
        report["pong"], _ = await recv_until(websocket, {"pong"})
        # §3 agent_query: status, then agent_response
        await websocket.send(json.dumps({"type": "agent_query", "query": "你好，请介绍一下你自己"}))
        report["agent_response"], report["before_response"] = await recv_until(websocket, {"agent_response"})
        # §5 tool_call
        await websocket.send(json.dumps({"type": "tool_call", "tool_name": "calculator", "params": {"expression": "123 + 456"}}))
        report["tool_result"], _ = await recv_until(websocket, {"tool_result"})
        # §6 error: a query without its text
        await websocket.send(json.dumps({"type": "streaming_query"}))
        report["error"], _ = await recv_until(websocket, {"error"})
        # §7 cancel with nothing running
        await websocket.send(json.dumps({"type": "cancel"}))
        report["cancelled"], _ = await recv_until(websocket, {"cancelled", "error"})
    return report


print(json.dumps(asyncio.run(test_websocket(sys.argv[1].replace("http", "ws", 1) + "/ws/agent"))))
