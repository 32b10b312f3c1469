import { expect } from "chai";
import {
  connect,
  nextEvent,
  recordEvents,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";
import type { Socket } from "socket.io-client";
import type WebSocket from "ws";
import { closeOf, connectAs, PlainClient, TRANSPORTS, type TestClient } from "./support/clients.js";

describe("a flooding connection", () => {
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({
      WS_RATE_LIMIT_PER_SEC: "20",
      WS_RATE_LIMIT_DISCONNECT_AFTER: "1",
    });
  });
  after(() => server.close());

  it("is refused cheaply, then disconnected with reason rate_limited while a polite client stays served", async () => {
    const flooder = await connect(server.url);
    const polite = await connect(server.url);
    const received = recordEvents(flooder.socket);
    const disconnected = nextEvent<string>(flooder.socket, "disconnect");
    let sent = 0;
    let flooding = true;
    const flood = () => {
      if (!flooding) return;
      for (let i = 0; i < 200; i += 1) flooder.socket.emit("ping");
      sent += 200;
      setImmediate(flood);
    };
    flooder.socket.once("disconnect", () => (flooding = false));
    flood();

    const politeAcks = [];
    while (flooding) {
      politeAcks.push(await request(polite.socket, "ping", {}));
      // Polite means under its own budget of 20 per second.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await disconnected).to.equal("io server disconnect");
    expect(politeAcks.every((a) => a.ok)).to.equal(true);

    const errors = received.filter((e) => e.type === "error");
    // Thousands refused, but told once per interval and once more when cut off.
    expect(sent).to.be.above(1000);
    expect(errors.length).to.be.within(1, 3);
    expect(errors.at(-1)?.payload).to.deep.include({
      code: "rate_limited",
      details: { scope: "connection", reason: "rate_limited" },
    });
    expect(String(errors.at(-1)?.payload["message"])).to.match(/disconnected/);
    expect((await request(polite.socket, "ping", {})).ok).to.equal(true);
    polite.socket.close();
  });

  it("gets at most 64 characters of a huge event name echoed back", async () => {
    const { socket } = await connect(server.url);
    const name = "x".repeat(100_000);
    const error = nextEvent<Record<string, unknown>>(socket, "error");
    const ack = await request(socket, name, {});
    expect(!ack.ok && ack.error.code).to.equal("unknown_type");
    expect(!ack.ok && ack.error.message.length).to.be.below(100);
    expect((await error)["request_type"]).to.equal("x".repeat(64));
    socket.close();
  });
});

describe("the size limit covers the whole packet", () => {
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({ WS_MAX_MESSAGE_BYTES: "2048", WS_MAX_FRAME_BYTES: "65536" });
  });
  after(() => server.close());

  it("counts binary attachments toward WS_MAX_MESSAGE_BYTES and keeps the connection", async () => {
    const { socket } = await connect(server.url);
    const attachments = [1, 2, 3].map(() => Buffer.alloc(1500, 7));
    const ack = await request(socket, "message", { content: "hi", files: attachments });
    expect(!ack.ok && ack.error.code).to.equal("message_too_large");
    const details = !ack.ok ? (ack.error.details as Record<string, number>) : {};
    expect(details["limit_bytes"]).to.equal(2048);
    expect(details["received_bytes"]).to.be.at.least(4500);
    expect((await request(socket, "ping", {})).ok).to.equal(true);
    socket.close();
  });

  it("closes a connection whose attachments together pass WS_MAX_FRAME_BYTES", async () => {
    const { socket } = await connect(server.url);
    const disconnected = nextEvent<string>(socket, "disconnect");
    const attachments = [1, 2, 3].map(() => Buffer.alloc(30_000, 7));
    socket.emit("message", { content: "hi", files: attachments }, () => {});
    expect(await disconnected).to.be.oneOf(["io server disconnect", "transport close"]);
    const other = await connect(server.url);
    expect((await request(other.socket, "ping", {})).ok).to.equal(true);
    other.socket.close();
  });
});

describe("validation replies are small", () => {
  let server: RunningGateway;
  before(async () => {
    server = await startGateway();
  });
  after(() => server.close());

  it("answers 200,000 wrong items with a few findings, in the ack and the error event", async () => {
    const { socket } = await connect(server.url);
    const errors = recordEvents(socket);
    const participants = Array.from({ length: 200_000 }, () => 1);
    const ack = await request(socket, "start_conversation", { participants });
    expect(!ack.ok && ack.error.code).to.equal("invalid_payload");
    const details = !ack.ok ? (ack.error.details as unknown[]) : [];
    expect(details.length).to.be.within(1, 10);
    expect(JSON.stringify(ack).length).to.be.below(4096);
    await request(socket, "ping", {});
    const error = errors.find((e) => e.type === "error");
    expect(error?.payload).to.deep.include({
      code: "invalid_payload",
      request_type: "start_conversation",
    });
    expect(error?.payload["details"]).to.deep.equal(details);
    socket.close();
  });

  it("sends the findings in the error event when there is no ack", async () => {
    const { socket } = await connect(server.url);
    const error = nextEvent<Record<string, unknown>>(socket, "error");
    socket.emit("join_project", { project_id: 42 });
    expect((await error)["details"]).to.deep.equal([
      { path: "/project_id", message: "must be string", params: { type: "string" } },
    ]);
    socket.close();
  });
});

/** The TCP socket under a client's WebSocket, to write frames `ws` would not send. */
function tcpUnder(client: TestClient): { write(data: Buffer): void } {
  const ws: WebSocket =
    client instanceof PlainClient
      ? client.ws
      : ((client as unknown as Socket).io.engine.transport as unknown as { ws: WebSocket }).ws;
  return (ws as unknown as { _socket: { write(data: Buffer): void } })._socket;
}

/** A short client text frame (masked, with a zero key, so the payload reads as written). */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

/** A masked text frame's header announcing `length` bytes, followed by only `sent` of them. */
function frameStart(length: number, sent: number): Buffer {
  const header = Buffer.alloc(14);
  header[0] = 0x81;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return Buffer.concat([header, Buffer.alloc(sent, 0x20)]);
}

for (const transport of TRANSPORTS) {
  describe(`a frame over the frame cap over ${transport}`, () => {
    let server: RunningGateway;
    // Every setting at its default: the frame cap follows WS_MAX_MESSAGE_BYTES (1 MiB).
    before(async () => (server = await startGateway()));
    after(() => server.close());

    it("closes the connection from the frame's header, before its 7.9 MB arrive", async () => {
      const { socket } = await connectAs(transport, server.url);
      const polite = await connectAs(transport, server.url);
      const closed = closeOf(socket);
      // Only the header and 1 KiB are ever sent: the close cannot wait for the rest.
      tcpUnder(socket).write(frameStart(7_900_000, 1024));
      expect(await closed).to.match(transport === "ws" ? /^1009/ : /^transport close$/);
      expect((await request(polite.socket, "ping", {})).ok).to.equal(true);
      polite.socket.close();
    });
  });
}

describe("events over the connection's budget are dropped before they are decoded", () => {
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({
      WS_RATE_LIMIT_PER_SEC: "5",
      WS_RATE_LIMIT_DISCONNECT_AFTER: "0",
    });
  });
  after(() => server.close());

  /** Pings until one passes the budget again; each refused one is answered too. */
  async function pingUntilServed(socket: TestClient): Promise<void> {
    for (;;) {
      const ack = await request(socket, "ping", {});
      if (ack.ok) return;
      expect(ack.error.code).to.equal("rate_limited");
    }
  }

  /**
   * Five events the budget admits, then twenty whose JSON breaks after the
   * event's name, in one TCP write: the server reads them in one pass, so
   * the twenty all fall in the spent window.
   */
  function budgetThenBroken(client: TestClient, admitted: string, broken: string): void {
    const frames = [...Array<string>(5).fill(admitted), ...Array<string>(20).fill(broken)];
    tcpUnder(client).write(Buffer.concat(frames.map(maskedTextFrame)));
  }

  it("over Socket.IO: a packet whose JSON is broken after its header is refused by name, unparsed", async () => {
    const { socket } = await connect(server.url);
    let disconnected = false;
    socket.on("disconnect", () => (disconnected = true));
    const error = nextEvent<Record<string, unknown>>(socket, "error");
    // Socket.IO's parser would close the connection on the first broken one ("parse error").
    budgetThenBroken(socket, '42["ping",{}]', '42["ping",{"broken');
    expect(await error).to.deep.include({ code: "rate_limited", request_type: "ping" });
    await pingUntilServed(socket);
    expect(disconnected).to.equal(false);
    socket.close();
  });

  it("over plain WebSocket: a frame over the budget is reported by its leading type, unparsed", async () => {
    const { socket } = await connectAs("ws", server.url);
    const error = nextEvent<Record<string, unknown>>(socket, "error");
    // Parsed, the broken ones would be reported as malformed events without a type.
    budgetThenBroken(socket, '{"type":"ping"}', '{"type": "ping", "broken');
    expect(await error).to.deep.include({ code: "rate_limited", request_type: "ping" });
    await pingUntilServed(socket);
    expect(socket.connected).to.equal(true);
    socket.close();
  });
});

describe("floods over both transports at once", () => {
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({
      WS_RATE_LIMIT_PER_SEC: "20",
      WS_RATE_LIMIT_DISCONNECT_AFTER: "1",
    });
  });
  after(() => server.close());

  it("are cut off while a polite client of each transport keeps answering pings", async () => {
    const flooders = await Promise.all(TRANSPORTS.map((t) => connectAs(t, server.url)));
    const polite = await Promise.all(TRANSPORTS.map((t) => connectAs(t, server.url)));
    const cutOff = Promise.all(flooders.map(({ socket }) => closeOf(socket)));
    let flooding = true;
    const flood = () => {
      if (!flooding) return;
      for (const { socket } of flooders) for (let i = 0; i < 100; i += 1) socket.emit("ping");
      setImmediate(flood);
    };
    flood();
    let done = false;
    void cutOff.then(() => (done = true));
    const answers: boolean[] = [];
    while (!done) {
      const acks = await Promise.all(polite.map(({ socket }) => request(socket, "ping", {})));
      answers.push(...acks.map((a) => a.ok));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    flooding = false;
    expect(await cutOff).to.deep.equal(["io server disconnect", "1008 rate_limited"]);
    expect(answers.length).to.be.above(0);
    expect(answers.every(Boolean)).to.equal(true);
    for (const { socket } of polite) socket.close();
  });
});
