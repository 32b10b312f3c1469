import { createHash } from "node:crypto";

/** The little of a node-redis client the shared state needs; the caller owns the client. */
export interface RedisCommands {
  sendCommand(args: ReadonlyArray<string>): Promise<unknown>;
  readonly isReady: boolean;
}

/**
 * A Lua script run by EVALSHA, falling back to EVAL when the server has not
 * seen it yet (first call, or after a Redis restart flushed the script cache).
 * Keys are built inside the scripts from the prefix: the state targets one
 * Redis (the adapter's pub/sub needs that anyway), not Redis Cluster.
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(client: RedisCommands, args: ReadonlyArray<string>): Promise<unknown> {
    try {
      return await client.sendCommand(["EVALSHA", this.sha, "0", ...args]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return client.sendCommand(["EVAL", this.source, "0", ...args]);
    }
  }
}

/** Replies arrive as RESP2 arrays of bulk strings and integers. */
export function replyArray(reply: unknown): unknown[] {
  return Array.isArray(reply) ? (reply as unknown[]) : [];
}

export function replyString(reply: unknown): string {
  if (typeof reply === "string") return reply;
  return typeof reply === "number" || typeof reply === "bigint" ? String(reply) : "";
}
