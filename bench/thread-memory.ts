/**
 * Bytes one conversation costs after many long messages, with LangGraph's
 * MemorySaver (every checkpoint a full copy of the thread) and with the
 * gateway's LatestCheckpointSaver, in the same process: heap and ArrayBuffer growth after
 * a forced GC, and the bytes the saver holds serialised.
 *
 *   node --expose-gc --import tsx bench/thread-memory.ts [--messages 200] [--chars 4000]
 */
import { parseArgs } from "node:util";
import { HumanMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import {
  buildAgentGraph,
  DEFAULT_THREAD_BOUNDS,
  DemoChatModel,
  LatestCheckpointSaver,
} from "../src/agents/index.js";
import { createValidator } from "../src/core/validator.js";
import { ToolRegistry } from "../src/tools/tool-registry.js";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "200" },
    chars: { type: "string", default: "4000" },
  },
});
const messages = Number(values.messages);
const chars = Number(values.chars);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");
const tools = new ToolRegistry(createValidator()).list();

/** The JS heap plus ArrayBuffers, where savers keep serialised checkpoints. */
function memoryAfterGc(): number {
  gc?.();
  gc?.();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** What a MemorySaver holds: serialised checkpoints and writes. */
function storedBytes(saver: MemorySaver): number {
  let bytes = 0;
  for (const namespaces of Object.values(saver.storage))
    for (const byId of Object.values(namespaces))
      for (const [checkpoint, metadata] of Object.values(byId))
        bytes += checkpoint.byteLength + metadata.byteLength;
  for (const writes of Object.values(saver.writes))
    for (const [, , value] of Object.values(writes)) bytes += value.byteLength;
  return bytes;
}

async function measure(name: string, saver: MemorySaver) {
  const graph = buildAgentGraph({
    model: new DemoChatModel({ tokenDelayMs: 0 }),
    tools,
    checkpointer: saver,
  });
  const before = memoryAfterGc();
  const started = performance.now();
  for (let i = 0; i < messages; i++) {
    const text = `message ${i}: ${"conversation memory ".repeat(chars / 20)}`.slice(0, chars);
    await graph.invoke(
      { messages: [new HumanMessage(text)] },
      { configurable: { thread_id: "bench" } },
    );
  }
  const seconds = (performance.now() - started) / 1000;
  const heap = memoryAfterGc() - before;
  const stored = storedBytes(saver);
  return {
    saver: name,
    memory_mb: +(heap / 1e6).toFixed(1),
    stored_mb: +(stored / 1e6).toFixed(2),
    seconds: +seconds.toFixed(1),
  };
}

const latest = new LatestCheckpointSaver(DEFAULT_THREAD_BOUNDS);
const rows = [await measure("LatestCheckpointSaver", latest)];
latest.close();
rows.push(await measure("MemorySaver", new MemorySaver()));
console.log(`one thread, ${messages} messages of ${chars} characters`);
console.table(rows);
