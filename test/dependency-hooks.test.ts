import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import {
  AIMessage,
  AIMessageChunk,
  HumanMessage,
  type BaseMessage,
} from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { Annotation, END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { createAdapter } from "@socket.io/redis-adapter";
import { expect } from "chai";
import pg from "pg";
import { createClient } from "redis";
import { Server, type DefaultEventsMap } from "socket.io";
import { io as connectClient } from "socket.io-client";
import type { PruningPostgresSaver } from "../src/agents/index.js";
import { createCheckpointer } from "../src/agents/index.js";
import { LatestCheckpointSaver } from "../src/agents/latest-checkpoint-saver.js";
import { ConfigError, loadConfig } from "../src/core/config.js";
import { createLogger } from "../src/core/logger.js";
import { GraphCallbacks, type GraphListener } from "../src/runs/graph-callbacks.js";
import { pauseSocket } from "../src/transports/pause-reading.js";
import { SocketIoBus } from "../src/transports/socketio/bus.js";
import { rawWebSocket } from "../src/transports/socketio/output-cap.js";
import type { GatewayServer, GatewaySocket } from "../src/transports/socketio/types.js";
import { createPrivateDatabase, type PrivateDatabase } from "./support/postgres.js";
import { startRedisServer, type PrivateRedis } from "./support/redis-server.js";
import { connect, request, startGateway } from "./support/gateway.js";
import { collectStream } from "./support/streams.js";
import { waitFor } from "./support/wait-for.js";

/**
 * Each place the gateway relies on a dependency's private internals
 * (docs/dependencies.md), exercised so the test fails when the hook stops
 * firing, not only when the member disappears.
 */

/** Dependencies whose internals the gateway touches: pinned exactly, installed as pinned. */
const HOOKED = [
  "socket.io-adapter",
  "engine.io",
  "ws",
  "@langchain/core",
  "@langchain/langgraph-checkpoint",
  "@langchain/langgraph-checkpoint-postgres",
  "@socket.io/redis-adapter",
  // The engine's "packet" event, then its synchronous hand-over to the decoder
  // (src/transports/socketio/packet-gate.ts; tested in test/abuse.test.ts).
  "socket.io-parser",
];

describe("dependency internals: pins", () => {
  it("pins every hooked dependency exactly; the lock file holds that one copy, and it is installed", () => {
    const manifest = JSON.parse(readFileSync("package.json", "utf8")) as {
      dependencies: Record<string, string>;
    };
    const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as {
      packages: Record<string, { version?: string }>;
    };
    for (const name of HOOKED) {
      const pinned = manifest.dependencies[name];
      expect(pinned, `${name} is a direct dependency`).to.be.a("string");
      expect(pinned, `${name} is pinned exactly`).to.match(/^\d+\.\d+\.\d+$/);
      // A nested copy would be a second version that the hook never saw.
      const copies = Object.entries(lock.packages)
        .filter(([at]) => at === `node_modules/${name}` || at.endsWith(`/node_modules/${name}`))
        .map(([at, entry]) => `${at}@${entry.version}`);
      expect(copies, name).to.deep.equal([`node_modules/${name}@${pinned}`]);
      const installed = JSON.parse(
        readFileSync(path.join("node_modules", name, "package.json"), "utf8"),
      ) as { version: string };
      expect(installed.version, name).to.equal(pinned);
    }
  });
});

/** A Socket.IO server on a loopback port with a plain HTTP route beside it. */
async function socketIoPair(onRequest: (url: string) => string) {
  const http: HttpServer = createServer((req, res) => res.end(onRequest(req.url ?? "")));
  // No socket data, so the connection reads as any Socket.IO socket's (GatewaySocket's) engine side.
  const io = new Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, unknown>(http, {
    transports: ["websocket"],
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const serverSide = new Promise<Parameters<Parameters<typeof io.once<"connection">>[1]>>(
    (resolve) => io.once("connection", (...args) => resolve(args)),
  );
  const client = connectClient(url, { transports: ["websocket"], forceNew: true });
  const [socket] = await serverSide;
  await new Promise<void>((resolve) => client.once("connect", resolve));
  return {
    url,
    socket,
    client,
    close: async () => {
      client.close();
      await io.close();
    },
  };
}

describe("dependency internals: engine.io's websocket transport (transport.socket)", () => {
  it("pausing the `ws` socket under a Socket.IO connection stops reading: a client's event waits until resume", async () => {
    let probes = 0;
    const pair = await socketIoPair(() => String(probes));
    try {
      pair.socket.on("probe", () => (probes += 1));
      const raw = rawWebSocket(pair.socket as unknown as GatewaySocket);
      expect(raw, "engine.io's websocket transport exposes its ws socket").not.to.equal(undefined);
      pauseSocket(raw, 60_000);
      expect(raw!.isPaused).to.equal(true);
      const arrived = new Promise<void>((resolve) => pair.socket.once("probe", () => resolve()));
      pair.client.emit("probe");
      // Sent before this request was even opened: had the socket been read, the probe would be in.
      const seenMeanwhile = await (await fetch(`${pair.url}/count`)).text();
      expect(seenMeanwhile, "events read while paused").to.equal("0");
      raw!.resume();
      await arrived;
      expect(probes).to.equal(1);
    } finally {
      await pair.close();
    }
  });
});

describe("dependency internals: socket.io-adapter's _encode/apply, through @socket.io/redis-adapter", function () {
  this.timeout(20_000);
  let redis: PrivateRedis;
  const closers: (() => Promise<unknown>)[] = [];
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    await redis.stop();
  });

  async function node(): Promise<GatewayServer> {
    const pub = createClient({ url: redis.url });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    const io: GatewayServer = new Server();
    io.adapter(createAdapter(pub, sub));
    closers.push(
      async () => io.of("/").adapter.close(),
      () => pub.quit(),
      () => sub.quit(),
    );
    return io;
  }

  it("delivers a room broadcast to a plain WebSocket member, emitted on its node or on a peer", async () => {
    const [sender, receiver] = [await node(), await node()];
    await waitFor(async () => (await sender.of("/").adapter.serverCount()) === 2);
    const log = createLogger({ level: "error", format: "json" });
    const bus = new SocketIoBus(receiver, log);
    const frames: { ids: string[]; frame: string }[] = [];
    let delivered: () => void = () => undefined;
    const members = bus.acceptOtherMembers((ids, frame) => {
      frames.push({ ids: [...ids], frame });
      delivered();
    });
    members.join("plain-1", "session:s1");
    members.join("plain-2", "session:other");

    const next = () => new Promise<void>((resolve) => (delivered = resolve));
    let arrived = next();
    receiver.to("session:s1").emit("status", { status: "local" });
    await arrived;
    arrived = next();
    // The peer's broadcast crosses Redis and runs the base Adapter.broadcast on the receiver.
    sender.to("session:s1").emit("status", { status: "from a peer" });
    await arrived;
    expect(frames).to.deep.equal([
      { ids: ["plain-1"], frame: JSON.stringify({ type: "status", status: "local" }) },
      { ids: ["plain-1"], frame: JSON.stringify({ type: "status", status: "from a peer" }) },
    ]);
  });
});

/** Streams three words when streamed, answers whole when invoked without a handler that prefers streaming. */
class ThreeWords extends BaseChatModel {
  _llmType(): string {
    return "three-words";
  }

  _generate(): Promise<ChatResult> {
    const text = "one two three";
    return Promise.resolve({ generations: [{ text, message: new AIMessage(text) }] });
  }

  override async *_streamResponseChunks(
    _messages: BaseMessage[],
    _options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    for (const text of ["one ", "two ", "three"]) {
      const chunk = new ChatGenerationChunk({ message: new AIMessageChunk(text), text });
      yield chunk;
      await runManager?.handleLLMNewToken(text, undefined, undefined, undefined, undefined, {
        chunk,
      });
    }
  }
}

describe("dependency internals: @langchain/core's callback arguments", () => {
  const State = Annotation.Root({ text: Annotation<string> });
  const shout = new StateGraph(State)
    .addNode("shout", (state) => ({ text: state.text.toUpperCase() }))
    .addEdge(START, "shout")
    .addEdge("shout", END)
    .compile();

  it("hands handleChainStart (…, runId, parentRunId, tags, metadata, runType, runName), as graph-callbacks.ts reads it", async () => {
    const starts: unknown[][] = [];
    class Recorder extends BaseCallbackHandler {
      name = "recorder";
      override handleChainStart(...args: unknown[]): void {
        starts.push(args);
      }
    }
    await shout.invoke({ text: "hi" }, { callbacks: [new Recorder()], runName: "tiny" });
    const node = starts.find(
      (args) => (args[5] as Record<string, unknown> | undefined)?.["langgraph_node"] === "shout",
    );
    expect(node, "a chain start whose 6th argument is metadata naming the node").not.to.equal(
      undefined,
    );
    expect(node![7], "the 8th argument is the run name").to.equal("shout");
    expect(starts.map((args) => args[7])).to.include("tiny");
  });

  it("GraphCallbacks names the node and the run from those positions, and hears a model's tokens under invoke", async () => {
    const events: string[] = [];
    const listener: GraphListener = {
      modelStarted: () => events.push("model started"),
      modelEnded: () => events.push("model ended"),
      token: (text, node) => events.push(`token ${node}`),
      nodeStarted: (node, runName) => events.push(`node ${node} ${runName}`),
      toolStarted: () => undefined,
      toolEnded: () => undefined,
      messageAdded: () => undefined,
      nodeFailed: () => undefined,
      customEvent: () => undefined,
    };
    const model = new ThreeWords({});
    const talk = new StateGraph(MessagesAnnotation)
      .addNode("talk", async (state) => ({ messages: [await model.invoke(state.messages)] }))
      .addEdge(START, "talk")
      .addEdge("talk", END)
      .compile();
    const input = { messages: [new HumanMessage("tell me about the weather")] };
    await talk.invoke(input, {
      callbacks: [new GraphCallbacks(listener)],
      runName: "conversation",
    });
    expect(events).to.include.members(["node agent conversation", "node talk talk"]);
    // lc_prefer_streaming: the invoked model streams, so its tokens are heard one by one…
    expect(
      events.filter((e) => e.startsWith("token")),
      "handleChatModelStart's metadata names the node",
    ).to.deep.equal(["token talk", "token talk", "token talk"]);
    // …which a handler without it does not get: the model answers whole.
    const plainTokens: string[] = [];
    class Plain extends BaseCallbackHandler {
      name = "plain";
      override handleLLMNewToken(token: string): void {
        plainTokens.push(token);
      }
    }
    await talk.invoke(input, { callbacks: [new Plain()] });
    expect(plainTokens).to.deep.equal([]);
    expect(events.filter((e) => e.startsWith("model"))).to.deep.equal([
      "model started",
      "model ended",
    ]);
  });
});

describe("dependency internals: MemorySaver's storage layout", () => {
  it("keys a checkpoint's writes by JSON [thread, ns, id] and stores storage[thread][ns][id], as LatestCheckpointSaver deletes them", async () => {
    const saver = new LatestCheckpointSaver({ ttlMs: 60_000, maxThreads: 10 });
    try {
      const graph = new StateGraph(MessagesAnnotation)
        .addNode("echo", () => ({ messages: [] }))
        .addEdge(START, "echo")
        .addEdge("echo", END)
        .compile({ checkpointer: saver });
      const config = { configurable: { thread_id: "t1" } };
      await graph.invoke({ messages: [new HumanMessage("one")] }, config);
      const saved = await saver.getTuple(config);
      const id = saved!.config.configurable!["checkpoint_id"] as string;
      expect(Object.keys(saver.storage["t1"]![""]!)).to.deep.equal([id]);
      // A write to the stored checkpoint lands under the key LatestCheckpointSaver computes.
      await saver.putWrites(saved!.config, [["messages", []]], "task-1");
      expect(Object.keys(saver.writes)).to.deep.equal([JSON.stringify(["t1", "", id])]);
      await saver.deleteThread("t1");
      expect(saver.storage).not.to.have.property("t1");
      expect(Object.keys(saver.writes), "writes deleted by their key").to.deep.equal([]);
    } finally {
      saver.close();
    }
  });
});

describe("dependency internals: PostgresSaver's tables, in a schema of our own", function () {
  this.timeout(30_000);
  const SCHEMA = "gateway_checkpoints";
  let database: PrivateDatabase;
  before(async () => {
    database = await createPrivateDatabase();
  });
  after(() => database.drop());

  async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  const rowsOf = async (thread: string) => {
    const [row] = await query<{ n: string }>(
      `SELECT (SELECT count(*) FROM "${SCHEMA}".checkpoints WHERE thread_id = $1)
            + (SELECT count(*) FROM "${SCHEMA}".checkpoint_writes WHERE thread_id = $1)
            + (SELECT count(*) FROM "${SCHEMA}".checkpoint_blobs WHERE thread_id = $1) AS n`,
      [thread],
    );
    return Number(row?.n);
  };

  it("refuses a schema name that is not a plain identifier (it is written into SQL)", () => {
    expect(loadConfig({}).agent.checkpointDatabaseSchema).to.equal("public");
    for (const bad of ['x"; DROP TABLE checkpoints; --', "a.b", "1abc", "a".repeat(64)]) {
      expect(() => loadConfig({ CHECKPOINT_DATABASE_SCHEMA: bad }), bad).to.throw(ConfigError);
    }
  });

  it("creates the tables there, prunes and sweeps them there, and leaves public alone", async () => {
    const checkpointer = await createCheckpointer(
      database.url,
      { ttlMs: 3_600_000, maxThreads: 10 },
      { schema: SCHEMA },
    );
    const saver = checkpointer.saver as unknown as PruningPostgresSaver;
    try {
      const graph = new StateGraph(MessagesAnnotation)
        .addNode("echo", (state) => ({ messages: [`heard ${state.messages.length}`] }))
        .addEdge(START, "echo")
        .addEdge("echo", END)
        .compile({ checkpointer: saver });
      const say = (thread: string, text: string) =>
        graph.invoke(
          { messages: [new HumanMessage(text)] },
          { configurable: { thread_id: thread } },
        );
      const tables = await query<{ table_schema: string; table_name: string }>(
        `SELECT table_schema, table_name FROM information_schema.tables WHERE table_name LIKE 'checkpoint%'`,
      );
      expect(new Set(tables.map((t) => t.table_schema))).to.deep.equal(new Set([SCHEMA]));

      for (let i = 1; i <= 3; i++) await say("kept", `note ${i}`);
      const afterThree = await rowsOf("kept");
      for (let i = 4; i <= 6; i++) await say("kept", `note ${i}`);
      expect(await rowsOf("kept"), "the pruning statements hit the saver's tables").to.equal(
        afterThree,
      );
      const [{ n = "" } = {}] = await query<{ n: string }>(
        `SELECT count(*) AS n FROM "${SCHEMA}".checkpoints WHERE thread_id = 'kept'`,
      );
      expect(Number(n), "one checkpoint per thread").to.equal(1);
      const last = await say("kept", "and now?");
      expect(last.messages, "the whole conversation survived pruning").to.have.length(14);

      await say("idle", "hello");
      await query(
        `UPDATE "${SCHEMA}".checkpoints SET checkpoint = jsonb_set(checkpoint, '{ts}', '"2000-01-01T00:00:00.000Z"') WHERE thread_id = 'idle'`,
      );
      expect(await saver.deleteIdleThreads()).to.equal(1);
      expect(await rowsOf("idle")).to.equal(0);
      expect(await rowsOf("kept")).to.be.greaterThan(0);
    } finally {
      await checkpointer.close();
    }
  });

  it("is where a gateway with CHECKPOINT_DATABASE_SCHEMA keeps its conversations", async () => {
    const schema = "gateway_settings_schema";
    const running = await startGateway({
      CHECKPOINT_DATABASE_URL: database.url,
      CHECKPOINT_DATABASE_SCHEMA: schema,
      DEMO_TOKEN_DELAY_MS: "0",
    });
    const { socket } = await connect(running.url, { session_id: "schema-session" });
    try {
      const id = randomUUID();
      const stream = collectStream(socket, () => id);
      const ack = await request(socket, "message", { content: "remember this", message_id: id });
      expect(ack.ok).to.equal(true);
      expect((await stream).end.type).to.equal("stream_end");
      const rows = await query<{ thread_id: string }>(
        `SELECT thread_id FROM "${schema}".checkpoints`,
      );
      expect(rows, "the conversation's checkpoint").to.have.length(1);
    } finally {
      socket.close();
      await running.close();
    }
  });
});
