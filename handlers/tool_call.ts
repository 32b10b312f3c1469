import { defineHandler, Type, WithDefault } from "../src/handler-kit.js";

export default defineHandler({
  type: "tool_call",
  description: "Runs one tool directly (calculator, current_time) and returns tool_result.",
  events: { tool_result: "The tool's result" },
  schema: Type.Object({
    tool_name: Type.String({ minLength: 1, maxLength: 64 }),
    params: WithDefault(Type.Record(Type.String(), Type.Unknown()), {}),
  }),
  async handle({ tool_name, params }, ctx) {
    const result = await ctx.tools.invoke(tool_name, params);
    ctx.emit("tool_result", { tool_name, result });
    return { tool_name, result };
  },
});
