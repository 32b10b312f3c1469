/**
 * LangGraph Server JS (`@langchain/langgraph-api`, the in-memory server that
 * `langgraphjs dev` runs) as `npm run bench:peers` runs it: a separate process
 * serving bench/peer-graph.ts as graph "agent", answering the runner like
 * gateway-server.ts does (port, gc, memory, stop).
 *
 * What `langgraphjs dev` adds and this leaves out: file watching (tsx watch),
 * the Studio banner, the preload hook that pins @langchain/langgraph to the
 * server's copy (this tree has one copy), and the CLI's analytics (the CLI is
 * not installed; LANGGRAPH_CLI_NO_ANALYTICS is set anyway by the runner).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "@langchain/langgraph-api/server";
import { serveRunner } from "./server-ipc.js";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
// The dev server writes its state under <cwd>/.langgraph_api (3 s after the last change):
// a directory of its own keeps that out of the repository and starts each server empty.
const cwd = await mkdtemp(path.join(os.tmpdir(), "peer-langgraph-"));
const { host, cleanup } = await startServer({
  port: 0,
  host: "127.0.0.1",
  // `langgraphjs dev --n-jobs-per-worker` defaults to 10: at most 10 runs at a time.
  nWorkers: Number(process.env["PEER_JOBS"] ?? 10),
  cwd,
  graphs: { agent: `${path.join(benchDir, "peer-graph.ts")}:graph` },
});
const port = Number(host.slice(host.lastIndexOf(":") + 1));
serveRunner(port, {
  stop: async () => {
    await cleanup();
    await rm(cwd, { recursive: true, force: true });
  },
});
