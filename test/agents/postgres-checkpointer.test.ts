import { expect } from "chai";
import { HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import pg from "pg";
import {
  buildAgentGraph,
  createCheckpointer,
  DemoChatModel,
  PruningPostgresSaver,
} from "../../src/agents/index.js";
import { collect, gatewayTools, tokens } from "./support.js";
import { createPrivateDatabase, type PrivateDatabase } from "../support/postgres.js";

describe("PostgreSQL checkpointer", () => {
  let databaseUrl: string;
  let database: PrivateDatabase;
  before(async () => {
    database = await createPrivateDatabase();
    databaseUrl = database.url;
  });
  after(() => database.drop());

  function ask(saver: PostgresSaver, text: string, threadId = "session-1") {
    const graph = buildAgentGraph({
      model: new DemoChatModel({ tokenDelayMs: 0 }),
      tools: gatewayTools(),
      checkpointer: saver,
    });
    return collect(
      graph.streamEvents(
        { messages: [new HumanMessage(text)] },
        { version: "v2", configurable: { thread_id: threadId } },
      ),
    );
  }

  /** Rows and bytes one thread holds, across the checkpointer's three tables. */
  async function footprint(threadId: string) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ rows: string; bytes: string }>(
        `SELECT sum(n)::text AS rows, sum(b)::text AS bytes FROM (
           SELECT count(*) n, coalesce(sum(pg_column_size(c.*)), 0) b FROM checkpoints c WHERE thread_id = $1
           UNION ALL SELECT count(*), coalesce(sum(pg_column_size(w.*)), 0) FROM checkpoint_writes w WHERE thread_id = $1
           UNION ALL SELECT count(*), coalesce(sum(pg_column_size(b.*)), 0) FROM checkpoint_blobs b WHERE thread_id = $1
         ) t`,
        [threadId],
      );
      return { rows: Number(rows[0]?.rows), bytes: Number(rows[0]?.bytes) };
    } finally {
      await client.end();
    }
  }

  async function makeIdle(threadId: string) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(
        `UPDATE checkpoints SET checkpoint = jsonb_set(checkpoint, '{ts}', '"2000-01-01T00:00:00.000Z"') WHERE thread_id = $1`,
        [threadId],
      );
    } finally {
      await client.end();
    }
  }

  it("keeps the rows of a thread constant as it grows; the plain saver's grow with every message", async () => {
    const pruning = await createCheckpointer(databaseUrl);
    const plainPool = new pg.Pool({ connectionString: databaseUrl });
    const plain = new PostgresSaver(plainPool);
    try {
      expect(pruning.saver).to.be.instanceOf(PruningPostgresSaver);
      const text = (i: number) => `note ${i}: ${"lorem ipsum ".repeat(200)}`;
      for (let i = 1; i <= 3; i++) {
        await ask(pruning.saver as unknown as PostgresSaver, text(i), "pruned");
        await ask(plain, text(i), "plain");
      }
      const pruned3 = await footprint("pruned");
      const plain3 = await footprint("plain");
      for (let i = 4; i <= 6; i++) {
        await ask(pruning.saver as unknown as PostgresSaver, text(i), "pruned");
        await ask(plain, text(i), "plain");
      }
      const pruned6 = await footprint("pruned");
      const plain6 = await footprint("plain");
      expect(pruned6.rows).to.equal(pruned3.rows);
      expect(plain6.rows).to.be.greaterThan(plain3.rows);
      expect(pruned6.bytes).to.be.lessThan(plain6.bytes / 2);
      const events = await ask(
        pruning.saver as unknown as PostgresSaver,
        "what did I say before?",
        "pruned",
      );
      expect(tokens(events).join("")).to.include("note 6:");
    } finally {
      await pruning.close();
      await plainPool.end();
    }
  });

  it("deletes threads idle past AGENT_THREAD_TTL and keeps the others", async () => {
    const checkpointer = await createCheckpointer(databaseUrl, {
      ttlMs: 3_600_000,
      maxThreads: 10,
    });
    const saver = checkpointer.saver as unknown as PruningPostgresSaver;
    try {
      await ask(saver, "Hello from an abandoned session.", "abandoned");
      await ask(saver, "Hello from a live session.", "live");
      await makeIdle("abandoned");
      expect(await saver.deleteIdleThreads()).to.equal(1);
      expect((await footprint("abandoned")).rows).to.equal(0);
      expect((await footprint("live")).rows).to.be.greaterThan(0);
      const events = await ask(saver, "what did I say before?", "live");
      expect(tokens(events).join("")).to.include('"Hello from a live session."');
    } finally {
      await checkpointer.close();
    }
  });

  it("keeps a conversation across a restart", async () => {
    const first = await createCheckpointer(databaseUrl);
    expect(first.saver).to.be.instanceOf(PostgresSaver);
    await ask(
      first.saver as unknown as PostgresSaver,
      "Please remember: the spare key is under the blue pot.",
    );
    await first.close();

    // A new saver on the same database, as after a gateway restart; setup() must cope with existing tables.
    const second = await createCheckpointer(databaseUrl);
    try {
      const events = await ask(second.saver as unknown as PostgresSaver, "what did I say before?");
      expect(tokens(events).join("")).to.include(
        '"Please remember: the spare key is under the blue pot."',
      );
      const saved = await second.saver.getTuple({ configurable: { thread_id: "session-1" } });
      const messages = saved?.checkpoint.channel_values["messages"] as BaseMessage[];
      expect(messages.map((m) => m.getType())).to.deep.equal(["human", "ai", "human", "ai"]);
    } finally {
      await second.close();
    }
  });

  it("fails clearly when the database does not exist", async () => {
    const missing = new URL(databaseUrl);
    missing.pathname = `${missing.pathname}_missing`;
    let caught: unknown;
    try {
      await createCheckpointer(missing.toString());
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(Error);
    expect((caught as Error).message).to.match(/does not exist/);
  });
});
