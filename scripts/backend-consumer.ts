/**
 * An example back-end worker: reads the events the gateway forwards (client
 * feedback, project updates, project status) from the Redis Stream with a
 * consumer group, handles each, and acknowledges it. At least once: an event
 * stays in the stream while no worker runs, and one a worker took but never
 * acknowledged (it crashed) is claimed by another after BACKEND_CLAIM_IDLE_MS.
 *
 *   REDIS_URL=redis://localhost:6379 node --import tsx scripts/backend-consumer.ts
 *
 * Settings (environment): BACKEND_STREAM (gateway:backend-events),
 * BACKEND_GROUP (backend), BACKEND_CONSUMER (host-pid), BACKEND_CLAIM_IDLE_MS
 * (60000), and for tests BACKEND_EXIT_WHEN_IDLE_MS: exit after that long with
 * nothing to read. Each event is printed as one JSON line; replace `handle`.
 * docs/backend.md describes the stream; test/backend.test.ts runs this file.
 */
import { hostname } from "node:os";
import { createClient } from "redis";

const env = process.env;
const stream = env["BACKEND_STREAM"] ?? "gateway:backend-events";
const group = env["BACKEND_GROUP"] ?? "backend";
const consumer = env["BACKEND_CONSUMER"] ?? `${hostname()}-${process.pid}`;
const claimIdleMs = Number(env["BACKEND_CLAIM_IDLE_MS"] ?? 60_000);
const exitWhenIdleMs = env["BACKEND_EXIT_WHEN_IDLE_MS"]
  ? Number(env["BACKEND_EXIT_WHEN_IDLE_MS"])
  : undefined;

type Entry = { id: string; message: Record<string, string> };

/** XREADGROUP answers [{name, messages}] for one stream, or null when nothing came. */
const entriesOf = (reply: unknown): Entry[] =>
  (reply as Array<{ messages: Entry[] }> | null)?.[0]?.messages ?? [];

/** Your work goes here. Throwing leaves the event unacknowledged, to be retried. */
function handle(entry: Entry): void {
  const { data, ...rest } = entry.message;
  console.log(JSON.stringify({ ...rest, data: JSON.parse(data ?? "{}") as unknown }));
}

const redis = createClient({ url: env["REDIS_URL"] ?? "redis://localhost:6379" });
await redis.connect();
try {
  // From the stream's start: events written before the group existed are read too.
  await redis.xGroupCreate(stream, group, "0", { MKSTREAM: true });
} catch (error) {
  if (!String(error).includes("BUSYGROUP")) throw error;
}

const process_ = (entries: Entry[]) =>
  Promise.all(
    entries.map(async (entry) => {
      handle(entry);
      await redis.xAck(stream, group, entry.id);
    }),
  );

// First what this consumer took before and never acknowledged, then what others left stale.
const mine = await redis.xReadGroup(group, consumer, { key: stream, id: "0" });
await process_(entriesOf(mine));
const stale = await redis.xAutoClaim(stream, group, consumer, claimIdleMs, "0-0");
await process_(stale.messages.filter((m): m is Entry => m !== null));

for (;;) {
  const reply = await redis.xReadGroup(
    group,
    consumer,
    { key: stream, id: ">" },
    { COUNT: 100, BLOCK: exitWhenIdleMs ?? 5000 },
  );
  const entries = entriesOf(reply);
  if (entries.length === 0 && exitWhenIdleMs !== undefined) break;
  await process_(entries);
}
await redis.close();
