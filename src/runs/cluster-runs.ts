import type { Config } from "../core/config.js";
import { GatewayError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Fanout } from "../sessions/fanout.js";
import type { RunRegistry } from "../state/types.js";
import { behindRunning, INTERRUPTED } from "./multitask.js";
import type { PreparedResume, RunManager, Submitter } from "./run-manager.js";
import type { ResumeCommand, RunRequest, SubmittedRun } from "./run-request.js";

/** The server-side event a node sends its peers to cancel a run it does not hold. */
const CANCEL_RUN = "cancel-run";
const CANCEL_TIMEOUT_MS = 3000;

interface CancelRequest {
  sessionId: string;
  messageId?: string;
  reason: string;
}

interface ClusterRunsDeps {
  fanout: Fanout;
  config: Config;
  registry: RunRegistry;
  runs: RunManager;
  nodeId: string;
  log: Logger;
  /** False for a lone node: its in-memory adapter cannot talk to peers. */
  clustered: boolean;
}

/**
 * The session's runs as a client sees them, whichever node holds them:
 * `submit` and `cancel` in front of this node's RunManager.
 *
 * A session runs one agent at a time across the cluster (the run registry in
 * Redis). When another node is running the session, the multitask policy
 * (src/runs/multitask.ts) applies as on one node: an enqueued run waits on
 * this node until the other one ends (or its node dies); an interrupting one
 * cancels it there and starts once that node has released the session.
 * Cancel is tried here first, then asked of every other node.
 */
export class ClusterRuns {
  constructor(private readonly deps: ClusterRunsDeps) {
    if (!deps.clustered) return;
    deps.fanout.answerPeers(CANCEL_RUN, (request) => {
      const { sessionId, messageId, reason } = request as CancelRequest;
      try {
        return deps.runs.cancel(sessionId, messageId, reason);
      } catch {
        return null;
      }
    });
  }

  /**
   * Continues an interrupted run, under the same rules as a new one: the
   * checkpoint says it waits (on any node, with PostgreSQL), and the
   * multitask policy decides what happens to a run already going.
   */
  async resumeRun(
    submitter: Submitter,
    messageId: string,
    command: ResumeCommand,
  ): Promise<SubmittedRun> {
    const { request, resume } = await this.deps.runs.prepareResume(submitter, messageId, command);
    return this.submit(submitter, request, messageId, resume);
  }

  async submit(
    submitter: Submitter,
    request: RunRequest,
    messageId?: string,
    resume?: PreparedResume["resume"],
  ): Promise<SubmittedRun> {
    const { registry, runs, nodeId, config } = this.deps;
    const { sessionId } = submitter;
    // With Redis down the policy holds per node only: local clients are still served.
    const current = this.deps.clustered
      ? await registry.current(sessionId).catch(() => null)
      : null;
    if (!current || current.nodeId === nodeId)
      return runs.submit(submitter, request, messageId, resume);
    const running = { sessionId, messageId: current.messageId, elsewhere: true };
    const { multitask, maxQueue } = config.agent;
    if (behindRunning(multitask, running, 0, maxQueue) === "interrupt") {
      void this.cancelElsewhere({ sessionId, messageId: current.messageId, reason: INTERRUPTED });
    }
    // RunManager waits for the session's claim before starting it.
    const submitted = runs.submit(submitter, request, messageId, resume);
    return { ...submitted, queue_position: Math.max(1, submitted.queue_position) };
  }

  async cancel(
    sessionId: string,
    messageId?: string,
    reason = "cancelled by the client",
  ): Promise<{ message_id: string }> {
    try {
      return this.deps.runs.cancel(sessionId, messageId, reason);
    } catch (error) {
      if (!(error instanceof GatewayError) || error.code !== "not_found") throw error;
      if (!this.deps.clustered) throw error;
      const cancelled = await this.cancelElsewhere({
        sessionId,
        ...(messageId === undefined ? {} : { messageId }),
        reason,
      });
      if (!cancelled) throw error;
      return cancelled;
    }
  }

  /** Asks every other node; resolves with the cancelled run's id from the node that had it. */
  private async cancelElsewhere(request: CancelRequest): Promise<{ message_id: string } | null> {
    const replies = await this.deps.fanout.askPeers(CANCEL_RUN, request, CANCEL_TIMEOUT_MS);
    const found = replies.find(
      (reply): reply is { message_id: string } =>
        typeof reply === "object" &&
        reply !== null &&
        typeof (reply as { message_id?: unknown }).message_id === "string",
    );
    if (!found && replies.length === 0) {
      this.deps.log.warn("cancel: no other node answered", { session_id: request.sessionId });
    }
    return found ?? null;
  }
}
