import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { createClient } from "redis";
import { sessionKeyOf } from "../src/auth/principal.js";
import { createLogger } from "../src/core/logger.js";
import { createMemoryState } from "../src/state/memory/memory-state.js";
import { createRedisState, type RedisState } from "../src/state/redis/redis-state.js";
import { RedisStreamStore } from "../src/state/redis/redis-streams.js";
import type {
  ConnectionInfo,
  ConnectionLimits,
  GatewayState,
  StreamEvent,
  StreamRef,
} from "../src/state/types.js";
import { startRedisServer, type PrivateRedis } from "./support/redis-server.js";

const log = createLogger({ level: "error", format: "json" });
const limits: ConnectionLimits = {
  maxConnections: 100,
  maxConnectionsPerSession: 5,
  ownerTtlMs: 60_000,
  maxSessions: 1000,
};

interface StateOptions {
  streamMaxEvents?: number;
}

type StateFactory = (nodeId: string, options?: StateOptions) => Promise<GatewayState>;

function connection(
  id: string,
  sessionId: string,
  nodeId: string,
  userId: string | null = null,
): ConnectionInfo {
  return { id, sessionId, userId, nodeId, connectedAt: Date.now() };
}

/** Polls a condition until it holds, failing after a bounded time. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The same cases for every implementation: they must behave alike. */
function stateSuite(name: string, factory: () => StateFactory) {
  describe(`${name} state`, () => {
    let create: StateFactory;
    let state: GatewayState;
    const node = "node-a";
    beforeEach(async () => {
      create = factory();
      state = await create(node);
    });
    afterEach(() => state.close());

    it("refuses the 6th connection of a session with limit 5", async () => {
      for (let i = 0; i < 5; i++) {
        expect(
          await state.connections.admit(connection(`c${i}`, "s1", node), limits),
        ).to.deep.equal({ admitted: true });
      }
      expect(await state.connections.admit(connection("c5", "s1", node), limits)).to.deep.equal({
        admitted: false,
        reason: "session_full",
      });
      expect(await state.connections.admit(connection("c6", "s2", node), limits)).to.deep.equal({
        admitted: true,
      });
    });

    it("refuses a connection beyond the server cap", async () => {
      const small = { ...limits, maxConnections: 2 };
      await state.connections.admit(connection("c1", "s1", node), small);
      await state.connections.admit(connection("c2", "s2", node), small);
      expect(await state.connections.admit(connection("c3", "s3", node), small)).to.deep.equal({
        admitted: false,
        reason: "server_full",
      });
    });

    it("keeps a session to the user of its first connection", async () => {
      await state.connections.admit(connection("c1", "s1", node, "alice"), limits);
      expect(
        await state.connections.admit(connection("c2", "s1", node, "bob"), limits),
      ).to.deep.equal({ admitted: false, reason: "forbidden" });
      expect(
        await state.connections.admit(connection("c3", "s1", node, null), limits),
      ).to.deep.equal({ admitted: false, reason: "forbidden" });
      expect(
        await state.connections.admit(connection("c4", "s1", node, "alice"), limits),
      ).to.deep.equal({ admitted: true });
      await state.connections.admit(connection("c5", "s2", node, null), limits);
      expect(
        await state.connections.admit(connection("c6", "s2", node, "bob"), limits),
      ).to.deep.equal({ admitted: false, reason: "forbidden" });
    });

    it("frees the place on release", async () => {
      const one = { ...limits, maxConnections: 1, maxConnectionsPerSession: 1 };
      await state.connections.admit(connection("c1", "s1", node, "alice"), one);
      await state.connections.release("c1");
      await state.connections.release("unknown");
      expect(await state.connections.sessionConnections("s1")).to.deep.equal([]);
      expect(await state.connections.admit(connection("c2", "s2", node, "bob"), one)).to.deep.equal(
        { admitted: true },
      );
    });

    it("keeps a session to its owner after every connection left", async () => {
      await state.connections.admit(connection("c1", "s1", node, "alice"), limits);
      await state.connections.release("c1");
      expect(
        await state.connections.admit(connection("c2", "s1", node, "bob"), limits),
      ).to.deep.equal({ admitted: false, reason: "forbidden" });
      expect(
        await state.connections.admit(connection("c3", "s1", node, "alice"), limits),
      ).to.deep.equal({ admitted: true });
    });

    it("keeps anonymous and authenticated sessions apart, both ways, after they are left", async () => {
      await state.connections.admit(connection("c1", "anon", node, null), limits);
      await state.connections.admit(connection("c2", "mine", node, "alice"), limits);
      await state.connections.release("c1");
      await state.connections.release("c2");
      expect(
        await state.connections.admit(connection("c3", "anon", node, "alice"), limits),
      ).to.deep.equal({ admitted: false, reason: "forbidden" });
      expect(
        await state.connections.admit(connection("c4", "mine", node, null), limits),
      ).to.deep.equal({ admitted: false, reason: "forbidden" });
      expect(
        await state.connections.admit(connection("c5", "anon", node, null), limits),
      ).to.deep.equal({ admitted: true });
    });

    it("forgets a left session's owner after the owner TTL", async () => {
      const short = { ...limits, ownerTtlMs: 100 };
      await state.connections.admit(connection("c1", "s1", node, "alice"), short);
      await state.connections.release("c1");
      await eventually(
        async () =>
          (await state.connections.admit(connection("c2", "s1", node, "bob"), short)).admitted,
      );
    });

    it("refuses a new session past the cap of remembered sessions, never a known one", async () => {
      const two = { ...limits, maxSessions: 2 };
      await state.connections.admit(connection("c1", "s1", node, "alice"), two);
      await state.connections.admit(connection("c2", "s2", node, "bob"), two);
      await state.connections.release("c1");
      await state.connections.release("c2");
      expect(
        await state.connections.admit(connection("c3", "s3", node, "carol"), two),
      ).to.deep.equal({ admitted: false, reason: "too_many_sessions" });
      expect(
        await state.connections.admit(connection("c4", "s1", node, "alice"), two),
      ).to.deep.equal({ admitted: true });
      expect(await state.connections.admit(connection("c5", "s2", node, "bob"), two)).to.deep.equal(
        { admitted: true },
      );
      // Bob's attempt on Alice's session neither takes it nor uses up a place.
      expect(await state.connections.admit(connection("c6", "s1", node, "bob"), two)).to.deep.equal(
        { admitted: false, reason: "forbidden" },
      );
    });

    it("keeps two users' sessions of one id apart: places, runs and stream histories", async () => {
      const [alice, mallory] = ["alice", "mallory"].map((id) =>
        sessionKeyOf("s1", { id, projects: undefined, expiresAt: undefined }),
      ) as [string, string];
      const one = { ...limits, maxConnectionsPerSession: 1 };
      // Mallory first, and she stays: Alice is still admitted to her own session.
      for (const [id, key, user] of [
        ["c1", mallory, "mallory"],
        ["c2", alice, "alice"],
      ] as const) {
        expect(await state.connections.admit(connection(id, key, node, user), one)).to.deep.equal({
          admitted: true,
        });
      }
      expect((await state.connections.sessionConnections(alice)).map((c) => c.id)).to.deep.equal([
        "c2",
      ]);
      const run = { messageId: "m1", nodeId: node, startedAt: Date.now() };
      expect(await state.runs.claim({ ...run, sessionId: mallory })).to.equal(true);
      expect(await state.runs.claim({ ...run, sessionId: alice })).to.equal(true);
      const stream = { sessionId: alice, messageId: "m1" };
      state.streams.open(stream);
      state.streams.append(stream, startEvent("m1"));
      state.streams.append(stream, endEvent("m1"));
      state.streams.close(stream, 60_000);
      const foreign = { sessionId: mallory, messageId: "m1" };
      expect(await state.streams.follow(foreign, 0, () => {}, neverAborted())).to.equal(null);
      expect(await state.streams.follow(stream, 0, () => {}, neverAborted())).to.not.equal(null);
    });

    it("caps a stream's history, keeps its end, and tells a follower what was trimmed", async () => {
      const capped = await create("node-capped", { streamMaxEvents: 5 });
      try {
        capped.streams.open(M1);
        capped.streams.append(M1, startEvent("m1"));
        for (let seq = 1; seq <= 10; seq++) capped.streams.append(M1, chunkEvent("m1", seq));
        capped.streams.append(M1, endEvent("m1"));
        capped.streams.close(M1, 60_000);
        const got: StreamEvent[] = [];
        const follower = await capped.streams.follow(M1, 0, (e) => got.push(e), neverAborted());
        const kept = describeEvents(got);
        expect(kept.length).to.be.within(2, 5);
        expect(kept.at(-1)).to.equal("stream_end");
        const firstKept = Number(kept[0]?.replace("chunk ", ""));
        expect(firstKept).to.be.above(1);
        expect(kept).to.deep.equal([
          ...Array.from({ length: 11 - firstKept }, (_, i) => `chunk ${firstKept + i}`),
          "stream_end",
        ]);
        expect(follower?.trimmedBefore).to.equal(firstKept);
        // A follower that asks only for what is still stored is told nothing.
        const later = await capped.streams.follow(M1, 9, () => {}, neverAborted());
        expect(later).to.not.have.property("trimmedBefore");
      } finally {
        await capped.close();
      }
    });

    it("lists a session's connections", async () => {
      const first = connection("c1", "s1", node, "alice");
      await state.connections.admit(first, limits);
      await state.connections.admit(connection("c2", "s2", node), limits);
      const listed = await state.connections.sessionConnections("s1");
      expect(
        listed.map(({ id, sessionId, userId, nodeId, connectedAt }) => ({
          id,
          sessionId,
          userId,
          nodeId,
          connectedAt,
        })),
      ).to.deep.equal([first]);
      expect(await state.connections.sessionConnections("nobody")).to.deep.equal([]);
    });

    it("counts messages per connection and in total", async () => {
      await state.connections.admit(connection("c1", "s1", node), limits);
      await state.connections.admit(connection("c2", "s1", node), limits);
      const counted = [
        state.connections.countMessage("c1"),
        state.connections.countMessage("c1"),
        state.connections.countMessage("c2"),
      ];
      expect(counted).to.deep.equal([undefined, undefined, undefined]);
      const stats = await state.connections.statistics();
      const counts = Object.fromEntries(stats.connections.map((c) => [c.id, c.messageCount]));
      expect(counts).to.deep.equal({ c1: 2, c2: 1 });
      expect(stats.totalMessages).to.equal(3);
    });

    it("reports active and total connections with their node", async () => {
      const c1 = connection("c1", "s1", node, "alice");
      await state.connections.admit(c1, limits);
      await state.connections.admit(connection("c2", "s2", node), limits);
      await state.connections.release("c2");
      const stats = await state.connections.statistics();
      expect(stats.activeConnections).to.equal(1);
      expect(stats.totalConnections).to.equal(2);
      expect(stats.connections).to.deep.equal([{ ...c1, messageCount: 0 }]);
    });

    it("counts project members through join, leave and leaveAll", async () => {
      expect(await state.projects.join("p1", "c1")).to.equal(1);
      expect(await state.projects.join("p1", "c2")).to.equal(2);
      expect(await state.projects.join("p1", "c2")).to.equal(2);
      expect(await state.projects.join("p2", "c1")).to.equal(1);
      expect(await state.projects.members("p1")).to.equal(2);
      expect(await state.projects.leave("p1", "c2")).to.equal(1);
      expect(await state.projects.leave("p1", "c2")).to.equal(1);
      await state.projects.leaveAll("c1");
      expect(await state.projects.members("p1")).to.equal(0);
      expect(await state.projects.members("p2")).to.equal(0);
      expect(await state.projects.members("never")).to.equal(0);
    });

    it("claims, reports and releases a session's run", async () => {
      const run = { messageId: "m1", sessionId: "s1", nodeId: node, startedAt: Date.now() };
      expect(await state.runs.current("s1")).to.equal(null);
      expect(await state.runs.claim(run)).to.equal(true);
      expect(await state.runs.claim({ ...run, messageId: "m2" })).to.equal(false);
      expect(await state.runs.current("s1")).to.deep.equal(run);
      await state.runs.release("s1", "m2");
      expect(await state.runs.current("s1")).to.deep.equal(run);
      await state.runs.release("s1", "m1");
      expect(await state.runs.current("s1")).to.equal(null);
      expect(await state.runs.claim({ ...run, messageId: "m3" })).to.equal(true);
    });

    it("replays a stream's chunks after afterSeq and its end, then has nothing to follow", async () => {
      state.streams.open(M1);
      state.streams.append(M1, startEvent("m1"));
      for (let seq = 1; seq <= 4; seq++) state.streams.append(M1, chunkEvent("m1", seq));
      state.streams.append(M1, endEvent("m1"));
      state.streams.close(M1, 60_000);
      const got: StreamEvent[] = [];
      const follower = await state.streams.follow(M1, 2, (e) => got.push(e), neverAborted());
      expect(describeEvents(got)).to.deep.equal(["chunk 3", "chunk 4", "stream_end"]);
      expect(await follower?.done).to.equal("ended");
      expect(
        await state.streams.follow(
          { sessionId: "s1", messageId: "unknown" },
          0,
          () => {},
          neverAborted(),
        ),
      ).to.equal(null);
      // The same message id in another session is another stream: unknown there.
      expect(
        await state.streams.follow(
          { sessionId: "s2", messageId: "m1" },
          0,
          () => {},
          neverAborted(),
        ),
      ).to.equal(null);
    });

    it("follows a stream live with no gap and no duplicate, whenever the appends land", async () => {
      state.streams.open(M1);
      for (let seq = 1; seq <= 3; seq++) state.streams.append(M1, chunkEvent("m1", seq));
      const got: StreamEvent[] = [];
      // Appends race the replay: some land before the history read, some during, some after.
      const following = state.streams.follow(M1, 1, (e) => got.push(e), neverAborted());
      for (let seq = 4; seq <= 6; seq++) state.streams.append(M1, chunkEvent("m1", seq));
      const follower = await following;
      for (let seq = 7; seq <= 9; seq++) state.streams.append(M1, chunkEvent("m1", seq));
      await eventually(() => Promise.resolve(got.length === 8));
      state.streams.append(M1, endEvent("m1"));
      state.streams.close(M1, 60_000);
      expect(await follower?.done).to.equal("ended");
      expect(describeEvents(got)).to.deep.equal([
        ...[2, 3, 4, 5, 6, 7, 8, 9].map((seq) => `chunk ${seq}`),
        "stream_end",
      ]);
    });

    it("stops a follower when its signal aborts", async () => {
      state.streams.open(M1);
      state.streams.append(M1, chunkEvent("m1", 1));
      const abort = new AbortController();
      const got: StreamEvent[] = [];
      const follower = await state.streams.follow(M1, 0, (e) => got.push(e), abort.signal);
      abort.abort();
      expect(await follower?.done).to.equal("aborted");
      state.streams.append(M1, chunkEvent("m1", 2));
      state.streams.close(M1, 60_000);
      expect(describeEvents(got)).to.deep.equal(["chunk 1"]);
    });

    it("forgets a stream's history after its retention", async () => {
      state.streams.open(M1);
      state.streams.append(M1, endEvent("m1"));
      state.streams.close(M1, 50);
      await eventually(
        async () => (await state.streams.follow(M1, 0, () => {}, neverAborted())) === null,
      );
    });
  });
}

const neverAborted = () => new AbortController().signal;
const M1: StreamRef = { sessionId: "s1", messageId: "m1" };

/** Waits until another node's writes, sent on its own connection, are visible to `state`. */
function visible(state: GatewayState, stream: StreamRef) {
  return eventually(
    async () => (await state.streams.follow(stream, 0, () => {}, AbortSignal.abort())) !== null,
  );
}
const startEvent = (id: string): StreamEvent => ({
  type: "stream_start",
  payload: { type: "stream_start", timestamp: 1, message_id: id },
});
const chunkEvent = (id: string, seq: number): StreamEvent => ({
  type: "stream_chunk",
  payload: { type: "stream_chunk", timestamp: 1, message_id: id, seq, content: `c${seq}` },
});
const endEvent = (id: string): StreamEvent => ({
  type: "stream_end",
  payload: { type: "stream_end", timestamp: 1, message_id: id },
});
const describeEvents = (events: StreamEvent[]) =>
  events.map((e) => (e.type === "stream_chunk" ? `chunk ${e.payload.seq}` : e.type));

stateSuite("memory", () => (_nodeId, options) => Promise.resolve(createMemoryState(options)));

describe("redis state across nodes", () => {
  let redis: PrivateRedis;
  const clients: Array<ReturnType<typeof createClient>> = [];
  const readers: Array<ReturnType<typeof createClient>> = [];
  const states: GatewayState[] = [];
  const stores: RedisStreamStore[] = [];

  /** A client of its own per state, as each gateway process would have. */
  async function newClient() {
    // As in connectCluster: commands fail at once while Redis is down.
    const client = createClient({
      url: redis.url,
      socket: { reconnectStrategy: 50 },
      disableOfflineQueue: true,
    });
    client.on("error", () => {});
    await client.connect();
    clients.push(client);
    return client;
  }

  interface NodeOptions extends StateOptions {
    onRedisDown?: "refuse" | "local";
    outageBufferEvents?: number;
  }

  /** Node states sharing one key prefix, as the nodes of one cluster. */
  function cluster(nodeTtlMs = 15_000) {
    const prefix = `test-${randomUUID()}:`;
    const join = async (nodeId: string, options: NodeOptions = {}): Promise<RedisState> => {
      const client = await newClient();
      // The blocking reader is a connection of its own, as in connectCluster.
      const reader = client.duplicate();
      reader.on("error", () => {});
      await reader.connect();
      readers.push(reader);
      const streams = new RedisStreamStore({
        client,
        reader,
        nodeId,
        log,
        prefix,
        blockMs: 200,
        maxLength: options.streamMaxEvents,
        outageBufferEvents: options.outageBufferEvents,
      });
      stores.push(streams);
      const state = createRedisState({
        client,
        nodeId,
        log,
        nodeTtlMs,
        prefix,
        streams,
        onRedisDown: options.onRedisDown,
      });
      states.push(state);
      return state;
    };
    return { prefix, join };
  }

  before(async () => {
    redis = await startRedisServer();
  });
  afterEach(async () => {
    await Promise.all(states.splice(0).map((s) => s.close()));
    for (const store of stores.splice(0)) store.stop();
    // A reader may sit in a blocking read: drop it rather than wait for the reply.
    for (const reader of readers.splice(0)) reader.destroy();
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  after(() => redis.stop());

  stateSuite("redis", () => cluster().join);

  it("lets nodes sharing one Redis see each other's connections", async () => {
    const { join } = cluster();
    const [a, b] = [await join("node-a"), await join("node-b")];
    for (let i = 0; i < 3; i++) {
      await a.connections.admit(connection(`a${i}`, "s1", "node-a", "alice"), limits);
      if (i < 2) await b.connections.admit(connection(`b${i}`, "s1", "node-b", "alice"), limits);
    }
    expect(
      await b.connections.admit(connection("b9", "s1", "node-b", "alice"), limits),
    ).to.have.property("reason", "session_full");
    expect(
      await a.connections.admit(connection("a9", "s1", "node-a", "bob"), limits),
    ).to.have.property("reason", "forbidden");
    const stats = await a.connections.statistics();
    expect(stats.activeConnections).to.equal(5);
    expect(stats.connections.map((c) => `${c.id}@${c.nodeId}`)).to.have.members([
      "a0@node-a",
      "a1@node-a",
      "a2@node-a",
      "b0@node-b",
      "b1@node-b",
    ]);
    b.connections.countMessage("b0");
    expect((await b.connections.statistics()).totalMessages).to.equal(1);
    expect(await a.projects.join("p1", "a0")).to.equal(1);
    expect(await b.projects.join("p1", "b0")).to.equal(2);
    expect(
      await a.runs.claim({ messageId: "m1", sessionId: "s1", nodeId: "node-a", startedAt: 1 }),
    ).to.equal(true);
    expect(
      await b.runs.claim({ messageId: "m2", sessionId: "s1", nodeId: "node-b", startedAt: 2 }),
    ).to.equal(false);
    expect(await b.runs.current("s1")).to.include({ messageId: "m1", nodeId: "node-a" });
  });

  it("stops counting a node whose liveness expired, then purges its keys", async () => {
    const { prefix, join } = cluster(300);
    const [a, b] = [await join("node-a"), await join("node-b")];
    const one = { ...limits, maxConnectionsPerSession: 1 };
    await b.connections.admit(connection("b1", "s1", "node-b", "bob"), one);
    await b.projects.join("p1", "b1");
    await b.runs.claim({ messageId: "m1", sessionId: "s1", nodeId: "node-b", startedAt: 1 });
    expect((await a.connections.statistics()).activeConnections).to.equal(1);
    expect(await a.projects.members("p1")).to.equal(1);

    b.suspendHeartbeat();
    await eventually(async () => (await a.connections.statistics()).activeConnections === 0);
    expect(await a.connections.sessionConnections("s1")).to.deep.equal([]);
    expect(await a.projects.members("p1")).to.equal(0);
    expect(await a.runs.current("s1")).to.equal(null);
    // The session's place is free again, and the session is still Bob's.
    expect(await a.connections.admit(connection("a1", "s1", "node-a", "bob"), one)).to.deep.equal({
      admitted: true,
    });

    // node-a's own heartbeat (every 100 ms here) sweeps node-b's keys away.
    const raw = await newClient();
    await eventually(async () => (await raw.keys(`${prefix}*node-b*`)).length === 0);
    expect(
      await raw.exists([`${prefix}conn:b1`, `${prefix}conn-projects:b1`, `${prefix}run:s1`]),
    ).to.equal(0);
  });

  it("leaves on close without quitting the client it was given", async () => {
    const { join } = cluster();
    const [a, b] = [await join("node-a"), await join("node-b")];
    await b.connections.admit(connection("b1", "s1", "node-b"), limits);
    await b.projects.join("p1", "b1");
    await b.close();
    expect((await a.connections.statistics()).activeConnections).to.equal(0);
    expect(await a.projects.members("p1")).to.equal(0);
    expect(clients.every((c) => c.isReady)).to.equal(true);
  });

  it("puts a node's connections back after Redis restarts empty", async () => {
    const { join } = cluster(300);
    const [a, b] = [await join("node-a"), await join("node-b")];
    await b.connections.admit(connection("b1", "s1", "node-b", "bob"), limits);
    await b.projects.join("p1", "b1");
    await redis.restart();
    await eventually(async () => {
      try {
        return (await a.connections.statistics()).activeConnections === 1;
      } catch {
        return false;
      }
    });
    expect(await a.projects.members("p1")).to.equal(1);
    expect(
      await a.connections.admit(connection("a1", "s1", "node-a", "alice"), limits),
    ).to.have.property("reason", "forbidden");
  });

  it("stops counting a connection whose release never reached Redis, its node alive", async () => {
    const { join } = cluster(300);
    const a = await join("node-a");
    const one = { ...limits, maxConnections: 1 };
    await a.connections.admit(connection("c1", "s1", "node-a", "alice"), one);
    a.missRelease("c1");
    await eventually(async () => (await a.connections.statistics()).activeConnections === 0);
    await eventually(
      async () =>
        (await a.connections.admit(connection("c2", "s2", "node-a", "bob"), one)).admitted,
    );
    // Its session still remembers its owner.
    expect(
      await a.connections.admit(connection("c3", "s1", "node-a", "bob"), limits),
    ).to.deep.equal({ admitted: false, reason: "forbidden" });
  });

  it("admits under the node's own caps while Redis is down (local), and tells Redis once back", async () => {
    const { join } = cluster(300);
    const a = await join("node-a", { onRedisDown: "local" });
    const b = await join("node-b");
    const three = { ...limits, maxConnections: 3 };
    await a.connections.admit(connection("a1", "s1", "node-a", "alice"), three);
    await redis.stop();
    await eventually(() => Promise.resolve(clients.every((c) => !c.isReady)));

    expect(await a.connections.admit(connection("a2", "s2", "node-a", "bob"), three)).to.deep.equal(
      { admitted: true },
    );
    expect(await a.connections.admit(connection("a3", "s1", "node-a", "eve"), three)).to.deep.equal(
      { admitted: false, reason: "forbidden" },
    );
    expect(
      await a.connections.admit(connection("a4", "s3", "node-a", "carol"), three),
    ).to.deep.equal({ admitted: true });
    expect(
      await a.connections.admit(connection("a5", "s4", "node-a", "dave"), three),
    ).to.deep.equal({ admitted: false, reason: "server_full" });
    // The default refuses: the caller answers unavailable.
    const refused = await b.connections.admit(connection("b1", "s5", "node-b", "bob"), three).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(Error);

    await redis.restart();
    await eventually(async () => {
      try {
        const stats = await b.connections.statistics();
        return (
          stats.connections
            .map((c) => c.id)
            .sort()
            .join() === "a1,a2,a4"
        );
      } catch {
        return false;
      }
    });
    expect(
      await b.connections.admit(connection("b2", "s2", "node-b", "eve"), limits),
    ).to.deep.equal({ admitted: false, reason: "forbidden" });
  });

  it("holds stream writes while Redis is down and writes them in order once it is back", async () => {
    const { join } = cluster();
    const a = await join("node-a");
    const tight = await join("node-tight", { outageBufferEvents: 3 });
    const b = await join("node-b");
    const M2: StreamRef = { sessionId: "s2", messageId: "m2" };
    await redis.stop();
    await eventually(() => Promise.resolve(clients.every((c) => !c.isReady)));
    a.streams.open(M1);
    tight.streams.open(M2);
    for (const [producer, ref] of [
      [a, M1],
      [tight, M2],
    ] as const) {
      producer.streams.append(ref, startEvent(ref.messageId));
      for (let seq = 1; seq <= 6; seq++)
        producer.streams.append(ref, chunkEvent(ref.messageId, seq));
      producer.streams.append(ref, endEvent(ref.messageId));
      producer.streams.close(ref, 60_000);
    }
    await redis.restart();
    await eventually(() => Promise.resolve(stores.every((store) => store.heldWrites === 0)));

    const got: StreamEvent[] = [];
    const follower = await b.streams.follow(M1, 0, (e) => got.push(e), neverAborted());
    expect(describeEvents(got)).to.deep.equal([
      ...[1, 2, 3, 4, 5, 6].map((seq) => `chunk ${seq}`),
      "stream_end",
    ]);
    expect(follower).to.not.have.property("trimmedBefore");
    // Beyond its bound, the oldest held events were dropped; the follower is told.
    const tail: StreamEvent[] = [];
    const trimmed = await b.streams.follow(M2, 0, (e) => tail.push(e), neverAborted());
    expect(describeEvents(tail)).to.deep.equal(["chunk 5", "chunk 6", "stream_end"]);
    expect(trimmed?.trimmedBefore).to.equal(5);
  });

  it("lets another node follow a stream live, many followers on one reader", async () => {
    const { join } = cluster();
    const [a, b] = [await join("node-a"), await join("node-b")];
    a.streams.open(M1);
    a.streams.append(M1, chunkEvent("m1", 1));
    await visible(b, M1);
    const seen = [[], [], []] as StreamEvent[][];
    const followers = await Promise.all(
      seen.map((got) => b.streams.follow(M1, 0, (e) => got.push(e), neverAborted())),
    );
    for (let seq = 2; seq <= 5; seq++) a.streams.append(M1, chunkEvent("m1", seq));
    a.streams.append(M1, endEvent("m1"));
    a.streams.close(M1, 60_000);
    for (const follower of followers) expect(await follower?.done).to.equal("ended");
    for (const got of seen) {
      expect(describeEvents(got)).to.deep.equal(
        [1, 2, 3, 4, 5].map((n) => `chunk ${n}`).concat("stream_end"),
      );
    }
    expect(stores.every((store) => store.followerCount === 0)).to.equal(true);
  });

  it("ends a follower with run_lost once the producing node is dead", async () => {
    const { join } = cluster(300);
    const [a, b] = [await join("node-a"), await join("node-b")];
    a.streams.open(M1);
    for (let seq = 1; seq <= 3; seq++) a.streams.append(M1, chunkEvent("m1", seq));
    await visible(b, M1);
    const got: StreamEvent[] = [];
    const follower = await b.streams.follow(M1, 1, (e) => got.push(e), neverAborted());
    a.streams.append(M1, chunkEvent("m1", 4));
    // The producer freezes: no more heartbeats, no more appends, no close.
    a.suspendHeartbeat();
    const started = Date.now();
    expect(await follower?.done).to.equal("ended");
    expect(Date.now() - started).to.be.below(2000);
    expect(describeEvents(got)).to.deep.equal(["chunk 2", "chunk 3", "chunk 4", "error"]);
    expect(got.at(-1)?.payload).to.include({ code: "run_lost", message_id: "m1" });
    // A resume after the death gets the same, at once.
    const later: StreamEvent[] = [];
    const again = await b.streams.follow(M1, 3, (e) => later.push(e), neverAborted());
    expect(await again?.done).to.equal("ended");
    expect(describeEvents(later)).to.deep.equal(["chunk 4", "error"]);
  });
});
