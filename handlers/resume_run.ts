import { defineHandler, MessageId, Type } from "../src/handler-kit.js";

export default defineHandler({
  type: "resume_run",
  description:
    "Continues a run that paused at interrupt() (run_interrupted) with the person's answer: resume, or {<interrupt id>: answer} for several; update and goto as in LangGraph's Command. The same message_id streams again to the whole session.",
  schema: Type.Object({
    message_id: MessageId,
    resume: Type.Optional(Type.Unknown()),
    update: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    goto: Type.Optional(
      Type.Union([
        Type.String({ minLength: 1, maxLength: 64 }),
        Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 16 }),
      ]),
    ),
  }),
  handle({ message_id, resume, update, goto }, ctx) {
    return ctx.runs.resumeRun(message_id, {
      ...(resume === undefined ? {} : { resume }),
      ...(update ? { update } : {}),
      ...(goto ? { goto } : {}),
    });
  },
});
