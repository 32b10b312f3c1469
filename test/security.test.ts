import { createConnection } from "node:net";
import { expect } from "chai";
import { SignJWT } from "jose";
import { io as connectClient } from "socket.io-client";
import { connect, nextEvent, refusal, request, startGateway } from "./support/gateway.js";
import { closeOf, connectAs, TRANSPORTS, type Transport } from "./support/clients.js";
import { closed, connectThenVanish, framesOf, openEngine } from "./support/raw-engine.js";
import { startRedisServer } from "./support/redis-server.js";
import { waitFor } from "./support/wait-for.js";

const SECRET = "a-test-secret-that-is-long-enough-for-hs256";
const API_KEY = "security-test-api-key-0123456789";

/** How each transport reports a connection closed for its expired token (1008: policy). */
const EXPIRY_CLOSE: Record<Transport, string> = {
  socketio: "io server disconnect",
  ws: "1008 token_expired",
};

function token(claims: Record<string, unknown>, expiresIn: string | number | null = "5m") {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt();
  if (expiresIn !== null) jwt.setExpirationTime(expiresIn);
  return jwt.sign(new TextEncoder().encode(SECRET));
}

async function statistics(url: string, apiKey?: string) {
  const res = await fetch(`${url}/ws/statistics`, {
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
  });
  return (await res.json()) as {
    active_connections: number;
    connections_visible: boolean;
    connections?: Array<{ session_id: string }>;
  };
}

/** Drops `count` handshakes between CONNECT and its answer, `parallel` at a time. */
async function dropHandshakes(url: string, count: number, auth: () => Promise<object> | object) {
  const parallel = 50;
  for (let done = 0; done < count; done += parallel) {
    await Promise.all(
      Array.from({ length: Math.min(parallel, count - done) }, async () =>
        connectThenVanish(url, { ...(await auth()) }),
      ),
    );
  }
}

describe("security", () => {
  describe("admission slots", () => {
    it("never leaks a slot when thousands of JWT handshakes are dropped mid-admission", async function () {
      this.timeout(60_000);
      const server = await startGateway({
        AUTH_JWT_SECRET: SECRET,
        WS_MAX_CONNECTIONS: "50",
        API_KEY,
      });
      const jwt = await token({ sub: "mallory" });
      const alice = await token({ sub: "alice" });
      const first = await connect(server.url, { token: alice, session_id: "alice-session" });
      first.socket.close();
      // Alice's own flaky handshakes on her session, and Mallory's everywhere including
      // hers and the one Alice has not used yet.
      const kinds = [
        { token: alice, session_id: "alice-session" },
        { token: jwt, session_id: "alice-session" },
        { token: jwt, session_id: "alice-next" },
        { token: jwt },
      ];
      await dropHandshakes(server.url, 2000, () => kinds[Math.floor(Math.random() * 4)]!);
      await waitFor(async () => (await statistics(server.url)).active_connections === 0, 10_000);
      const owner = await connect(server.url, { token: alice, session_id: "alice-session" });
      expect(owner.connected.session_id).to.equal("alice-session");
      const next = await connect(server.url, { token: alice, session_id: "alice-next" });
      expect(next.connected.session_id).to.equal("alice-next");
      const full = await Promise.all(
        Array.from({ length: 48 }, async () => connect(server.url, { token: alice })),
      );
      expect((await refusal(server.url, { token: alice })).code).to.equal("server_full");
      for (const c of [owner, next, ...full]) c.socket.close();
      await server.close();
    });

    it("never leaks a slot in Redis when handshakes are dropped mid-admission", async function () {
      this.timeout(60_000);
      const redis = await startRedisServer();
      const server = await startGateway({ REDIS_URL: redis.url, WS_MAX_CONNECTIONS: "20" });
      try {
        await dropHandshakes(server.url, 1000, () => ({ session_id: "shared-session" }));
        await waitFor(async () => (await statistics(server.url)).active_connections === 0, 10_000);
        const all = await Promise.all(
          Array.from({ length: 5 }, () => connect(server.url, { session_id: "shared-session" })),
        );
        for (const c of all) c.socket.close();
      } finally {
        await server.close();
        await redis.stop();
      }
    });
  });

  describe("what strangers can see", () => {
    it("shows counts only to anonymous callers, and connections and sessions to the API key", async () => {
      const server = await startGateway({ API_KEY });
      const { socket, connected } = await connect(server.url);
      const open = await statistics(server.url);
      expect(open).to.deep.include({ active_connections: 1, connections_visible: false });
      expect(open).not.to.have.property("connections");
      expect(JSON.stringify(open)).not.to.contain(connected.session_id);
      const wrongKey = await statistics(server.url, "not-the-key-at-all");
      expect(wrongKey).not.to.have.property("connections");
      const full = await statistics(server.url, API_KEY);
      expect(full.connections?.map((c) => c.session_id)).to.deep.equal([connected.session_id]);

      const sessionUrl = `${server.url}/api/sessions/${connected.session_id}`;
      expect((await fetch(sessionUrl)).status).to.equal(401);
      const withKey = await fetch(sessionUrl, { headers: { authorization: `Bearer ${API_KEY}` } });
      expect(withKey.status).to.equal(200);
      socket.close();
      await server.close();
    });

    it("takes only unguessable anonymous session ids with WS_SESSION_IDS=strong", async () => {
      const server = await startGateway({ WS_SESSION_IDS: "strong" });
      expect((await refusal(server.url, { session_id: "session-1a2b3c4d" })).code).to.equal(
        "invalid_session_id",
      );
      const issued = await connect(server.url);
      const again = await connect(server.url, { session_id: issued.connected.session_id });
      const long = await connect(server.url, { session_id: "Xq3_9vLk2PzR8mWc1YtB7nHa" });
      for (const c of [issued, again, long]) c.socket.close();
      await server.close();
    });
  });

  describe("tokens", () => {
    it("refuses tokens without exp unless AUTH_ALLOW_NO_EXP, and oversized claims", async () => {
      const server = await startGateway({ AUTH_JWT_SECRET: SECRET });
      expect(await refusal(server.url, { token: await token({ sub: "ada" }, null) })).to.deep.equal(
        { code: "unauthorized", message: "Authentication failed: the token has no expiry (exp)" },
      );
      const longSub = await token({ sub: "a".repeat(300) });
      expect((await refusal(server.url, { token: longSub })).message).to.contain("subject");
      const badProjects = await token({ sub: "ada", projects: ["ok", "../../etc/passwd"] });
      expect((await refusal(server.url, { token: badProjects })).message).to.contain("projects");
      const huge = await token({
        sub: "ada",
        projects: Array.from({ length: 2000 }, (_, i) => `p${i}`),
      });
      expect((await refusal(server.url, { token: huge })).message).to.contain("longer than 8192");
      await server.close();

      const lenient = await startGateway({ AUTH_JWT_SECRET: SECRET, AUTH_ALLOW_NO_EXP: "true" });
      const { socket } = await connect(lenient.url, { token: await token({ sub: "ada" }, null) });
      socket.close();
      await lenient.close();
    });

    for (const transport of TRANSPORTS) {
      it(`tells a connection its token expired, then disconnects it (${transport})`, async function () {
        this.timeout(10_000);
        const server = await startGateway({ AUTH_JWT_SECRET: SECRET });
        const expiresAt = Math.floor(Date.now() / 1000) + 2;
        const { socket } = await connectAs(transport, server.url, {
          token: await token({ sub: "ada" }, expiresAt),
        });
        const events: string[] = [];
        socket.onAny((type: string) => events.push(type));
        const notice = nextEvent<{ expired_at: number }>(socket, "token_expired");
        const reason = closeOf(socket);
        expect((await notice).expired_at).to.equal(expiresAt);
        expect(await reason).to.equal(EXPIRY_CLOSE[transport]);
        expect(events).to.deep.equal(["token_expired"]);
        await server.close();
      });
    }
  });

  describe("origins", () => {
    it("refuses a foreign browser origin on both transports when CORS_ORIGINS is empty", async () => {
      const server = await startGateway();
      const evil = { extraHeaders: { origin: "http://evil.example" } };
      for (const transports of [["websocket"], ["polling"]]) {
        const error = await new Promise<Error>((resolve) => {
          const socket = connectClient(server.url, {
            ...evil,
            transports,
            forceNew: true,
            reconnection: false,
          });
          socket.once("connect_error", (e) => {
            socket.close();
            resolve(e);
          });
          socket.once("connect", () => resolve(new Error("accepted")));
        });
        expect(error.message, transports[0]).not.to.equal("accepted");
      }
      await expectRefusedUpgrade(server.url, "http://evil.example");
      const same = await connect(server.url, {}, { extraHeaders: { origin: server.url } });
      const noOrigin = await connect(server.url);
      same.socket.close();
      noOrigin.socket.close();
      await server.close();

      const listed = await startGateway({ CORS_ORIGINS: "https://app.example" });
      const ok = await connect(listed.url, {}, { extraHeaders: { origin: "https://app.example" } });
      ok.socket.close();
      await expectRefusedUpgrade(listed.url, "http://evil.example");
      await listed.close();
    });
  });

  describe("HTTP", () => {
    it("answers request targets no parser accepts with a 4xx, on HTTP and on the WebSocket upgrade, and keeps serving", async () => {
      const server = await startGateway({ API_KEY });
      const upgrade =
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
      // An upgrade to "http://[" made the plain endpoint's URL parser throw out of its handler.
      expect(await rawRequest(server.url, "http://[", upgrade)).to.match(/^HTTP\/1\.1 404/);
      expect(await rawRequest(server.url, "/ws/agents/%E0%A4%A", upgrade)).to.match(
        /^HTTP\/1\.1 400/,
      );
      const key = `Authorization: Bearer ${API_KEY}\r\n`;
      expect(await rawRequest(server.url, "/api/sessions/%ZZ", key)).to.match(/^HTTP\/1\.1 400/);
      const { socket } = await connect(server.url);
      expect((await request(socket, "ping", {})).ok).to.equal(true);
      socket.close();
      await server.close();
    });

    it("checks the API key before reading a body, and answers a deeply nested body with 400", async () => {
      const server = await startGateway({ API_KEY });
      const url = `${server.url}/api/projects/p1/events`;
      const big = JSON.stringify({ type: "project_message", data: { x: "y".repeat(2_000_000) } });
      const stranger = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: big,
      });
      expect(stranger.status).to.equal(401);
      const depth = 100_000;
      const nested = `{"type":"project_message","data":{"x":${"[".repeat(depth)}${"]".repeat(depth)}}}`;
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
        body: nested,
      });
      expect(res.status).to.equal(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal(
        "invalid_payload",
      );
      const fine = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({ type: "project_message", data: { text: "hi" } }),
      });
      expect(fine.status).to.equal(202);
      await server.close();
    });
  });

  describe("payloads", () => {
    it("refuses a deeply nested event payload with invalid_payload and keeps the connection", async () => {
      const server = await startGateway();
      // Written by hand: the real client cannot even encode this (its binary scan recurses).
      const ws = await openEngine(server.url);
      const frames = framesOf(ws);
      ws.send("40");
      await frames.next((f) => f.startsWith("40"));
      const depth = 10_000;
      const nested = `${"[".repeat(depth)}"bottom"${"]".repeat(depth)}`;
      ws.send(`421["message",{"content":"hi","metadata":{"x":${nested}}}]`);
      const ack = JSON.parse((await frames.next((f) => f.startsWith("431"))).slice(3)) as [
        { ok: boolean; error: { code: string; message: string } },
      ];
      expect(ack[0].error).to.deep.include({ code: "invalid_payload" });
      expect(ack[0].error.message).to.contain("deeper than 32");
      ws.send('422["ping",{}]');
      expect(await frames.next((f) => f.startsWith("432"))).to.contain('"ok":true');
      ws.terminate();
      await server.close();
    });
  });

  describe("half-open transports", () => {
    it("bounds transports that never send CONNECT and closes them after WS_CONNECT_TIMEOUT", async function () {
      this.timeout(15_000);
      const server = await startGateway({
        WS_MAX_PENDING_HANDSHAKES: "20",
        WS_CONNECT_TIMEOUT: "1",
      });
      const idle = await Promise.all(Array.from({ length: 20 }, () => openEngine(server.url)));
      let refused: Error | undefined;
      await openEngine(server.url).catch((error: Error) => (refused = error));
      expect(refused?.message).to.match(/HTTP (400|403)/);
      await Promise.all(idle.map(closed));
      const { socket } = await connect(server.url);
      expect((await request(socket, "ping", {})).ok).to.equal(true);
      socket.close();
      await server.close();
    });
  });
});

/** Sends one raw request with `target` as written and resolves with the status line. */
function rawRequest(url: string, target: string, headers: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = createConnection(Number(port), hostname, () =>
      socket.write(`GET ${target} HTTP/1.1\r\nHost: ${hostname}\r\n${headers}\r\n`),
    );
    let received = "";
    socket.on("data", (data: Buffer) => {
      received += data.toString("latin1");
      if (received.includes("\r\n")) {
        socket.destroy();
        resolve(received.slice(0, received.indexOf("\r\n")));
      }
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error(`no answer to ${target}`)));
  });
}

/** A browser-style WebSocket upgrade from `origin` must get an HTTP refusal, not 101. */
async function expectRefusedUpgrade(url: string, origin: string) {
  let error: Error | undefined;
  await openEngine(url, { origin }).then(
    (ws) => ws.terminate(),
    (e: Error) => (error = e),
  );
  expect(error?.message).to.match(/HTTP (400|403)/);
}
