import { connect as connectTcp } from "node:net";
import { expect } from "chai";
import { SignJWT } from "jose";
import WebSocket from "ws";
import { BenchChatModel, benchPrompt } from "../bench/bench-model.js";
import { connectAs, PlainClient, refusalAs } from "./support/clients.js";
import { nextEvent, recordEvents, request, startGateway } from "./support/gateway.js";
import { collectStream } from "./support/streams.js";
import { waitFor } from "./support/wait-for.js";

const SECRET = "a-test-secret-that-is-long-enough-for-hs256";
const token = (claims: Record<string, unknown>) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(SECRET));

const wsUrl = (url: string, path: string) => `${url.replace(/^http/, "ws")}${path}`;

/** Opens a plain client on `path` and waits for `connected`. */
async function open(url: string, path: string, options: WebSocket.ClientOptions = {}) {
  const client = new PlainClient(new WebSocket(wsUrl(url, path), options));
  return { client, connected: await client.ready };
}

/** Sends an upgrade request on a raw TCP socket and drops it before any answer. */
function dropUpgrade(port: number, path: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, "127.0.0.1", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
      setImmediate(() => socket.destroy());
    });
    socket.on("error", () => undefined);
    socket.on("close", () => resolve());
  });
}

describe("plain WebSocket endpoint", function () {
  this.timeout(30_000);

  it("serves every path: a new session, a named one, ?session_id=, and a project's status", async () => {
    const server = await startGateway({ AUTH_JWT_SECRET: SECRET });
    const ada = await token({ sub: "ada", projects: ["alpha"] });
    const auth = { headers: { authorization: `Bearer ${ada}` } };
    const fresh = await open(server.url, "/ws/agent", auth);
    const sessionId = fresh.connected.session_id;
    const named = await open(server.url, `/ws/agents/${sessionId}`, auth);
    const query = await open(server.url, `/ws?session_id=${sessionId}&token=${ada}`);
    expect([named.connected.session_id, query.connected.session_id]).to.deep.equal([
      sessionId,
      sessionId,
    ]);
    const project = new PlainClient(
      new WebSocket(wsUrl(server.url, `/ws/projects/alpha/status?token=${ada}`)),
    );
    const joined = nextEvent(project, "joined_project");
    await project.ready;
    expect(await joined).to.deep.include({ project_id: "alpha", members: 1 });
    const pushed = nextEvent(project, "project_message");
    await request(fresh.client, "join_project", { project_id: "alpha" });
    await request(fresh.client, "user_feedback", { project_id: "alpha", content: "hi" });
    expect(await pushed).to.deep.include({ type: "project_message", project_id: "alpha" });

    const beta = new PlainClient(
      new WebSocket(wsUrl(server.url, `/ws/projects/beta/status?token=${ada}`)),
    );
    const refused = await beta.ready.catch((error: { data: unknown }) => error.data);
    expect(beta.status).to.equal(403);
    expect(refused).to.deep.include({ code: "forbidden" });
    const anonymous = new PlainClient(new WebSocket(wsUrl(server.url, "/ws/agent")));
    expect(await anonymous.ready.catch((error: { data: unknown }) => error.data)).to.deep.include({
      code: "unauthorized",
    });
    expect(anonymous.status).to.equal(401);
    for (const c of [fresh.client, named.client, query.client, project]) c.close();
    await server.close();
  });

  it("frames: data nested or not, request_id acks, and bad frames answered with the connection kept", async () => {
    const server = await startGateway();
    const { client } = await open(server.url, "/ws/agent");
    const events = recordEvents(client);
    client.sendRaw(JSON.stringify({ type: "join_project", data: { project_id: "p" } }));
    await nextEvent(client, "joined_project");
    client.sendRaw("{not json");
    client.sendRaw(Buffer.from([1, 2, 3]));
    client.sendRaw(JSON.stringify({ type: "teleport" }));
    client.sendRaw(JSON.stringify({ type: "join_project", project_id: 42 }));
    client.sendRaw("[1]");
    await waitFor(() => events.filter((e) => e.type === "error").length === 5);
    expect(events.filter((e) => e.type === "error").map((e) => e.payload["code"])).to.deep.equal([
      "invalid_payload",
      "invalid_payload",
      "unknown_type",
      "invalid_payload",
      "invalid_payload",
    ]);
    expect(events.every((e) => typeof e.payload["timestamp"] === "number")).to.equal(true);
    expect(await request(client, "ping", {})).to.deep.equal({ ok: true, data: {} });
    expect(client.connected).to.equal(true);
    client.close();
    await server.close();
  });

  it("mixes transports in one session: identical stream_chunk sequences, and a 6th of either kind refused", async () => {
    const server = await startGateway({ DEMO_TOKEN_DELAY_MS: "2" });
    const first = await connectAs("socketio", server.url);
    const session_id = first.connected.session_id;
    const plain = await connectAs("ws", server.url, { session_id });
    const others = [
      await connectAs("socketio", server.url, { session_id }),
      await connectAs("ws", server.url, { session_id }),
      await connectAs("ws", server.url, { session_id }),
    ];
    expect((await refusalAs("ws", server.url, { session_id })).code).to.equal("session_full");
    expect((await refusalAs("socketio", server.url, { session_id })).code).to.equal("session_full");
    const id = "mixed-1";
    const viaSocketIo = collectStream(first.socket, () => id);
    const viaPlain = collectStream(plain.socket, () => id);
    await request(plain.socket, "message", { content: "Tell me about rivers", message_id: id });
    const [a, b] = await Promise.all([viaSocketIo, viaPlain]);
    expect(a.chunks.length).to.be.greaterThan(5);
    expect(b.chunks).to.deep.equal(a.chunks);
    expect(b.end["total_content"]).to.equal(a.end["total_content"]);
    for (const c of [first, plain, ...others]) c.socket.close();
    await server.close();
  });

  it("statistics name each connection's transport for the operator", async () => {
    const apiKey = "plain-test-api-key-0123456789";
    const server = await startGateway({ API_KEY: apiKey });
    const a = await connectAs("socketio", server.url);
    const b = await connectAs("ws", server.url, { session_id: a.connected.session_id });
    const res = await fetch(`${server.url}/ws/statistics`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    const body = (await res.json()) as { connections: Array<{ id: string; transport: string }> };
    const byId = new Map(body.connections.map((c) => [c.id, c.transport]));
    expect(byId.get(a.connected.connection_id)).to.equal("socketio");
    expect(byId.get(b.connected.connection_id)).to.equal("ws");
    a.socket.close();
    b.socket.close();
    await server.close();
  });
});

describe("plain WebSocket under attack", function () {
  this.timeout(60_000);

  it("leaks no slot when thousands of upgrades are dropped mid-admission", async () => {
    const server = await startGateway({ AUTH_JWT_SECRET: SECRET, WS_MAX_CONNECTIONS: "50" });
    const alice = await token({ sub: "alice" });
    const port = Number(new URL(server.url).port);
    for (let done = 0; done < 2000; done += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          dropUpgrade(port, `/ws/agents/alice-session?token=${i % 2 ? alice : "x"}`),
        ),
      );
    }
    await waitFor(
      async () => (await server.gateway.state.connections.statistics()).activeConnections === 0,
    );
    const back = await connectAs("ws", server.url, { session_id: "alice-session", token: alice });
    expect(back.connected.session_id).to.equal("alice-session");
    back.socket.close();
    await server.close();
  });

  it("refuses a foreign Origin with 403 before the upgrade", async () => {
    const server = await startGateway();
    const client = new PlainClient(
      new WebSocket(wsUrl(server.url, "/ws/agent"), { origin: "https://evil.example" }),
    );
    const refused = await client.ready.catch((error: { data: unknown }) => error.data);
    expect(client.status).to.equal(403);
    expect(refused).to.deep.include({ code: "forbidden" });
    await server.close();
  });

  it("disconnects a flood with rate_limited while a polite client is served", async () => {
    const server = await startGateway({
      WS_RATE_LIMIT_PER_SEC: "20",
      WS_RATE_LIMIT_DISCONNECT_AFTER: "1",
    });
    const flooder = await open(server.url, "/ws/agent");
    const polite = await open(server.url, "/ws/agent");
    const closed = new Promise<number>((resolve) => flooder.client.ws.once("close", resolve));
    const flood = setInterval(() => {
      for (let i = 0; i < 50; i += 1) flooder.client.sendRaw('{"type":"ping"}');
    }, 5);
    expect(await closed).to.equal(1008);
    clearInterval(flood);
    expect((await request(polite.client, "ping", {})).ok).to.equal(true);
    polite.client.close();
    await server.close();
  });

  it("cuts off a client that stops reading over WS_MAX_BUFFERED_BYTES, while its session streams on", async () => {
    const answerTokens = 60_000;
    const server = await startGateway(
      // A frame per token: the most output per token a client can be sent.
      { WS_MAX_BUFFERED_BYTES: String(1024 * 1024), WS_STREAM_COALESCE_MAX_CHARS: "1" },
      { agentModel: { model: new BenchChatModel(50), vendor: "demo" } },
    );
    const reader = await connectAs("ws", server.url);
    const sessionId = reader.connected.session_id;
    const slow = await open(server.url, `/ws/agents/${sessionId}`);
    const slowId = slow.connected.connection_id;
    (slow.client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const end = nextEvent<{ total_content: string }>(reader.socket, "stream_end");
    const ack = await request(reader.socket, "message", { content: benchPrompt(answerTokens) });
    expect(ack.ok).to.equal(true);
    expect((await end).total_content.length).to.equal(answerTokens * 4);
    await waitFor(async () =>
      (await server.gateway.state.connections.sessionConnections(sessionId)).every(
        (c) => c.id !== slowId,
      ),
    );
    slow.client.ws.terminate();
    reader.socket.close();
    await server.close();
  });
});

describe("plain WebSocket heartbeat", function () {
  this.timeout(20_000);

  it("drops a socket that answers no ping, and keeps one that does", async () => {
    const server = await startGateway({
      WS_HEARTBEAT_INTERVAL: "0.2",
      WS_HEARTBEAT_TIMEOUT: "0.6",
    });
    const alive = await open(server.url, "/ws/agent");
    // autoPong off: this client hears the pings and never answers.
    const silent = await open(server.url, "/ws/agent", { autoPong: false });
    const pinged = new Promise((resolve) => silent.client.ws.once("ping", resolve));
    const silentClosed = new Promise((resolve) => silent.client.ws.once("close", resolve));
    await pinged;
    await silentClosed;
    expect(alive.client.connected).to.equal(true);
    expect((await request(alive.client, "ping", {})).ok).to.equal(true);
    alive.client.close();
    await server.close();
  });
});
