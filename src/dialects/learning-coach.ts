import type { Dialect } from "./dialect.js";
import { passThrough } from "./dialect.js";

/**
 * The learning-coach protocol is the native one over plain WebSocket: its
 * `message {content, metadata}`, `stream_start/chunk/end` with `message_id`
 * and `total_content`, and `progress_update {data: {stage, completed, total}}`
 * are native events, whose extra fields its client ignores. The dialect
 * exists for its fixed paths.
 */
export const learningCoach: Dialect = {
  id: "learning-coach",
  describe:
    "The learning-coach protocol: the native events over plain WebSocket, at /ws/agents/{session_id} and /ws/projects/{project_id}/status.",
  transports: ["websocket"],
  paths: ["/ws/agents/{session_id}", "/ws/projects/{project_id}/status"],
  createTranslator: () => passThrough,
};
