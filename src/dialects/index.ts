import { GatewayError } from "../core/errors.js";
import { agentEngine } from "./agent-engine.js";
import { autocode } from "./autocode.js";
import type { Dialect } from "./dialect.js";
import { passThrough } from "./dialect.js";
import { flaskChat } from "./flask-chat.js";
import { groupChat } from "./group-chat.js";
import { learningCoach } from "./learning-coach.js";

export type {
  Dialect,
  DialectTransport,
  Frame,
  NativeMessage,
  Translator,
  TranslatorContext,
} from "./dialect.js";

export const native: Dialect = {
  id: "native",
  describe: "The gateway's own protocol (docs/protocol.md), the default.",
  transports: ["websocket", "socket.io"],
  paths: [],
  createTranslator: () => passThrough,
};

/** By id; a Map, so an id such as `__proto__` or `constructor` finds nothing. */
export const DIALECTS: ReadonlyMap<string, Dialect> = new Map(
  [native, learningCoach, agentEngine, autocode, flaskChat, groupChat].map((d) => [d.id, d]),
);

/** The dialect a connection asked for (`?dialect=` or `auth.dialect`); none asked is native. */
export function dialectFor(requested: unknown): Dialect {
  if (requested === undefined || requested === null || requested === "") return native;
  const dialect = typeof requested === "string" ? DIALECTS.get(requested) : undefined;
  if (!dialect)
    throw new GatewayError(
      "unknown_dialect",
      `Unknown dialect; use one of ${[...DIALECTS.keys()].join(", ")}`,
    );
  return dialect;
}
