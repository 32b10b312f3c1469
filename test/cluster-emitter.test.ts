import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "chai";
import type { Socket as ClientSocket } from "socket.io-client";
import {
  connect,
  nextEvent,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";
import { startRedisServer, type PrivateRedis } from "./support/redis-server.js";

const run = promisify(execFile);

describe("project events from another process (scripts/emit-project-event.ts)", function () {
  this.timeout(30_000);
  let redis: PrivateRedis;
  let gateways: RunningGateway[] = [];
  const sockets: ClientSocket[] = [];

  before(async () => {
    redis = await startRedisServer();
    const env = { REDIS_URL: redis.url };
    gateways = await Promise.all([startGateway(env), startGateway(env)]);
  });
  after(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    await Promise.all(gateways.map((g) => g.close()));
    await redis?.stop();
  });

  it("reaches the project's members on both nodes, and nobody else", async () => {
    const members = await Promise.all(
      gateways.map(async (g) => {
        const { socket } = await connect(g.url);
        sockets.push(socket);
        await request(socket, "join_project", { project_id: "p-emitter" });
        return socket;
      }),
    );
    const outsider = (await connect(gateways[0]!.url)).socket;
    sockets.push(outsider);
    const strayEvents: string[] = [];
    outsider.onAny((type: string) => strayEvents.push(type));
    const received = members.map((socket) =>
      nextEvent<Record<string, unknown>>(socket, "project_status_change"),
    );

    await run(process.execPath, ["--import", "tsx", "scripts/emit-project-event.ts"], {
      env: { ...process.env, REDIS_URL: redis.url, PROJECT_ID: "p-emitter" },
    });

    for (const event of await Promise.all(received)) {
      expect(event).to.deep.include({
        type: "project_status_change",
        project_id: "p-emitter",
        data: { status: "deployed", by: "release-bot" },
      });
      expect(event["timestamp"]).to.be.a("number");
    }
    // A round trip on the outsider's node: the event would have arrived before the pong.
    await request(outsider, "ping", {});
    expect(strayEvents).to.not.include("project_status_change");
  });
});
