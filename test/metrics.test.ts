import { expect } from "chai";
import { freePort } from "./support/free-port.js";
import {
  connect,
  nextEvent,
  recordEvents,
  refusal,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";
import { connectAs } from "./support/clients.js";
import { sample, scrape } from "./support/prometheus.js";
import { waitFor } from "./support/wait-for.js";

describe("Prometheus metrics", () => {
  describe("on the main port, open without API_KEY or METRICS_TOKEN", () => {
    let server: RunningGateway;
    before(async () => {
      server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0" });
    });
    after(() => server.close());

    it("serves the process's default metrics in the text format", async () => {
      const response = await fetch(`${server.url}/metrics`);
      expect(response.status).to.equal(200);
      expect(response.headers.get("content-type")).to.match(/^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      expect(text).to.include("# TYPE process_cpu_user_seconds_total counter");
      expect(text).to.include("# TYPE nodejs_eventloop_lag_seconds gauge");
    });

    it("counts events by type and refusals by type and code; a client's made-up type is labelled unknown", async () => {
      const before = await scrape(server.url);
      const { socket } = await connect(server.url);
      await request(socket, "ping", {});
      const bogusType = `exfiltrate_${"x".repeat(200)}`;
      expect((await request(socket, bogusType, {})).ok).to.equal(false);
      expect((await request(socket, "message", { content: "" })).ok).to.equal(false);
      const after = await scrape(server.url);
      socket.close();

      const moved = (name: string, labels: Record<string, string>) =>
        sample(after, name, labels) - sample(before, name, labels);
      expect(moved("gateway_events_received_total", { type: "ping" })).to.equal(1);
      expect(moved("gateway_events_received_total", { type: "unknown" })).to.equal(1);
      expect(moved("gateway_events_received_total", { type: "message" })).to.equal(1);
      expect(
        moved("gateway_events_refused_total", { type: "unknown", code: "unknown_type" }),
      ).to.equal(1);
      expect(
        moved("gateway_events_refused_total", { type: "message", code: "invalid_payload" }),
      ).to.equal(1);
      expect(moved("gateway_handler_duration_seconds_count", { type: "ping" })).to.equal(1);
      expect(moved("gateway_ack_latency_seconds_count", { type: "ping" })).to.equal(1);
      expect(moved("gateway_ack_latency_seconds_count", { type: "unknown" })).to.equal(1);
      expect(after).not.to.include("exfiltrate");
    });

    it("shows connections by transport and node, and sessions", async () => {
      const node = server.gateway.nodeId;
      const before = await scrape(server.url);
      expect(sample(before, "gateway_connections", { transport: "socketio", node })).to.equal(0);
      const first = await connect(server.url, { session_id: "metrics-session-1" });
      const polling = await connect(server.url, {}, { transports: ["polling"] });
      const plain = await connectAs("ws", server.url, { session_id: "metrics-session-1" });
      const during = await scrape(server.url);
      expect(sample(during, "gateway_connections", { transport: "socketio", node })).to.equal(2);
      expect(sample(during, "gateway_connections", { transport: "ws", node })).to.equal(1);
      expect(sample(during, "gateway_sessions", { node })).to.equal(2);
      plain.socket.close();
      for (const { socket } of [first, polling]) {
        const gone = new Promise((resolve) => socket.once("disconnect", resolve));
        socket.close();
        await gone;
      }
      await waitFor(async () => {
        const after = await scrape(server.url);
        return sample(after, "gateway_connections", { transport: "ws", node }) === 0;
      });
    });

    it("counts refused admissions by code", async () => {
      const before = await scrape(server.url);
      const refused = await refusal(server.url, { session_id: "no spaces allowed" });
      expect(refused.code).to.equal("invalid_session_id");
      const after = await scrape(server.url);
      const labels = { code: "invalid_session_id" };
      expect(
        sample(after, "gateway_admissions_refused_total", labels) -
          sample(before, "gateway_admissions_refused_total", labels),
      ).to.equal(1);
    });

    it("counts a run by outcome, its duration, first token, tokens streamed, checkpoints and a resume", async () => {
      const before = await scrape(server.url);
      const { socket } = await connect(server.url);
      const events = recordEvents(socket);
      const ended = nextEvent(socket, "stream_end");
      const ack = await request(socket, "message", { content: "hello", message_id: "m-metrics" });
      expect(ack.ok).to.equal(true);
      await ended;
      const chunks = events.filter((e) => e.type === "stream_chunk").length;
      const resumed = await request(socket, "resume", { message_id: "m-metrics", after_seq: 0 });
      expect(resumed.ok).to.equal(true);
      const after = await scrape(server.url);
      socket.close();

      const moved = (name: string, labels: Record<string, string> = {}) =>
        sample(after, name, labels) - sample(before, name, labels);
      expect(chunks).to.be.greaterThan(0);
      expect(moved("gateway_agent_runs_total", { outcome: "completed" })).to.equal(1);
      expect(moved("gateway_agent_run_duration_seconds_count", { outcome: "completed" })).to.equal(
        1,
      );
      expect(moved("gateway_agent_first_token_seconds_count")).to.equal(1);
      expect(moved("gateway_stream_tokens_total")).to.equal(chunks);
      expect(moved("gateway_stream_resumes_total")).to.equal(1);
      const puts = { operation: "put", backend: "memory" };
      expect(moved("gateway_checkpointer_duration_seconds_count", puts)).to.be.greaterThan(0);
      expect(
        moved("gateway_checkpointer_duration_seconds_count", {
          operation: "getTuple",
          backend: "memory",
        }),
      ).to.be.greaterThan(0);
      expect(sample(after, "gateway_agent_queue_depth", { node: server.gateway.nodeId })).to.equal(
        0,
      );
    });

    it("counts every rate-limited event by scope", async () => {
      const server = await startGateway({
        WS_RATE_LIMIT_PER_SEC: "2",
        WS_RATE_LIMIT_DISCONNECT_AFTER: "0",
      });
      const before = await scrape(server.url);
      const { socket } = await connect(server.url);
      const acks = await Promise.all(Array.from({ length: 12 }, () => request(socket, "ping", {})));
      const refused = acks.filter((a) => !a.ok && a.error.code === "rate_limited").length;
      expect(refused).to.be.greaterThan(0);
      const after = await scrape(server.url);
      socket.close();
      await server.close();
      const scope = { scope: "connection" };
      expect(
        sample(after, "gateway_rate_limit_refusals_total", scope) -
          sample(before, "gateway_rate_limit_refusals_total", scope),
      ).to.equal(refused);
      const refusedPings = { type: "ping", code: "rate_limited" };
      expect(
        sample(after, "gateway_events_refused_total", refusedPings) -
          sample(before, "gateway_events_refused_total", refusedPings),
      ).to.equal(refused);
    });
  });

  describe("guarded", () => {
    const METRICS_TOKEN = "metrics-scraper-token-0123";
    const API_KEY = "operator-api-key-0123456789";

    it("asks for METRICS_TOKEN when set, and refuses the API key then", async () => {
      const server = await startGateway({ METRICS_TOKEN, API_KEY });
      try {
        const bare = await fetch(`${server.url}/metrics`);
        expect(bare.status).to.equal(401);
        expect(((await bare.json()) as { error: { code: string } }).error.code).to.equal(
          "unauthorized",
        );
        const withKey = await fetch(`${server.url}/metrics`, {
          headers: { authorization: `Bearer ${API_KEY}` },
        });
        expect(withKey.status).to.equal(401);
        await scrape(server.url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      } finally {
        await server.close();
      }
    });

    it("falls back to API_KEY", async () => {
      const server = await startGateway({ API_KEY });
      try {
        expect((await fetch(`${server.url}/metrics`)).status).to.equal(401);
        await scrape(server.url, { headers: { authorization: `Bearer ${API_KEY}` } });
      } finally {
        await server.close();
      }
    });

    it("moves to METRICS_PORT when set: a server of its own, nothing else on it", async () => {
      const port = await freePort();
      const server = await startGateway({ METRICS_PORT: String(port), METRICS_TOKEN });
      try {
        expect((await fetch(`${server.url}/metrics`)).status).to.equal(404);
        const metricsUrl = `http://127.0.0.1:${port}`;
        expect((await fetch(`${metricsUrl}/metrics`)).status).to.equal(401);
        expect((await fetch(`${metricsUrl}/healthz`)).status).to.equal(404);
        const text = await scrape(metricsUrl, {
          headers: { authorization: `Bearer ${METRICS_TOKEN}` },
        });
        expect(text).to.include("gateway_events_received_total");
      } finally {
        await server.close();
      }
    });
  });
});
