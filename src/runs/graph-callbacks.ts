import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import { isGraphBubbleUp } from "@langchain/langgraph";
import { textOf } from "../agents/index.js";
import { messagesIn } from "./graph-values.js";

/** What a run hears from its graph: what the protocol reports, and when a model call starts and ends. */
export interface GraphListener {
  modelStarted(): void;
  modelEnded(): void;
  /** `namespace`: the subgraph path of the node, empty at the top. */
  token(text: string, node: string, namespace: string[]): void;
  /** A node returned an AI message no model streamed: its text, once. */
  messageAdded(text: string, node: string, namespace: string[]): void;
  nodeStarted(node: string, runName: string): void;
  /** A graph node threw; the first one named is the run's failure. */
  nodeFailed(node: string): void;
  toolStarted(name: string, input: unknown): void;
  toolEnded(name: string, output: unknown): void;
  /** `dispatchCustomEvent(name, data)` inside the graph. */
  customEvent(name: string, data: unknown, namespace: string[]): void;
}

/**
 * Hears a graph run through LangChain's callbacks, the way `streamEvents`
 * does, without building an event object per callback and passing it through
 * a web stream: that tracer cost as much CPU per token as the rest of the
 * gateway together (docs/performance.md, "The run's event path").
 *
 * Names follow the event stream's rules, so what the protocol reports is
 * unchanged: a run's name is its `runName`, else its class; a token belongs
 * to the graph node (`metadata.langgraph_node`) its model call ran in.
 */
export class GraphCallbacks extends BaseCallbackHandler {
  readonly name = "gateway_run";
  /** Makes chat models stream (call `_streamResponseChunks`) under `invoke`, as `streamEvents` does. */
  readonly lc_prefer_streaming = true;
  /** Model calls in flight, by run id: the node each one's tokens belong to. */
  private readonly modelNodes = new Map<string, string>();
  /** Tool calls in flight, by run id: their names, for the end event. */
  private readonly toolNames = new Map<string, string>();
  /** Model calls that streamed a token: their output is already on its way. */
  private readonly streamed = new Set<string>();
  /** Graph nodes running, by run id: their names and subgraph paths. */
  private readonly nodeRuns = new Map<string, { node: string; namespace: string[] }>();
  /**
   * Ids of the messages the clients have (streamed, or in a node's input), so
   * a node's output reaches them once: LangGraph's "messages" stream mode
   * follows the same rule (StreamMessagesHandler).
   */
  private readonly seen = new Set<string>();

  constructor(private readonly listener: GraphListener) {
    // Awaited in order, so a token is published before the model yields the next one.
    super({ _awaitHandler: true });
  }

  override handleChatModelStart(
    _llm: Serialized,
    _messages: unknown,
    runId: string,
    _parentRunId?: string,
    _extraParams?: unknown,
    _tags?: string[],
    metadata?: Record<string, unknown>,
  ): void {
    this.modelNodes.set(runId, nodeOf(metadata));
    this.modelNamespaces.set(runId, namespaceOf(metadata));
    this.listener.modelStarted();
  }

  /** Model calls in flight, by run id: the subgraph path of their node. */
  private readonly modelNamespaces = new Map<string, string[]>();

  override handleLLMNewToken(
    token: string,
    _idx: unknown,
    runId: string,
    _parentRunId?: string,
    _tags?: string[],
    fields?: { chunk?: unknown },
  ): void {
    const message = (fields?.chunk as { message?: { content?: unknown } } | undefined)?.message;
    const text = message ? textOf(message.content) : token;
    if (text.length === 0) return;
    if (!this.streamed.has(runId)) {
      this.streamed.add(runId);
      const id = (message as { id?: unknown } | undefined)?.id;
      if (typeof id === "string") this.seen.add(id);
    }
    this.listener.token(
      text,
      this.modelNodes.get(runId) ?? "agent",
      this.modelNamespaces.get(runId) ?? NO_NAMESPACE,
    );
  }

  override handleLLMEnd(output: unknown, runId: string): void {
    if (this.streamed.delete(runId)) {
      const generation = (output as { generations?: Array<Array<{ message?: { id?: unknown } }>> })
        .generations?.[0]?.[0];
      const id = generation?.message?.id;
      if (typeof id === "string") this.seen.add(id);
    }
    this.modelEnded(runId);
  }

  override handleLLMError(_error: unknown, runId: string): void {
    this.streamed.delete(runId);
    this.modelEnded(runId);
  }

  private modelEnded(runId: string): void {
    this.modelNamespaces.delete(runId);
    if (this.modelNodes.delete(runId)) this.listener.modelEnded();
  }

  /**
   * The callback manager passes (parentRunId, tags, metadata, runType, runName)
   * after the run id, not the order `BaseCallbackHandler`'s declaration gives.
   */
  override handleChainStart(
    chain: Serialized,
    inputs: unknown,
    runId: string,
    ...[, , metadata, , runName]: unknown[]
  ): void {
    const name = typeof runName === "string" ? runName : classOf(chain);
    const meta = metadata as Record<string, unknown> | undefined;
    const node = nodeOf(meta);
    if (name === node) {
      this.nodeRuns.set(runId, { node, namespace: namespaceOf(meta) });
      for (const message of messagesIn(inputs)) if (message.id) this.seen.add(message.id);
    }
    this.listener.nodeStarted(node, name);
  }

  override handleChainEnd(outputs: unknown, runId: string): void {
    const run = this.nodeRuns.get(runId);
    if (run === undefined) return;
    this.nodeRuns.delete(runId);
    let index = 0;
    for (const message of messagesIn(outputs)) {
      // An id given here stays with the message into the state, as LangGraph's handler does.
      message.id ??= `run-${runId}-out-${index}`;
      index++;
      if (this.seen.has(message.id)) continue;
      this.seen.add(message.id);
      if (message.getType() !== "ai") continue;
      const text = textOf(message.content);
      if (text.length > 0) this.listener.messageAdded(text, run.node, run.namespace);
    }
  }

  override handleChainError(error: unknown, runId: string): void {
    const run = this.nodeRuns.get(runId);
    if (run === undefined) return;
    this.nodeRuns.delete(runId);
    // An interrupt() or a Command to a parent graph travels as an error; it is no failure.
    if (!isGraphBubbleUp(error)) this.listener.nodeFailed(run.node);
  }

  override handleCustomEvent(
    eventName: string,
    data: unknown,
    _runId: string,
    _tags?: string[],
    metadata?: Record<string, unknown>,
  ): void {
    this.listener.customEvent(eventName, data, namespaceOf(metadata));
  }

  override handleToolStart(
    tool: Serialized,
    input: string,
    runId: string,
    _parentRunId?: string,
    _tags?: string[],
    _metadata?: Record<string, unknown>,
    runName?: string,
  ): void {
    const name = runName ?? classOf(tool);
    this.toolNames.set(runId, name);
    this.listener.toolStarted(name, toolInput(input));
  }

  override handleToolEnd(output: unknown, runId: string): void {
    const name = this.toolNames.get(runId);
    this.toolNames.delete(runId);
    if (name !== undefined) this.listener.toolEnded(name, output);
  }

  override handleToolError(_error: unknown, runId: string): void {
    this.toolNames.delete(runId);
  }
}

/**
 * The manager hands handlers the input as JSON; the event stream reported an
 * object input as the object and any other input as `{ input }`.
 */
function toolInput(input: string): unknown {
  try {
    const parsed: unknown = JSON.parse(input);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed;
  } catch {
    // not JSON: a plain string input
  }
  return { input };
}

function nodeOf(metadata: Record<string, unknown> | undefined): string {
  const node = metadata?.["langgraph_node"];
  return typeof node === "string" ? node : "agent";
}

const NO_NAMESPACE: string[] = [];

/**
 * The subgraph path of a node, as LangGraph's stream names it: its checkpoint
 * namespace ("child:<task>|inner:<task>") without the node's own last step.
 */
function namespaceOf(metadata: Record<string, unknown> | undefined): string[] {
  const ns = metadata?.["langgraph_checkpoint_ns"];
  if (typeof ns !== "string" || !ns.includes("|")) return NO_NAMESPACE;
  return ns.split("|").slice(0, -1);
}

function classOf(serialized: Serialized): string {
  return serialized.id.at(-1) ?? "unknown";
}
