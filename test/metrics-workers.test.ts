import { expect } from "chai";
import type { Socket as ClientSocket } from "socket.io-client";
import { freePort } from "./support/free-port.js";
import { connect, request } from "./support/gateway.js";
import { spawnGateway, type GatewayProcess } from "./support/process.js";
import { sample, scrape } from "./support/prometheus.js";

const METRICS_TOKEN = "workers-metrics-token-0123";
const scraper = { headers: { authorization: `Bearer ${METRICS_TOKEN}` } };

/** Every sample of `name` in a text exposition, one per label set, as `{labels} value`. */
function samples(text: string, name: string): Array<{ labels: string; value: number }> {
  return text
    .split("\n")
    .map((line) => /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line))
    .filter((match) => match?.[1] === name)
    .map((match) => ({ labels: match?.[2] ?? "", value: Number(match?.[3]) }));
}

describe("Prometheus metrics with WORKERS=2", function () {
  this.timeout(60_000);
  let gateway: GatewayProcess;
  let metricsUrl: string;
  const sockets: ClientSocket[] = [];

  before(async () => {
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}`;
    gateway = await spawnGateway({
      WORKERS: "2",
      METRICS_PORT: String(port),
      METRICS_TOKEN,
      DEMO_TOKEN_DELAY_MS: "0",
    });
  });
  after(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    gateway.child.kill("SIGTERM");
    expect(await gateway.exited).to.equal(0);
  });

  it("serves the workers' sum on METRICS_PORT: counters equal the traffic sent to both workers", async () => {
    const before = await scrape(metricsUrl, scraper);
    // Least-connection balancing spreads four clients over both workers.
    for (let i = 0; i < 4; i++) sockets.push((await connect(gateway.url)).socket);
    const pingsEach = 3;
    for (const socket of sockets) {
      for (let i = 0; i < pingsEach; i++)
        expect((await request(socket, "ping", {})).ok).to.equal(true);
      expect((await request(socket, "message", { content: "" })).ok).to.equal(false);
      expect((await request(socket, `steal_${"x".repeat(100)}`, {})).ok).to.equal(false);
    }
    const after = await scrape(metricsUrl, scraper);

    const connections = samples(after, "gateway_connections");
    expect(connections.map((c) => c.value).reduce((a, b) => a + b, 0)).to.equal(4);
    // One series per worker: each reports its own node, and both hold clients.
    expect(connections).to.have.length(2);
    expect(connections.every((c) => c.value > 0)).to.equal(true);

    const moved = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    const clients = sockets.length;
    expect(moved("gateway_events_received_total", { type: "ping" })).to.equal(clients * pingsEach);
    expect(moved("gateway_events_received_total", { type: "message" })).to.equal(clients);
    expect(moved("gateway_events_received_total", { type: "unknown" })).to.equal(clients);
    expect(
      moved("gateway_events_refused_total", { type: "message", code: "invalid_payload" }),
    ).to.equal(clients);
    expect(
      moved("gateway_events_refused_total", { type: "unknown", code: "unknown_type" }),
    ).to.equal(clients);
    expect(moved("gateway_ack_latency_seconds_count", { type: "ping" })).to.equal(
      clients * pingsEach,
    );
    expect(after).not.to.include("steal_");
  });

  it("refuses a scrape of the sum without METRICS_TOKEN, and serves nothing else on that port", async () => {
    const bare = await fetch(`${metricsUrl}/metrics`);
    expect(bare.status).to.equal(401);
    expect(((await bare.json()) as { error: { code: string } }).error.code).to.equal(
      "unauthorized",
    );
    const wrong = await fetch(`${metricsUrl}/metrics`, {
      headers: { authorization: "Bearer workers-metrics-token-0124" },
    });
    expect(wrong.status).to.equal(401);
    expect((await fetch(`${metricsUrl}/socket.io/?EIO=4&transport=polling`)).status).to.equal(404);
    // The main port leaves /metrics to METRICS_PORT.
    expect((await fetch(`${gateway.url}/metrics`, scraper)).status).to.equal(404);
  });
});
