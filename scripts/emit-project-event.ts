/**
 * Pushes one project event to every client in the project, on every gateway
 * node, from a process that is not a gateway: a worker, a cron job, another
 * service. It publishes on the Socket.IO Redis adapter's channels, so it needs
 * only the cluster's Redis, no HTTP call and no API key.
 *
 *   REDIS_URL=redis://localhost:6379 PROJECT_ID=p1 node --import tsx scripts/emit-project-event.ts
 *
 * docs/cluster.md shows this file; test/cluster-emitter.test.ts runs it
 * against two gateways.
 */
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";

const redis = createClient({ url: process.env["REDIS_URL"] ?? "redis://localhost:6379" });
await redis.connect();

const projectId = process.env["PROJECT_ID"] ?? "p1";
// The gateways use the adapter's default key ("socket.io"), and so does the emitter.
const emitter = new Emitter(redis);
// The same room name and payload shape as POST /api/projects/:id/events.
emitter.to(`project:${projectId}`).emit("project_status_change", {
  type: "project_status_change",
  timestamp: Date.now() / 1000,
  project_id: projectId,
  data: { status: "deployed", by: "release-bot" },
});

// The publish is queued on the client: close() sends it before quitting.
await redis.close();
