import type { StructuredToolInterface } from "@langchain/core/tools";
import type { Ajv, ValidateFunction } from "ajv";
import { GatewayError } from "../core/errors.js";
import { describeErrors } from "../core/validator.js";
import { calculatorTool } from "./calculator.js";
import { currentTimeTool } from "./current-time.js";
import { ToolInputError } from "./tool-input-error.js";

interface RegisteredTool {
  tool: StructuredToolInterface;
  validate: ValidateFunction;
}

/**
 * LangChain tools, shared by the `tool_call` handler and the agents. Each
 * tool's JSON schema is compiled once with the gateway's Ajv instance, so a
 * direct call and an agent's call are checked the same way.
 */
export class ToolRegistry {
  private readonly tools = new Map<string, RegisteredTool>();

  constructor(
    ajv: Ajv,
    tools: StructuredToolInterface[] = [
      calculatorTool,
      currentTimeTool,
    ] as StructuredToolInterface[],
  ) {
    for (const tool of tools) {
      if (this.tools.has(tool.name)) throw new Error(`Duplicate tool name "${tool.name}"`);
      this.tools.set(tool.name, { tool, validate: ajv.compile(tool.schema as object) });
    }
  }

  list(): StructuredToolInterface[] {
    return [...this.tools.values()].map((t) => t.tool);
  }

  async invoke(name: string, params: unknown): Promise<unknown> {
    const entry = this.tools.get(name);
    if (!entry) {
      throw new GatewayError(
        "unknown_tool",
        `Unknown tool "${name}"; available: ${[...this.tools.keys()].join(", ")}`,
      );
    }
    if (!entry.validate(params)) {
      throw new GatewayError(
        "invalid_params",
        `Invalid parameters for "${name}"`,
        describeErrors(entry.validate.errors),
      );
    }
    try {
      return await entry.tool.invoke(params as Record<string, unknown>);
    } catch (error) {
      if (error instanceof ToolInputError) throw new GatewayError("invalid_params", error.message);
      throw new GatewayError(
        "tool_error",
        `Tool "${name}" failed: ${(error as Error).message}`,
        undefined,
        {
          cause: error,
        },
      );
    }
  }
}
