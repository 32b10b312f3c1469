import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type { BaseMessage } from "@langchain/core/messages";
import { AIMessageChunk } from "@langchain/core/messages";
import { ChatGenerationChunk } from "@langchain/core/outputs";
import { DemoChatModel } from "../src/agents/demo-chat-model.js";

/** Every streamed token is this text, so a client can count tokens in coalesced chunks. */
export const BENCH_TOKEN = " tok";

/** `bench:<n>` asks for an answer of n tokens. */
export const benchPrompt = (tokens: number): string => `bench:${tokens}`;

/** When the model was called and when it yielded its first token (performance.now()). */
export interface ModelTiming {
  calledAt: number;
  firstTokenAt: number;
}

/**
 * The demo model with a controllable answer: the last human message
 * `bench:<n>` gets n tokens at once, with no pause. It keeps the demo model's
 * tool binding and the callback path, so the gateway's run path is the real
 * one; only the model's own time is (close to) zero.
 */
export class BenchChatModel extends DemoChatModel {
  /** Timings of the calls so far, in call order; the first-token scenario sends one message at a time. */
  readonly timings: ModelTiming[] = [];

  /**
   * @param yieldEvery lets the event loop turn after every this many tokens
   *   (and so after the last), as a model read from the network does: 1 is a
   *   token per read. 0 streams the whole answer, and the graph's work after
   *   it, in microtasks, so a write's completion (and the frames engine.io
   *   queues behind it) waits for the whole run.
   */
  constructor(private readonly yieldEvery = 0) {
    super({ tokenDelayMs: 0 });
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const calledAt = performance.now();
    const last = messages.at(-1);
    const prompt = typeof last?.content === "string" ? last.content : "";
    const count = Number(/^bench:(\d+)$/.exec(prompt)?.[1] ?? 1);
    const timing: ModelTiming = { calledAt, firstTokenAt: 0 };
    this.timings.push(timing);
    if (this.timings.length > 10_000) this.timings.shift();
    for (let i = 0; i < count; i++) {
      options.signal?.throwIfAborted();
      const last = i === count - 1;
      const message = new AIMessageChunk({
        content: BENCH_TOKEN,
        ...(last && { response_metadata: { vendor: "demo", finish_reason: "stop" } }),
      });
      const chunk = new ChatGenerationChunk({ message, text: BENCH_TOKEN });
      if (i === 0) timing.firstTokenAt = performance.now();
      yield chunk;
      await runManager?.handleLLMNewToken(BENCH_TOKEN, undefined, undefined, undefined, undefined, {
        chunk,
      });
      if (this.yieldEvery > 0 && (i + 1) % this.yieldEvery === 0)
        await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
