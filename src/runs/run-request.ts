import type { Persona } from "../agents/index.js";

/** What a handler asks the run manager for. */
export type RunRequest =
  | { kind: "chat"; content: string; metadata?: Record<string, unknown> }
  | { kind: "query"; content: string }
  | { kind: "discussion"; topic: string; participants: Persona[]; rounds: number };

export interface SubmittedRun {
  message_id: string;
  /** Runs waiting ahead of this one in the session (0: it started at once). */
  queue_position: number;
}
