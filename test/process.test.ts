import { expect } from "chai";
import { loadConfig } from "../src/core/config.js";
import { connect, nextEvent } from "./support/gateway.js";
import { failedStart, spawnGateway } from "./support/process.js";

describe("configuration", () => {
  it("has documented defaults", () => {
    const config = loadConfig({});
    expect(config).to.deep.include({ host: "0.0.0.0", port: 8003, corsOrigins: [] });
    expect(config.heartbeat).to.deep.equal({ intervalMs: 30000, timeoutMs: 60000 });
    expect(config.limits).to.deep.include({
      maxConnections: 10000,
      maxConnectionsPerSession: 5,
      maxMessageBytes: 1048576,
    });
    expect(config.agent).to.deep.include({
      model: "demo",
      multitask: "enqueue",
      runTimeoutMs: 1800000,
    });
  });

  const malformed: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: "abc" }, /PORT="abc": must be integer/],
    [{ PORT: "70000" }, /PORT="70000": must be <= 65535/],
    [{ WS_MAX_CONNECTIONS_PER_SESSION: "0" }, /WS_MAX_CONNECTIONS_PER_SESSION="0": must be >= 1/],
    [
      { AGENT_MULTITASK: "sometimes" },
      /AGENT_MULTITASK="sometimes": must be one of: enqueue, reject, interrupt/,
    ],
    [
      { AGENT_CANCEL_ON_DISCONNECT: "perhaps" },
      /AGENT_CANCEL_ON_DISCONNECT="perhaps": must be boolean/,
    ],
    [{ LOG_LEVEL: "loud" }, /LOG_LEVEL="loud": must be one of/],
    [
      { AUTH_JWT_SECRET: "short" },
      /AUTH_JWT_SECRET \(secret, value not shown\): must NOT have fewer than 32 characters/,
    ],
    [
      { WS_HEARTBEAT_INTERVAL: "60", WS_HEARTBEAT_TIMEOUT: "30" },
      /WS_HEARTBEAT_TIMEOUT=30 must be greater than/,
    ],
    [{ REDIS_URL: "localhost:6379" }, /REDIS_URL \(secret, value not shown\): must match pattern/],
  ];
  for (const [env, message] of malformed) {
    it(`refuses ${JSON.stringify(env)}, naming the variable`, () => {
      expect(() => loadConfig(env)).to.throw(message);
    });
  }

  it("treats an empty value as unset, as a copied .env.example has them", () => {
    expect(loadConfig({ PORT: "", API_KEY: "" })).to.deep.include({
      port: 8003,
      apiKey: undefined,
    });
  });
});

describe("the server process", function () {
  this.timeout(30000);

  it("exits 1 on a malformed setting and says which", async () => {
    const { code, output } = await failedStart({ WS_MAX_MESSAGE_BYTES: "lots" });
    expect(code).to.equal(1);
    expect(output).to.include('WS_MAX_MESSAGE_BYTES="lots": must be integer');
  });

  it("on SIGTERM tells its clients, stops and exits 0", async () => {
    const gateway = await spawnGateway({});
    const { socket } = await connect(gateway.url);
    const shutdown = nextEvent(socket, "server_shutdown");
    const disconnected = nextEvent(socket, "disconnect");
    gateway.child.kill("SIGTERM");
    expect(await shutdown).to.deep.include({ type: "server_shutdown", reconnect: true });
    // A transport close (not "io server disconnect") lets the official client reconnect, to another node.
    expect(await disconnected).to.equal("transport close");
    expect(await gateway.exited).to.equal(0);
    expect(gateway.output()).to.include('"shutting down"');
  });
});
