import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { createClient } from "redis";
import { registry } from "../src/metrics/instruments.js";
import { connectAs, TRANSPORTS, type TestClient } from "./support/clients.js";
import { request, startGateway, type RunningGateway } from "./support/gateway.js";
import { startRedisServer, type PrivateRedis } from "./support/redis-server.js";
import { collectStream, expectContiguous } from "./support/streams.js";

/** The gateways' count of session broadcasts, by reach (one registry for both in-process nodes). */
async function sessionBroadcasts(): Promise<{ node: number; cluster: number }> {
  const metric = registry.getSingleMetric("gateway_session_broadcasts_total");
  const values = (await metric?.get())?.values ?? [];
  const of = (reach: string) => values.find((v) => v.labels["reach"] === reach)?.value ?? 0;
  return { node: of("node"), cluster: of("cluster") };
}

describe("local broadcasts: a session's stream leaves its node only for members elsewhere", function () {
  this.timeout(30_000);
  let redis: PrivateRedis;
  let commands: ReturnType<typeof createClient>;
  let a: RunningGateway;
  let b: RunningGateway;
  const clients: TestClient[] = [];

  /** PUBLISH commands Redis has executed so far: what crosses to the other nodes. */
  async function publishes(): Promise<number> {
    const stats = await commands.info("commandstats");
    return Number(/cmdstat_publish:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  }

  async function open(
    server: RunningGateway,
    transport: (typeof TRANSPORTS)[number],
    session_id?: string,
  ) {
    const opened = await connectAs(transport, server.url, session_id ? { session_id } : {});
    clients.push(opened.socket);
    return opened;
  }

  before(async () => {
    redis = await startRedisServer();
    commands = createClient({ url: redis.url });
    await commands.connect();
    const env = { REDIS_URL: redis.url };
    [a, b] = await Promise.all([startGateway(env), startGateway(env)]);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await commands?.close();
    await redis?.stop();
  });

  it("publishes nothing while every client of the session is on the node that streams, over both transports", async () => {
    const first = await open(a, "socketio");
    const session_id = first.connected.session_id;
    const second = await open(a, "ws", session_id);
    const id = randomUUID();
    const streams = [first, second].map(({ socket }) => collectStream(socket, () => id));
    const [publishedBefore, countedBefore] = await Promise.all([publishes(), sessionBroadcasts()]);

    await request(first.socket, "message", { content: "Tell me about owls", message_id: id });
    const [viaSocketIo, viaPlain] = await Promise.all(streams);

    expect(viaSocketIo?.end.type).to.equal("stream_end");
    expect(expectContiguous(viaSocketIo?.chunks ?? [])).to.equal(true);
    expect(viaPlain).to.deep.equal(viaSocketIo);
    const counted = await sessionBroadcasts();
    expect(await publishes()).to.equal(publishedBefore);
    expect(counted.cluster).to.equal(countedBefore.cluster);
    expect(counted.node - countedBefore.node).to.be.at.least(viaSocketIo?.chunks.length ?? 1);
  });

  for (const transport of TRANSPORTS) {
    it(`relays the stream to a ${transport} client of the session on the other node`, async () => {
      const onA = await open(a, "socketio");
      const session_id = onA.connected.session_id;
      const onB = await open(b, transport, session_id);
      const id = randomUUID();
      const streams = [onA, onB].map(({ socket }) => collectStream(socket, () => id));
      const [publishedBefore, countedBefore] = await Promise.all([
        publishes(),
        sessionBroadcasts(),
      ]);

      await request(onA.socket, "message", { content: "Tell me about rivers", message_id: id });
      const [atA, atB] = await Promise.all(streams);

      expect(atA?.end.type).to.equal("stream_end");
      expect(expectContiguous(atA?.chunks ?? [])).to.equal(true);
      expect(atB).to.deep.equal(atA);
      const chunks = atA?.chunks.length ?? 1;
      expect((await sessionBroadcasts()).cluster - countedBefore.cluster).to.be.at.least(chunks);
      expect((await publishes()) - publishedBefore).to.be.at.least(chunks);
    });
  }

  it("relays a run started on the other node to the clients of this one", async () => {
    const onA = await open(a, "ws");
    const session_id = onA.connected.session_id;
    const onB = await open(b, "socketio", session_id);
    const id = randomUUID();
    const atA = collectStream(onA.socket, () => id);
    await request(onB.socket, "message", { content: "Tell me about lakes", message_id: id });
    const outcome = await atA;
    expect(outcome.end.type).to.equal("stream_end");
    expect(outcome.chunks.length).to.be.greaterThan(3);
    expect(expectContiguous(outcome.chunks)).to.equal(true);
  });
});
