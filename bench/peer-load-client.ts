/**
 * The load on LangGraph Server for `npm run bench:peers`: a separate process,
 * like load-client.ts, speaking LangGraph Server's HTTP API with Node's fetch
 * and reading its SSE streams (`stream_mode: messages-tuple`). It pauses at the
 * same named checkpoints so the runner reads the server's CPU and memory.
 */
import { BENCH_TOKEN, benchPrompt } from "./bench-model.js";
import { percentile } from "./stats.js";

/** This process's CPU (user + system) since `start`, in ms, as load-client.ts reports it. */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

export type PeerTask =
  | { scenario: "stream"; url: string; readers: number; tokens: number }
  | { scenario: "sessions"; url: string; sessions: number; tokens: number }
  | { scenario: "first-token"; url: string; messages: number }
  | { scenario: "idle"; url: string; connections: number };

const task = JSON.parse(process.argv[2] ?? "{}") as PeerTask;

function checkpoint(name: string, figures: Record<string, number> = {}): Promise<void> {
  return new Promise((resolve) => {
    process.once("message", () => resolve());
    process.send?.({ type: "checkpoint", name, figures });
  });
}

async function postJson<T>(path: string, body: object): Promise<T> {
  const response = await fetch(`${task.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const newThread = async () => (await postJson<{ thread_id: string }>("/threads", {})).thread_id;

const runBody = (tokens: number, extra: object = {}) =>
  JSON.stringify({
    assistant_id: "agent",
    input: { messages: [{ role: "human", content: benchPrompt(tokens) }] },
    stream_mode: ["messages-tuple"],
    ...extra,
  });

interface StreamRecord {
  tokens: number;
  events: number;
  firstAt: number;
  endAt: number;
  gaps: number[];
  /** SSE ids rise by one from event to event, and the text is whole. */
  idsOk: boolean;
  total: string;
}

/**
 * Reads one SSE response to its end, counting the AI message chunks of the
 * `messages` events. Each `data` is parsed, as a client of the server would.
 */
async function readStream(
  response: Response,
  keepGaps: boolean,
  onFirstToken?: (at: number) => void,
): Promise<StreamRecord> {
  if (!response.ok || !response.body) throw new Error(`stream: ${response.status}`);
  const record: StreamRecord = {
    tokens: 0,
    events: 0,
    firstAt: 0,
    endAt: 0,
    gaps: [],
    idsOk: true,
    total: "",
  };
  const decoder = new TextDecoder();
  let buffer = "";
  let lastId = -1;
  let last = 0;
  const onEvent = (block: string) => {
    let event = "message";
    let data = "";
    let id: string | undefined;
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
      else if (line.startsWith("id: ")) id = line.slice(4);
    }
    if (id !== undefined) {
      if (lastId >= 0 && Number(id) !== lastId + 1) record.idsOk = false;
      lastId = Number(id);
    }
    if (event !== "messages") return;
    const [chunk] = JSON.parse(data) as [{ type: string; content: unknown }, unknown];
    if (chunk.type !== "ai" && chunk.type !== "AIMessageChunk") return;
    if (typeof chunk.content !== "string" || chunk.content === "") return;
    const now = performance.now();
    if (record.events === 0) {
      record.firstAt = now;
      onFirstToken?.(now);
    } else if (keepGaps) record.gaps.push(now - last);
    last = now;
    record.events++;
    record.total += chunk.content;
    record.tokens += chunk.content.length / BENCH_TOKEN.length;
  };
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      onEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  }
  record.endAt = performance.now();
  return record;
}

/** POST /threads/{id}/runs/stream: creates the run and streams it on the same response. */
function startRun(threadId: string, tokens: number, extra: object = {}): Promise<Response> {
  return fetch(`${task.url}/threads/${threadId}/runs/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: runBody(tokens, extra),
  });
}

/** GET /threads/{id}/runs/{run_id}/stream from its first event (Last-Event-ID -1 on a resumable run). */
function joinRun(runPath: string, fromStart: boolean): Promise<Response> {
  return fetch(`${task.url}${runPath}/stream`, {
    headers: fromStart ? { "last-event-id": "-1" } : {},
  });
}

/**
 * One run read by `readers` clients: the creator on its POST, the others
 * joining as soon as the POST's headers name the run. Joiners read from the
 * run's first event: without `stream_resumable` the server's per-run queue
 * hands each event to one reader only, so several readers need it.
 */
async function stream(t: Extract<PeerTask, { scenario: "stream" }>) {
  const warm = await readStream(await startRun(await newThread(), 2000), false);
  if (warm.tokens !== 2000) throw new Error(`warm-up run: ${warm.tokens} tokens`);
  const threadId = await newThread();
  const shared = t.readers > 1 ? { stream_resumable: true } : {};
  await checkpoint("measure");
  const started = performance.now();
  const cpu = process.cpuUsage();
  const creator = await startRun(threadId, t.tokens, shared);
  const runPath = creator.headers.get("content-location");
  if (!runPath) throw new Error("no content-location on the run's stream");
  const joiners = await Promise.all(
    Array.from({ length: t.readers - 1 }, () => joinRun(runPath, true)),
  );
  const records = await Promise.all(
    [creator, ...joiners].map((r, i) =>
      readStream(r, false).catch((error: Error) => {
        throw new Error(
          `reader ${i} (${i === 0 ? "creator" : "joiner"}): ${error.cause instanceof Error ? error.cause.message : error.message}`,
        );
      }),
    ),
  );
  const seconds = (Math.max(...records.map((r) => r.endAt)) - started) / 1000;
  const clientCpuMs = cpuMsSince(cpu);
  await checkpoint("measured");
  const delivered = records.reduce((sum, r) => sum + r.tokens, 0);
  const expected = BENCH_TOKEN.repeat(t.tokens);
  return {
    tokens_per_s: delivered / seconds,
    tokens_delivered: delivered,
    chunk_events: records.reduce((sum, r) => sum + r.events, 0),
    intact: records.every((r) => r.idsOk && r.total === expected) ? 1 : 0,
    client_cpu_ms: clientCpuMs,
  };
}

async function sessions(t: Extract<PeerTask, { scenario: "sessions" }>) {
  const threads = await Promise.all(Array.from({ length: t.sessions }, newThread));
  await checkpoint("measure");
  const started = performance.now();
  const cpu = process.cpuUsage();
  const records = await Promise.all(
    threads.map(async (id) => readStream(await startRun(id, t.tokens), true)),
  );
  const seconds = (Math.max(...records.map((r) => r.endAt)) - started) / 1000;
  const clientCpuMs = cpuMsSince(cpu);
  await checkpoint("measured");
  const delivered = records.reduce((sum, r) => sum + r.tokens, 0);
  return {
    tokens_per_s: delivered / seconds,
    gap_p99_ms: percentile(
      records.flatMap((r) => r.gaps),
      99,
    ),
    chunk_events: records.reduce((sum, r) => sum + r.events, 0),
    intact: records.every((r) => r.idsOk && r.tokens === t.tokens) ? 1 : 0,
    client_cpu_ms: clientCpuMs,
  };
}

/** Send → first AI chunk, one message at a time, a fresh thread every 25 as load-client.ts does. */
async function firstToken(t: Extract<PeerTask, { scenario: "first-token" }>) {
  const roundTrips: number[] = [];
  const perThread = 25;
  for (let done = 0; done < t.messages; done += perThread) {
    const threadId = await newThread();
    for (let i = 0; i < Math.min(perThread, t.messages - done); i++) {
      const started = performance.now();
      await readStream(await startRun(threadId, 1), false, (at) => roundTrips.push(at - started));
    }
  }
  return {
    client_p50_ms: percentile(roundTrips, 50),
    client_p99_ms: percentile(roundTrips, 99),
  };
}

/**
 * Idle SSE streams: each client joins the stream of one run that is queued
 * but not due for an hour (`after_seconds`), so the stream stays open and
 * carries nothing, like an idle Socket.IO connection waiting for a message.
 */
async function idle(t: Extract<PeerTask, { scenario: "idle" }>) {
  const threadId = await newThread();
  const run = await postJson<{ run_id: string }>(`/threads/${threadId}/runs`, {
    assistant_id: "agent",
    input: { messages: [{ role: "human", content: benchPrompt(1) }] },
    stream_mode: ["messages-tuple"],
    after_seconds: 3600,
  });
  await checkpoint("before-connect");
  const aborts: AbortController[] = [];
  const started = performance.now();
  const openOne = async () => {
    const abort = new AbortController();
    aborts.push(abort);
    const response = await fetch(`${task.url}/threads/${threadId}/runs/${run.run_id}/stream`, {
      signal: abort.signal,
    });
    if (!response.ok) throw new Error(`join: ${response.status}`);
    // The body stays unread: nothing comes until the run starts.
  };
  let next = 0;
  const worker = async () => {
    while (next++ < t.connections) await openOne();
  };
  await Promise.all(Array.from({ length: Math.min(250, t.connections) }, worker));
  const seconds = (performance.now() - started) / 1000;
  await checkpoint("connected", { connect_rate: t.connections / seconds });
  for (const abort of aborts) abort.abort();
  return { connect_rate: t.connections / seconds };
}

const scenarios = { stream, sessions, "first-token": firstToken, idle } as const;

try {
  const run = scenarios[task.scenario] as (t: PeerTask) => Promise<Record<string, number>>;
  process.send?.({ type: "done", figures: await run(task) });
} catch (error) {
  process.send?.({
    type: "failed",
    // fetch's own message is "fetch failed"; the socket's error is its cause.
    message:
      error instanceof Error
        ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ""}`
        : String(error),
  });
}
setTimeout(() => process.exit(0), 100);
