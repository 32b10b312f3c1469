import { expect } from "chai";
import { dialectFor } from "../../src/dialects/index.js";
import {
  connect,
  nextEvent,
  request,
  startGateway,
  type RunningGateway,
} from "../support/gateway.js";
import { recordRun, translateAll } from "./recorded-runs.js";

const agentEngine = dialectFor("agent-engine");

describe("dialect agent-engine (the agent-engine protocol, its message protocol)", function () {
  this.timeout(30000);
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0" });
  });
  after(() => server.close());

  it("passes a streaming_query stream through: stream_start, stream_chunk {content}…, stream_end", async () => {
    const run = await recordRun(server.url, "streaming_query", { query: "Tell me about rivers" });
    run.socket.close();
    const frames = translateAll(
      agentEngine.createTranslator({ sessionId: run.sessionId }),
      run.events,
    );
    expect(frames).to.deep.equal(run.events);
  });

  it("adds the text as `error` to every error, beside code and message", async () => {
    const { socket } = await connect(server.url);
    const error = nextEvent(socket, "error");
    const ack = await request(socket, "streaming_query", {});
    expect(ack.ok).to.equal(false);
    const events = [{ type: "error", payload: await error }];
    socket.close();
    const frames = translateAll(agentEngine.createTranslator({ sessionId: "s" }), events);
    expect(frames).to.have.length(1);
    expect(frames[0]?.type).to.equal("error");
    expect(frames[0]?.payload).to.include({
      code: "invalid_payload",
      request_type: "streaming_query",
    });
    expect(frames[0]?.payload["error"]).to.equal(frames[0]?.payload["message"]);
  });

  it("answers cancel with nothing running by cancelled, as its client waits for, and acks it", async () => {
    const { socket } = await connect(server.url);
    const error = nextEvent(socket, "error");
    const ack = await request(socket, "cancel", {});
    const events = [{ type: "error", payload: await error }];
    socket.close();
    expect(ack.ok).to.equal(false);
    const translator = agentEngine.createTranslator({ sessionId: "s" });
    expect(translator.ack?.("cancel", ack)).to.deep.equal({
      ok: true,
      data: { cancelled: false, reason: "nothing_running" },
    });
    const frames = translateAll(translator, events);
    expect(frames.map((f) => f.type)).to.deep.equal(["cancelled"]);
    expect(frames[0]?.payload).to.include({
      type: "cancelled",
      partial_content: "",
      reason: "nothing_running",
    });
    expect(frames[0]?.payload["timestamp"]).to.be.a("number");
  });
});
