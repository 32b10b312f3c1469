import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { loadConfig } from "../src/core/config.js";
import { createGateway } from "../src/gateway.js";
import { connect, nextEvent, request, startGateway } from "./support/gateway.js";

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
    expect([...server.gateway.handlers.keys()]).to.deep.equal(["echo", "ping"]);
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
    expect(listed.handlers.map((h) => h.type)).to.deep.equal(["echo", "ping"]);
    socket.close();
    await server.close();
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
