import { PassThrough } from "node:stream";
import { expect } from "chai";
import { GatewayError } from "../src/core/errors.js";
import { createLogger } from "../src/core/logger.js";

/** Logs one line through a real logger and returns what it wrote. */
function logged(format: "json" | "pretty", write: (log: ReturnType<typeof createLogger>) => void) {
  const stream = new PassThrough();
  const log = createLogger({ level: "info", format, stream });
  const written = new Promise<string>((resolve) =>
    stream.once("data", (b: Buffer) => resolve(String(b))),
  );
  write(log);
  return written;
}

function failure(): GatewayError {
  const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), {
    code: "ECONNREFUSED",
  });
  return new GatewayError("agent_error", "The agent failed", { host: "127.0.0.1:9" }, { cause });
}

describe("logger", () => {
  it("writes an error's name, message, code, details, stack and cause in JSON", async () => {
    const line = await logged("json", (log) => log.error("run failed", { error: failure() }));
    const entry = JSON.parse(line) as { message: string; error: Record<string, unknown> };
    expect(entry.message).to.equal("run failed");
    expect(entry.error).to.include({
      name: "GatewayError",
      message: "The agent failed",
      code: "agent_error",
    });
    expect(entry.error["details"]).to.deep.equal({ host: "127.0.0.1:9" });
    expect(entry.error["stack"])
      .to.be.a("string")
      .and.match(/failure/);
    expect(entry.error["cause"]).to.include({
      name: "Error",
      message: "connect ECONNREFUSED 127.0.0.1:9",
      code: "ECONNREFUSED",
    });
  });

  it("writes the same fields in the readable format", async () => {
    const line = await logged("pretty", (log) => log.warn("run failed", { error: failure() }));
    expect(line).to.include('"code":"agent_error"').and.include('"code":"ECONNREFUSED"');
    expect(line)
      .to.include('"details":{"host":"127.0.0.1:9"}')
      .and.include('"stack":"GatewayError');
  });

  it("survives an error that is its own cause", async () => {
    const looping = new Error("again");
    looping.cause = looping;
    const line = await logged("json", (log) => log.error("loop", { error: looping }));
    expect((JSON.parse(line) as { error: { message: string } }).error.message).to.equal("again");
  });
});
