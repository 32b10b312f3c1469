/**
 * Bytes on the wire per 1,000 tokens, native against each dialect: real runs
 * are recorded from a gateway (one chunk per token), then translated by each
 * dialect's translator as one client of the session would get them.
 * Socket.IO bytes are the text packets `42["event",{...}]`; plain-WebSocket
 * bytes are the JSON frames.
 *
 * A last table checks the translation on the real wire: one session, a plain
 * WebSocket client per dialect selected with `?dialect=`, every byte each
 * receives for one run counted.
 *
 *   node --import tsx bench/dialect-bytes.ts [--tokens 1000,4000] [--participants 6] [--rounds 10]
 */
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { DIALECTS } from "../src/dialects/index.js";
import { startGateway } from "../test/support/gateway.js";
import { recordRun, type NativeEvent } from "../test/dialects/recorded-runs.js";
import { BenchChatModel, benchPrompt } from "./bench-model.js";

const { values } = parseArgs({
  options: {
    tokens: { type: "string", default: "1000,4000" },
    participants: { type: "string", default: "6" },
    rounds: { type: "string", default: "10" },
  },
});

interface Recording {
  name: string;
  sessionId: string;
  events: NativeEvent[];
}

/** One stream_chunk per token, the most bytes a dialect can cost (WS_STREAM_COALESCE_MAX_CHARS). */
const PER_TOKEN = { WS_STREAM_COALESCE_MAX_CHARS: "1" };

async function recordLongChats(tokenCounts: number[]): Promise<Recording[]> {
  const server = await startGateway(
    { WS_RATE_LIMIT_PER_SEC: "10000", ...PER_TOKEN },
    { agentModel: { model: new BenchChatModel(64), vendor: "demo" } },
  );
  try {
    const recordings: Recording[] = [];
    for (const tokens of tokenCounts) {
      const run = await recordRun(server.url, "message", { content: benchPrompt(tokens) });
      run.socket.close();
      recordings.push({ name: `chat, one turn of ${tokens} tokens`, ...run });
    }
    return recordings;
  } finally {
    await server.close();
  }
}

async function recordDiscussion(participants: number, rounds: number): Promise<Recording> {
  const server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0", ...PER_TOKEN });
  try {
    const names = ["optimist", "skeptic", "pragmatist", "historian", "engineer", "economist"];
    const run = await recordRun(server.url, "start_conversation", {
      topic: "whether cities should ban cars from their centres",
      participants: names.slice(0, participants).map((name) => ({ name })),
      rounds,
    });
    run.socket.close();
    return { name: `discussion, ${participants} × ${rounds} turns`, ...run };
  } finally {
    await server.close();
  }
}

const socketIoBytes = (type: string, payload: unknown) =>
  Buffer.byteLength(`42${JSON.stringify([type, payload])}`);
const webSocketBytes = (payload: unknown) => Buffer.byteLength(JSON.stringify(payload));

function measure({ name, sessionId, events }: Recording) {
  const tokens = events.filter((e) => e.type === "stream_chunk").length;
  console.log(`\n${name}: ${tokens} native chunks, ${events.length} native events`);
  console.log(
    "| dialect | frames | Socket.IO bytes / 1,000 tokens | × native | plain WebSocket bytes / 1,000 tokens |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: |");
  let nativeBytes = 0;
  for (const dialect of DIALECTS.values()) {
    const translator = dialect.createTranslator({ sessionId });
    const frames = events.flatMap((e) => translator.outbound(e.type, e.payload));
    const sio = frames.reduce((sum, f) => sum + socketIoBytes(f.type, f.payload), 0);
    const ws = frames.reduce((sum, f) => sum + webSocketBytes(f.payload), 0);
    if (dialect.id === "native") nativeBytes = sio;
    const per1000 = (bytes: number) => Math.round((bytes * 1000) / tokens).toLocaleString("en");
    const wsCell = dialect.transports.includes("websocket") ? per1000(ws) : "(Socket.IO only)";
    console.log(
      `| ${dialect.id} | ${frames.length} | ${per1000(sio)} | ${(sio / nativeBytes).toFixed(2)} | ${wsCell} |`,
    );
  }
}

/** A plain WebSocket client of `dialect` in the session, counting the bytes of the run's frames. */
async function wireClient(url: string, sessionId: string, dialect: string) {
  const ws = new WebSocket(
    `${url.replace(/^http/, "ws")}/ws?session_id=${sessionId}&dialect=${dialect}`,
  );
  let counting = false;
  let bytes = 0;
  let frames = 0;
  let markEnd: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (markEnd = resolve));
  const connected = new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.once("message", () => resolve());
  });
  ws.on("message", (data: Buffer) => {
    if (!counting) return;
    bytes += data.byteLength;
    frames += 1;
    if ((JSON.parse(data.toString()) as { type: string }).type === "stream_end") markEnd();
  });
  await connected;
  return {
    dialect,
    ws,
    ended,
    start: () => (counting = true),
    result: () => ({ bytes, frames }),
  };
}

async function measureOnTheWire(tokens: number) {
  const server = await startGateway(
    { WS_RATE_LIMIT_PER_SEC: "10000", ...PER_TOKEN },
    { agentModel: { model: new BenchChatModel(64), vendor: "demo" } },
  );
  try {
    const sessionId = `wire-${tokens}`;
    const ids = [...DIALECTS.values()]
      .filter((d) => d.transports.includes("websocket") && d.id !== "learning-coach")
      .map((d) => d.id);
    const clients = await Promise.all(ids.map((id) => wireClient(server.url, sessionId, id)));
    for (const client of clients) client.start();
    clients[0]!.ws.send(JSON.stringify({ type: "message", content: benchPrompt(tokens) }));
    await Promise.all(clients.map((c) => c.ended));
    console.log(`\non the wire, chat of ${tokens} tokens, one session, plain WebSocket:`);
    console.log("| dialect | frames | bytes / 1,000 tokens | × native |");
    console.log("| --- | ---: | ---: | ---: |");
    const native = clients[0]!.result().bytes;
    for (const client of clients) {
      const { bytes, frames } = client.result();
      const per1000 = Math.round((bytes * 1000) / tokens).toLocaleString("en");
      console.log(
        `| ${client.dialect} | ${frames} | ${per1000} | ${(bytes / native).toFixed(2)} |`,
      );
      client.ws.close();
    }
  } finally {
    await server.close();
  }
}

const tokenCounts = values.tokens.split(",").map(Number);
const recordings = [
  ...(await recordLongChats(tokenCounts)),
  await recordDiscussion(Number(values.participants), Number(values.rounds)),
];
recordings.forEach(measure);
for (const tokens of tokenCounts) await measureOnTheWire(tokens);
