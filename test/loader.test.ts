import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { loadConfig } from "../src/core/config.js";
import { createGateway } from "../src/gateway.js";
import type { Socket as ClientSocket } from "socket.io-client";
import {
  connect,
  nextEvent,
  request,
  startGateway,
  type RunningGateway,
} from "./support/gateway.js";

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

async function loadError(folder: string): Promise<Error> {
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "error" });
  try {
    await createGateway({ config, handlersDir: path.join(fixtures, folder) });
  } catch (error) {
    return error as Error;
  }
  throw new Error(`the handlers in ${folder} were accepted`);
}

describe("handler loader", () => {
  it("serves a handler added as one file, with no change to the core", async () => {
    const server = await startGateway({}, { handlersDir: path.join(fixtures, "extra-handler") });
    expect([...server.gateway.handlers.keys()]).to.deep.equal(["annotate", "echo", "ping"]);
    const { socket } = await connect(server.url);
    const echoed = nextEvent(socket, "echoed");
    expect(await request(socket, "echo", { text: "ab", times: 2 })).to.deep.equal({
      ok: true,
      data: { length: 4 },
    });
    expect(await echoed).to.deep.include({ type: "echoed", text: "abab", times: 2 });
    const listed = (await (await fetch(`${server.url}/api/handlers`)).json()) as {
      handlers: Array<{ type: string }>;
    };
    expect(listed.handlers.map((h) => h.type)).to.deep.equal(["annotate", "echo", "ping"]);
    socket.close();
    await server.close();
  });

  describe("payload schemas", () => {
    let server: RunningGateway;
    let socket: ClientSocket;
    before(async () => {
      server = await startGateway({}, { handlersDir: path.join(fixtures, "extra-handler") });
      ({ socket } = await connect(server.url));
    });
    after(async () => {
      socket.close();
      await server.close();
    });

    it("publishes fields with a default as optional, and objects as closed", async () => {
      const listed = (await (await fetch(`${server.url}/api/handlers`)).json()) as {
        handlers: Array<{ type: string; schema: Record<string, unknown> }>;
      };
      const echo = listed.handlers.find((h) => h.type === "echo");
      expect(echo?.schema).to.deep.include({ required: ["text"], additionalProperties: false });
      expect(echo?.schema["properties"]).to.have.nested.property("times.default", 1);
    });

    it("applies the default of a field left out", async () => {
      expect(await request(socket, "echo", { text: "ab" })).to.deep.equal({
        ok: true,
        data: { length: 2 },
      });
    });

    it("refuses a misspelt optional field with invalid_payload naming it", async () => {
      const ack = await request(socket, "echo", { text: "ab", tims: 2 });
      expect(ack.ok).to.equal(false);
      if (ack.ok) return;
      expect(ack.error.code).to.equal("invalid_payload");
      expect(ack.error.details).to.deep.equal([
        {
          path: "/",
          message: 'has unknown property "tims"',
          params: { additionalProperty: "tims" },
        },
      ]);
    });

    it("keeps the findings of a payload with thousands of unknown fields short", async () => {
      const flood = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`field_${i}`, i]));
      const ack = await request(socket, "echo", { text: "ab", ...flood });
      expect(ack.ok).to.equal(false);
      if (ack.ok) return;
      expect(ack.error.code).to.equal("invalid_payload");
      // The validator stops at its first findings: a few, never one per field.
      const details = ack.error.details as Array<{ message: string }>;
      expect(details.length).to.be.within(1, 10);
      expect(details[0]?.message).to.match(/unknown property "field_/);
      expect(await request(socket, "ping", {})).to.deep.equal({ ok: true, data: {} });
    });

    it("accepts the earlier systems' envelope fields and does not pass them on", async () => {
      const envelope = { type: "annotate", timestamp: "2025-01-01T00:00:00Z", id: "m-1" };
      expect(await request(socket, "annotate", { ...envelope, label: "x" })).to.deep.equal({
        ok: true,
        data: { fields: ["label"] },
      });
      expect(
        await request(socket, "echo", { ...envelope, request_id: 7, text: "a" }),
      ).to.deep.equal({ ok: true, data: { length: 1 } });
    });

    it("lets a handler whose schema says so take an open object", async () => {
      expect(await request(socket, "annotate", { label: "x", colour: "red" })).to.deep.equal({
        ok: true,
        data: { fields: ["colour", "label"] },
      });
    });
  });

  const refusals: Array<[string, string, RegExp]> = [
    [
      "bad-shape",
      "broken.ts",
      /"description" must be a non-empty string; "handle" must be a function/,
    ],
    ["duplicate-type", "b.ts", /type "same" is already defined by .*a\.ts/],
    ["reserved-type", "disconnect.ts", /"disconnect" is a reserved event name/],
    ["bad-schema", "weird.ts", /schema does not compile/],
    ["import-error", "explodes.ts", /import failed: boom at import/],
  ];
  for (const [folder, file, reason] of refusals) {
    it(`refuses to start on ${folder}, naming the file`, async () => {
      const error = await loadError(folder);
      expect(error.name).to.equal("HandlerLoadError");
      expect(error.message).to.include(path.join(fixtures, folder, file));
      expect(error.message).to.match(reason);
    });
  }
});
