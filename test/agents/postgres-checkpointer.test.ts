import { expect } from "chai";
import { HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { buildAgentGraph, createCheckpointer, DemoChatModel } from "../../src/agents/index.js";
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

  function ask(saver: PostgresSaver, text: string) {
    const graph = buildAgentGraph({
      model: new DemoChatModel({ tokenDelayMs: 0 }),
      tools: gatewayTools(),
      checkpointer: saver,
    });
    return collect(
      graph.streamEvents(
        { messages: [new HumanMessage(text)] },
        { version: "v2", configurable: { thread_id: "session-1" } },
      ),
    );
  }

  it("keeps a conversation across a restart", async () => {
    const first = await createCheckpointer(databaseUrl);
    expect(first.saver).to.be.instanceOf(PostgresSaver);
    await ask(
      first.saver as PostgresSaver,
      "Please remember: the spare key is under the blue pot.",
    );
    await first.close();

    // A new saver on the same database, as after a gateway restart; setup() must cope with existing tables.
    const second = await createCheckpointer(databaseUrl);
    try {
      const events = await ask(second.saver as PostgresSaver, "what did I say before?");
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
