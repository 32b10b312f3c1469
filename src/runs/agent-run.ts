import { Command } from "@langchain/langgraph";
import { RUN_CONFIG_KEYS } from "../agents/index.js";
import { sessionIdOfKey } from "../auth/principal.js";
import { GatewayError } from "../core/errors.js";
import type { Emit } from "../core/protocol.js";
import type { CompiledGraph } from "../graphs/graph-registry.js";
import { ChunkCoalescer, type CoalescingPolicy } from "./chunk-coalescer.js";
import { GraphCallbacks, type GraphListener } from "./graph-callbacks.js";
import { ModelWatchdog } from "./model-watchdog.js";
import { toJson } from "./graph-values.js";
import type { ResumeCommand, RunRequest } from "./run-request.js";

export type RunOutcome =
  | { status: "completed" }
  | { status: "interrupted"; interrupts: Array<{ id: string; value: unknown }> }
  | { status: "cancelled"; reason: string }
  | { status: "failed"; error: GatewayError };

/** What one run executes: which graph, on which thread, from which input or resume. */
export interface RunPlan {
  graph: string;
  /** The checkpointer thread of the session's conversation with this graph. */
  threadId: string;
  request: RunRequest;
  /** Set when the run continues an interrupted one; the interrupts it answers. */
  resume?: { command: ResumeCommand; interruptIds: string[] };
}

export interface AgentRunOptions {
  /** Which tokens leave together as one stream_chunk (WS_STREAM_COALESCE_*); each alone when not given. */
  coalescing?: CoalescingPolicy;
  /** AGENT_MODEL_IDLE_TIMEOUT in ms: a model call silent this long fails the run; none when not given. */
  modelIdleMs?: number;
}

/**
 * One agent run: streams the graph (its state updates, custom events and
 * interrupts) while hearing its tokens, tools and nodes through LangChain's
 * callbacks (src/runs/graph-callbacks.ts), and publishes the protocol's
 * events. Once stopped (cancel, timeout), it publishes nothing more, whatever
 * the graph still yields while it unwinds.
 */
export class AgentRun {
  readonly controller = new AbortController();
  private seq = 0;
  /** What the published chunks add up to (plus the text of a non-streaming run). */
  private content = "";
  private readonly coalescing: CoalescingPolicy;
  /** Exists while the run executes. */
  private coalescer: ChunkCoalescer | undefined;
  private readonly watchdog: ModelWatchdog | undefined;
  /** How the run ends when it was stopped from outside; set once. */
  private stoppedAs: Exclude<RunOutcome, { status: "completed" | "interrupted" }> | undefined;
  /** Discussion turns so far, for speaker changes and progress. */
  private turns: { names: Set<string>; count: number; perRound: number; total: number } | undefined;
  /** Graph steps so far, for progress. */
  private steps = 0;
  /** The first node that threw, named in the run's error. */
  private failedNode: string | undefined;

  constructor(
    readonly messageId: string,
    readonly sessionId: string,
    readonly plan: RunPlan,
    options: AgentRunOptions = {},
  ) {
    this.coalescing = options.coalescing ?? { windowMs: 0, maxChars: 1 };
    const speakers = plan.request.speakers;
    if (speakers) {
      this.turns = {
        names: new Set(speakers.names),
        count: 0,
        perRound: speakers.names.length,
        total: speakers.names.length * speakers.rounds,
      };
    }
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

  get request(): RunRequest {
    return this.plan.request;
  }

  get partialContent(): string {
    return this.content;
  }

  /** The seq of the last event published with one (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  get stopped(): boolean {
    return this.stoppedAs !== undefined;
  }

  private get streaming(): boolean {
    return this.plan.request.output !== "response";
  }

  /** Stops the run; it ends with `cancelled {reason}`. */
  cancel(reason: string): void {
    this.stop({ status: "cancelled", reason });
  }

  /** Stops the run; it ends with an `error` carrying this code (a timeout). */
  fail(error: GatewayError): void {
    this.stop({ status: "failed", error });
  }

  /** Resolves once the run is stopped (cancel, timeout, model silence). */
  private stopSignalled(): Promise<void> {
    const { signal } = this.controller;
    return new Promise((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  /** The graph sees the abort through the signal it was given. */
  private stop(outcome: Exclude<RunOutcome, { status: "completed" | "interrupted" }>): void {
    if (this.stoppedAs) return;
    this.stoppedAs = outcome;
    // Tokens not yet sent are dropped, so partial_content stays what the clients received.
    this.coalescer?.drop();
    this.controller.abort(
      new Error(outcome.status === "cancelled" ? outcome.reason : outcome.error.message),
    );
  }

  /**
   * `stored`: resolves once the run's checkpoints are stored; the end (or
   * pause) is announced after it, so a client told may read or resume at once.
   */
  async execute(
    graph: CompiledGraph,
    publishNow: Emit,
    vendor: string,
    stored: () => Promise<void> = () => Promise.resolve(),
  ): Promise<RunOutcome> {
    const coalescer = new ChunkCoalescer(this.coalescing, (content, agent, namespace) => {
      if (!this.stopped) this.sendChunk(publishNow, content, agent, namespace);
    });
    this.coalescer = coalescer;
    try {
      return await this.run(graph, coalescer.flushingFirst(publishNow), vendor, stored);
    } finally {
      coalescer.drop();
      this.watchdog?.stop();
    }
  }

  private async run(
    graph: CompiledGraph,
    publish: Emit,
    vendor: string,
    stored: () => Promise<void>,
  ): Promise<RunOutcome> {
    const { messageId, plan } = this;
    if (this.streaming) {
      publish("stream_start", {
        message_id: messageId,
        session_id: sessionIdOfKey(this.sessionId),
        kind: this.turns ? "discussion" : "chat",
        graph: plan.graph,
        ...(plan.resume ? { resumed: true } : {}),
      });
    } else {
      publish("status", { status: "processing", message_id: messageId });
    }
    let interrupts: Array<{ id: string; value: unknown }> = [];
    try {
      interrupts = await this.drive(graph, publish);
    } catch (error) {
      if (!this.stopped) {
        const where = this.failedNode === undefined ? "" : ` in node "${this.failedNode}"`;
        return {
          status: "failed",
          error: new GatewayError("agent_error", describe(error, where), undefined, {
            cause: error,
          }),
        };
      }
    }
    // The last tokens leave before the end event reads total_content.
    this.coalescer?.flush();
    if (this.stoppedAs) return this.stoppedAs;
    // A store that never answers (PostgreSQL gone) must not hold the session past
    // AGENT_RUN_TIMEOUT: a stop ends the wait.
    await Promise.race([stored(), this.stopSignalled()]);
    if (this.stoppedAs) return this.stoppedAs;
    if (interrupts.length > 0) {
      publish("run_interrupted", { message_id: messageId, graph: plan.graph, interrupts });
      return { status: "interrupted", interrupts };
    }
    if (this.streaming) {
      const steps = this.turns?.total ?? this.steps;
      publish("progress_update", {
        message_id: messageId,
        data: { stage: "done", completed: steps, total: steps },
      });
      publish("stream_end", { message_id: messageId, total_content: this.content });
    } else publish("agent_response", { message_id: messageId, content: this.content, vendor });
    return { status: "completed" };
  }

  /**
   * Streams the graph to its end: state updates (for state_update, interrupts
   * and messages no model streamed) and the custom stream (`config.writer`);
   * everything per token comes through the callbacks, which cost less.
   */
  private async drive(
    graph: CompiledGraph,
    publish: Emit,
  ): Promise<Array<{ id: string; value: unknown }>> {
    const { plan, controller } = this;
    const { config = {} } = plan.request;
    const input = plan.resume ? new Command(plan.resume.command) : plan.request.input;
    const stream = await graph.stream(input, {
      ...(config.recursionLimit === undefined ? {} : { recursionLimit: config.recursionLimit }),
      ...(config.metadata ? { metadata: config.metadata } : {}),
      configurable: {
        ...config.configurable,
        thread_id: plan.threadId,
        [RUN_CONFIG_KEYS.messageId]: this.messageId,
        [RUN_CONFIG_KEYS.graph]: plan.graph,
      },
      streamMode: ["updates", "custom"],
      subgraphs: true,
      callbacks: [new GraphCallbacks(this.listener(publish))],
      signal: controller.signal,
    });
    const interrupts = new Map<string, unknown>();
    const updates = plan.request.streamModes?.includes("updates") === true;
    for await (const part of stream) {
      if (this.stopped) continue;
      const [namespace, mode, data] = part as [string[], "updates" | "custom", unknown];
      const ns = namespace.length > 0 ? { namespace } : {};
      if (mode === "custom") {
        publish("custom_event", {
          message_id: this.messageId,
          seq: ++this.seq,
          name: null,
          data,
          ...ns,
        });
        continue;
      }
      for (const [node, update] of Object.entries(data as Record<string, unknown>)) {
        if (node === "__interrupt__") {
          for (const i of update as Array<{ id: string; value: unknown }>)
            interrupts.set(i.id, toJson(i.value));
          continue;
        }
        if (updates) {
          publish("state_update", {
            message_id: this.messageId,
            seq: ++this.seq,
            node,
            update: toJson(update),
            ...ns,
          });
        }
      }
    }
    return [...interrupts].map(([id, value]) => ({ id, value }));
  }

  private chunk(content: string, agent: string, namespace: string[]): void {
    if (this.streaming) this.coalescer?.add(content, agent, namespace);
    else this.content += content;
  }

  private sendChunk(publish: Emit, content: string, agent: string, namespace: string[]): void {
    this.content += content;
    publish("stream_chunk", {
      message_id: this.messageId,
      seq: ++this.seq,
      content,
      agent,
      ...(namespace.length > 0 ? { namespace } : {}),
    });
  }

  /** The protocol's events for what the graph does; nothing once the run is stopped. */
  private listener(publish: Emit): GraphListener {
    const message_id = this.messageId;
    const watchdog = this.watchdog;
    return {
      modelStarted: () => watchdog?.started(),
      modelEnded: () => watchdog?.ended(),
      token: (text, node, namespace) => {
        watchdog?.sign();
        if (!this.stopped) this.chunk(text, node, namespace);
      },
      // A message a node adds without a model streaming it (a fixed reply, a non-streaming
      // model) reaches the clients as one chunk, so total_content holds the run's answer.
      messageAdded: (text, node, namespace) => {
        if (!this.stopped) this.chunk(text, node, namespace);
      },
      nodeFailed: (node) => (this.failedNode ??= node),
      toolStarted: (tool_name, input) => {
        if (!this.stopped) publish("tool_start", { message_id, tool_name, input });
      },
      toolEnded: (tool_name, output) => {
        if (!this.stopped)
          publish("tool_result", { message_id, tool_name, result: toolResult(output) });
      },
      customEvent: (name, data, namespace) => {
        if (this.stopped) return;
        publish("custom_event", {
          message_id,
          seq: ++this.seq,
          name,
          data: toJson(data),
          ...(namespace.length > 0 ? { namespace } : {}),
        });
      },
      // A graph node's own run is named after the node; LangGraph's internal nodes start with "__".
      nodeStarted: (node, runName) => {
        if (!this.stopped && this.streaming && runName === node && !node.startsWith("__"))
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
    if (turn > 0) this.chunk("\n\n", node, []);
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

function describe(error: unknown, where: string): string {
  return `The agent failed${where}: ${error instanceof Error ? error.message : String(error)}`;
}
