import { expect } from "chai";
import type { HandlerContext } from "../src/registry/handler-context.js";
import { connectAs, TRANSPORTS } from "./support/clients.js";
import {
  nextEvent,
  request,
  startGatewayWithHandler,
  type RunningGateway,
} from "./support/gateway.js";
import { waitFor } from "./support/wait-for.js";

/** Keeps each connection's context where the test can reach it, and reads nothing of it. */
const KEEP_CONTEXT_HANDLER = `import { defineHandler, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "keep_context",
  description: "Hands the test this connection's context.",
  schema: Type.Object({ early_signal: Type.Optional(Type.Boolean()) }),
  handle({ early_signal }, ctx) {
    const kept = globalThis.keptContexts ??= [];
    kept.push({ ctx, signal: early_signal ? ctx.signal : undefined });
    return {};
  },
});
`;

interface Kept {
  ctx: HandlerContext;
  signal: AbortSignal | undefined;
}
const kept = () => (globalThis as { keptContexts?: Kept[] }).keptContexts ?? [];

describe("a connection's handler context, made on first use", function () {
  let server: RunningGateway;
  before(async () => {
    server = await startGatewayWithHandler("keep_context.ts", KEEP_CONTEXT_HANDLER);
  });
  after(() => server.close());

  async function gone(sessionId: string) {
    await waitFor(
      async () =>
        (await server.gateway.state.connections.sessionConnections(sessionId)).length === 0,
    );
  }

  for (const transport of TRANSPORTS) {
    it(`over ${transport}: detached functions work, and signal fires on close whenever it is first read`, async () => {
      const early = await connectAs(transport, server.url);
      const late = await connectAs(transport, server.url);
      expect((await request(early.socket, "keep_context", { early_signal: true })).ok).to.equal(
        true,
      );
      expect((await request(late.socket, "keep_context", {})).ok).to.equal(true);
      const [first, second] = kept().splice(0);

      // Destructured, as a handler may: still bound to their connection.
      const { emit, emitToSession, log } = second!.ctx;
      const direct = nextEvent<{ message: string }>(late.socket, "to_you");
      const toSession = nextEvent<{ message: string }>(late.socket, "to_all");
      (emit as (type: string, data: unknown) => void)("to_you", { message: "to you" });
      (emitToSession as (type: string, data: unknown) => void)("to_all", { message: "to all" });
      expect((await direct).message).to.equal("to you");
      expect((await toSession).message).to.equal("to all");
      expect(() => log.debug("a line below the level")).not.to.throw();

      const aborted = new Promise((resolve) =>
        first!.signal!.addEventListener("abort", resolve, { once: true }),
      );
      early.socket.close();
      await aborted;
      late.socket.close();
      await gone(late.connected.session_id);
      // Never read while open: made now, already aborted.
      expect(second!.ctx.signal.aborted).to.equal(true);
      expect(first!.ctx.signal).to.equal(first!.signal);
    });
  }
});
