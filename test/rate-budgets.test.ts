import { expect } from "chai";
import { SignJWT } from "jose";
import type { AckResponse } from "../src/core/protocol.js";
import {
  connect,
  nextEvent,
  request,
  startGateway,
  type Connected,
  type RunningGateway,
} from "./support/gateway.js";
import { startRedisServer } from "./support/redis-server.js";

const SECRET = "a-test-secret-that-is-long-enough-for-hs256";

function token(sub: string) {
  return new SignJWT({ sub })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(SECRET));
}

/** Each client sends `count` pings at once; all acks, in no particular order. */
async function burst(clients: Connected[], count: number): Promise<AckResponse[]> {
  const acks = clients.flatMap((c) =>
    Array.from({ length: count }, () => request(c.socket, "ping", {})),
  );
  return Promise.all(acks);
}

function scopes(acks: AckResponse[]): string[] {
  return acks.flatMap((a) =>
    a.ok ? [] : [`${a.error.code}:${(a.error.details as { scope: string }).scope}`],
  );
}

function closeAll(clients: Connected[]) {
  for (const c of clients) c.socket.close();
}

describe("rate budgets follow the person, not the socket", () => {
  let server: RunningGateway;
  afterEach(() => server.close());

  it("refuses a session's connections together over WS_RATE_LIMIT_PER_SESSION_PER_SEC, scope session", async () => {
    server = await startGateway({
      WS_RATE_LIMIT_PER_SEC: "10",
      WS_RATE_LIMIT_PER_SESSION_PER_SEC: "15",
    });
    const first = await connect(server.url);
    const sessionId = first.connected.session_id;
    const clients = [
      first,
      ...(await Promise.all([1, 2].map(() => connect(server.url, { session_id: sessionId })))),
    ];
    const outsider = await connect(server.url);

    // 8 each stays under the connection budget of 10; 24 together pass the session's 15.
    const acks = await burst(clients, 8);
    expect(acks.filter((a) => a.ok)).to.have.length(15);
    expect(scopes(acks)).to.deep.equal(Array(9).fill("rate_limited:session"));
    const refused = acks.find((a) => !a.ok);
    expect(!refused?.ok && refused?.error.details).to.have.property("retry_after_ms");
    expect((await request(outsider.socket, "ping", {})).ok).to.equal(true);
    closeAll([...clients, outsider]);
  });

  it("refuses a user's sessions together over WS_RATE_LIMIT_PER_USER_PER_SEC, scope user", async () => {
    server = await startGateway({
      AUTH_JWT_SECRET: SECRET,
      WS_RATE_LIMIT_PER_SEC: "10",
      WS_RATE_LIMIT_PER_USER_PER_SEC: "20",
    });
    const alice = await token("alice");
    const clients = await Promise.all(
      ["s1", "s1", "s2", "s2"].map((session_id) =>
        connect(server.url, { token: alice, session_id }),
      ),
    );
    const bob = await connect(server.url, { token: await token("bob") });

    const acks = await burst(clients, 8);
    expect(acks.filter((a) => a.ok)).to.have.length(20);
    expect(scopes(acks)).to.deep.equal(Array(12).fill("rate_limited:user"));
    expect((await request(bob.socket, "ping", {})).ok).to.equal(true);
    closeAll([...clients, bob]);
  });

  it("counts anonymous sessions from one address together, scope ip", async () => {
    server = await startGateway({
      WS_RATE_LIMIT_PER_SEC: "10",
      WS_RATE_LIMIT_PER_USER_PER_SEC: "12",
      // Not split, so the address's own budget is what refuses.
      WS_RATE_LIMIT_SHARE_ADDRESS: "false",
    });
    const clients = await Promise.all([1, 2].map(() => connect(server.url)));
    const acks = await burst(clients, 8);
    expect(acks.filter((a) => a.ok)).to.have.length(12);
    expect(scopes(acks)).to.deep.equal(Array(4).fill("rate_limited:ip"));
    closeAll(clients);
  });

  it("cuts a flooder's connections off on their share of the address before they starve a neighbour there", async function () {
    this.timeout(30_000);
    // All clients here come from 127.0.0.1, as an office behind one NAT does.
    server = await startGateway({
      WS_RATE_LIMIT_PER_SEC: "30",
      WS_RATE_LIMIT_PER_USER_PER_SEC: "60",
      WS_RATE_LIMIT_DISCONNECT_AFTER: "2",
    });
    const flooders = await Promise.all([1, 2, 3].map(() => connect(server.url)));
    const neighbour = await connect(server.url);
    const cutOff: string[] = [];
    for (const { socket } of flooders) {
      // 25 a second: under its own WS_RATE_LIMIT_PER_SEC, so only its share can stop it.
      const timer = setInterval(() => {
        for (let i = 0; i < 5; i += 1) socket.emit("ping");
      }, 200);
      socket.once("disconnect", (reason) => {
        clearInterval(timer);
        cutOff.push(reason);
      });
    }
    const neighbourAcks: AckResponse[] = [];
    // At least 3 s, and until one is cut off (at most 12 s).
    const started = Date.now();
    const elapsed = () => Date.now() - started;
    while (elapsed() < 3000 || (cutOff.length === 0 && elapsed() < 12_000)) {
      neighbourAcks.push(await request(neighbour.socket, "ping", {}));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Three connections of 25 a second would take the address's 60. A share is 60 / 4 = 15,
    // so they are cut off (until the rest fit: 60 / 2 = 30 is above 25).
    expect(scopes(neighbourAcks)).to.deep.equal([]);
    expect(neighbourAcks.length).to.be.above(10);
    expect(cutOff.length).to.be.above(0);
    expect(new Set(cutOff)).to.deep.equal(new Set(["io server disconnect"]));
    closeAll([...flooders, neighbour]);
  });

  it("reports the connection's own budget with scope connection, its details in the ack and the event", async () => {
    server = await startGateway({ WS_RATE_LIMIT_PER_SEC: "5" });
    const { socket } = await connect(server.url);
    const error = nextEvent<Record<string, unknown>>(socket, "error");
    const acks = await Promise.all(Array.from({ length: 8 }, () => request(socket, "ping", {})));
    expect(scopes(acks)).to.deep.equal(Array(3).fill("rate_limited:connection"));
    expect(await error).to.deep.include({ code: "rate_limited", request_type: "ping" });
    expect(await error)
      .to.have.nested.property("details.scope")
      .that.equals("connection");
    socket.close();
  });

  it("shares a session's budget between nodes through Redis", async () => {
    const redis = await startRedisServer();
    const env = {
      REDIS_URL: redis.url,
      WS_RATE_LIMIT_PER_SEC: "10",
      WS_RATE_LIMIT_PER_SESSION_PER_SEC: "12",
    };
    server = await startGateway(env);
    const other = await startGateway(env);
    try {
      const first = await connect(server.url);
      const second = await connect(other.url, { session_id: first.connected.session_id });
      const acks = await burst([first, second], 8);
      expect(acks.filter((a) => a.ok)).to.have.length(12);
      expect(scopes(acks)).to.deep.equal(Array(4).fill("rate_limited:session"));
      closeAll([first, second]);
    } finally {
      await Promise.all([other.close(), server.close()]);
      await redis.stop();
    }
  });
});
