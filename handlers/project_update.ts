import { defineHandler, GatewayError, ProjectId, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "project_update",
  description:
    "Tells the back end about a change a member made to a joined project ({project_id, data}); the room gets project_message too.",
  events: { project_message: "The update, to the project's room" },
  schema: Type.Object({
    project_id: ProjectId,
    data: Type.Record(Type.String(), Type.Unknown()),
  }),
  handle({ project_id, data }, ctx) {
    if (!ctx.projects.isMember(project_id)) {
      throw new GatewayError("not_in_project", `Join project ${project_id} before updating it`);
    }
    const eventId = ctx.backend.publish("project_update", project_id, data);
    ctx.emitToProject(project_id, "project_message", {
      project_id,
      data: { ...data, kind: "project_update", user: ctx.user?.id ?? null },
    });
    return { status: "received", event_id: eventId, forwarded: ctx.backend.connected };
  },
});
