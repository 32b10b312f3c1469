/** LangGraph values as the protocol carries them: messages as plain objects, the rest as JSON. */
import { AIMessage, isBaseMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { isCommand } from "@langchain/langgraph";
import { textOf } from "../agents/index.js";
import type { HistoryMessage } from "./run-request.js";

/** Deeper than this, a value is cut: a graph's state may hold cycles or huge trees. */
const MAX_DEPTH = 32;

const ROLES: Record<string, HistoryMessage["role"]> = {
  human: "user",
  ai: "assistant",
  tool: "tool",
  system: "system",
};

/** A message as clients see it in history, state updates and interrupts. */
export function messageJson(message: BaseMessage): HistoryMessage {
  const role = ROLES[message.getType()] ?? "assistant";
  const json: HistoryMessage = { id: message.id ?? null, role, content: textOf(message.content) };
  if (AIMessage.isInstance(message) && message.tool_calls && message.tool_calls.length > 0) {
    json.tool_calls = message.tool_calls.map((c) => ({
      id: c.id ?? null,
      name: c.name,
      args: c.args,
    }));
  }
  if (ToolMessage.isInstance(message)) json.tool_call_id = message.tool_call_id;
  if (message.name !== undefined) json.name = message.name;
  return json;
}

/** A plain JSON copy: messages become `messageJson`, functions and cycles are dropped. */
export function toJson(value: unknown, depth = 0, seen = new Set<object>()): unknown {
  if (value === null || typeof value !== "object") {
    return typeof value === "function" || typeof value === "symbol" || typeof value === "bigint"
      ? undefined
      : value;
  }
  if (depth >= MAX_DEPTH || seen.has(value)) return null;
  if (isBaseMessage(value)) return messageJson(value);
  if (isCommand(value)) return toJson({ update: value.update, goto: value.goto }, depth, seen);
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => toJson(v, depth + 1, seen) ?? null);
    if (value instanceof Date) return value.toISOString();
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const json = toJson(v, depth + 1, seen);
      if (json !== undefined) out[key] = json;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** Every message in a node's input or output: the value itself, a Command's update, lists, and one level of object fields. */
export function* messagesIn(value: unknown): Generator<BaseMessage> {
  if (isBaseMessage(value)) {
    yield value;
  } else if (isCommand(value)) {
    yield* messagesIn(value.update);
  } else if (Array.isArray(value)) {
    for (const item of value) if (isBaseMessage(item) || isCommand(item)) yield* messagesIn(item);
  } else if (value !== null && typeof value === "object") {
    for (const field of Object.values(value)) {
      if (isBaseMessage(field)) yield field;
      else if (Array.isArray(field)) yield* messagesIn(field);
    }
  }
}
