/**
 * Bytes one conversation costs after many long messages, with LangGraph's
 * MemorySaver (every checkpoint a full copy of the thread) and with the
 * gateway's LatestCheckpointSaver, in the same process: heap and ArrayBuffer growth after
 * a forced GC, and the bytes the saver holds serialised. Then the CPU time one
 * message takes at the 10th, 100th, 300th and 1,000th message of a thread, with the
 * stored thread bounded (AGENT_THREAD_MAX_MESSAGES) and unbounded (only up to
 * --unbounded messages: there each message costs more than the one before).
 *
 *   node --expose-gc --import tsx bench/thread-memory.ts [--messages 200] [--chars 4000] [--long 1000] [--unbounded 300]
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
import { median } from "./stats.js";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "200" },
    chars: { type: "string", default: "4000" },
    long: { type: "string", default: "1000" },
    unbounded: { type: "string", default: "300" },
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

function chatGraph(saver: MemorySaver, threadMaxMessages?: number) {
  return buildAgentGraph({
    model: new DemoChatModel({ tokenDelayMs: 0 }),
    tools,
    checkpointer: saver,
    ...(threadMaxMessages === undefined ? {} : { threadMaxMessages }),
  });
}

const textOf = (i: number) =>
  `message ${i}: ${"conversation memory ".repeat(chars / 20)}`.slice(0, chars);

async function measure(name: string, saver: MemorySaver) {
  const graph = chatGraph(saver);
  const before = memoryAfterGc();
  const started = performance.now();
  for (let i = 0; i < messages; i++) {
    await graph.invoke(
      { messages: [new HumanMessage(textOf(i))] },
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

/**
 * The median CPU milliseconds of the 10 messages that end at each mark, in
 * one long thread: CPU rather than wall time, which other processes on a
 * shared machine stretch, and the median, which a garbage collection landing
 * on one message does not move.
 */
async function perMessage(name: string, threadMaxMessages: number, marks: number[]) {
  const saver = new LatestCheckpointSaver(DEFAULT_THREAD_BOUNDS);
  const graph = chatGraph(saver, threadMaxMessages);
  const row: Record<string, string | number> = { thread: name };
  const recent: number[] = [];
  for (let i = 1; i <= Math.max(...marks); i++) {
    const start = process.cpuUsage();
    await graph.invoke(
      { messages: [new HumanMessage(textOf(i))] },
      { configurable: { thread_id: "long" } },
    );
    const { user, system } = process.cpuUsage(start);
    recent.push((user + system) / 1000);
    if (recent.length > 10) recent.shift();
    if (marks.includes(i)) row[`CPU ms/message at ${i}`] = +median(recent).toFixed(1);
  }
  saver.close();
  return row;
}

const long = Number(values.long);
const marks = [10, 100, 300, 1000].filter((mark) => mark <= long);
const unbounded = Number(values.unbounded);
console.log(
  `one thread, ${long} messages of ${chars} characters, median CPU time of the last 10 messages`,
);
console.table([
  await perMessage("bounded: AGENT_THREAD_MAX_MESSAGES=200", 200, marks),
  await perMessage(
    "unbounded",
    Number.MAX_SAFE_INTEGER,
    marks.filter((mark) => mark <= unbounded),
  ),
]);
