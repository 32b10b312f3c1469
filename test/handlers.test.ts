import { expect } from "chai";
import {
  connect,
  nextEvent,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";

describe("core handlers", () => {
  let server: RunningGateway;
  before(async () => {
    server = await startGateway();
  });
  after(() => server.close());

  it("connects with a new session and announces the heartbeat", async () => {
    const { socket, connected } = await connect(server.url);
    expect(connected.session_id).to.match(/^[0-9a-f-]{36}$/);
    expect(connected.connection_id).to.equal(socket.id);
    expect(connected.heartbeat).to.deep.equal({ interval_ms: 30000, timeout_ms: 60000 });
    socket.close();
  });

  it("answers ping with pong, carrying type and timestamp", async () => {
    const { socket } = await connect(server.url);
    const pong = nextEvent<{ type: string; timestamp: number }>(socket, "pong");
    const before = Date.now() / 1000;
    expect(await request(socket, "ping", {})).to.deep.equal({ ok: true, data: {} });
    const event = await pong;
    expect(event.type).to.equal("pong");
    expect(event.timestamp).to.be.within(before - 1, Date.now() / 1000 + 1);
    socket.close();
  });

  it("accepts ping without payload or ack, as the seeds' clients send it", async () => {
    const { socket } = await connect(server.url);
    const pong = nextEvent(socket, "pong");
    socket.emit("ping");
    expect((await pong)["type"]).to.equal("pong");
    socket.close();
  });
});
