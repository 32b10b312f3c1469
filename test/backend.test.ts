import { execFile } from "node:child_process";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { expect } from "chai";
import { sign } from "../src/backend/webhook-channel.js";
import { connect, request, startGateway } from "./support/gateway.js";
import { startRedisServer } from "./support/redis-server.js";
import { waitFor } from "./support/wait-for.js";

const run = promisify(execFile);

interface Forwarded {
  id: string;
  kind: string;
  project_id: string;
  user: string;
  data: Record<string, unknown>;
}

/** Runs the example back-end worker until it has nothing left to read; returns what it handled. */
async function consume(redisUrl: string, group = "backend"): Promise<Forwarded[]> {
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", "scripts/backend-consumer.ts"],
    {
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        BACKEND_GROUP: group,
        BACKEND_EXIT_WHEN_IDLE_MS: "300",
      },
    },
  );
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Forwarded);
}

describe("the back-end channel", function () {
  this.timeout(30_000);

  it("keeps feedback in a Redis Stream until a worker reads it, once per consumer group", async () => {
    const redis = await startRedisServer();
    const server = await startGateway({ REDIS_URL: redis.url });
    try {
      const { socket } = await connect(server.url);
      await request(socket, "join_project", { project_id: "p1" });
      const sent = await request(socket, "user_feedback", {
        project_id: "p1",
        content: "looks good",
      });
      expect(sent).to.deep.include({ ok: true });
      await request(socket, "project_update", { project_id: "p1", data: { stage: "review" } });
      socket.close();
      // No worker ran while this happened: the events waited in Redis.
      await waitFor(async () => (await consume(redis.url, "probe")).length >= 3);
      const first = await consume(redis.url);
      expect(first.map((e) => e.kind)).to.deep.equal([
        "project_status_sync",
        "user_feedback",
        "project_update",
      ]);
      expect(first[1]).to.deep.include({ project_id: "p1", data: { content: "looks good" } });
      expect(first[1]?.id).to.equal(sent.ok && (sent.data as { event_id: string }).event_id);
      expect(first[2]?.data).to.deep.equal({ stage: "review" });
      expect(await consume(redis.url)).to.deep.equal([]);
      expect((await consume(redis.url, "audit")).map((e) => e.id)).to.deep.equal(
        first.map((e) => e.id),
      );
    } finally {
      await server.close();
      await redis.stop();
    }
  });

  it("holds feedback sent while Redis is down and writes it when Redis returns", async () => {
    const redis = await startRedisServer();
    const server = await startGateway({ REDIS_URL: redis.url });
    try {
      const { socket } = await connect(server.url);
      await request(socket, "join_project", { project_id: "p2" });
      await redis.stop();
      const sent = await request(socket, "user_feedback", { project_id: "p2", content: "offline" });
      expect(sent.ok).to.equal(true);
      await redis.restart();
      await waitFor(async () => (await consume(redis.url, "probe")).length >= 1, 10_000);
      const events = await consume(redis.url);
      expect(events.map((e) => e.data)).to.deep.equal([{ content: "offline" }]);
      socket.close();
    } finally {
      await server.close();
      await redis.stop();
    }
  });

  it("retries a webhook until the back end accepts it, signed, with the same event id", async () => {
    const secret = "webhook-test-secret-0123456789";
    const attempts: Array<{ body: string; signature: string | undefined }> = [];
    const backend = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        attempts.push({ body, signature: req.headers["x-gateway-signature"] as string });
        // Down for the first two tries of each event, as a back end that is restarting.
        const tries = attempts.filter((a) => a.body === body).length;
        res.writeHead(tries <= 2 ? 503 : 204).end();
      });
    });
    await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
    const port = (backend.address() as AddressInfo).port;
    const server = await startGateway({
      BACKEND_WEBHOOK_URL: `http://127.0.0.1:${port}/events`,
      BACKEND_WEBHOOK_SECRET: secret,
    });
    try {
      const { socket } = await connect(server.url);
      await request(socket, "join_project", { project_id: "p3" });
      await request(socket, "user_feedback", { project_id: "p3", content: "retry me" });
      await waitFor(() => attempts.length >= 6, 10_000);
      // In order: the join's status event three times, then the feedback three times.
      const kinds = attempts.map((a) => (JSON.parse(a.body) as { kind: string }).kind);
      expect(kinds).to.deep.equal([
        ...Array<string>(3).fill("project_status_sync"),
        ...Array<string>(3).fill("user_feedback"),
      ]);
      const feedback = attempts.slice(3);
      expect(new Set(feedback.map((a) => a.body)).size).to.equal(1);
      const [only] = feedback;
      expect(only?.signature).to.equal(`sha256=${sign(secret, only?.body ?? "")}`);
      expect(JSON.parse(only?.body ?? "{}")).to.deep.include({
        kind: "user_feedback",
        project_id: "p3",
        data: { content: "retry me" },
      });
      socket.close();
    } finally {
      await server.close();
      backend.close();
    }
  });
});
