/**
 * `npm run bench:peers`: the gateway against LangGraph Server JS (the
 * in-memory server of `@langchain/langgraph-api`, what `langgraphjs dev` runs)
 * in the same run, on the same graph and zero-delay model. Each side is a
 * separate server process, fresh for every measurement, the order alternating
 * from run to run; the load comes from a separate client process (load-client.ts
 * for the gateway's Socket.IO, peer-load-client.ts for LangGraph Server's SSE);
 * CPU and memory are read from /proc and the server itself. Prints a Markdown
 * table of medians over --runs with gateway ÷ LangGraph Server.
 *
 *   npm run bench:peers -- [--runs 3] [--only one-stream,fanout,sessions,first-token,idle]
 */
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { parseArgs } from "node:util";
import type { ClientTask } from "./load-client.js";
import type { PeerTask } from "./peer-load-client.js";
import { rssBytes } from "./proc-stats.js";
import { measuredRun, runClient, startServer, type ServerProcess } from "./processes.js";
import { median, sleep } from "./stats.js";

const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "1" },
    only: { type: "string" },
    json: { type: "string" },
    "stream-tokens": { type: "string", default: "20000" },
    "fanout-readers": { type: "string", default: "5" },
    sessions: { type: "string", default: "100" },
    "session-tokens": { type: "string", default: "1000" },
    "first-token-messages": { type: "string", default: "100" },
    "idle-clients": { type: "string", default: "1000" },
    // `langgraphjs dev --n-jobs-per-worker`: how many runs LangGraph Server executes at once.
    "peer-jobs": { type: "string", default: "10" },
  },
});

const num = (name: keyof typeof flags): number => {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${name} must be a positive integer`);
  return value;
};

/** The gateway as `npm run bench` runs it. */
const gatewayEnv: Record<string, string> = {
  NODE_ENV: "production",
  HOST: "127.0.0.1",
  PORT: "0",
  LOG_LEVEL: "warn",
  API_KEY: "bench-api-key-0123456789",
  WS_MAX_CONNECTIONS: "1000000",
  WS_RATE_LIMIT_PER_SEC: "10000",
  WS_RATE_LIMIT_PER_SESSION_PER_SEC: "1000000",
  WS_RATE_LIMIT_PER_USER_PER_SEC: "1000000",
  AGENT_MAX_QUEUE: "1000",
};

/**
 * LangGraph Server with nothing sent anywhere: LangSmith tracing off under all
 * its names, the CLI's analytics off (the CLI is not installed; the switch is
 * set in case it ever is), and its logger at the gateway's level (its default
 * is debug, a line per request).
 */
const peerEnv: Record<string, string> = {
  LANGSMITH_TRACING: "false",
  LANGSMITH_TRACING_V2: "false",
  LANGCHAIN_TRACING: "false",
  LANGCHAIN_TRACING_V2: "false",
  LANGGRAPH_CLI_NO_ANALYTICS: "1",
  LOG_LEVEL: "warn",
  PEER_JOBS: String(num("peer-jobs")),
};

type Side = "gateway" | "langgraph";
type Figures = Record<string, number>;

interface Row {
  figure: string;
  key: string;
  unit: string;
  better: "higher" | "lower";
}

interface Scenario {
  id: string;
  title: string;
  /** What each side's clients do, in words, for the table. */
  method: string;
  rows: Row[];
  measure(side: Side): Promise<Figures>;
}

async function withSide<T>(
  side: Side,
  fds: number,
  body: (server: ServerProcess) => Promise<T>,
): Promise<T> {
  const server =
    side === "gateway"
      ? await startServer("gateway-server.ts", gatewayEnv, { fds })
      : await startServer("peer-langgraph-server.ts", peerEnv, { fds, startTimeoutMs: 120_000 });
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

/** Runs one side's client task, with the server's CPU between "measure" and "measured". */
const measured = (side: Side, server: ServerProcess, task: ClientTask | PeerTask, fds = 1024) =>
  measuredRun(server, task, fds, side === "gateway" ? "load-client.ts" : "peer-load-client.ts");

const tokensPerSecond: Row = {
  figure: "tokens/s delivered",
  key: "tokens_per_s",
  unit: "tok/s",
  better: "higher",
};
const cpuPer1k: Row = {
  figure: "server CPU per 1,000 tokens",
  key: "cpu_per_1k",
  unit: "ms",
  better: "lower",
};
/** The load client's own CPU, on the same 2 cores: whether the client, not the server, bounds a figure. */
const clientCpuPer1k: Row = {
  figure: "load client CPU per 1,000 tokens delivered",
  key: "client_cpu_per_1k",
  unit: "ms",
  better: "lower",
};
const perThousand = (ms: number | undefined, tokens: number) => (ms ?? 0) / (tokens / 1000);

/** One run of `tokens` read by `readers` clients (one stream when readers is 1). */
async function oneRun(side: Side, readers: number, tokens: number): Promise<Figures> {
  return withSide(side, 1024, async (server) => {
    const task: ClientTask | PeerTask =
      side === "gateway"
        ? { scenario: "fanout", urls: [server.url], clients: readers, tokens }
        : { scenario: "stream", url: server.url, readers, tokens };
    const f = await measured(side, server, task);
    if (f["intact"] !== 1) throw new Error(`${side}: a stream arrived incomplete or out of order`);
    return {
      ...f,
      cpu_per_1k: perThousand(f["cpu_ms"], tokens),
      client_cpu_per_1k: perThousand(f["client_cpu_ms"], tokens * readers),
    };
  });
}

const scenarios: Scenario[] = [
  {
    id: "one-stream",
    title: `one stream (${num("stream-tokens")} tokens, one client)`,
    method: "gateway: one Socket.IO client; LangGraph Server: POST /threads/{id}/runs/stream",
    rows: [tokensPerSecond, cpuPer1k, clientCpuPer1k],
    measure: (side) => oneRun(side, 1, num("stream-tokens")),
  },
  {
    id: "fanout",
    title: `fan-out (${num("stream-tokens")} tokens, ${num("fanout-readers")} readers of one run)`,
    method:
      "gateway: sockets of one session; LangGraph Server: the creator's POST …/runs/stream (stream_resumable) + joiners on GET /threads/{id}/runs/{run_id}/stream with Last-Event-ID: -1",
    rows: [
      { ...tokensPerSecond, figure: "tokens/s delivered, all readers" },
      { ...cpuPer1k, figure: "server CPU per 1,000 tokens generated" },
      clientCpuPer1k,
    ],
    measure: (side) => oneRun(side, num("fanout-readers"), num("stream-tokens")),
  },
  {
    id: "sessions",
    title: `many sessions (${num("sessions")} × ${num("session-tokens")} tokens)`,
    method:
      "gateway: a Socket.IO client per session; LangGraph Server: a thread and a POST …/runs/stream per session",
    rows: [
      { ...tokensPerSecond, figure: "aggregate tokens/s" },
      { figure: "p99 gap between chunks", key: "gap_p99_ms", unit: "ms", better: "lower" },
      cpuPer1k,
      clientCpuPer1k,
    ],
    measure: (side) => {
      const n = num("sessions");
      const tokens = num("session-tokens");
      return withSide(side, n + 1000, async (server) => {
        const task: ClientTask | PeerTask =
          side === "gateway"
            ? { scenario: "sessions", urls: [server.url], sessions: n, tokens }
            : { scenario: "sessions", url: server.url, sessions: n, tokens };
        const f = await measured(side, server, task, n + 1000);
        if (f["intact"] !== 1) throw new Error(`${side}: a session's stream arrived incomplete`);
        return {
          ...f,
          cpu_per_1k: perThousand(f["cpu_ms"], n * tokens),
          client_cpu_per_1k: perThousand(f["client_cpu_ms"], n * tokens),
        };
      });
    },
  },
  {
    id: "first-token",
    title: `first token at the client (${num("first-token-messages")} one-token messages, one at a time)`,
    method: "send → first token chunk at the client; a fresh session/thread every 25 messages",
    rows: [
      { figure: "send → first token p50", key: "client_p50_ms", unit: "ms", better: "lower" },
      { figure: "send → first token p99", key: "client_p99_ms", unit: "ms", better: "lower" },
    ],
    measure: (side) =>
      withSide(side, 1024, (server) => {
        const messages = num("first-token-messages");
        const task: ClientTask | PeerTask =
          side === "gateway"
            ? { scenario: "first-token", urls: [server.url], messages }
            : { scenario: "first-token", url: server.url, messages };
        return measured(side, server, task);
      }),
  },
  {
    id: "idle",
    title: `idle clients (${num("idle-clients")})`,
    method:
      "gateway: idle Socket.IO connections; LangGraph Server: open SSE streams joined (GET …/runs/{run_id}/stream) to a run queued for later (after_seconds: 3600)",
    rows: [
      {
        figure: "server heap per idle client",
        key: "heap_kb_per_conn",
        unit: "KiB",
        better: "lower",
      },
      {
        figure: "server RSS per idle client",
        key: "rss_kb_per_conn",
        unit: "KiB",
        better: "lower",
      },
    ],
    measure: (side) => {
      const n = num("idle-clients");
      return withSide(side, n + 1000, async (server) => {
        const settled = async () => {
          await server.command("gc");
          await sleep(500);
          await server.command("gc");
          const memory = (await server.command("memory")) as NodeJS.MemoryUsage;
          return [rssBytes(server.pid), memory.heapUsed] as const;
        };
        let before = [0, 0] as readonly [number, number];
        let after = [0, 0] as readonly [number, number];
        const task: ClientTask | PeerTask =
          side === "gateway"
            ? { scenario: "idle", urls: [server.url], connections: n }
            : { scenario: "idle", url: server.url, connections: n };
        await runClient(
          task,
          async (name) => {
            if (name === "before-connect") before = await settled();
            if (name === "connected") {
              await sleep(1000);
              after = await settled();
            }
          },
          n + 1000,
          side === "gateway" ? "load-client.ts" : "peer-load-client.ts",
        );
        return {
          rss_kb_per_conn: (after[0] - before[0]) / 1024 / n,
          heap_kb_per_conn: (after[1] - before[1]) / 1024 / n,
        };
      });
    },
  },
];

interface Result {
  scenario: Scenario;
  runs: Record<Side, Figures[]>;
  error?: string;
}

/**
 * One retry with a fresh server: LangGraph Server sometimes resets a reader's
 * connection mid-stream under load (seen in the fan-out); the failure is
 * printed, so it is counted rather than hidden.
 */
async function measureWithRetry(scenario: Scenario, side: Side): Promise<Figures> {
  try {
    return await scenario.measure(side);
  } catch (error) {
    console.error(`${scenario.id} ${side} failed, retrying once: ${String(error)}`);
    return scenario.measure(side);
  }
}

async function runScenario(scenario: Scenario, runs: number): Promise<Result> {
  const collected: Record<Side, Figures[]> = { gateway: [], langgraph: [] };
  for (let run = 0; run < runs; run++) {
    // Alternate which side goes first, so drift on a shared machine falls on both.
    const order: Side[] = run % 2 === 0 ? ["gateway", "langgraph"] : ["langgraph", "gateway"];
    for (const side of order) {
      const started = Date.now();
      const figures = await measureWithRetry(scenario, side);
      collected[side].push(figures);
      const shown = Object.entries(figures).map(([k, v]) => `${k}=${+v.toFixed(3)}`);
      console.error(
        `${scenario.id} run ${run + 1}/${runs} ${side}: ${shown.join(" ")} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
  }
  return { scenario, runs: collected };
}

function show(value: number): string {
  if (!Number.isFinite(value)) return "–";
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  return value.toPrecision(3);
}

function markdown(results: Result[], runs: number): string {
  const lines = [
    `Medians of ${runs} run(s); ratio = gateway ÷ LangGraph Server (tokens/s: higher is better for the gateway; ms, KiB: lower is).`,
    "",
    "| scenario | figure | gateway | LangGraph Server | gateway ÷ LangGraph Server |",
    "| --- | --- | ---: | ---: | ---: |",
  ];
  for (const { scenario, runs: collected, error } of results) {
    if (error) {
      lines.push(`| ${scenario.title} | failed: ${error} | – | – | – |`);
      continue;
    }
    for (const row of scenario.rows) {
      const gateway = median(collected.gateway.map((f) => f[row.key] ?? Number.NaN));
      const peer = median(collected.langgraph.map((f) => f[row.key] ?? Number.NaN));
      const unit = row.unit ? ` ${row.unit}` : "";
      lines.push(
        `| ${scenario.title} | ${row.figure} | ${show(gateway)}${unit} | ${show(peer)}${unit} | ${show(gateway / peer)} |`,
      );
    }
  }
  lines.push("", "How each side was driven:", "");
  for (const { scenario } of results) lines.push(`- ${scenario.title}: ${scenario.method}`);
  return lines.join("\n");
}

const runs = num("runs");
const only = flags.only?.split(",").map((s) => s.trim());
const results: Result[] = [];
for (const scenario of scenarios.filter((s) => !only || only.includes(s.id))) {
  try {
    results.push(await runScenario(scenario, runs));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`${scenario.id} failed: ${message}`);
    results.push({ scenario, runs: { gateway: [], langgraph: [] }, error: message });
  }
}
const table = markdown(results, runs);
console.log(table);
if (flags.json) {
  const machine = {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model,
    node: process.version,
  };
  const raw = results.map((r) => ({ id: r.scenario.id, runs: r.runs, error: r.error }));
  await writeFile(
    flags.json,
    `${JSON.stringify({ machine, runs, results: raw, markdown: table }, null, 2)}\n`,
  );
}
