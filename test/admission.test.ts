import { expect } from "chai";
import { SignJWT } from "jose";
import {
  asOperator,
  connect,
  nextEvent,
  OPERATOR_KEY,
  recordEvents,
  refusal,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";
import { connectAs, refusalAs, TRANSPORTS, type Transport } from "./support/clients.js";
import { startRedisServer } from "./support/redis-server.js";

const SECRET = "a-test-secret-that-is-long-enough-for-hs256";

function token(claims: Record<string, unknown>, secret = SECRET, expiresIn = "5m") {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

for (const transport of TRANSPORTS) {
  describe(`admission over ${transport}`, () => {
    it("refuses the 6th connection of a session with session_full, and admits again after one leaves", async () => {
      const server = await startGateway();
      const first = await connectAs(transport, server.url);
      const sessionId = first.connected.session_id;
      const others = await Promise.all(
        Array.from({ length: 4 }, () =>
          connectAs(transport, server.url, { session_id: sessionId }),
        ),
      );
      expect(others.every((c) => c.connected.session_id === sessionId)).to.equal(true);
      expect(await refusalAs(transport, server.url, { session_id: sessionId })).to.deep.equal({
        code: "session_full",
        message: `Session ${sessionId} already has 5 connections`,
      });
      first.socket.close();
      const again = await waitForAdmission(server.url, sessionId, transport);
      again.socket.close();
      for (const c of others) c.socket.close();
      await server.close();
    });

    it("refuses connections past WS_MAX_CONNECTIONS with server_full", async () => {
      const server = await startGateway({ WS_MAX_CONNECTIONS: "2" });
      const a = await connectAs(transport, server.url);
      const b = await connectAs(transport, server.url);
      expect((await refusalAs(transport, server.url)).code).to.equal("server_full");
      expect((await request(a.socket, "ping", {})).ok).to.equal(true);
      a.socket.close();
      b.socket.close();
      await server.close();
    });

    it("refuses a malformed session id", async () => {
      const server = await startGateway();
      expect((await refusalAs(transport, server.url, { session_id: "../../etc" })).code).to.equal(
        "invalid_session_id",
      );
      // A URL carries no number: only Socket.IO's auth can send one.
      if (transport === "socketio") {
        expect((await refusal(server.url, { session_id: 42 })).code).to.equal("invalid_session_id");
      }
      await server.close();
    });

    describe("with AUTH_JWT_SECRET", () => {
      it("requires a valid HS256 token and takes the user from sub", async () => {
        const server = await startGateway({ AUTH_JWT_SECRET: SECRET });
        expect(await refusalAs(transport, server.url)).to.deep.include({ code: "unauthorized" });
        expect((await refusalAs(transport, server.url, { token: "not-a-jwt" })).code).to.equal(
          "unauthorized",
        );
        const forged = await token({ sub: "mallory" }, "another-secret-that-is-also-long-enough!!");
        expect((await refusalAs(transport, server.url, { token: forged })).code).to.equal(
          "unauthorized",
        );
        const expired = await token({ sub: "ada" }, SECRET, "-1m");
        expect(await refusalAs(transport, server.url, { token: expired })).to.deep.equal({
          code: "unauthorized",
          message: "Authentication failed: the token has expired",
        });
        const noSubject = await token({});
        expect((await refusalAs(transport, server.url, { token: noSubject })).code).to.equal(
          "unauthorized",
        );

        const { socket } = await connectAs(transport, server.url, {
          token: await token({ sub: "ada" }),
        });
        expect((await request(socket, "ping", {})).ok).to.equal(true);
        socket.close();
        await server.close();
      });

      it("limits project joins to the token's projects claim", async () => {
        const server = await startGateway({ AUTH_JWT_SECRET: SECRET });
        const { socket } = await connectAs(transport, server.url, {
          token: await token({ sub: "ada", projects: ["alpha"] }),
        });
        expect(await request(socket, "join_project", { project_id: "alpha" })).to.deep.include({
          ok: true,
        });
        const refused = await request(socket, "join_project", { project_id: "beta" });
        expect(!refused.ok && refused.error.code).to.equal("forbidden");
        const open = await connectAs(transport, server.url, { token: await token({ sub: "bob" }) });
        expect(await request(open.socket, "join_project", { project_id: "beta" })).to.deep.include({
          ok: true,
        });
        socket.close();
        open.socket.close();
        await server.close();
      });

      it("gives two users who name the same session id a session each", async () => {
        const server = await startGateway({ AUTH_JWT_SECRET: SECRET });
        const ada = await connectAs(transport, server.url, { token: await token({ sub: "ada" }) });
        const sessionId = ada.connected.session_id;
        const eve = await connectAs(transport, server.url, {
          session_id: sessionId,
          token: await token({ sub: "eve" }),
        });
        expect(eve.connected.session_id).to.equal(sessionId);
        const adaAgain = await connectAs(transport, server.url, {
          session_id: sessionId,
          token: await token({ sub: "ada" }),
        });
        expect(adaAgain.connected.session_id).to.equal(sessionId);
        ada.socket.close();
        eve.socket.close();
        adaAgain.socket.close();
        await server.close();
      });

      it("also accepts the token as an Authorization header, for clients that cannot set auth", async () => {
        const server = await startGateway({ AUTH_JWT_SECRET: SECRET });
        const { socket } = await connectAs(
          transport,
          server.url,
          {},
          {
            headers: { authorization: `Bearer ${await token({ sub: "ada" })}` },
          },
        );
        expect(socket.connected).to.equal(true);
        socket.close();
        await server.close();
      });
    });
  });
}

describe("session ownership outlives the connections", () => {
  const as = async (user: string) => ({ token: await token({ sub: user }) });

  it("refuses WS_MAX_SESSIONS + 1 new sessions with too_many_sessions, and admits the known ones", async () => {
    const server = await startGateway({ WS_MAX_SESSIONS: "2" });
    try {
      const first = await connect(server.url);
      const second = await connect(server.url);
      first.socket.close();
      second.socket.close();
      await gone(server);
      expect(await refusal(server.url, { session_id: "a-third-one" })).to.deep.equal({
        code: "too_many_sessions",
        message: "The server already remembers 2 sessions; reuse one of yours or retry later",
      });
      expect(await refusal(server.url)).to.include({ code: "too_many_sessions" });
      const back = await connect(server.url, { session_id: first.connected.session_id });
      back.socket.close();
    } finally {
      await server.close();
    }
  });

  describe("a session id is per user under JWT: nobody can claim or block another's", () => {
    it("on one gateway", async () => {
      const server = await startGateway({ AUTH_JWT_SECRET: SECRET, API_KEY: OPERATOR_KEY });
      try {
        await squat(server, server);
      } finally {
        await server.close();
      }
    });

    it("over two gateways sharing a private Redis", async () => {
      const redis = await startRedisServer();
      const gateways: RunningGateway[] = [];
      try {
        const env = { AUTH_JWT_SECRET: SECRET, REDIS_URL: redis.url, API_KEY: OPERATOR_KEY };
        gateways.push(await startGateway(env), await startGateway(env));
        const [a, b] = gateways as [RunningGateway, RunningGateway];
        await squat(a, b);
      } finally {
        await Promise.all(gateways.map((g) => g.close()));
        await redis.stop();
      }
    });
  });

  /**
   * Mallory takes Alice's session id on `first` before Alice ever used it and
   * stays; Alice then opens it on `second`: two sessions, with their own
   * streams and stream histories, and Alice is never refused.
   */
  async function squat(first: RunningGateway, second: RunningGateway) {
    const sessionId = "alice-tomorrow";
    const mallory = await connect(first.url, { session_id: sessionId, ...(await as("mallory")) });
    const heard = recordEvents(mallory.socket);
    const alice = await connect(second.url, { session_id: sessionId, ...(await as("alice")) });
    expect(alice.connected.session_id).to.equal(sessionId);

    const end = nextEvent<{ message_id: string }>(alice.socket, "stream_end");
    const start = nextEvent<{ session_id: string }>(alice.socket, "stream_start");
    const ack = await request(alice.socket, "message", { content: "hi", message_id: "m-1" });
    expect(ack.ok).to.equal(true);
    expect((await start).session_id).to.equal(sessionId);
    expect((await end).message_id).to.equal("m-1");
    // Mallory heard none of it, and cannot replay it from the history either.
    const resumed = await request(mallory.socket, "resume", { message_id: "m-1", after_seq: 0 });
    expect(!resumed.ok && resumed.error.code).to.equal("stream_expired");
    expect(heard.map((e) => e.type)).to.deep.equal([]);
    // The operator sees each user's session under its whole key.
    const detail = await fetch(
      `${second.url}/api/sessions/${encodeURIComponent(`user:alice/${sessionId}`)}`,
      asOperator,
    );
    const body = (await detail.json()) as { session_id: string; connections: unknown[] };
    expect(body).to.deep.include({ session_id: `user:alice/${sessionId}` });
    expect(body.connections).to.have.length(1);

    // Leaving does not hand the id over either way.
    mallory.socket.close();
    alice.socket.close();
    await gone(first);
    await gone(second);
    for (const [server, user] of [
      [first, "alice"],
      [second, "mallory"],
    ] as const) {
      const back = await connect(server.url, { session_id: sessionId, ...(await as(user)) });
      expect(back.connected.session_id).to.equal(sessionId);
      back.socket.close();
      await gone(server);
    }
  }
});

/** Resolves once the gateway's state counts no connection: every close was seen. */
async function gone(server: RunningGateway) {
  const deadline = Date.now() + 5000;
  while ((await server.gateway.state.connections.statistics()).activeConnections > 0) {
    if (Date.now() > deadline) throw new Error("connections still counted after 5 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The released place is freed when the server sees the close; retry until then. */
async function waitForAdmission(url: string, sessionId: string, transport: Transport = "socketio") {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      return await connectAs(transport, url, { session_id: sessionId });
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}
