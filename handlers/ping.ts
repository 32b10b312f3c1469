import { defineHandler, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "ping",
  description: "Application-level heartbeat: answers with pong.",
  schema: Type.Object({}),
  handle(_payload, ctx) {
    ctx.emit("pong", {});
    return {};
  },
});
