/**
 * A session's conversations as the checkpointer keeps them: the history a
 * client reloads, and the run waiting for `resume_run`. The checkpoint is the
 * one source of truth for both, so they hold on every node and after a
 * restart (with PostgreSQL).
 */
import { isBaseMessage } from "@langchain/core/messages";
import type { StateSnapshot } from "@langchain/langgraph";
import { runOfMetadata } from "../agents/index.js";
import { GatewayError } from "../core/errors.js";
import type { GraphRegistry } from "../graphs/graph-registry.js";
import { messageJson, toJson } from "./graph-values.js";
import type { HistoryPage, ResumeCommand } from "./run-request.js";

export const HISTORY_MAX_PAGE = 100;

export interface Interrupted {
  graph: string;
  interrupts: Array<{ id: string; value: unknown }>;
}

export class Conversations {
  constructor(
    private readonly graphs: GraphRegistry,
    private readonly interruptTtlMs: number,
  ) {}

  /**
   * The run `messageId` of this session if it waits for a resume: found by
   * the run each checkpoint records. `not_interrupted` otherwise, and
   * `interrupt_expired` past AGENT_INTERRUPT_TTL.
   */
  async interrupted(threadOf: (graph: string) => string, messageId: string): Promise<Interrupted> {
    for (const { name } of this.graphs.stateful()) {
      const snapshot = await this.snapshot(name, threadOf(name));
      if (runOfMetadata(snapshot?.metadata)?.messageId !== messageId) continue;
      const interrupts = pendingInterrupts(snapshot);
      if (interrupts.length === 0) break;
      const age = Date.now() - Date.parse(snapshot?.createdAt ?? "");
      if (age > this.interruptTtlMs) {
        throw new GatewayError(
          "interrupt_expired",
          `Run ${messageId} waited ${Math.round(age / 1000)} s, longer than AGENT_INTERRUPT_TTL (${this.interruptTtlMs / 1000} s)`,
        );
      }
      return { graph: name, interrupts };
    }
    throw new GatewayError(
      "not_interrupted",
      `Run ${messageId} is not waiting for a resume in this session (never interrupted, already resumed, or replaced by a newer run)`,
    );
  }

  /** The interrupts the graph's thread still waits on (empty once resumed). */
  async pending(graph: string, thread: string): Promise<string[]> {
    return pendingInterrupts(await this.snapshot(graph, thread)).map((i) => i.id);
  }

  /** The newest `limit` messages before the message `before` (all when not given), oldest first. */
  async history(
    graph: string,
    thread: string,
    limit: number,
    before?: string,
  ): Promise<HistoryPage> {
    this.graphs.require(graph);
    const snapshot = await this.snapshot(graph, thread);
    const values = snapshot?.values as { messages?: unknown } | undefined;
    const all = Array.isArray(values?.messages) ? values.messages.filter(isBaseMessage) : [];
    let end = all.length;
    if (before !== undefined) {
      end = all.findIndex((m) => m.id === before);
      if (end < 0) throw new GatewayError("not_found", `No message ${before} in this conversation`);
    }
    const start = Math.max(0, end - Math.min(limit, HISTORY_MAX_PAGE));
    const page: HistoryPage = {
      graph,
      messages: all.slice(start, end).map(messageJson),
      has_more: start > 0,
    };
    const interrupts = pendingInterrupts(snapshot);
    const run = runOfMetadata(snapshot?.metadata);
    if (interrupts.length > 0 && run) page.interrupted = { message_id: run.messageId, interrupts };
    return page;
  }

  private async snapshot(graph: string, thread: string): Promise<StateSnapshot | undefined> {
    const compiled = await this.graphs.compiled(graph);
    if (!compiled.checkpointer) return undefined;
    return compiled.getState({ configurable: { thread_id: thread } });
  }
}

function pendingInterrupts(snapshot: StateSnapshot | undefined): Interrupted["interrupts"] {
  const found = new Map<string, unknown>();
  for (const task of snapshot?.tasks ?? []) {
    for (const i of task.interrupts as Array<{ id?: string; value?: unknown }>) {
      if (typeof i.id === "string") found.set(i.id, toJson(i.value));
    }
  }
  return [...found].map(([id, value]) => ({ id, value }));
}

/**
 * LangGraph's Command for the interrupts a run waits on. With one interrupt,
 * `resume` is its answer; with several, `{<interrupt id>: answer}` naming
 * only interrupts that wait (a map naming the one interrupt is taken too).
 */
export function resumeCommand(command: ResumeCommand, interruptIds: string[]): ResumeCommand {
  const { resume } = command;
  const keyed =
    typeof resume === "object" && resume !== null && !Array.isArray(resume)
      ? Object.keys(resume)
      : undefined;
  const isMap =
    keyed !== undefined && keyed.length > 0 && keyed.every((k) => interruptIds.includes(k));
  if (interruptIds.length > 1 && resume !== undefined && !isMap) {
    throw new GatewayError(
      "invalid_payload",
      `The run waits on ${interruptIds.length} interrupts: resume must be {<interrupt id>: answer} with ids from ${interruptIds.join(", ")}`,
      { interrupt_ids: interruptIds },
    );
  }
  return command;
}
