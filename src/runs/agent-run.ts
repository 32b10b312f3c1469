import { HumanMessage } from "@langchain/core/messages";
import { discussionStepLimit } from "../agents/index.js";
import { sessionIdOfKey } from "../auth/principal.js";
import { GatewayError } from "../core/errors.js";
import type { Emit } from "../core/protocol.js";
import type { AgentRuntime } from "./agent-runtime.js";
import { ChunkCoalescer, type CoalescingPolicy } from "./chunk-coalescer.js";
import { GraphCallbacks, type GraphListener } from "./graph-callbacks.js";
import { ModelWatchdog } from "./model-watchdog.js";
import type { RunRequest } from "./run-request.js";

export type RunOutcome =
  | { status: "completed" }
  | { status: "cancelled"; reason: string }
  | { status: "failed"; error: GatewayError };

/**
 * One agent run: drives the graph, hears it through LangChain's callbacks
 * (src/runs/graph-callbacks.ts) and publishes the protocol's events. Once stopped (cancel, timeout), it publishes nothing
 * more, whatever the graph still yields while it unwinds.
 */
export interface AgentRunOptions {
  /** Which tokens leave together as one stream_chunk (WS_STREAM_COALESCE_*); each alone when not given. */
  coalescing?: CoalescingPolicy;
  /** The conversation's checkpointer thread; the session id when not given. */
  threadId?: string;
  /** AGENT_MODEL_IDLE_TIMEOUT in ms: a model call silent this long fails the run; none when not given. */
  modelIdleMs?: number;
}

export class AgentRun {
  readonly controller = new AbortController();
  private seq = 0;
  /** What the published chunks add up to (plus the text of a non-streaming run). */
  private content = "";
  private readonly coalescing: CoalescingPolicy;
  /** Exists while the run executes. */
  private coalescer: ChunkCoalescer | undefined;
  private readonly threadId: string;
  private readonly watchdog: ModelWatchdog | undefined;
  /** How the run ends when it was stopped from outside; set once. */
  private stoppedAs: Exclude<RunOutcome, { status: "completed" }> | undefined;
  /** Discussion turns so far, for speaker changes and progress. */
  private turns: { names: Set<string>; count: number; perRound: number; total: number } | undefined;
  /** Chat graph steps so far, for progress. */
  private steps = 0;

  constructor(
    readonly messageId: string,
    readonly sessionId: string,
    readonly request: RunRequest,
    options: AgentRunOptions = {},
  ) {
    this.coalescing = options.coalescing ?? { windowMs: 0, maxChars: 1 };
    this.threadId = options.threadId ?? sessionId;
    const idleMs = options.modelIdleMs;
    this.watchdog =
      idleMs === undefined
        ? undefined
        : new ModelWatchdog(idleMs, () =>
            this.fail(
              new GatewayError(
                "agent_error",
                `The agent failed: the model sent nothing for ${idleMs / 1000} s (AGENT_MODEL_IDLE_TIMEOUT)`,
              ),
            ),
          );
  }

  get partialContent(): string {
    return this.content;
  }

  /** The seq of the last chunk published (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  get stopped(): boolean {
    return this.stoppedAs !== undefined;
  }

  /** Stops the run; it ends with `cancelled {reason}`. */
  cancel(reason: string): void {
    this.stop({ status: "cancelled", reason });
  }

  /** Stops the run; it ends with an `error` carrying this code (a timeout). */
  fail(error: GatewayError): void {
    this.stop({ status: "failed", error });
  }

  /** The graph sees the abort through the signal it was given. */
  private stop(outcome: Exclude<RunOutcome, { status: "completed" }>): void {
    if (this.stoppedAs) return;
    this.stoppedAs = outcome;
    // Tokens not yet sent are dropped, so partial_content stays what the clients received.
    this.coalescer?.drop();
    this.controller.abort(
      new Error(outcome.status === "cancelled" ? outcome.reason : outcome.error.message),
    );
  }

  async execute(runtime: AgentRuntime, publishNow: Emit): Promise<RunOutcome> {
    const coalescer = new ChunkCoalescer(this.coalescing, (content, agent) => {
      if (!this.stopped) this.sendChunk(publishNow, content, agent);
    });
    this.coalescer = coalescer;
    try {
      return await this.run(runtime, coalescer.flushingFirst(publishNow));
    } finally {
      coalescer.drop();
      this.watchdog?.stop();
    }
  }

  private async run(runtime: AgentRuntime, publish: Emit): Promise<RunOutcome> {
    const { request, messageId } = this;
    const streaming = request.kind !== "query";
    if (streaming) {
      publish("stream_start", {
        message_id: messageId,
        session_id: sessionIdOfKey(this.sessionId),
        kind: request.kind,
      });
    } else {
      publish("status", { status: "processing", message_id: messageId });
    }
    try {
      await this.invoke(runtime, this.listener(publish, streaming));
    } catch (error) {
      if (!this.stopped)
        return {
          status: "failed",
          error: new GatewayError("agent_error", describe(error), undefined, { cause: error }),
        };
    }
    // The last tokens leave before the end event reads total_content.
    this.coalescer?.flush();
    if (this.stoppedAs) return this.stoppedAs;
    if (streaming) {
      const steps = this.turns?.total ?? this.steps;
      publish("progress_update", {
        message_id: messageId,
        data: { stage: "done", completed: steps, total: steps },
      });
      publish("stream_end", { message_id: messageId, total_content: this.content });
    } else
      publish("agent_response", {
        message_id: messageId,
        content: this.content,
        vendor: runtime.vendor,
      });
    return { status: "completed" };
  }

  private chunk(content: string, agent: string, streaming = true): void {
    if (streaming) this.coalescer?.add(content, agent);
    else this.content += content;
  }

  private sendChunk(publish: Emit, content: string, agent: string): void {
    this.content += content;
    publish("stream_chunk", { message_id: this.messageId, seq: ++this.seq, content, agent });
  }

  /** Runs the graph to its end; what it does reaches `listener` on the way. */
  private async invoke(runtime: AgentRuntime, listener: GraphListener): Promise<void> {
    const { request, controller } = this;
    const options = { callbacks: [new GraphCallbacks(listener)], signal: controller.signal };
    switch (request.kind) {
      case "chat":
      case "query":
        await runtime.chatGraph.invoke(
          { messages: [new HumanMessage(request.content)] },
          { ...options, configurable: { thread_id: this.threadId } },
        );
        return;
      case "discussion":
        this.turns = {
          names: new Set(request.participants.map((p) => p.name)),
          count: 0,
          perRound: request.participants.length,
          total: request.participants.length * request.rounds,
        };
        await runtime.discussionGraph(request.participants, request.rounds).invoke(
          { topic: request.topic },
          {
            ...options,
            recursionLimit: discussionStepLimit(request.participants.length, request.rounds),
          },
        );
        return;
    }
  }

  /** The protocol's events for what the graph does; nothing once the run is stopped. */
  private listener(publish: Emit, streaming: boolean): GraphListener {
    const message_id = this.messageId;
    const watchdog = this.watchdog;
    return {
      modelStarted: () => watchdog?.started(),
      modelEnded: () => watchdog?.ended(),
      token: (text, node) => {
        watchdog?.sign();
        if (!this.stopped) this.chunk(text, node, streaming);
      },
      toolStarted: (tool_name, input) => {
        if (!this.stopped) publish("tool_start", { message_id, tool_name, input });
      },
      toolEnded: (tool_name, output) => {
        if (!this.stopped)
          publish("tool_result", { message_id, tool_name, result: toolResult(output) });
      },
      // A graph node's own run is named after the node; LangGraph's internal nodes start with "__".
      nodeStarted: (node, runName) => {
        if (!this.stopped && streaming && runName === node && !node.startsWith("__"))
          this.nodeStarted(publish, node);
      },
    };
  }

  private nodeStarted(publish: Emit, node: string): void {
    const message_id = this.messageId;
    if (!this.turns) {
      const data = { stage: node, completed: this.steps, total: this.steps + 1 };
      this.steps++;
      publish("progress_update", { message_id, data });
      return;
    }
    if (!this.turns.names.has(node)) return;
    const turn = this.turns.count++;
    const round = Math.floor(turn / this.turns.perRound) + 1;
    publish("speaker_change", { message_id, agent: node, round });
    publish("progress_update", {
      message_id,
      data: { stage: node, completed: turn, total: this.turns.total },
    });
    // Turns are separated in total_content too, which stays the exact concatenation of the chunks.
    if (turn > 0) this.chunk("\n\n", node);
  }
}

/** Tool outputs arrive as ToolMessages with string content; numbers and JSON are restored. */
function toolResult(output: unknown): unknown {
  const content =
    typeof output === "object" && output && "content" in output ? output.content : output;
  if (typeof content !== "string") return content;
  try {
    return JSON.parse(content) as unknown;
  } catch {
    return content;
  }
}

function describe(error: unknown): string {
  return `The agent failed: ${error instanceof Error ? error.message : String(error)}`;
}
