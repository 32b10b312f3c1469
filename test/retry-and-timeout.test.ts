import { expect } from "chai";
import { backoffMs } from "../src/core/backoff.js";
import { withTimeout } from "../src/core/with-timeout.js";
import { connectAs, TRANSPORTS } from "./support/clients.js";
import { request, startGatewayWithHandler, type RunningGateway } from "./support/gateway.js";

const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("backoff", () => {
  const steps = { firstMs: 100, maxMs: 1000 };

  it("doubles from the first wait up to the longest, between half and all of it", () => {
    for (const [attempt, ceiling] of [
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 800],
      [5, 1000],
      [40, 1000],
    ] as const) {
      expect(backoffMs(attempt, steps, () => 0)).to.equal(ceiling / 2);
      expect(backoffMs(attempt, steps, () => 0.999999)).to.be.closeTo(ceiling, 0.01);
    }
  });

  it("spreads retries that failed together", () => {
    const waits = new Set(Array.from({ length: 20 }, () => backoffMs(3, steps)));
    expect(waits.size).to.be.greaterThan(10);
    for (const wait of waits) expect(wait).to.be.within(200, 400);
  });
});

describe("withTimeout", () => {
  it("gives the work's value and leaves no timer behind", async () => {
    await Promise.resolve(); // mocha arms its own test timer once the test has started
    const before = timers();
    const value = await withTimeout(Promise.resolve(42), 60_000, () => new Error("late"));
    expect(value).to.equal(42);
    expect(timers()).to.equal(before);
  });

  it("gives the work's own error, not the timeout's", async () => {
    const failing = withTimeout(Promise.reject(new Error("own")), 60_000, () => new Error("late"));
    await failing.then(
      () => expect.fail("resolved"),
      (error: Error) => expect(error.message).to.equal("own"),
    );
  });

  it("fails with the timeout's error once the time has passed", async () => {
    const started = Date.now();
    const never = new Promise<never>(() => undefined);
    const error = await withTimeout(never, 50, () => new Error("late")).catch((e: Error) => e);
    expect(error).to.be.instanceOf(Error).with.property("message", "late");
    expect(Date.now() - started).to.be.at.least(45);
  });
});

// A handler that never answers, with its own short budget.
const STUCK_HANDLER = `import { defineHandler, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "stuck",
  description: "Never answers.",
  schema: Type.Object({}),
  timeoutMs: 100,
  handle() {
    return new Promise(() => undefined);
  },
});
`;

describe("a handler past its time budget", function () {
  let server: RunningGateway;
  before(async () => {
    server = await startGatewayWithHandler("stuck.ts", STUCK_HANDLER);
  });
  after(() => server.close());

  for (const transport of TRANSPORTS) {
    it(`over ${transport}: is answered with timeout, and the connection goes on`, async () => {
      const { socket } = await connectAs(transport, server.url);
      const ack = await request(socket, "stuck", {});
      expect(!ack.ok && ack.error).to.deep.include({ code: "timeout" });
      expect(!ack.ok && ack.error.message).to.match(/"stuck" did not finish within 100 ms/);
      expect((await request(socket, "ping", {})).ok).to.equal(true);
      socket.close();
    });
  }
});
