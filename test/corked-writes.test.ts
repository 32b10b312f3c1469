import { randomUUID } from "node:crypto";
import type { Socket as TcpSocket } from "node:net";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { expect } from "chai";
import WebSocket, { WebSocketServer } from "ws";
import { BenchChatModel, benchPrompt } from "../bench/bench-model.js";
import { socketUnder, TurnCork } from "../src/transports/turn-cork.js";
import { connectAs, TRANSPORTS, type ConnectedClient } from "./support/clients.js";
import { request, startGateway, type RunningGateway } from "./support/gateway.js";
import { collectStream, expectContiguous, joined } from "./support/streams.js";

/** Counts the writes a stream hands its handle (one `write` or `writev` syscall each, at most). */
function countWrites(socket: Duplex): { readonly count: number } {
  const counter = { count: 0 };
  const stream = socket as Duplex & {
    _write: (...args: unknown[]) => void;
    _writev?: (...args: unknown[]) => void;
  };
  const write = stream._write.bind(stream);
  stream._write = (...args) => {
    counter.count += 1;
    write(...args);
  };
  const writev = stream._writev?.bind(stream);
  if (writev) {
    stream._writev = (...args) => {
      counter.count += 1;
      writev(...args);
    };
  }
  return counter;
}

/** A real `ws` server and client on a loopback port; the server side's WebSocket and TCP socket. */
async function wsPair() {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((resolve) => wss.once("listening", resolve));
  const server = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  const { port } = wss.address() as AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const ws = await server;
  await new Promise((resolve) => client.once("open", resolve));
  const tcp = socketUnder(ws) as TcpSocket | undefined;
  if (!tcp) throw new Error("ws no longer exposes its socket");
  const received = (count: number) =>
    new Promise<string[]>((resolve) => {
      const frames: string[] = [];
      client.on("message", (data: Buffer) => {
        frames.push(data.toString());
        if (frames.length === count) resolve(frames);
      });
    });
  const close = () => {
    client.terminate();
    wss.close();
  };
  return { ws, tcp, received, close };
}

describe("corked writes (TurnCork)", function () {
  it("sends the frames of one turn in one write, as separate frames in order", async () => {
    const pair = await wsPair();
    const writes = countWrites(pair.tcp);
    const cork = new TurnCork();
    const frames = Array.from({ length: 100 }, (_, i) => `frame ${i}`);
    const received = pair.received(frames.length);
    for (const frame of frames) {
      cork.hold(pair.tcp);
      pair.ws.send(frame);
    }
    expect(await received).to.deep.equal(frames);
    expect(writes.count).to.equal(1);
    pair.close();
  });

  it("without it, each frame is a write of its own", async () => {
    const pair = await wsPair();
    const writes = countWrites(pair.tcp);
    const frames = Array.from({ length: 100 }, (_, i) => `frame ${i}`);
    const received = pair.received(frames.length);
    for (const frame of frames) pair.ws.send(frame);
    expect(await received).to.deep.equal(frames);
    expect(writes.count).to.equal(frames.length);
    pair.close();
  });

  it("releases a burst each time it passes the socket's high-water mark", async () => {
    const pair = await wsPair();
    const writes = countWrites(pair.tcp);
    const cork = new TurnCork();
    const frame = "x".repeat(1024);
    const count = Math.ceil((4 * pair.tcp.writableHighWaterMark) / frame.length);
    const received = pair.received(count);
    let mostHeld = 0;
    for (let i = 0; i < count; i++) {
      cork.hold(pair.tcp);
      pair.ws.send(frame);
      mostHeld = Math.max(mostHeld, pair.tcp.writableLength);
    }
    expect((await received).length).to.equal(count);
    expect(writes.count).to.be.within(4, 5);
    // Held at most one frame (and its header) past the mark, unless the kernel itself was full.
    if (pair.tcp.writableLength === 0)
      expect(mostHeld).to.be.below(pair.tcp.writableHighWaterMark + 2 * frame.length);
    pair.close();
  });
});

describe("corked writes through the gateway", function () {
  this.timeout(30_000);
  const TOKENS = 2000;

  /** The server side's TCP socket of each client, in the order they connect. */
  async function connectBoth(server: RunningGateway) {
    const upgraded: Duplex[] = [];
    server.gateway.httpServer.on("upgrade", (_req, socket: Duplex) => upgraded.push(socket));
    const clients: ConnectedClient[] = [];
    for (const transport of TRANSPORTS) {
      const sessionId = clients[0]?.connected.session_id;
      clients.push(
        await connectAs(transport, server.url, sessionId ? { session_id: sessionId } : {}),
      );
    }
    expect(upgraded.length).to.equal(clients.length);
    return { clients, writes: upgraded.map(countWrites) };
  }

  async function streamTo(clients: ConnectedClient[]) {
    const messageId = randomUUID();
    const outcomes = clients.map((c) => collectStream(c.socket, () => messageId));
    const ack = await request(clients[0]!.socket, "message", {
      content: benchPrompt(TOKENS),
      message_id: messageId,
    });
    expect(ack.ok).to.equal(true);
    return Promise.all(outcomes);
  }

  for (const yieldEvery of [0, 50]) {
    it(`streams whole and in order to both transports, in far fewer writes (model yields every ${yieldEvery || "never"})`, async () => {
      const server = await startGateway(
        // A frame per token, so the writes saved are the corking's own, not coalescing's.
        { WS_CORK_FRAMES: "true", WS_STREAM_COALESCE_MAX_CHARS: "1" },
        { agentModel: { model: new BenchChatModel(yieldEvery), vendor: "demo" } },
      );
      const { clients, writes } = await connectBoth(server);
      const outcomes = await streamTo(clients);
      for (const [i, { chunks, end }] of outcomes.entries()) {
        expect(end.type, TRANSPORTS[i]).to.equal("stream_end");
        expect(expectContiguous(chunks), TRANSPORTS[i]).to.equal(true);
        expect(chunks.length).to.equal(TOKENS);
        expect(joined(chunks)).to.equal(end["total_content"]);
        expect(writes[i]!.count, TRANSPORTS[i]).to.be.below(TOKENS / 10);
      }
      for (const c of clients) c.socket.close();
      await server.close();
    });
  }

  it("WS_CORK_FRAMES=false writes each frame as it is sent", async () => {
    const server = await startGateway(
      { WS_CORK_FRAMES: "false", WS_STREAM_COALESCE_MAX_CHARS: "1" },
      { agentModel: { model: new BenchChatModel(50), vendor: "demo" } },
    );
    const { clients, writes } = await connectBoth(server);
    const outcomes = await streamTo(clients);
    for (const [i, { chunks }] of outcomes.entries()) {
      expect(expectContiguous(chunks), TRANSPORTS[i]).to.equal(true);
      expect(chunks.length).to.equal(TOKENS);
      // engine.io sends what queued while a write was pending in one flush, still a write per frame.
      expect(writes[i]!.count, TRANSPORTS[i]).to.be.at.least(TOKENS / 2);
    }
    for (const c of clients) c.socket.close();
    await server.close();
  });
});
