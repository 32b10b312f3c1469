import type { TSchema } from "@sinclair/typebox";
import {
  ErrorBody,
  GraphList,
  HandlerList,
  Health,
  ProjectEventBody,
  ProjectEventSent,
  Readiness,
  SessionInfo,
  Statistics,
} from "./route-schemas.js";

const json = (schema: TSchema, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const failure = (description: string) => json(ErrorBody, description);
const bearer = [{ apiKey: [] }];

/** OpenAPI 3.1: JSON Schema 2020-12, so TypeBox's schemas go in as they are. */
export function openApiDocument(version: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "Agent gateway REST API",
      version,
      description:
        "REST side of the gateway. The real-time protocol (Socket.IO events) is described at /asyncapi.json.",
    },
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "API_KEY (or METRICS_TOKEN)" },
      },
    },
    paths: {
      "/healthz": {
        get: { summary: "Liveness", responses: { 200: json(Health, "The process answers") } },
      },
      "/readyz": {
        get: {
          summary: "Readiness: accepting, Redis and the model reachable",
          responses: {
            200: json(Readiness, "Ready"),
            503: json(Readiness, "Not ready, with the reason"),
          },
        },
      },
      "/ws/statistics": {
        get: {
          summary: "Connection and message counts; per-connection detail with the API key",
          security: [{}, ...bearer],
          responses: { 200: json(Statistics, "Counts") },
        },
      },
      "/api/sessions/{session_id}": {
        get: {
          summary: "A session's connections and run",
          security: bearer,
          parameters: [
            { name: "session_id", in: "path", required: true, schema: { type: "string" } },
          ],
          responses: {
            200: json(SessionInfo, "The session"),
            401: failure("No or wrong API key"),
            404: failure("No connection and no run"),
          },
        },
      },
      "/api/handlers": {
        get: {
          summary: "The event types clients may send, with their payload schemas",
          responses: { 200: json(HandlerList, "Handlers") },
        },
      },
      "/api/graphs": {
        get: {
          summary: "The graphs runs may name (graphs/ and langgraph.json)",
          responses: { 200: json(GraphList, "Graphs") },
        },
      },
      "/api/projects/{project_id}/events": {
        post: {
          summary: "Pushes an event to the clients that joined the project",
          security: bearer,
          parameters: [
            { name: "project_id", in: "path", required: true, schema: { type: "string" } },
          ],
          requestBody: {
            required: true,
            content: { "application/json": { schema: ProjectEventBody } },
          },
          responses: {
            202: json(ProjectEventSent, "Sent"),
            400: failure("Body not matching the schema, or nested too deep"),
            401: failure("No or wrong API key"),
            413: failure("Body over WS_MAX_MESSAGE_BYTES"),
          },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics (here unless METRICS_PORT is set)",
          security: [{}, ...bearer],
          responses: {
            200: {
              description: "Prometheus text format",
              content: { "text/plain": { schema: { type: "string" } } },
            },
            401: failure("METRICS_TOKEN or API_KEY set and not given"),
          },
        },
      },
      "/openapi.json": {
        get: { summary: "This document", responses: { 200: { description: "OpenAPI 3.1" } } },
      },
      "/asyncapi.json": {
        get: {
          summary: "The Socket.IO protocol",
          responses: { 200: { description: "AsyncAPI 3.0" } },
        },
      },
    },
  };
}
