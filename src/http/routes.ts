import { createHash, timingSafeEqual } from "node:crypto";
import express, { Router, type RequestHandler } from "express";
import type { Static } from "@sinclair/typebox";
import type { Ajv } from "ajv";
import { GatewayError } from "../core/errors.js";
import { exceedsDepth } from "../core/json-depth.js";
import { serverEvent } from "../core/protocol.js";
import { ProjectEventBody } from "./route-schemas.js";
import { describeErrors } from "../core/validator.js";
import type { HandlerRegistry } from "../registry/load-handlers.js";
import type { GraphInfo } from "../graphs/graph-registry.js";
import type { Fanout } from "../sessions/fanout.js";
import type { GatewayState } from "../state/types.js";

export interface RouteDeps {
  fanout: Fanout;
  ajv: Ajv;
  state: GatewayState;
  handlers: HandlerRegistry;
  /** The graphs runs may name (docs/graphs.md). */
  graphs: { list(): GraphInfo[] };
  apiKey: string | undefined;
  /** WS_STATISTICS_PUBLIC: the connection list of /ws/statistics without the key. */
  statisticsPublic: boolean;
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** Deepest nesting of objects and arrays a body may have. */
  maxPayloadDepth: number;
  /** Why the gateway is not ready, or null when it is. */
  notReadyReason: () => Promise<string | null>;
}

const seconds = (ms: number) => ms / 1000;

export function createRoutes(deps: RouteDeps): Router {
  const router = Router();
  const validateProjectEvent = deps.ajv.compile<Static<typeof ProjectEventBody>>(ProjectEventBody);

  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  router.get("/readyz", async (_req, res) => {
    const reason = await deps.notReadyReason();
    if (reason) res.status(503).json({ status: "not_ready", reason });
    else res.json({ status: "ready" });
  });

  const apiKey = requireApiKey(deps.apiKey);

  // Counts only: session ids are capabilities for anonymous clients, so the
  // list of live connections is for holders of the API key, unless the
  // operator opens it for the agent-engine protocol's clients, which read it
  // without a key (docs/protocol.md#agent-engine).
  router.get("/ws/statistics", async (req, res) => {
    const stats = await deps.state.connections.statistics();
    const counts = {
      active_connections: stats.activeConnections,
      total_connections: stats.totalConnections,
      total_messages: stats.totalMessages,
    };
    if (!deps.statisticsPublic && !hasApiKey(deps.apiKey, req.get("authorization"))) {
      res.json({ ...counts, connections_visible: false });
      return;
    }
    const now = Date.now();
    res.json({
      ...counts,
      connections_visible: true,
      connections: stats.connections.map((c) => ({
        id: c.id,
        session_id: c.sessionId,
        node_id: c.nodeId,
        transport: c.transport ?? "socketio",
        connected_at: seconds(c.connectedAt),
        message_count: c.messageCount,
        uptime: seconds(now - c.connectedAt),
      })),
    });
  });

  router.get("/api/sessions/:session_id", apiKey, async (req, res) => {
    const sessionId = String(req.params["session_id"]);
    const [connections, run] = await Promise.all([
      deps.state.connections.sessionConnections(sessionId),
      deps.state.runs.current(sessionId),
    ]);
    if (connections.length === 0 && !run) {
      throw new GatewayError("not_found", `Session ${sessionId} has no connections and no run`);
    }
    res.json({
      session_id: sessionId,
      connections: connections.map((c) => ({
        id: c.id,
        node_id: c.nodeId,
        connected_at: seconds(c.connectedAt),
      })),
      run_active: run !== null,
      active_run: run && {
        message_id: run.messageId,
        node_id: run.nodeId,
        started_at: seconds(run.startedAt),
      },
    });
  });

  router.get("/api/handlers", (_req, res) => {
    res.json({
      handlers: [...deps.handlers.values()].map(({ definition, inputSchema }) => ({
        type: definition.type,
        description: definition.description,
        schema: inputSchema,
        ...(definition.timeoutMs === undefined ? {} : { timeout_ms: definition.timeoutMs }),
      })),
    });
  });

  router.get("/api/graphs", (_req, res) => {
    res.json({ graphs: deps.graphs.list() });
  });

  // The key is checked before the body is read: a stranger's body costs nothing.
  const readBody = express.json({ limit: deps.maxBodyBytes });
  router.post("/api/projects/:project_id/events", apiKey, readBody, (req, res) => {
    const body: unknown = req.body ?? {};
    if (exceedsDepth(body, deps.maxPayloadDepth)) {
      throw new GatewayError(
        "invalid_payload",
        `The body nests deeper than ${deps.maxPayloadDepth} levels`,
      );
    }
    if (!validateProjectEvent(body)) {
      throw new GatewayError(
        "invalid_payload",
        "Expected {type, data}",
        describeErrors(validateProjectEvent.errors),
      );
    }
    const projectId = String(req.params["project_id"]);
    deps.fanout.toProject(
      projectId,
      serverEvent(body.type, { project_id: projectId, data: body.data }),
    );
    res.status(202).json({ status: "sent", project_id: projectId, type: body.type });
  });

  return router;
}

function requireApiKey(apiKey: string | undefined): RequestHandler {
  return (req, _res, next) => {
    if (apiKey === undefined)
      throw new GatewayError("unauthorized", "This endpoint is disabled: API_KEY is not set");
    if (!hasApiKey(apiKey, req.get("authorization"))) {
      throw new GatewayError(
        "unauthorized",
        "A valid API key is required: Authorization: Bearer <API_KEY>",
      );
    }
    next();
  };
}

/**
 * Both sides are hashed first, so the comparison takes the same time whatever
 * the given key's length: no early return tells a prober how long the key is.
 */
export function hasApiKey(apiKey: string | undefined, authorization: string | undefined): boolean {
  if (apiKey === undefined || !authorization?.startsWith("Bearer ")) return false;
  return timingSafeEqual(digest(authorization.slice(7)), digest(apiKey));
}

const digest = (value: string) => createHash("sha256").update(value).digest();
