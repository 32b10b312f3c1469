import { expect } from "chai";
import { emptyCheckpoint, type Checkpoint } from "@langchain/langgraph";
import {
  createCheckpointer,
  DEFAULT_THREAD_BOUNDS,
  type Checkpointer,
} from "../../src/agents/index.js";
import { createPrivateDatabase, type PrivateDatabase } from "../support/postgres.js";

/** A checkpoint with a chosen id: ids sort by creation time, as LangGraph's uuid6 ids do. */
function checkpoint(id: string): Checkpoint {
  return { ...emptyCheckpoint(), id };
}

const at = (thread_id: string, checkpoint_id?: string) => ({
  configurable: { thread_id, checkpoint_ns: "", ...(checkpoint_id ? { checkpoint_id } : {}) },
});

/**
 * LangGraph stores a task's writes (an interrupt) without waiting for the put
 * of the checkpoint they belong to, so they may land first, even while the
 * previous checkpoint's put prunes the thread. The interrupt must survive.
 */
function pendingWritesSuite(name: string, open: () => Promise<Checkpointer>) {
  describe(`${name}: writes that arrive before their checkpoint`, () => {
    let checkpointer: Checkpointer;
    before(async () => {
      checkpointer = await open();
    });
    after(() => checkpointer.close());

    it("keeps them through the previous checkpoint's pruning, and drops those of replaced checkpoints", async () => {
      const { saver } = checkpointer;
      const thread = `early-writes-${name}`;
      await saver.put(
        at(thread),
        checkpoint("00000001"),
        { source: "loop", step: 0, parents: {} },
        {},
      );
      await saver.putWrites(at(thread, "00000002"), [["__interrupt__", { value: 1 }]], "task-1");
      await saver.put(
        at(thread),
        checkpoint("00000001"),
        { source: "loop", step: 0, parents: {} },
        {},
      );
      await saver.put(
        at(thread),
        checkpoint("00000002"),
        { source: "loop", step: 1, parents: {} },
        {},
      );
      const tuple = await saver.getTuple(at(thread));
      expect(tuple?.checkpoint.id).to.equal("00000002");
      expect(tuple?.pendingWrites?.map(([, channel]) => channel)).to.deep.equal(["__interrupt__"]);

      await saver.putWrites(at(thread, "00000001"), [["late", 1]], "task-0");
      const late = await saver.getTuple(at(thread, "00000001"));
      expect(late?.pendingWrites ?? []).to.deep.equal([]);
    });
  });
}

pendingWritesSuite("memory", () => createCheckpointer(undefined, DEFAULT_THREAD_BOUNDS));

describe("PostgreSQL", () => {
  let database: PrivateDatabase;
  before(async () => {
    database = await createPrivateDatabase();
  });
  after(() => database.drop());
  pendingWritesSuite("postgres", () => createCheckpointer(database.url, DEFAULT_THREAD_BOUNDS));
});
