import type { Server } from "socket.io";
import type { Config } from "../core/config.js";
import { GatewayError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { RunRegistry } from "../state/types.js";
import type { RunManager, Submitter } from "./run-manager.js";
import type { RunRequest, SubmittedRun } from "./run-request.js";

/** The server-side event a node sends its peers to cancel a run it does not hold. */
const CANCEL_RUN = "cancel-run";
const CANCEL_TIMEOUT_MS = 3000;

interface CancelRequest {
  sessionId: string;
  messageId?: string;
  reason: string;
}

interface ClusterRunsDeps {
  io: Server;
  config: Config;
  registry: RunRegistry;
  runs: RunManager;
  nodeId: string;
  log: Logger;
  /** False for a lone node: its in-memory adapter cannot talk to peers. */
  clustered: boolean;
}

/**
 * The session's runs as a client sees them, whichever node holds them: the
 * multitask policy and `cancel` in front of this node's RunManager.
 *
 * A session runs one agent at a time across the cluster (the run registry in
 * Redis). When another node is running the session:
 *  - reject: the message is refused with `busy`, as on one node;
 *  - enqueue: the run waits on this node until the other one ends (or its
 *    node dies), then starts; AGENT_MAX_QUEUE counts per node;
 *  - interrupt: the other node's run is cancelled, and this one starts as
 *    soon as that node has released the session.
 * Cancel is tried here first, then asked of every other node.
 */
export class ClusterRuns {
  constructor(private readonly deps: ClusterRunsDeps) {
    if (!deps.clustered) return;
    deps.io.on(CANCEL_RUN, (request: CancelRequest, ack: (reply: unknown) => void) => {
      try {
        ack(deps.runs.cancel(request.sessionId, request.messageId, request.reason));
      } catch {
        ack(null);
      }
    });
  }

  async submit(
    submitter: Submitter,
    request: RunRequest,
    messageId?: string,
  ): Promise<SubmittedRun> {
    const { registry, runs, nodeId, config } = this.deps;
    const { sessionId } = submitter;
    // With Redis down the policy holds per node only: local clients are still served.
    const current = this.deps.clustered
      ? await registry.current(sessionId).catch(() => null)
      : null;
    if (!current || current.nodeId === nodeId) return runs.submit(submitter, request, messageId);
    switch (config.agent.multitask) {
      case "reject":
        throw new GatewayError(
          "busy",
          `Session ${sessionId} is already running ${current.messageId}`,
          { running_message_id: current.messageId },
        );
      case "interrupt":
        void this.cancelElsewhere({
          sessionId,
          messageId: current.messageId,
          reason: "interrupted by a newer message",
        });
        break;
      case "enqueue":
        break;
    }
    // RunManager waits for the session's claim before starting it.
    const submitted = runs.submit(submitter, request, messageId);
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
  private cancelElsewhere(request: CancelRequest): Promise<{ message_id: string } | null> {
    return new Promise((resolve) => {
      // The adapter never answers when Redis is down (it swallows the error): a timer of our own.
      const timer = setTimeout(() => {
        this.deps.log.warn("cancel: the other nodes did not answer", {
          session_id: request.sessionId,
        });
        resolve(null);
      }, CANCEL_TIMEOUT_MS);
      this.deps.io.serverSideEmit(
        CANCEL_RUN,
        request,
        (error: Error | null, replies: unknown[]) => {
          clearTimeout(timer);
          // After the adapter's own timeout (a node died mid-request) the replies that came still count.
          if (error) this.deps.log.warn("cancel: not every node answered", { error });
          const found = (replies ?? []).find(
            (reply): reply is { message_id: string } =>
              typeof reply === "object" &&
              reply !== null &&
              typeof (reply as { message_id?: unknown }).message_id === "string",
          );
          resolve(found ?? null);
        },
      );
    });
  }
}
