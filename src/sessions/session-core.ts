import { passThrough } from "../dialects/dialect.js";
import type { HandlerContext } from "../registry/handler-context.js";
import type { Admit, Admitted } from "./admission.js";
import { openSession, type Connection, type SessionDeps } from "./connection.js";
import { translatedConnection, translatedReceive } from "./dialect-edge.js";
import type { WireEvent } from "./fanout.js";
import { createDispatcher, type DispatcherDeps, type EventIntake } from "./dispatch.js";

/** All a transport needs from the core: admission, then one call per admitted connection. */
export interface SessionCore {
  admit: Admit;
  /** Sends `connected`, joins the session, and returns where the connection's events go. */
  open(conn: Connection, admitted: Admitted): { ctx: HandlerContext } & EventIntake;
  /** This node's open connections, whatever carries them (read by the metrics at scrape time). */
  connections(): Iterable<LiveConnection>;
}

export interface LiveConnection {
  transport: Connection["transport"];
  sessionKey: string;
}

export function createSessionCore(admit: Admit, deps: SessionDeps & DispatcherDeps): SessionCore {
  const live = new Map<string, LiveConnection>();
  return {
    admit,
    connections: () => live.values(),
    open(conn, admitted) {
      // Admitted carries both fields already: no object of its own per connection.
      live.set(conn.id, admitted);
      conn.onClose(() => live.delete(conn.id));
      const translator = admitted.dialect.createTranslator({ sessionId: admitted.sessionId });
      if (translator === passThrough) {
        const ctx = openSession(conn, admitted, deps);
        const { admitFrame, receive } = createDispatcher(conn, admitted, ctx, deps);
        return { ctx, admitFrame, receive };
      }
      const edge = translatedConnection(conn, translator);
      // Before openSession joins any group: no broadcast may reach it untranslated.
      const deliver = (event: WireEvent) => edge.send(event.type, event);
      conn.onClose(deps.fanout.translateFor(conn.id, deliver));
      const ctx = openSession(edge, admitted, deps, deliver);
      const { admitFrame, receive } = createDispatcher(edge, admitted, ctx, deps);
      return { ctx, admitFrame, receive: translatedReceive(receive, translator) };
    },
  };
}
