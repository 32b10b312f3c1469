import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import { textOf } from "../agents/index.js";

/** What a run hears from its graph: what the protocol reports, and when a model call starts and ends. */
export interface GraphListener {
  modelStarted(): void;
  modelEnded(): void;
  token(text: string, node: string): void;
  nodeStarted(node: string, runName: string): void;
  toolStarted(name: string, input: unknown): void;
  toolEnded(name: string, output: unknown): void;
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
    this.listener.modelStarted();
  }

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
    if (text.length > 0) this.listener.token(text, this.modelNodes.get(runId) ?? "agent");
  }

  override handleLLMEnd(_output: unknown, runId: string): void {
    if (this.modelNodes.delete(runId)) this.listener.modelEnded();
  }

  override handleLLMError(_error: unknown, runId: string): void {
    if (this.modelNodes.delete(runId)) this.listener.modelEnded();
  }

  /**
   * The callback manager passes (parentRunId, tags, metadata, runType, runName)
   * after the run id, not the order `BaseCallbackHandler`'s declaration gives.
   */
  override handleChainStart(
    chain: Serialized,
    _inputs: unknown,
    _runId: string,
    ...[, , metadata, , runName]: unknown[]
  ): void {
    const name = typeof runName === "string" ? runName : classOf(chain);
    this.listener.nodeStarted(nodeOf(metadata as Record<string, unknown> | undefined), name);
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

function classOf(serialized: Serialized): string {
  return serialized.id.at(-1) ?? "unknown";
}
