import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import { startGatewayWithGraphs, type RunningGateway } from "./support/gateway.js";

const PYTHON = process.env["INTEROP_PYTHON"] ?? "/usr/bin/python3";
const script = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "interop",
  "graphs_client.py",
);

type Ack = {
  ok: boolean;
  data?: Record<string, unknown>;
  error?: { code: string; message: string };
};
type Custom = { name: string | null; data: unknown };

interface Report {
  graphs: string[];
  b_connected: string;
  message: Ack;
  interrupts: Record<"a" | "b", Array<{ id: string; value: unknown }>>;
  custom_events: Record<"a" | "b", Custom[]>;
  ended_before_resume: boolean;
  resume: Ack;
  total_content: Record<"a" | "b", string>;
  history: Array<{ role: string; content: string }>;
  unknown_graph: Ack;
  default_ack: Ack;
  default_end_a: string;
  default_end_b: string;
}

describe("issue 19, done when: a third-party graph from python-socketio and a plain WebSocket", function () {
  this.timeout(60000);
  let server: RunningGateway;
  before(async () => {
    server = await startGatewayWithGraphs(["support_desk.ts"], { DEMO_TOKEN_DELAY_MS: "0" });
  });
  after(() => server.close());

  it("lists it, streams its events and interrupt to both, resumes from the other client, keeps the history", async () => {
    const sessionId = `py-graphs-${randomUUID()}`;
    const { stdout } = await promisify(execFile)(PYTHON, [script, server.url, sessionId], {
      timeout: 50000,
    });
    const report = JSON.parse(stdout) as Report;
    expect(report.graphs).to.include.members(["agent", "support_desk"]);
    expect(report.b_connected).to.equal(sessionId);
    expect(report.message).to.deep.include({ ok: true });
    expect(report.message.data).to.include({ message_id: "py-desk" });

    const expectedCustom: Custom[] = [
      { name: "classified", data: { category: "billing" } },
      { name: null, data: { step: "classified", category: "billing" } },
    ];
    expect(report.custom_events.a).to.deep.equal(expectedCustom);
    expect(report.custom_events.b).to.deep.equal(expectedCustom);
    expect(report.interrupts.a).to.deep.equal(report.interrupts.b);
    expect(report.interrupts.a.map((i) => i.value)).to.deep.equal([
      { question: "Escalate to a person?" },
    ]);
    expect(report.ended_before_resume).to.equal(false);

    expect(report.resume.ok, JSON.stringify(report.resume)).to.equal(true);
    expect(report.total_content).to.deep.equal({
      a: "Escalated to a person.",
      b: "Escalated to a person.",
    });
    expect(report.history).to.deep.equal([
      { role: "user", content: "I was charged twice on my invoice" },
      { role: "assistant", content: "This looks like a billing question." },
      { role: "assistant", content: "Escalated to a person." },
    ]);

    expect(report.unknown_graph.ok).to.equal(false);
    expect(report.unknown_graph.error?.code).to.equal("unknown_graph");
    expect(report.unknown_graph.error?.message).to.contain('"nope"');

    expect(report.default_ack.ok).to.equal(true);
    expect(report.default_end_a).to.contain("84");
    expect(report.default_end_b).to.equal(report.default_end_a);
  });
});
