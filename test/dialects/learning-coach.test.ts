import { expect } from "chai";
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
