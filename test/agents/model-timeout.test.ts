import { randomUUID } from "node:crypto";
import { createServer as createHttpServer, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { expect } from "chai";
import type { Socket as ClientSocket } from "socket.io-client";
import { connect, request, startGateway, type RunningGateway } from "../support/gateway.js";
import { collectStream } from "../support/streams.js";

/** One streamed chat completion saying "fine", as an OpenAI-compatible server sends it. */
function completion(): string {
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    `data: ${JSON.stringify({
      id: `chatcmpl-${randomUUID()}`,
      object: "chat.completion.chunk",
      created: 1_700_000_000,
      model: "test-model",
      choices: [{ index: 0, delta, finish_reason: finish }],
    })}\n\n`;
  return (
    chunk({ role: "assistant", content: "fine" }, null) + chunk({}, "stop") + "data: [DONE]\n\n"
  );
}

/**
 * A model server that accepts TCP connections and never answers while
 * `silent`, as a host behind a black-holing proxy would; otherwise it answers.
 */
async function startUpstream() {
  const answering = createHttpServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(completion());
    });
  });
  const held: Socket[] = [];
  const upstream = {
    silent: true,
    port: 0,
    /** Comes back, as a restarted server would: held connections are reset. */
    recover: () => {
      upstream.silent = false;
      held.forEach((s) => s.destroy());
    },
    close: () => {
      held.forEach((s) => s.destroy());
      answering.closeAllConnections();
      tcp.close();
    },
  };
  const tcp = createTcpServer((socket) => {
    if (upstream.silent) held.push(socket);
    else answering.emit("connection", socket);
  });
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
  upstream.port = (tcp.address() as AddressInfo).port;
  return upstream;
}

async function ask(socket: ClientSocket, content: string) {
  const id = randomUUID();
  const stream = collectStream(socket, () => id);
  const ack = await request(socket, "message", { content, message_id: id });
  expect(ack.ok, JSON.stringify(ack)).to.equal(true);
  return (await stream).end;
}

async function readiness(server: RunningGateway) {
  const response = await fetch(`${server.url}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe("unreachable model", function () {
  this.timeout(20000);

  it("fails within AGENT_MODEL_TIMEOUT naming the host, turns /readyz not ready after repeated failures, and recovers", async () => {
    const upstream = await startUpstream();
    const host = `127.0.0.1:${upstream.port}`;
    const server = await startGateway({
      AGENT_MODEL: "openai:test-model",
      OPENAI_BASE_URL: `http://${host}/v1`,
      AGENT_MODEL_TIMEOUT: "0.3",
      AGENT_MODEL_FAILURES_NOT_READY: "2",
      LOG_LEVEL: "error",
    });
    const { socket } = await connect(server.url);
    try {
      const first = await ask(socket, "hello?");
      expect(first).to.include({ type: "error", code: "agent_error" });
      expect(String(first["message"])).to.include(`the model at ${host}`);
      expect((await readiness(server)).status).to.equal(200);

      expect(await ask(socket, "anyone there?")).to.include({ code: "agent_error" });
      const down = await readiness(server);
      expect(down.status).to.equal(503);
      expect(down.body["reason"]).to.include(`model at ${host}`);

      upstream.recover();
      const answered = await ask(socket, "and now?");
      expect(answered).to.include({ type: "stream_end", total_content: "fine" });
      expect(await readiness(server)).to.deep.equal({ status: 200, body: { status: "ready" } });
    } finally {
      socket.close();
      await server.close();
      upstream.close();
    }
  });
});

describe("a model that stalls mid-answer", function () {
  this.timeout(20000);

  it("fails the run after AGENT_MODEL_IDLE_TIMEOUT of silence, and the session is served again", async () => {
    // Headers and a first token, then nothing, as a hung inference server does.
    const held: ServerResponse[] = [];
    let stall = true;
    const upstream = createHttpServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        if (!stall) return void res.end(completion());
        res.write(completion().split("\n\n")[0] + "\n\n");
        held.push(res);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const { port } = upstream.address() as AddressInfo;
    const server = await startGateway({
      AGENT_MODEL: "openai:test-model",
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
      AGENT_MODEL_IDLE_TIMEOUT: "0.5",
      LOG_LEVEL: "error",
    });
    const { socket } = await connect(server.url);
    try {
      const stalled = await ask(socket, "hello?");
      expect(stalled).to.include({ type: "error", code: "agent_error" });
      expect(String(stalled["message"])).to.include("AGENT_MODEL_IDLE_TIMEOUT");
      stall = false;
      expect(await ask(socket, "and now?")).to.include({
        type: "stream_end",
        total_content: "fine",
      });
    } finally {
      socket.close();
      await server.close();
      held.forEach((res) => res.destroy());
      upstream.closeAllConnections();
      upstream.close();
    }
  });
});
