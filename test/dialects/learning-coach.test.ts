import { expect } from "chai";
import WebSocket from "ws";
import { dialectFor } from "../../src/dialects/index.js";
import { startGateway, type RunningGateway } from "../support/gateway.js";
import { ofType, recordRun, translateAll } from "./recorded-runs.js";

const learningCoach = dialectFor("learning-coach");

describe("dialect learning-coach (the learning-coach protocol, its message protocol)", function () {
  this.timeout(30000);
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0" });
  });
  after(() => server.close());

  it("gives its client the native stream, which has every field it reads", async () => {
    const run = await recordRun(server.url, "message", {
      content: "Tell me about recursion",
      metadata: { question_id: "q_001" },
      message_id: "lc-1",
    });
    run.socket.close();
    const frames = translateAll(
      learningCoach.createTranslator({ sessionId: run.sessionId }),
      run.events,
    );
    expect(frames).to.deep.equal(run.events);
    expect(ofType(frames, "stream_start")[0]?.payload).to.include({
      type: "stream_start",
      message_id: "lc-1",
    });
    const chunks = ofType(frames, "stream_chunk").map((f) => f.payload);
    expect(
      chunks.every((c) => c["message_id"] === "lc-1" && typeof c["content"] === "string"),
    ).to.equal(true);
    const end = ofType(frames, "stream_end")[0]?.payload;
    expect(end?.["total_content"]).to.equal(chunks.map((c) => c["content"]).join(""));
    for (const { payload } of ofType(frames, "progress_update")) {
      const data = payload["data"] as Record<string, unknown>;
      expect(data["stage"]).to.be.a("string");
      expect(data["completed"]).to.be.a("number");
      expect(data["total"]).to.be.a("number");
    }
  });
});

/** When a plain client on the learning-coach path was pinged and dropped, in ms from its open. */
interface Timeline {
  pings: number[];
  closedAt: Promise<number>;
  ws: WebSocket;
}

async function openTimeline(url: string, sessionId: string, autoPong: boolean): Promise<Timeline> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/ws/agents/${sessionId}`, { autoPong });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  const opened = performance.now();
  const pings: number[] = [];
  ws.on("ping", () => pings.push(performance.now() - opened));
  const closedAt = new Promise<number>((resolve) =>
    ws.once("close", () => resolve(performance.now() - opened)),
  );
  return { pings, closedAt, ws };
}

describe("learning-coach heartbeat over plain WebSocket (its §heartbeat 30 s, timeout 60 s)", function () {
  this.timeout(30000);
  // Scaled down tenfold: 3 s and 6 s. A shared timer ticking every quarter of the timeout was up to
  // 1.5 s late here, and the four staggered clients meet its worst; a busy machine's timers, 400 ms at most.
  const INTERVAL_MS = 3000;
  const TIMEOUT_MS = 6000;
  const EARLY_MS = 50;
  const LATE_MS = 400;

  it("pings each WS_HEARTBEAT_INTERVAL and drops a silent client at WS_HEARTBEAT_TIMEOUT, whenever it connected", async () => {
    const server = await startGateway({
      WS_HEARTBEAT_INTERVAL: String(INTERVAL_MS / 1000),
      WS_HEARTBEAT_TIMEOUT: String(TIMEOUT_MS / 1000),
    });
    try {
      const alive = await openTimeline(server.url, "coach-alive", true);
      // Silent clients (they never answer a ping) opened at four points of the interval.
      const silent: Timeline[] = [];
      for (let i = 0; i < 4; i++) {
        silent.push(await openTimeline(server.url, `coach-silent-${i}`, false));
        await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS / 8));
      }
      for (const [i, client] of silent.entries()) {
        const closedAt = await client.closedAt;
        expect(closedAt, `silent client ${i} dropped`).to.be.within(
          TIMEOUT_MS - EARLY_MS,
          TIMEOUT_MS + LATE_MS,
        );
        expect(client.pings[0], `silent client ${i} pinged`).to.be.within(
          INTERVAL_MS - EARLY_MS,
          INTERVAL_MS + LATE_MS,
        );
      }
      // The client that answers is pinged on time again and again, and stays.
      expect(alive.pings).to.have.length.at.least(2);
      alive.pings.forEach((at, i) =>
        expect(at, `ping ${i + 1}`).to.be.within(
          (i + 1) * INTERVAL_MS - EARLY_MS,
          (i + 1) * INTERVAL_MS + LATE_MS,
        ),
      );
      expect(alive.ws.readyState).to.equal(WebSocket.OPEN);
      alive.ws.close();
    } finally {
      await server.close();
    }
  });
});
