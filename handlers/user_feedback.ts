import { defineHandler, GatewayError, ProjectId, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "user_feedback",
  description:
    "Sends feedback to a joined project: everyone in its room gets project_message, and the back end gets it through its channel (docs/backend.md).",
  events: {
    user_feedback_response: "Feedback was received",
    project_message: "The feedback, to the project's room",
  },
  schema: Type.Object({
    project_id: ProjectId,
    content: Type.String({ minLength: 1, maxLength: 32000 }),
  }),
  handle({ project_id, content }, ctx) {
    if (!ctx.projects.isMember(project_id)) {
      throw new GatewayError(
        "not_in_project",
        `Join project ${project_id} before sending feedback to it`,
      );
    }
    ctx.emitToProject(project_id, "project_message", {
      project_id,
      data: {
        kind: "user_feedback",
        content,
        user: ctx.user?.id ?? null,
        connection_id: ctx.connectionId,
      },
    });
    const eventId = ctx.backend.publish("user_feedback", project_id, { content });
    ctx.emit("user_feedback_response", { status: "received", project_id });
    return { status: "received", event_id: eventId, forwarded: ctx.backend.connected };
  },
});
