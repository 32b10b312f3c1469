// Written by scripts/write-client-handlers.ts from the files in handlers/: do not edit.
// npm run typecheck and npm run build write it first, so a new handler file needs nothing else.
import type * as handler_agent_query from "../../handlers/agent_query.js";
import type * as handler_cancel from "../../handlers/cancel.js";
import type * as handler_chat_message from "../../handlers/chat_message.js";
import type * as handler_get_history from "../../handlers/get_history.js";
import type * as handler_join_project from "../../handlers/join_project.js";
import type * as handler_leave_project from "../../handlers/leave_project.js";
import type * as handler_message from "../../handlers/message.js";
import type * as handler_ping from "../../handlers/ping.js";
import type * as handler_project_update from "../../handlers/project_update.js";
import type * as handler_resume from "../../handlers/resume.js";
import type * as handler_resume_run from "../../handlers/resume_run.js";
import type * as handler_start_conversation from "../../handlers/start_conversation.js";
import type * as handler_streaming_query from "../../handlers/streaming_query.js";
import type * as handler_tool_call from "../../handlers/tool_call.js";
import type * as handler_user_feedback from "../../handlers/user_feedback.js";

export type HandlerModules = [
  typeof handler_agent_query,
  typeof handler_cancel,
  typeof handler_chat_message,
  typeof handler_get_history,
  typeof handler_join_project,
  typeof handler_leave_project,
  typeof handler_message,
  typeof handler_ping,
  typeof handler_project_update,
  typeof handler_resume,
  typeof handler_resume_run,
  typeof handler_start_conversation,
  typeof handler_streaming_query,
  typeof handler_tool_call,
  typeof handler_user_feedback,
];
