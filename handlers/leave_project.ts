import { defineHandler, ProjectId, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "leave_project",
  description: "Leaves a project's room.",
  events: { left_project: "This connection left a project, with the member count" },
  schema: Type.Object({ project_id: ProjectId }),
  async handle({ project_id }, ctx) {
    const members = await ctx.projects.leave(project_id);
    ctx.emit("left_project", { project_id, members });
    ctx.backend.publish("project_status_sync", project_id, { event: "left", members });
    return { project_id, members };
  },
});
