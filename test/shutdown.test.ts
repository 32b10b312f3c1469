import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { closeOf, connectAs, TRANSPORTS, type Transport } from "./support/clients.js";
import { nextEvent, recordEvents, request } from "./support/gateway.js";
import { spawnGateway } from "./support/process.js";

const LONG = "Write a long story about mountains, rivers and the sea";

/** How each transport reports a server that closed for shutdown. */
const SHUTDOWN_CLOSE: Record<Transport, string> = {
  socketio: "transport close",
  ws: "1001 server_shutdown",
};

/** What a client saw of its run and the shutdown, in order, up to its disconnect. */
async function watchShutdown(transport: Transport, grace: string) {
  const gateway = await spawnGateway({ DEMO_TOKEN_DELAY_MS: "10", SHUTDOWN_GRACE_SECONDS: grace });
  const streaming = await connectAs(transport, gateway.url);
  const idle = await connectAs(transport, gateway.url);
  const seen = recordEvents(streaming.socket);
  const disconnected = closeOf(streaming.socket);
  const idleShutdown = nextEvent(idle.socket, "server_shutdown");
  const id = randomUUID();
  const started = nextEvent(streaming.socket, "stream_chunk");
  await request(streaming.socket, "message", { content: LONG, message_id: id });
  await started;
  gateway.child.kill("SIGTERM");
  const reason = await disconnected;
  await idleShutdown;
  expect(await gateway.exited).to.equal(0);
  idle.socket.close();
  return { types: seen.map((e) => e.type), reason };
}

for (const transport of TRANSPORTS) {
  describe(`graceful shutdown (${transport})`, () => {
    it("lets a running stream end, then tells every client before closing", async function () {
      this.timeout(30_000);
      const { types, reason } = await watchShutdown(transport, "20");
      const tail = types.filter((t) => t !== "stream_chunk").slice(-3);
      expect(tail).to.deep.equal(["progress_update", "stream_end", "server_shutdown"]);
      expect(reason).to.equal(SHUTDOWN_CLOSE[transport]);
    });

    it("cancels a stream the grace period cuts, and still tells the client", async function () {
      this.timeout(30_000);
      const { types, reason } = await watchShutdown(transport, "0.2");
      expect(types.slice(-2)).to.deep.equal(["cancelled", "server_shutdown"]);
      expect(reason).to.equal(SHUTDOWN_CLOSE[transport]);
    });
  });
}
