/**
 * `npm run bench`: each scenario against the gateway and against a bare
 * Socket.IO server of the same version, in the same run, with the load from a
 * separate client process and the servers' CPU and memory read from /proc.
 * Prints a Markdown table of medians over --runs; --json writes it to a file.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startRedisServer } from "../test/support/redis-server.js";
import type { ClientTask } from "./load-client.js";
import { cpuMs, rssBytes } from "./proc-stats.js";
import { loadClientPid, treeCpuMs } from "./process-tree.js";
import type { ChildProcess } from "node:child_process";
import {
  repoRoot,
  runClient,
  measuredRun,
  runInProcess,
  spawnNode,
  startServer,
  type ServerProcess,
} from "./processes.js";
import type { BroadcastTimes, FirstTokenSample } from "./server-ipc.js";
import { median, percentile, sleep } from "./stats.js";
import { freePort } from "../test/support/free-port.js";

const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "1" },
    only: { type: "string" },
    json: { type: "string" },
    connections: { type: "string", default: "10000" },
    "ping-clients": { type: "string", default: "2000" },
    "ping-rounds": { type: "string", default: "10" },
    "abuse-clients": { type: "string", default: "100" },
    "abuse-rounds": { type: "string", default: "100" },
    // The issue measured 38,000 pings/s from one connection; on 2 shared cores an unthrottled
    // flooder takes a whole core from the polite clients' process instead of from the server.
    "abuse-flood-rate": { type: "string", default: "30000" },
    "fanout-clients": { type: "string", default: "5" },
    "fanout-tokens": { type: "string", default: "20000" },
    sessions: { type: "string", default: "100" },
    "session-tokens": { type: "string", default: "1000" },
    "first-token-messages": { type: "string", default: "200" },
    // 2,000: as many clients as the load client decodes here without becoming what is measured.
    "broadcast-connections": { type: "string", default: "2000" },
    "broadcast-events": { type: "string", default: "20" },
    // WORKERS=2 variants besides the default, each divided by WORKERS=1: relay, redis, redis-relay.
    "workers-variants": { type: "string", default: "relay,redis" },
    env: { type: "string", multiple: true, default: [] },
    "cpu-prof": { type: "boolean", default: false },
    // Which sides to measure (gateway, baseline, plain, ceiling): all a scenario has by default.
    sides: { type: "string" },
  },
});

const num = (name: keyof typeof flags): number => {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${name} must be a positive integer`);
  return value;
};

const API_KEY = "bench-api-key-0123456789";
/** Gateway settings for every scenario; --env KEY=VALUE adds or overrides (e.g. WS_STREAM_COALESCE_MS=5). */
const gatewayEnv: Record<string, string> = {
  NODE_ENV: "production",
  HOST: "127.0.0.1",
  PORT: "0",
  LOG_LEVEL: "warn",
  API_KEY,
  WS_MAX_CONNECTIONS: "1000000",
  // The ping scenario sends at most a few pings per second per client; the
  // limiter still runs on every event, only its cap is out of the way.
  WS_RATE_LIMIT_PER_SEC: "10000",
  // Every load client is anonymous on 127.0.0.1: one person, as the limiter sees it.
  WS_RATE_LIMIT_PER_SESSION_PER_SEC: "1000000",
  WS_RATE_LIMIT_PER_USER_PER_SEC: "1000000",
  AGENT_MAX_QUEUE: "1000",
  ...Object.fromEntries(
    (flags.env ?? []).map((pair) => {
      const at = pair.indexOf("=");
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  ),
};
// One directory per server entry: Node writes a profile per thread (tsx's loader runs in one).
const nodeFlags = (name: string): string[] =>
  flags["cpu-prof"]
    ? ["--cpu-prof", "--cpu-prof-dir", path.join(repoRoot, "bench-results", "profiles", name)]
    : [];

/**
 * "plain": the gateway again, driven by plain WebSocket clients on /ws instead of Socket.IO.
 * "ceiling": LangGraph alone in a process of its own, the same graph and model (bench/in-process.ts).
 */
type Side = "gateway" | "baseline" | "plain" | "ceiling";
type Figures = Record<string, number>;

interface Row {
  figure: string;
  key: string;
  unit: string;
  /** Which way is better, for the ratio's reading. */
  better: "higher" | "lower";
  /** The target on gateway / baseline, or an absolute bound on the gateway figure. */
  target?: { ratio: number } | { max: number };
  /**
   * How the gateway compares with LangGraph in process, in scenarios that
   * measure it: as a ratio (≥ `min`) or as what the gateway adds (≤ `max`).
   */
  vsCeiling?: { ratio: true; min?: number } | { difference: true; max?: number };
  /** The in-process figure to compare with, when not `key` (the other driver's). */
  ceilingKey?: string;
}

interface Scenario {
  id: string;
  title: string;
  baselineName: string;
  rows: Row[];
  /** Measures one side once; undefined means the scenario cannot run here. */
  measure(side: Side): Promise<Figures>;
  /** Also measured over the gateway's plain WebSocket endpoint, in a column of its own. */
  plain?: true;
  /** Also measured with LangGraph in process, no server, in a column of its own. */
  ceiling?: true;
  available?(): string | undefined;
}

async function withServer<T>(
  file: "gateway-server.ts" | "raw-server.ts",
  env: Record<string, string>,
  fds: number,
  body: (server: ServerProcess) => Promise<T>,
): Promise<T> {
  const server = await startServer(file, env, {
    fds,
    nodeFlags: nodeFlags(file.replace(".ts", "")),
  });
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

/** Starts the flooding client and resolves once it floods. */
function startFlood(url: string, perSec: number, transport: Transport): Promise<ChildProcess> {
  const task = { scenario: "flood", urls: [url], perSec, transport };
  const child = spawnNode("load-client.ts", [JSON.stringify(task)], {});
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`the flooder exited with ${code}`)));
  });
}

type Transport = "socketio" | "ws";

/**
 * Polite clients pinging while one connection of another process floods,
 * both over `transport`; the baseline is the same run without the flood.
 */
function abuseScenario(transport: Transport): Scenario {
  const over = transport === "ws" ? ", plain WebSocket" : "";
  return {
    id: transport === "ws" ? "abuse-ws" : "abuse",
    title: `ping of ${num("abuse-clients")} polite clients while one connection floods${over}`,
    baselineName: "no flood",
    rows: [
      { figure: "ping p50", key: "p50_ms", unit: "ms", better: "lower" },
      { figure: "ping p99", key: "p99_ms", unit: "ms", better: "lower", target: { ratio: 1.5 } },
    ],
    measure: (side) => {
      const n = num("abuse-clients");
      const rounds = num("abuse-rounds");
      // A per-connection limit above a polite client's pace (a ping per 20 ms at most), and a
      // flood that is never cut off: the refusals' cost throughout the measurement.
      const env = {
        ...gatewayEnv,
        WS_RATE_LIMIT_PER_SEC: "100",
        WS_RATE_LIMIT_DISCONNECT_AFTER: "0",
      };
      return withServer("gateway-server.ts", env, n + 1000, async (server) => {
        let flooder: ChildProcess | undefined;
        try {
          return await runClient(
            { scenario: "ping", urls: [server.url], connections: n, rounds, transport },
            async (name) => {
              // The flood starts once the polite clients are connected and warm, and lasts the measurement.
              if (name === "measure" && side === "gateway")
                flooder = await startFlood(server.url, num("abuse-flood-rate"), transport);
              if (name === "measured") flooder?.kill("SIGKILL");
            },
            n + 1000,
          );
        } finally {
          flooder?.kill("SIGKILL");
        }
      });
    },
  };
}

const serverFile = (side: Side) => (side === "baseline" ? "raw-server.ts" : "gateway-server.ts");
const transportOf = (side: Side) => ({ transport: side === "plain" ? "ws" : "socketio" }) as const;

const measured = (server: ServerProcess, task: ClientTask, fds = 1024) =>
  measuredRun(server, task, fds);

/**
 * The first-token scenario's model hands over each token in its own turn, as
 * one read from a model server does: with a model that never waits, the rest
 * of the run shares the first token's turn, and the first frame waits for it
 * behind engine.io's write callback (docs/performance.md, "First token").
 */
const FIRST_TOKEN_YIELD_EVERY = 1;

/**
 * The same figure against LangGraph driven the gateway's own way (callbacks on
 * `invoke`, no event stream): the floor, beside the `streamEvents` v2 figure,
 * the target LangGraph's usual driver sets.
 */
function againstCallbacks(figure: string, key: string, unit: string, better: Row["better"]): Row {
  return {
    figure: `${figure}, against LangGraph driven by callbacks`,
    key,
    unit,
    better,
    vsCeiling: { ratio: true },
    ceilingKey: `${key}_callbacks`,
  };
}

/** Server CPU per token, against LangGraph in process with both of its drivers. */
const cpuPerTokenRows: Row[] = [
  {
    figure: "server CPU per 1,000 tokens",
    key: "cpu_per_1k",
    unit: "ms",
    better: "lower",
    vsCeiling: { ratio: true },
  },
  againstCallbacks("server CPU per 1,000 tokens", "cpu_per_1k", "ms", "lower"),
];

const scenarios: Scenario[] = [
  {
    id: "idle",
    title: `idle connections (${num("connections")})`,
    baselineName: "raw",
    plain: true,
    rows: [
      {
        figure: "server RSS per connection",
        key: "rss_kb_per_conn",
        unit: "KiB",
        better: "lower",
        target: { ratio: 1.3 },
      },
      {
        figure: "server heap per connection",
        key: "heap_kb_per_conn",
        unit: "KiB",
        better: "lower",
      },
      { figure: "connect rate", key: "connect_rate", unit: "conn/s", better: "higher" },
    ],
    measure: (side) => {
      const n = num("connections");
      return withServer(serverFile(side), gatewayEnv, n + 1000, async (server) => {
        let rss0 = 0;
        let heap0 = 0;
        let rss = 0;
        let heap = 0;
        const settled = async () => {
          await server.command("gc");
          await sleep(500);
          await server.command("gc");
          const memory = (await server.command("memory")) as NodeJS.MemoryUsage;
          return [rssBytes(server.pid), memory.heapUsed] as const;
        };
        const figures = await runClient(
          { scenario: "idle", urls: [server.url], connections: n, ...transportOf(side) },
          async (name) => {
            if (name === "before-connect") [rss0, heap0] = await settled();
            if (name === "connected") {
              await sleep(1000);
              [rss, heap] = await settled();
            }
          },
          n + 1000,
        );
        return {
          ...figures,
          rss_kb_per_conn: (rss - rss0) / 1024 / n,
          heap_kb_per_conn: (heap - heap0) / 1024 / n,
        };
      });
    },
  },
  {
    id: "ping",
    title: `ping under load (${num("ping-clients")} clients)`,
    baselineName: "raw",
    plain: true,
    rows: [
      { figure: "ping p50", key: "p50_ms", unit: "ms", better: "lower" },
      { figure: "ping p99", key: "p99_ms", unit: "ms", better: "lower", target: { ratio: 1.2 } },
      { figure: "server CPU per 1,000 pings", key: "cpu_per_1k", unit: "ms", better: "lower" },
    ],
    measure: (side) => {
      const n = num("ping-clients");
      const rounds = num("ping-rounds");
      return withServer(serverFile(side), gatewayEnv, n + 1000, async (server) => {
        const f = await measured(
          server,
          { scenario: "ping", urls: [server.url], connections: n, rounds, ...transportOf(side) },
          n + 1000,
        );
        return { ...f, cpu_per_1k: f.cpu_ms / ((n * rounds) / 1000) };
      });
    },
  },
  abuseScenario("socketio"),
  abuseScenario("ws"),
  {
    id: "stream",
    title: `one stream (${num("fanout-tokens")} tokens to 1 client)`,
    baselineName: "raw",
    plain: true,
    ceiling: true,
    rows: [
      {
        figure: "tokens/s delivered",
        key: "tokens_per_s",
        unit: "tok/s",
        better: "higher",
        vsCeiling: { ratio: true, min: 0.8 },
      },
      againstCallbacks("tokens/s delivered", "tokens_per_s", "tok/s", "higher"),
      ...cpuPerTokenRows,
    ],
    measure: (side) =>
      side === "ceiling"
        ? runInProcess({ scenario: "stream", tokens: num("fanout-tokens") })
        : fanoutOnce(side, 1),
  },
  {
    id: "fanout",
    title: `token fan-out (${num("fanout-tokens")} tokens to ${num("fanout-clients")} clients)`,
    baselineName: "raw",
    rows: [
      {
        figure: "tokens/s delivered",
        key: "tokens_per_s",
        unit: "tok/s",
        better: "higher",
        target: { ratio: 0.8 },
      },
      { figure: "server CPU per 1,000 tokens", key: "cpu_per_1k", unit: "ms", better: "lower" },
      { figure: "stream_chunk events received", key: "chunk_events", unit: "", better: "lower" },
    ],
    plain: true,
    measure: (side) => fanoutOnce(side, num("fanout-clients")),
  },
  {
    id: "sessions",
    title: `many sessions (${num("sessions")} × ${num("session-tokens")} tokens)`,
    baselineName: "raw",
    ceiling: true,
    rows: [
      {
        figure: "aggregate tokens/s",
        key: "tokens_per_s",
        unit: "tok/s",
        better: "higher",
        target: { ratio: 0.8 },
        vsCeiling: { ratio: true, min: 0.8 },
      },
      againstCallbacks("aggregate tokens/s", "tokens_per_s", "tok/s", "higher"),
      { figure: "p99 gap between chunks", key: "gap_p99_ms", unit: "ms", better: "lower" },
      ...cpuPerTokenRows,
    ],
    measure: (side) => {
      const n = num("sessions");
      const tokens = num("session-tokens");
      if (side === "ceiling") return runInProcess({ scenario: "sessions", sessions: n, tokens });
      return withServer(serverFile(side), gatewayEnv, n + 1000, async (server) => {
        const f = await measured(
          server,
          { scenario: "sessions", urls: [server.url], sessions: n, tokens },
          n + 1000,
        );
        if (f["intact"] !== 1)
          throw new Error("sessions: a stream arrived incomplete or out of order");
        return { ...f, cpu_per_1k: f.cpu_ms / ((n * tokens) / 1000) };
      });
    },
  },
  {
    id: "first-token",
    title: "first token (server: message received → first stream_chunk sent, minus the model)",
    baselineName: "raw",
    rows: [
      { figure: "server overhead p50", key: "p50_ms", unit: "ms", better: "lower" },
      {
        figure: "server overhead p99",
        key: "p99_ms",
        unit: "ms",
        better: "lower",
        target: { max: 2 },
      },
      {
        figure: "…of which before the model call, p50",
        key: "before_model_p50_ms",
        unit: "ms",
        better: "lower",
      },
      {
        figure: "…of which model token → emit, p50",
        key: "after_model_p50_ms",
        unit: "ms",
        better: "lower",
      },
      {
        figure: "client send → first chunk p50",
        key: "client_p50_ms",
        unit: "ms",
        better: "lower",
        vsCeiling: { difference: true, max: 1 },
      },
      {
        figure: "client send → first chunk p99",
        key: "client_p99_ms",
        unit: "ms",
        better: "lower",
        vsCeiling: { difference: true, max: 3 },
      },
    ],
    ceiling: true,
    measure: (side) =>
      side === "ceiling"
        ? runInProcess({
            scenario: "first-token",
            messages: num("first-token-messages"),
            yieldEvery: FIRST_TOKEN_YIELD_EVERY,
          })
        : withServer(
            serverFile(side),
            {
              ...gatewayEnv,
              BENCH_FIRST_TOKEN: "1",
              BENCH_YIELD_EVERY: String(FIRST_TOKEN_YIELD_EVERY),
            },
            1024,
            async (server) => {
              const f = await runClient(
                {
                  scenario: "first-token",
                  urls: [server.url],
                  messages: num("first-token-messages"),
                },
                () => {},
              );
              const samples = (await server.command("first-token")) as FirstTokenSample[];
              // The first few messages pay for JIT compilation; keep them out of the figure.
              const warm = samples.slice(Math.min(20, Math.floor(samples.length / 5)));
              return {
                ...f,
                p50_ms: percentile(
                  warm.map((s) => s.overheadMs),
                  50,
                ),
                p99_ms: percentile(
                  warm.map((s) => s.overheadMs),
                  99,
                ),
                before_model_p50_ms: percentile(
                  warm.map((s) => s.beforeModelMs),
                  50,
                ),
                after_model_p50_ms: percentile(
                  warm.map((s) => s.afterModelMs),
                  50,
                ),
              };
            },
          ),
  },
  {
    id: "broadcast",
    title: `cluster broadcast (${num("broadcast-connections")} clients, 2 nodes + Redis vs 1 node)`,
    baselineName: "1 node",
    rows: [
      {
        figure: "server fan-out p50 (publish → last frame written, every node)",
        key: "server_p50_ms",
        unit: "ms",
        better: "lower",
      },
      {
        figure: "server fan-out p99",
        key: "server_p99_ms",
        unit: "ms",
        better: "lower",
        target: { max: 50 },
      },
      { figure: "client delivery p50", key: "p50_ms", unit: "ms", better: "lower" },
      {
        figure: "client delivery p99",
        key: "p99_ms",
        unit: "ms",
        better: "lower",
        target: { max: 50 },
      },
      { figure: "events not delivered", key: "missing", unit: "", better: "lower" },
    ],
    available: () => (existsSync("/usr/bin/redis-server") ? undefined : "no /usr/bin/redis-server"),
    measure: async (side) => {
      const n = num("broadcast-connections");
      const events = num("broadcast-events");
      const task = (urls: string[]): ClientTask => ({
        scenario: "broadcast",
        urls,
        connections: n,
        events,
        apiKey: API_KEY,
      });
      // Each node records when it published an event and wrote it to its last member (server-ipc.ts).
      const withTimes = async (servers: ServerProcess[]): Promise<Figures> => {
        const figures = await runClient(task(servers.map((s) => s.url)), () => {}, n + 1000);
        const times = (await Promise.all(
          servers.map((s) => s.command("broadcast-times")),
        )) as BroadcastTimes[];
        return { ...figures, ...serverFanout(times) };
      };
      const env = { ...gatewayEnv, BENCH_BROADCAST: "1" };
      if (side === "baseline") {
        return withServer("gateway-server.ts", env, n + 1000, (server) => withTimes([server]));
      }
      const redis = await startRedisServer();
      try {
        const clustered = { ...env, REDIS_URL: redis.url };
        return await withServer("gateway-server.ts", clustered, n / 2 + 1000, (a) =>
          withServer("gateway-server.ts", clustered, n / 2 + 1000, (b) => withTimes([a, b])),
        );
      } finally {
        await redis.stop();
      }
    },
  },
  {
    id: "workers",
    // One session's run lives on one worker by design, so a single-session
    // fan-out cannot use a second worker: this is the many-sessions load.
    // Every variant is divided by WORKERS=1 of the same run (the baseline side
    // reports its one figure under every key): "relaying" is WORKERS=2 with
    // CLUSTER_LOCAL_BROADCASTS=false, every token crossing to the other worker.
    title: `workers (${num("sessions")} sessions × ${num("session-tokens")} tokens, WORKERS=2 vs WORKERS=1)`,
    baselineName: "WORKERS=1",
    rows: [
      {
        figure: "aggregate tokens/s",
        key: "tokens_per_s",
        unit: "tok/s",
        better: "higher",
        target: { ratio: 1.6 },
      },
      ...workerVariants().flatMap(({ key, name }): Row[] => [
        {
          figure: `tokens/s, ${name}`,
          key: `${key}_tokens_per_s`,
          unit: "tok/s",
          better: "higher",
        },
      ]),
      { figure: "server CPU per 1,000 tokens", key: "cpu_per_1k", unit: "ms", better: "lower" },
      {
        figure: "load client CPU, share of one core",
        key: "client_cpu_share",
        unit: "",
        better: "lower",
      },
    ],
    available: () =>
      existsSync(path.join(repoRoot, "src/cluster/workers.ts"))
        ? undefined
        : "not available: WORKERS (src/cluster/workers.ts) is not in this tree yet",
    measure: async (side) => {
      const n = num("sessions");
      const tokens = num("session-tokens");
      const once = async (workers: number, extra: Record<string, string>): Promise<Figures> => {
        // The WORKERS primary owns the port and does not report an ephemeral one: pick a free one.
        const env = {
          ...gatewayEnv,
          // Every session is the same anonymous person on 127.0.0.1: its run quota is out of the way.
          AGENT_MAX_QUEUED_PER_USER: String(n),
          WORKERS: String(workers),
          PORT: String(await freePort()),
          ...extra,
        };
        const server = await startServer("gateway-server.ts", env, {
          fds: n + 1000,
          nodeFlags: nodeFlags("gateway-server"),
          startTimeoutMs: 120_000,
        });
        try {
          let client: number | undefined;
          const cpu = { server: 0, client: 0 };
          const f = await runClient(
            { scenario: "sessions", urls: [server.url], sessions: n, tokens },
            (name) => {
              // The primary and its workers; the load client shares the machine's cores.
              if (name === "measure") {
                client = loadClientPid();
                cpu.server = -treeCpuMs(server.pid);
                cpu.client = client === undefined ? Number.NaN : -cpuMs(client);
              }
              if (name === "measured") {
                cpu.server += treeCpuMs(server.pid);
                cpu.client += client === undefined ? Number.NaN : cpuMs(client);
              }
            },
            n + 1000,
          );
          if (f["intact"] !== 1)
            throw new Error("workers: a stream arrived incomplete or out of order");
          const seconds = (n * tokens) / (f["tokens_per_s"] ?? Number.NaN);
          return {
            ...f,
            cpu_per_1k: cpu.server / ((n * tokens) / 1000),
            client_cpu_share: cpu.client / 1000 / seconds,
          };
        } finally {
          await server.stop();
        }
      };
      if (side !== "gateway") {
        const f = await once(1, {});
        const same = Object.fromEntries(
          workerVariants().map(({ key }) => [
            `${key}_tokens_per_s`,
            f["tokens_per_s"] ?? Number.NaN,
          ]),
        );
        return { ...f, ...same };
      }
      const f = await once(2, {});
      const variants: Figures = {};
      for (const { key, env, redis } of workerVariants()) {
        const server = redis ? await startRedisServer() : undefined;
        try {
          const v = await once(2, { ...env, ...(server ? { REDIS_URL: server.url } : {}) });
          variants[`${key}_tokens_per_s`] = v["tokens_per_s"] ?? Number.NaN;
        } finally {
          await server?.stop();
        }
      }
      return { ...f, ...variants };
    },
  },
];

/**
 * Per event: the last node's last write minus the publish, over the events
 * every node wrote; the first event (the client's uncounted warm-up) is left out.
 */
function serverFanout(times: BroadcastTimes[]): Figures {
  const published = Object.assign({}, ...times.map((t) => t.published)) as Record<string, number>;
  const spans = Object.entries(published)
    .toSorted(([, a], [, b]) => a - b)
    .slice(1)
    .flatMap(([id, at]) => {
      const written = times.map((t) => t.written[id]);
      if (written.some((w) => w === undefined)) return [];
      return [Math.max(...(written as number[])) - at];
    });
  return {
    server_p50_ms: percentile(spans, 50),
    server_p99_ms: percentile(spans, 99),
    server_events: spans.length,
  };
}

/** The WORKERS=2 variants the workers scenario also measures (--workers-variants). */
function workerVariants() {
  const all = {
    relay: {
      name: "relaying every broadcast (before)",
      env: { CLUSTER_LOCAL_BROADCASTS: "false" },
      redis: false,
    },
    redis: { name: "with Redis", env: {}, redis: true },
    "redis-relay": {
      name: "with Redis, relaying every broadcast",
      env: { CLUSTER_LOCAL_BROADCASTS: "false" },
      redis: true,
    },
  };
  return (flags["workers-variants"] ?? "")
    .split(",")
    .map((key) => key.trim())
    .filter((key): key is keyof typeof all => key in all)
    .map((key) => ({ key: key.replace("-", "_"), ...all[key] }));
}

async function fanoutOnce(side: Side, clients: number): Promise<Figures> {
  const tokens = num("fanout-tokens");
  return withServer(serverFile(side), gatewayEnv, 1024, async (server) => {
    const f = await measured(server, {
      scenario: "fanout",
      urls: [server.url],
      clients,
      tokens,
      ...transportOf(side),
    });
    if (f["intact"] !== 1) throw new Error("fan-out: a stream arrived incomplete or out of order");
    return { ...f, cpu_per_1k: f.cpu_ms / (tokens / 1000) };
  });
}

interface ScenarioResult {
  id: string;
  title: string;
  baselineName: string;
  unavailable?: string;
  rows: Array<
    Row & {
      gateway: number;
      baseline: number;
      ratio: number;
      /** The gateway's figure over plain WebSocket, for scenarios that measure it. */
      plain?: number;
      /** LangGraph's figure in process, and the gateway against it (ratio or difference). */
      inProcess?: number;
      vsInProcess?: number;
      meetsInProcess?: boolean;
      runs: { gateway: number[]; baseline: number[]; plain?: number[]; ceiling?: number[] };
      meets?: boolean;
    }
  >;
}

function verdict(row: Row, gateway: number, ratio: number): boolean | undefined {
  if (!row.target) return undefined;
  if ("max" in row.target) return gateway <= row.target.max;
  return row.better === "higher" ? ratio >= row.target.ratio : ratio <= row.target.ratio;
}

function againstCeiling(
  row: Row,
  gateway: number,
  inProcess: number,
): { inProcess: number; vsInProcess?: number; meetsInProcess?: boolean } {
  const how = row.vsCeiling;
  if (!how) return { inProcess };
  const vsInProcess = "ratio" in how ? gateway / inProcess : gateway - inProcess;
  const bound = "ratio" in how ? how.min : how.max;
  if (bound === undefined) return { inProcess, vsInProcess };
  const meetsInProcess = "ratio" in how ? vsInProcess >= bound : vsInProcess <= bound;
  return { inProcess, vsInProcess, meetsInProcess };
}

async function runScenario(scenario: Scenario, runs: number): Promise<ScenarioResult> {
  const unavailable = scenario.available?.();
  if (unavailable) {
    console.error(`${scenario.id}: ${unavailable}`);
    return {
      id: scenario.id,
      title: scenario.title,
      baselineName: scenario.baselineName,
      unavailable,
      rows: [],
    };
  }
  const collected: Record<Side, Figures[]> = { gateway: [], baseline: [], plain: [], ceiling: [] };
  const wanted = flags.sides?.split(",").map((s) => s.trim());
  const sides = (
    [
      "gateway",
      "baseline",
      ...(scenario.plain ? (["plain"] as const) : []),
      ...(scenario.ceiling ? (["ceiling"] as const) : []),
    ] as Side[]
  ).filter((side) => !wanted || wanted.includes(side));
  for (let run = 0; run < runs; run++) {
    // Alternate which side goes first, so drift on a shared machine falls on all of them.
    const order = run % 2 === 0 ? sides : sides.toReversed();
    for (const side of order) {
      const started = Date.now();
      const figures = await scenario.measure(side);
      collected[side].push(figures);
      console.error(
        `${scenario.id} run ${run + 1}/${runs} ${side}: ${JSON.stringify(round(figures))} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
  }
  return {
    id: scenario.id,
    title: scenario.title,
    baselineName: scenario.baselineName,
    rows: scenario.rows.map((row) => {
      const g = collected.gateway.map((f) => f[row.key] ?? Number.NaN);
      const b = collected.baseline.map((f) => f[row.key] ?? Number.NaN);
      const gateway = median(g);
      const baseline = median(b);
      const ratio = gateway / baseline;
      const meets = verdict(row, gateway, ratio);
      const p = collected.plain.map((f) => f[row.key] ?? Number.NaN);
      const c = collected.ceiling.map((f) => f[row.ceilingKey ?? row.key] ?? Number.NaN);
      return {
        ...row,
        gateway,
        baseline,
        ratio,
        ...(scenario.plain ? { plain: median(p) } : {}),
        ...(scenario.ceiling ? againstCeiling(row, gateway, median(c)) : {}),
        runs: {
          gateway: g,
          baseline: b,
          ...(scenario.plain ? { plain: p } : {}),
          ...(scenario.ceiling ? { ceiling: c } : {}),
        },
        ...(meets === undefined ? {} : { meets }),
      };
    }),
  };
}

const round = (f: Figures): Figures =>
  Object.fromEntries(Object.entries(f).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));

function show(value: number): string {
  if (!Number.isFinite(value)) return "–";
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  return value.toPrecision(3);
}

/** The last four cells: LangGraph in process, the gateway against it, its target, met. */
function ceilingCells(row: ScenarioResult["rows"][number], unit: string): string {
  const how = row.vsCeiling;
  if (row.inProcess === undefined || !how || row.vsInProcess === undefined) return " |  |  | ";
  const ratio = "ratio" in how;
  const vs = row.vsInProcess;
  const compared = ratio ? `${show(vs)} ×` : `${vs >= 0 ? "+" : ""}${show(vs)} ms`;
  const bound = ratio ? how.min : how.max;
  const target = bound === undefined ? "" : ratio ? `≥ ${bound} ×` : `≤ +${bound} ms`;
  const met = row.meetsInProcess === undefined ? "" : row.meetsInProcess ? "yes" : "**no**";
  return `${show(row.inProcess)}${unit} | ${compared} | ${target} | ${met}`;
}

function markdown(results: ScenarioResult[], runs: number): string {
  const lines = [
    `Medians of ${runs} run(s); ratio = gateway / baseline; "plain ws" is the gateway again, with plain WebSocket clients on /ws; "in process" is LangGraph alone driven by streamEvents v2 in a process of its own, compared as gateway ÷ in process, or as gateway − in process (ms) for the first token.`,
    "",
    "| scenario | figure | gateway | baseline | ratio | target | met | gateway, plain ws | LangGraph in process | vs in process | target | met |",
    "| --- | --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | --- | --- |",
  ];
  for (const result of results) {
    if (result.unavailable) {
      lines.push(
        `| ${result.title} | – | – | – | – | – | ${result.unavailable} | – | – | – | – | – |`,
      );
      continue;
    }
    for (const row of result.rows) {
      const unit = row.unit ? ` ${row.unit}` : "";
      const target = !row.target
        ? ""
        : "max" in row.target
          ? `≤ ${row.target.max} ms`
          : `${row.better === "higher" ? "≥" : "≤"} ${row.target.ratio} × ${result.baselineName}`;
      const met = row.meets === undefined ? "" : row.meets ? "yes" : "**no**";
      const plain = row.plain === undefined ? "" : `${show(row.plain)}${unit}`;
      lines.push(
        `| ${result.title} | ${row.figure} | ${show(row.gateway)}${unit} | ${show(row.baseline)}${unit} (${result.baselineName}) | ${show(row.ratio)} | ${target} | ${met} | ${plain} | ${ceilingCells(row, unit)} |`,
      );
    }
  }
  return lines.join("\n");
}

const runs = num("runs");
const only = flags.only?.split(",").map((s) => s.trim());
const chosen = scenarios.filter((s) => !only || only.includes(s.id));
const results: ScenarioResult[] = [];
for (const scenario of chosen) {
  try {
    results.push(await runScenario(scenario, runs));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`${scenario.id} failed: ${message}`);
    results.push({
      id: scenario.id,
      title: scenario.title,
      baselineName: scenario.baselineName,
      unavailable: `failed: ${message}`,
      rows: [],
    });
  }
}
const table = markdown(results, runs);
console.log(table);
if (flags.json) {
  const machine = {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
  await writeFile(
    flags.json,
    `${JSON.stringify({ machine, runs, gatewayEnv: { ...gatewayEnv, API_KEY: "…" }, results, markdown: table }, null, 2)}\n`,
  );
}
