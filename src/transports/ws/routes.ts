import type { PlainPathPattern } from "../../core/config.js";
import { DIALECTS } from "../../dialects/index.js";

/**
 * The plain WebSocket paths, as the earlier systems' clients use them. Which
 * are served is WS_PLAIN_PATHS.
 */
export const PLAIN_PATHS = {
  /** A new session per connection. */
  newSession: "/ws/agent",
  /** The session named in the path. */
  session: "/ws/agents/{session_id}",
  /** Joins the project on connect; the session from `?session_id=` or a new one. */
  project: "/ws/projects/{project_id}/status",
  /** The session from `?session_id=`, or a new one. */
  any: "/ws",
} as const satisfies Record<string, PlainPathPattern>;

/** Where an upgrade asks to go: its session (absent: a new one) and the project to join. */
export interface PlainRoute {
  sessionId?: string;
  projectId?: string;
  token?: string;
  /** `?dialect=`, else the dialect whose protocol fixes the path, else none (native). */
  dialect?: string;
  /** `?graph=`: the session's graph (docs/graphs.md). */
  graph?: string;
  /** `?stream_modes=updates`. */
  streamModes?: string;
}

/** The dialect each fixed path selects when the client names none. */
const PATH_DIALECTS = new Map<string, string>(
  [...DIALECTS.values()].flatMap((dialect) => dialect.paths.map((path) => [path, dialect.id])),
);

const SEGMENT = "([^/]+)";

/** The route for a request URL, or null when no served path matches. */
export function routeOf(url: string, served: ReadonlySet<PlainPathPattern>): PlainRoute | null {
  let parsed: URL;
  try {
    parsed = new URL(url, "http://gateway");
  } catch {
    return null; // a request target no URL parser accepts ("http://[") asks for no path of ours
  }
  const matched = matchRoute(parsed, served);
  if (!matched) return null;
  const dialect = parsed.searchParams.get("dialect") ?? PATH_DIALECTS.get(matched.pattern);
  const graph = parsed.searchParams.get("graph");
  const streamModes = parsed.searchParams.get("stream_modes");
  return {
    ...matched.route,
    ...(dialect === undefined ? {} : { dialect }),
    ...(graph === null ? {} : { graph }),
    ...(streamModes === null ? {} : { streamModes }),
  };
}

function matchRoute(
  { pathname, searchParams }: URL,
  served: ReadonlySet<PlainPathPattern>,
): { pattern: PlainPathPattern; route: PlainRoute } | null {
  const query = (name: string) => searchParams.get(name) ?? undefined;
  const token = query("token");
  const withToken = token === undefined ? {} : { token };
  const fromQuery = (): PlainRoute => {
    const sessionId = query("session_id");
    return { ...withToken, ...(sessionId === undefined ? {} : { sessionId }) };
  };
  if (served.has(PLAIN_PATHS.newSession) && pathname === PLAIN_PATHS.newSession)
    return { pattern: PLAIN_PATHS.newSession, route: withToken };
  if (served.has(PLAIN_PATHS.any) && pathname === PLAIN_PATHS.any)
    return { pattern: PLAIN_PATHS.any, route: fromQuery() };
  const session = served.has(PLAIN_PATHS.session)
    ? new RegExp(`^/ws/agents/${SEGMENT}$`).exec(pathname)
    : null;
  if (session?.[1] !== undefined)
    return { pattern: PLAIN_PATHS.session, route: { ...withToken, sessionId: decode(session[1]) } };
  const project = served.has(PLAIN_PATHS.project)
    ? new RegExp(`^/ws/projects/${SEGMENT}/status$`).exec(pathname)
    : null;
  if (project?.[1] !== undefined)
    return {
      pattern: PLAIN_PATHS.project,
      route: { ...fromQuery(), projectId: decode(project[1]) },
    };
  return null;
}

/** A malformed escape is left as written; the session id policy then refuses it. */
function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
