import { expect } from "chai";
import { connect, recordEvents, request, startGateway } from "../support/gateway.js";
import { collectStream } from "../support/streams.js";

describe("discussion size", function () {
  this.timeout(60000);

  it("finishes the largest discussion the schema allows (6 participants × 10 rounds)", async () => {
    const server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0" });
    const { socket } = await connect(server.url);
    try {
      const participants = ["ada", "ben", "cy", "dee", "eve", "fay"].map((name) => ({ name }));
      const events = recordEvents(socket);
      const stream = collectStream(socket, () => "largest");
      const ack = await request(socket, "start_conversation", {
        topic: "long meetings",
        participants,
        rounds: 10,
        message_id: "largest",
      });
      expect(ack.ok, JSON.stringify(ack)).to.equal(true);
      const { end } = await stream;
      expect(end.type, JSON.stringify(end)).to.equal("stream_end");
      const changes = events.filter((e) => e.type === "speaker_change").map((e) => e.payload);
      expect(changes).to.have.length(60);
      expect(changes.at(-1)).to.include({ agent: "fay", round: 10 });
    } finally {
      socket.close();
      await server.close();
    }
  });
});
