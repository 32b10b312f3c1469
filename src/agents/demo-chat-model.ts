import { randomUUID } from "node:crypto";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BaseChatModelParams,
  type BindToolsInput,
} from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";
import { planReply, type DemoReply } from "./demo-replies.js";

export interface DemoChatModelCallOptions extends BaseChatModelCallOptions {
  /** Set by bindTools; the demo only needs the names. */
  tools?: BindToolsInput[];
}

export interface DemoChatModelFields extends BaseChatModelParams {
  /** Pause between streamed tokens, so a person can watch the stream; 0 streams at once. */
  tokenDelayMs?: number;
}

export const DEMO_METADATA = { vendor: "demo", model_name: "demo" } as const;

/**
 * An offline chat model for demos and tests. It is a real LangChain model:
 * it streams through the callback system (so `streamEvents` sees every token),
 * honours the abort signal, binds tools and emits genuine tool calls. What it
 * says comes from `planReply`: tool calls for arithmetic and the time, quotes
 * from the history, persona turns in a discussion, and short musings otherwise.
 */
export class DemoChatModel extends BaseChatModel<DemoChatModelCallOptions> {
  readonly tokenDelayMs: number;

  static override lc_name(): string {
    return "DemoChatModel";
  }

  constructor(fields: DemoChatModelFields = {}) {
    super(fields);
    this.tokenDelayMs = fields.tokenDelayMs ?? 30;
  }

  _llmType(): string {
    return "demo";
  }

  override bindTools(
    tools: BindToolsInput[],
    kwargs?: Partial<DemoChatModelCallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, DemoChatModelCallOptions> {
    // Tools travel as a call option, as in the provider models, so one model
    // instance can serve graphs with different tool sets.
    return this.withConfig({ ...kwargs, tools });
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const { signal } = options;
    signal?.throwIfAborted();
    const reply = planReply(messages, new Set((options.tools ?? []).flatMap(toolName)));
    const chunks = toChunks(reply);
    for (const [i, message] of chunks.entries()) {
      if (i > 0) await pause(this.tokenDelayMs, signal);
      const text = typeof message.content === "string" ? message.content : "";
      const chunk = new ChatGenerationChunk({ message, text });
      yield chunk;
      await runManager?.handleLLMNewToken(text, undefined, undefined, undefined, undefined, {
        chunk,
      });
    }
  }

  /** The non-streaming path says exactly what the stream would have said. */
  async _generate(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    let whole: ChatGenerationChunk | undefined;
    for await (const chunk of this._streamResponseChunks(messages, options, runManager)) {
      whole = whole ? whole.concat(chunk) : chunk;
    }
    if (!whole) throw new Error("The demo model produced no output");
    const chunk = whole.message as AIMessageChunk;
    const message = new AIMessage({
      content: chunk.content,
      tool_calls: chunk.tool_calls ?? [],
      response_metadata: chunk.response_metadata,
    });
    return { generations: [{ text: whole.text, message }] };
  }
}

function toolName(tool: BindToolsInput): string[] {
  const named = tool as { name?: unknown; function?: { name?: unknown } };
  const name = named.name ?? named.function?.name;
  return typeof name === "string" ? [name] : [];
}

/**
 * Word-sized text tokens ("Hello", " world"), or a tool call whose JSON
 * arguments arrive in two pieces as a provider streams them. Only the last
 * chunk carries the metadata: chunk merging concatenates strings.
 */
function toChunks(reply: DemoReply): AIMessageChunk[] {
  if (reply.kind === "text") {
    const words = reply.text.match(/\s*\S+/g) ?? [reply.text];
    return words.map(
      (word, i) =>
        new AIMessageChunk({
          content: word,
          ...(i === words.length - 1 && {
            response_metadata: { ...DEMO_METADATA, finish_reason: "stop" },
          }),
        }),
    );
  }
  const args = JSON.stringify(reply.args);
  const middle = Math.ceil(args.length / 2);
  return [
    new AIMessageChunk({
      content: "",
      tool_call_chunks: [
        {
          type: "tool_call_chunk",
          index: 0,
          id: `call_${randomUUID()}`,
          name: reply.name,
          args: args.slice(0, middle),
        },
      ],
    }),
    new AIMessageChunk({
      content: "",
      tool_call_chunks: [{ type: "tool_call_chunk", index: 0, args: args.slice(middle) }],
      response_metadata: { ...DEMO_METADATA, finish_reason: "tool_calls" },
    }),
  ];
}

/** Waits between tokens; an abort ends the wait at once with the signal's reason. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
