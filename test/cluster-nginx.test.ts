import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { Socket as ClientSocket } from "socket.io-client";
import {
  asOperator,
  connect,
  nextEvent,
  OPERATOR_KEY,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";
import { startRedisServer, type PrivateRedis } from "./support/redis-server.js";
import { collectStream, expectContiguous } from "./support/streams.js";
import { waitFor } from "./support/wait-for.js";
import { freePort } from "./support/free-port.js";

const NGINX = process.env["NGINX_PATH"] ?? "/usr/sbin/nginx";

/**
 * deploy/nginx.conf with this test's ports, its upstreams replaced by the
 * test's gateways, and temp files and logs kept in the test's own directory.
 */
async function configFor(dir: string, listen: number, upstreams: number[]): Promise<string> {
  const example = await readFile(path.resolve("deploy/nginx.conf"), "utf8");
  const servers = upstreams
    .map((port) => `server 127.0.0.1:${port} max_fails=1 fail_timeout=10s;`)
    .join("\n        ");
  const own = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((name) => `${name}_temp_path ${path.join(dir, name)};`)
    .concat("access_log off;")
    .join("\n    ");
  const config = example
    .replace(
      /^\s*server 127\.0\.0\.1:8003 .*\n\s*server 127\.0\.0\.1:8004 .*$/m,
      `        ${servers}`,
    )
    .replace("listen 8080;", `listen 127.0.0.1:${listen};`)
    .replace("worker_processes auto;", "worker_processes 1;")
    .replace(/^http \{$/m, `http {\n    ${own}`);
  expect(config, "the example's upstreams were replaced").to.include(`:${upstreams[1]} `);
  const file = path.join(dir, "nginx.conf");
  await writeFile(file, config);
  return file;
}

describe("two gateways behind nginx (deploy/nginx.conf)", function () {
  this.timeout(60_000);
  let redis: PrivateRedis;
  let dir: string;
  let nginx: ChildProcess | undefined;
  let nginxOutput = "";
  let url: string;
  const gateways: RunningGateway[] = [];
  const sockets: ClientSocket[] = [];

  before(async () => {
    if (!existsSync(NGINX)) {
      throw new Error(
        `nginx is not installed at ${NGINX}: apt-get install -y nginx-light, or set NGINX_PATH`,
      );
    }
    redis = await startRedisServer();
    const env = {
      REDIS_URL: redis.url,
      DEMO_TOKEN_DELAY_MS: "5",
      SHUTDOWN_GRACE_SECONDS: "1",
      API_KEY: OPERATOR_KEY,
    };
    gateways.push(...(await Promise.all([startGateway(env), startGateway(env)])));
    dir = await mkdtemp(path.join(tmpdir(), "gw-nginx-"));
    // nginx's workers drop root privileges and must still reach their temp directories.
    await chmod(dir, 0o755);
    const listen = await freePort();
    const ports = gateways.map((g) => Number(new URL(g.url).port));
    const conf = await configFor(dir, listen, ports);
    const pid = path.join(dir, "nginx.pid");
    nginx = spawn(
      NGINX,
      ["-p", dir, "-c", conf, "-e", "stderr", "-g", `daemon off; pid ${pid}; error_log stderr;`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    nginx.stdout?.on("data", (d: Buffer) => (nginxOutput += d.toString()));
    nginx.stderr?.on("data", (d: Buffer) => (nginxOutput += d.toString()));
    url = `http://127.0.0.1:${listen}`;
    await waitFor(async () => {
      if (nginx?.exitCode !== null) throw new Error(`nginx exited:\n${nginxOutput}`);
      return fetch(`${url}/healthz`).then(
        (res) => res.ok,
        () => false,
      );
    }, 10_000);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });
  after(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx?.once("exit", resolve));
      nginx.kill("SIGQUIT");
      await exited;
    }
    await Promise.all(gateways.map((g) => g.close()));
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function streamed(socket: ClientSocket, content: string) {
    const id = randomUUID();
    const stream = collectStream(socket, () => id);
    const ack = await request(socket, "message", { content, message_id: id });
    expect(ack.ok).to.equal(true);
    const outcome = await stream;
    expect(outcome.end.type).to.equal("stream_end");
    expect(expectContiguous(outcome.chunks)).to.equal(true);
    expect(outcome.chunks.length).to.be.greaterThan(3);
    return outcome;
  }

  for (const transport of ["polling", "websocket"] as const) {
    it(`streams a message to a client on ${transport}`, async () => {
      const { socket } = await connect(url, {}, { transports: [transport] });
      sockets.push(socket);
      await streamed(socket, "Tell me about rivers");
      expect(socket.io.engine.transport.name).to.equal(transport);
    });
  }

  it("upgrades from polling to WebSocket through the proxy, and a second client of the session on the same route sees the stream", async () => {
    const first = await connect(url, {}, { transports: ["polling", "websocket"] });
    sockets.push(first.socket);
    await waitFor(() => first.socket.io.engine.transport.name === "websocket", 5000);
    const second = await connect(url, { session_id: first.connected.session_id });
    sockets.push(second.socket);
    const id = randomUUID();
    const onSecond = collectStream(second.socket, () => id);
    const onFirst = collectStream(first.socket, () => id);
    await request(first.socket, "message", { content: "Tell me about lakes", message_id: id });
    expect(await onSecond).to.deep.equal(await onFirst);
  });

  it("moves a client to the other node when its node stops, through the client's own reconnection", async () => {
    // The client names its session, so its reconnection lands in the same one.
    const { socket, connected } = await connect(
      url,
      { session_id: `failover-${randomUUID()}` },
      {
        transports: ["websocket"],
        reconnection: true,
        reconnectionDelay: 100,
        reconnectionDelayMax: 500,
      },
    );
    sockets.push(socket);
    const stats = async () =>
      (await (await fetch(`${url}/ws/statistics`, asOperator)).json()) as {
        connections: Array<{ id: string; node_id: string }>;
      };
    const nodeOf = async (id: string) =>
      (await stats()).connections.find((c) => c.id === id)?.node_id;
    const before = await nodeOf(connected.connection_id);
    const holder = gateways.find((g) => g.gateway.nodeId === before);
    expect(holder, "the node holding the client").to.not.equal(undefined);

    const shutdown = nextEvent(socket, "server_shutdown");
    const reconnected = nextEvent<{ connection_id: string; session_id: string }>(
      socket,
      "connected",
    );
    await holder?.close();
    await shutdown;
    const again = await reconnected;
    expect(again.session_id).to.equal(connected.session_id);
    expect(await nodeOf(again.connection_id)).to.not.equal(before);
    await streamed(socket, "Tell me about glaciers");
  });
});
