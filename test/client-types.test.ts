import { spawnSync } from "node:child_process";
import { cp, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "agent-gateway/client";
import { startGateway, startGatewayWithHandler, type RunningGateway } from "./support/gateway.js";

/** A handler as an author adds one: its own server event, and a field with a default. */
const SHOUT_HANDLER = `import { defineHandler, Type, WithDefault } from "../src/handler-kit.js";

declare module "../src/core/protocol.js" {
  interface ServerEventMap {
    shouted: { text: string };
  }
}

export default defineHandler({
  type: "shout",
  description: "Says it louder.",
  events: { shouted: "The text, louder, to the session" },
  schema: Type.Object({
    text: Type.String({ minLength: 1, maxLength: 100 }),
    times: WithDefault(Type.Integer({ minimum: 1, maximum: 3 }), 1),
  }),
  handle({ text, times }, ctx) {
    const loud = text.toUpperCase().repeat(times);
    ctx.emitToSession("shouted", { text: loud });
    return { loud };
  },
});
`;

/** A client of the copy above; every line must compile, each @ts-expect-error must be an error. */
const SHOUT_CLIENT = `import type { Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "./src/client/index.js";

export function shout(socket: Socket<ServerToClientEvents, ClientToServerEvents>): void {
  socket.emit("shout", { text: "hi" }, (ack) => {
    if (ack.ok) {
      const loud: string = ack.data.loud;
      void loud;
    }
  });
  socket.emit("shout", { text: "hi", times: 2 }, () => undefined);
  socket.on("shouted", (event) => {
    const text: string = event.text;
    void text;
  });
  // @ts-expect-error text is a string
  socket.emit("shout", { text: 1 }, () => undefined);
  // @ts-expect-error the handler has no such field
  socket.emit("shout", { text: "hi", volume: 11 }, () => undefined);
}
`;

const PROJECT_FILES = [
  "src",
  "handlers",
  "scripts",
  "package.json",
  "tsconfig.json",
  ".prettierrc.json",
];

function run(dir: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, args, { cwd: dir, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * `npm run typecheck` compiles this file: each @ts-expect-error below is a
 * deliberate mistake that must not compile, or the check fails.
 */
function typedMistakes(socket: Socket<ServerToClientEvents, ClientToServerEvents>): void {
  // @ts-expect-error content is a string
  socket.emit("message", { content: 42 }, () => undefined);
  // @ts-expect-error no handler has this type
  socket.emit("not_a_handler", {}, () => undefined);
  // @ts-expect-error stream_end has no seq
  socket.on("stream_end", (event) => void event.seq);
  // A field with a default is optional for the client, and still typed when given.
  socket.emit("start_conversation", { topic: "tabs or spaces" }, () => undefined);
  socket.emit("tool_call", { tool_name: "current_time" }, () => undefined);
  // @ts-expect-error rounds is a number
  socket.emit("start_conversation", { topic: "t", rounds: "2" }, () => undefined);
}

describe("typed client entry (agent-gateway/client)", () => {
  let server: RunningGateway;
  before(async () => {
    server = await startGateway({ DEMO_TOKEN_DELAY_MS: "0" });
  });
  after(() => server.close());

  it("types a handler file added to handlers/, with no other change", async function () {
    this.timeout(240_000);
    const root = process.cwd();
    const dir = await mkdtemp(path.join(tmpdir(), "gateway-client-types-"));
    try {
      for (const name of PROJECT_FILES)
        await cp(path.join(root, name), path.join(dir, name), { recursive: true });
      await symlink(
        await realpath(path.join(root, "node_modules")),
        path.join(dir, "node_modules"),
      );
      await writeFile(path.join(dir, "handlers", "shout.ts"), SHOUT_HANDLER);
      await writeFile(path.join(dir, "shout-client.ts"), SHOUT_CLIENT);
      await writeFile(
        path.join(dir, "tsconfig.check.json"),
        JSON.stringify({ extends: "./tsconfig.json", include: [], files: ["shout-client.ts"] }),
      );
      const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
      const check = () => run(dir, [tsc, "--noEmit", "-p", "tsconfig.check.json"]);
      // What npm run typecheck and npm run build do first.
      const written = run(dir, ["--import", "tsx", "scripts/write-client-handlers.ts"]);
      expect(written.status, written.output).to.equal(0);
      const typed = check();
      expect(typed.output).to.equal("");
      expect(typed.status).to.equal(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("lists in /asyncapi.json the server events a handler file declares", async () => {
    const withShout = await startGatewayWithHandler("shout.ts", SHOUT_HANDLER);
    try {
      const response = await fetch(`${withShout.url}/asyncapi.json`);
      const doc = (await response.json()) as {
        channels: { root: { messages: Record<string, { name: string; summary: string }> } };
      };
      const { messages } = doc.channels.root;
      expect(messages["server_shouted"]).to.deep.include({
        name: "shouted",
        summary: "The text, louder, to the session (from shout)",
      });
      expect(messages["server_pong"]?.summary).to.equal("Answer to ping (from ping)");
      expect(messages["server_stream_end"]?.name).to.equal("stream_end");
    } finally {
      await withShout.close();
    }
  });

  it("types a real exchange: the ack's data and the stream events", async () => {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(server.url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
    });
    expect(typeof typedMistakes).to.equal("function");
    try {
      const ended = new Promise<string>((resolve) =>
        socket.on("stream_end", (event) => resolve(event.total_content)),
      );
      const ack = await socket.emitWithAck("message", { content: "hello" });
      if (!ack.ok) throw new Error(ack.error.message);
      const messageId: string = ack.data.message_id;
      expect(messageId).to.be.a("string");
      expect(await ended)
        .to.be.a("string")
        .and.not.equal("");
    } finally {
      socket.close();
    }
  });
});
