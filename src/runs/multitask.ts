import { GatewayError } from "../core/errors.js";

export type MultitaskPolicy = "reject" | "enqueue" | "interrupt";

/** The run a session already has, on this node or another. */
export interface RunningRun {
  sessionId: string;
  /** Unknown when another node won the session's claim first. */
  messageId?: string;
  elsewhere: boolean;
}

/**
 * AGENT_MULTITASK, decided here only: what a new message does when its
 * session is already running one, wherever that run is.
 *  - reject: refused with `busy`;
 *  - enqueue: it waits its turn (at most `maxQueue` waiting per session and node);
 *  - interrupt: the running one (and anything waiting) is cancelled, and it goes next.
 */
export function behindRunning(
  policy: MultitaskPolicy,
  running: RunningRun,
  waiting: number,
  maxQueue: number,
): "enqueue" | "interrupt" {
  switch (policy) {
    case "reject":
      throw new GatewayError(
        "busy",
        `Session ${running.sessionId} is already running ${running.messageId ?? "a run"}${running.elsewhere ? " on another node" : ""}`,
        running.messageId === undefined ? undefined : { running_message_id: running.messageId },
      );
    case "enqueue":
      if (waiting >= maxQueue) {
        throw new GatewayError(
          "busy",
          `Session ${running.sessionId} already has ${maxQueue} messages waiting`,
        );
      }
      return "enqueue";
    case "interrupt":
      return "interrupt";
  }
}

export const INTERRUPTED = "interrupted by a newer message";
