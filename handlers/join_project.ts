import { defineHandler, ProjectId, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "join_project",
  description: "Joins the project's room, to receive its status pushes and messages.",
  events: { joined_project: "This connection joined a project, with the member count" },
  schema: Type.Object({ project_id: ProjectId }),
  async handle({ project_id }, ctx) {
    const members = await ctx.projects.join(project_id);
    ctx.emit("joined_project", { project_id, members });
    ctx.backend.publish("project_status_sync", project_id, { event: "joined", members });
    return { project_id, members };
  },
});
