import type { BaseCheckpointSaver } from "@langchain/langgraph";
import pg from "pg";
import { ConfigError, redactUrl } from "../core/config.js";
import { timeCheckpointer } from "../metrics/checkpointer-timing.js";
import { LatestCheckpointSaver } from "./latest-checkpoint-saver.js";
import { PruningPostgresSaver } from "./pruning-postgres-saver.js";
import { recordRunIds } from "./run-metadata.js";
import { trackWrites, type TrackedSaver } from "./checkpoint-writes.js";
import { DEFAULT_THREAD_BOUNDS, type ThreadBounds } from "./thread-bounds.js";

export interface Checkpointer {
  saver: TrackedSaver<BaseCheckpointSaver>;
  close(): Promise<void>;
}

/**
 * Where conversations are kept: in memory (lost on restart) without a URL,
 * else in PostgreSQL, whose tables `setup()` creates or migrates on start.
 * Either way a thread keeps only its newest checkpoint and is deleted once
 * idle past `bounds.ttlMs`. The tables live in `options.schema`
 * (CHECKPOINT_DATABASE_SCHEMA, `public` by default). Each checkpoint records
 * the run that wrote it (src/agents/run-metadata.ts).
 */
export async function createCheckpointer(
  databaseUrl?: string,
  bounds: ThreadBounds = DEFAULT_THREAD_BOUNDS,
  {
    schema = "public",
    onBackgroundError = (error) => process.emitWarning(error),
  }: { schema?: string; onBackgroundError?: (error: Error) => void } = {},
): Promise<Checkpointer> {
  if (databaseUrl === undefined) {
    const saver = trackWrites(
      recordRunIds(timeCheckpointer(new LatestCheckpointSaver(bounds), "memory")),
    );
    return {
      saver,
      close: () => {
        saver.close();
        return Promise.resolve();
      },
    };
  }
  const pool = new pg.Pool({ connectionString: databaseUrl });
  // An idle connection dropped by the server emits "error" on the pool; left
  // unhandled it would crash the gateway, while the next query just reconnects.
  pool.on("error", onBackgroundError);
  const saver = trackWrites(
    recordRunIds(
      timeCheckpointer(
        new PruningPostgresSaver(pool, bounds.ttlMs, onBackgroundError, schema),
        "postgres",
      ),
    ),
  );
  try {
    await saver.setup();
  } catch (error) {
    await pool.end();
    throw databaseUnusable(databaseUrl, error);
  }
  saver.startSweeping();
  return {
    saver,
    close: () => {
      saver.close();
      return pool.end();
    },
  };
}

/** Names the setting and says why, without the URL's password: the process cannot start. */
function databaseUnusable(databaseUrl: string, error: unknown): ConfigError {
  const { code, message } = error as { code?: unknown; message?: unknown };
  // A socket error (ECONNREFUSED, ENOTFOUND) may carry an empty message; PostgreSQL's own say why.
  const why = typeof message === "string" && message !== "" ? message : String(code);
  return new ConfigError(
    `CHECKPOINT_DATABASE_URL: PostgreSQL at ${redactUrl(databaseUrl)} cannot be used (${why})`,
  );
}
