import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import { startGateway, type RunningGateway } from "./support/gateway.js";

const PYTHON = process.env["INTEROP_PYTHON"] ?? "/usr/bin/python3";
const script = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "interop",
  "python_client.py",
);

interface Report {
  connected: { session_id: string };
  events: string[];
  pong: unknown;
  tool: unknown;
  join: unknown;
  feedback: unknown;
  unknown: { ok: boolean; error: { code: string } };
  invalid: { ok: boolean; error: { code: string } };
  cancel_nothing: { ok: boolean; error: { code: string } };
  message: { ok: boolean; data: { message_id: string } };
  chunks: string;
  total_content: string;
  seqs_contiguous: boolean;
  resume: unknown;
  agent_response: { vendor: string; content: string };
  discussion: { ok: boolean };
  leave: unknown;
  errors: Array<{ code: string; request_type: string }>;
}

describe("an independent client: python-socketio", function () {
  this.timeout(60000);
  let server: RunningGateway;
  before(async function () {
    if (!existsSync(PYTHON)) {
      throw new Error(
        `${PYTHON} not found: apt-get install -y python3-socketio python3-websocket python3-requests`,
      );
    }
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "1" });
  });
  after(() => server.close());

  for (const transport of ["polling", "websocket"]) {
    it(`does every core exchange over ${transport}`, async () => {
      const { stdout } = await promisify(execFile)(PYTHON, [script, server.url, transport], {
        timeout: 50000,
      });
      const report = JSON.parse(stdout) as Report;
      expect(report.connected.session_id).to.equal(`python-${transport}`);
      expect(report.pong).to.deep.equal({ ok: true, data: {} });
      expect(report.tool).to.deep.equal({
        ok: true,
        data: { tool_name: "calculator", result: 579 },
      });
      expect(report.join).to.deep.equal({ ok: true, data: { project_id: "py", members: 1 } });
      expect(report.feedback).to.deep.include({ ok: true });
      expect((report.feedback as { data: object }).data).to.deep.include({ status: "received" });
      expect(report.unknown.error.code).to.equal("unknown_type");
      expect(report.invalid.error.code).to.equal("invalid_payload");
      expect(report.cancel_nothing.error.code).to.equal("not_found");
      expect(report.message.data.message_id).to.equal("py-1");
      expect(report.seqs_contiguous).to.equal(true);
      expect(report.chunks).to.equal(report.total_content);
      expect(report.total_content).to.include("84");
      expect(report.resume).to.deep.equal({ ok: true, data: { message_id: "py-1" } });
      expect(report.agent_response.vendor).to.equal("demo");
      expect(report.discussion.ok).to.equal(true);
      expect(report.leave).to.deep.equal({ ok: true, data: { project_id: "py", members: 0 } });
      for (const type of [
        "pong",
        "tool_result",
        "joined_project",
        "project_message",
        "tool_start",
        "speaker_change",
        "left_project",
      ]) {
        expect(report.events, type).to.include(type);
      }
      expect(report.errors.map((e) => e.code)).to.include.members([
        "unknown_type",
        "invalid_payload",
        "not_found",
      ]);
    });
  }
});

describe("an independent client: Python websockets over plain WebSocket", function () {
  this.timeout(60000);
  let server: RunningGateway;
  before(async function () {
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "2" });
  });
  after(() => server.close());

  it("streams on /ws/agent and replays the stream on /ws/agents/{session_id}", async () => {
    const plainScript = path.join(path.dirname(script), "python_plain_client.py");
    const { stdout } = await promisify(execFile)(PYTHON, [plainScript, server.url]);
    const report = JSON.parse(stdout) as {
      connected: { type: string; session_id: string };
      pong: string;
      bad_frame: { type: string; code: string };
      ack: { ok: boolean; request_id: string };
      chunks: string;
      end: { type: string; total_content: string };
      same_session: boolean;
      replayed: string;
    };
    expect(report.connected.type).to.equal("connected");
    expect(report.pong).to.equal("pong");
    expect(report.bad_frame).to.include({ type: "error", code: "invalid_payload" });
    expect(report.ack).to.include({ ok: true, request_id: "q1" });
    expect(report.end.type).to.equal("stream_end");
    expect(report.chunks)
      .to.equal(report.end.total_content)
      .and.match(/rivers/i);
    expect(report.same_session).to.equal(true);
    expect(report.replayed).to.equal(report.chunks);
  });
});
