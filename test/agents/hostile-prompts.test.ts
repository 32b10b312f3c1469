import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { connect, request, startGateway, type RunningGateway } from "../support/gateway.js";
import { collectStream } from "../support/streams.js";

describe("hostile prompts to the demo model", function () {
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0" });
  });
  after(() => server.close());

  it("answers the worst-case parenthesis message, and the next message on the same server", async () => {
    const { socket } = await connect(server.url);
    try {
      for (const content of ["(".repeat(31999) + "1", "what is 12 * (3 + 4)?"]) {
        const id = randomUUID();
        const stream = collectStream(socket, () => id);
        const ack = await request(socket, "message", { content, message_id: id });
        expect(ack.ok, JSON.stringify(ack)).to.equal(true);
        const { end } = await stream;
        expect(end.type).to.equal("stream_end");
        if (content.startsWith("what"))
          expect(end["total_content"]).to.include("12 * (3 + 4) = 84");
        else expect(end["total_content"]).to.match(/offline demo model/);
      }
    } finally {
      socket.close();
    }
  });
});
