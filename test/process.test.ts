import net from "node:net";
import { expect } from "chai";
import { loadConfig } from "../src/core/config.js";
import { connect, nextEvent } from "./support/gateway.js";
import { freePort } from "./support/free-port.js";
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
      // The frame cap follows the message cap: 1 MiB and 1 KiB of envelope.
      maxFrameBytes: 1049600,
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
      /AUTH_JWT_SECRET \(5 characters, value not shown\): must be at least 32 characters$/,
    ],
    [
      { CHECKPOINT_DATABASE_URL: "mysql://gateway:topsecret@db/conversations" },
      /CHECKPOINT_DATABASE_URL="mysql:\/\/gateway:\*\*\*@db\/conversations": must match pattern/,
    ],
    [{ AGENT_MODEL: "openai:gpt-4o" }, /AGENT_MODEL=openai:gpt-4o needs OPENAI_API_KEY/],
    [
      { WS_HEARTBEAT_INTERVAL: "60", WS_HEARTBEAT_TIMEOUT: "30" },
      /WS_HEARTBEAT_TIMEOUT=30 must be greater than/,
    ],
    [{ REDIS_URL: "localhost:6379" }, /REDIS_URL="localhost:6379": must match pattern/],
  ];
  for (const [env, message] of malformed) {
    it(`refuses ${JSON.stringify(env)}, naming the variable`, () => {
      expect(() => loadConfig(env)).to.throw(message);
    });
  }

  it("derives the frame cap from the message cap unless WS_MAX_FRAME_BYTES is set", () => {
    expect(loadConfig({ WS_MAX_MESSAGE_BYTES: "2048" }).limits.maxFrameBytes).to.equal(3072);
    const both = { WS_MAX_MESSAGE_BYTES: "2048", WS_MAX_FRAME_BYTES: "65536" };
    expect(loadConfig(both).limits.maxFrameBytes).to.equal(65536);
  });

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

  /** What an operator reads: one line on stderr besides the log's warnings, and exit code 1. */
  async function oneLine(env: Record<string, string>): Promise<string> {
    const { code, stderr } = await failedStart({ ...env, LOG_LEVEL: "error" });
    expect(code).to.equal(1);
    const lines = stderr.split("\n").filter((line) => line.trim() !== "");
    expect(lines, stderr).to.have.length(1);
    return lines[0] ?? "";
  }

  // These two load every module before they fail, which takes long on a busy machine.
  it("names PORT when the port is in use", async function () {
    this.timeout(90_000);
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      expect(await oneLine({ PORT: String(port) })).to.equal(
        `The gateway cannot start: PORT: port ${port} on 127.0.0.1 is already in use; stop what listens there or set PORT to a free port`,
      );
    } finally {
      holder.close();
    }
  });

  it("names CHECKPOINT_DATABASE_URL when PostgreSQL is unreachable, without its password", async function () {
    this.timeout(90_000);
    const port = await freePort();
    const line = await oneLine({
      CHECKPOINT_DATABASE_URL: `postgres://gateway:hunter2-db-secret@127.0.0.1:${port}/conversations`,
    });
    expect(line).to.match(/^The gateway cannot start: CHECKPOINT_DATABASE_URL: PostgreSQL at /);
    expect(line).to.include(`127.0.0.1:${port}`).and.include("ECONNREFUSED");
    expect(line).not.to.include("hunter2");
  });

  it("names OPENAI_API_KEY when the OpenAI model is configured without it", async () => {
    const line = await oneLine({
      AGENT_MODEL: "openai:gpt-4o-mini",
      OPENAI_API_KEY: "",
      OPENAI_BASE_URL: "",
    });
    expect(line).to.include("AGENT_MODEL=openai:gpt-4o-mini needs OPENAI_API_KEY");
  });

  it("says how long a secret is, never what it is", async () => {
    const line = await oneLine({
      API_KEY: "short-api-key",
      AUTH_JWT_SECRET: "a-jwt-secret-too-short",
      ADMIN_UI_USERNAME: "admin",
      ADMIN_UI_PASSWORD: "pass-123",
    });
    expect(line).to.include(
      "API_KEY (13 characters, value not shown): must be at least 16 characters",
    );
    expect(line).to.include(
      "AUTH_JWT_SECRET (22 characters, value not shown): must be at least 32",
    );
    expect(line).to.include(
      "ADMIN_UI_PASSWORD (8 characters, value not shown): must be at least 12",
    );
    for (const secret of ["short-api-key", "a-jwt-secret-too-short", "pass-123"])
      expect(line).not.to.include(secret);
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
