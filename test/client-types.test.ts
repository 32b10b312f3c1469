import { readdir, readFile } from "node:fs/promises";
import { expect } from "chai";
import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "agent-gateway/client";
import { startGateway, type RunningGateway } from "./support/gateway.js";

/**
 * `npm run typecheck` compiles this file: each @ts-expect-error below is a
 * deliberate mistake that must not compile, or the check fails.
 */
function typedMistakes(socket: Socket<ServerToClientEvents, ClientToServerEvents>): void {
  // @ts-expect-error content is a string
  socket.emit("message", { content: 42 }, () => undefined);
  // @ts-expect-error no handler has this type
  socket.emit("not_a_handler", {}, () => undefined);
  // @ts-expect-error stream_end has no seq
  socket.on("stream_end", (event) => void event.seq);
}

describe("typed client entry (agent-gateway/client)", () => {
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0" });
  });
  after(() => server.close());

  it("lists exactly the handlers in handlers/", async () => {
    const files = (await readdir("handlers")).map((f) => f.replace(/\.ts$/, ""));
    const source = await readFile("src/client/index.ts", "utf8");
    const listed = [...source.matchAll(/^ {2}(\w+): typeof \w+;$/gm)].map((m) => m[1]);
    expect(listed).to.have.members(files);
    expect(listed).to.have.members([...server.gateway.handlers.keys()]);
  });

  it("types a real exchange: the ack's data and the stream events", async () => {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(server.url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
    });
    expect(typeof typedMistakes).to.equal("function");
    try {
      const ended = new Promise<string>((resolve) =>
        socket.on("stream_end", (event) => resolve(event.total_content)),
      );
      const ack = await socket.emitWithAck("message", { content: "hello" });
      if (!ack.ok) throw new Error(ack.error.message);
      const messageId: string = ack.data.message_id;
      expect(messageId).to.be.a("string");
      expect(await ended)
        .to.be.a("string")
        .and.not.equal("");
    } finally {
      socket.close();
    }
  });
});
