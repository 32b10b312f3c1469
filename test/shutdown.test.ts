import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { connect, nextEvent, recordEvents, request } from "./support/gateway.js";
import { spawnGateway } from "./support/process.js";

const LONG = "Write a long story about mountains, rivers and the sea";

/** What a client saw of its run and the shutdown, in order, up to its disconnect. */
async function watchShutdown(grace: string) {
  const gateway = await spawnGateway({ DEMO_TOKEN_DELAY_MS: "10", SHUTDOWN_GRACE_SECONDS: grace });
  const streaming = await connect(gateway.url);
  const idle = await connect(gateway.url);
  const seen = recordEvents(streaming.socket);
  const disconnected = nextEvent<string>(streaming.socket, "disconnect");
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

describe("graceful shutdown", () => {
  it("lets a running stream end, then tells every client before closing", async function () {
    this.timeout(30_000);
    const { types, reason } = await watchShutdown("20");
    const tail = types.filter((t) => t !== "stream_chunk").slice(-3);
    expect(tail).to.deep.equal(["progress_update", "stream_end", "server_shutdown"]);
    expect(reason).to.equal("transport close");
  });

  it("cancels a stream the grace period cuts, and still tells the client", async function () {
    this.timeout(30_000);
    const { types, reason } = await watchShutdown("0.2");
    expect(types.slice(-2)).to.deep.equal(["cancelled", "server_shutdown"]);
    expect(reason).to.equal("transport close");
  });
});
