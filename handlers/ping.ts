import { defineHandler, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "ping",
  description: "Application-level heartbeat: answers with pong.",
  schema: Type.Object({}),
  events: { pong: "Answer to ping" },
  handle(_payload, ctx) {
    ctx.emit("pong", {});
    return {};
  },
});
