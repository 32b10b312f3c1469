import { randomUUID } from "node:crypto";
import type { Config } from "../core/config.js";
import { GatewayError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { serverEvent, type Emit } from "../core/protocol.js";
import { metrics } from "../metrics/instruments.js";
import type { Connection } from "../sessions/connection.js";
import { catchUpGroup, runUpdatesGroup, type Fanout, type WireEvent } from "../sessions/fanout.js";
import { streamKey } from "../state/stream-vocabulary.js";
import type { GatewayState, StreamRef } from "../state/types.js";
import type { CompiledGraph } from "../graphs/graph-registry.js";
import type { AgentRuntime } from "./agent-runtime.js";
import { AgentRun, type RunPlan } from "./agent-run.js";
import { Conversations, resumeCommand } from "./conversations.js";
import { behindRunning, INTERRUPTED } from "./multitask.js";
import type { HistoryPage, ResumeCommand, RunRequest, SubmittedRun } from "./run-request.js";

/** How long a connection stays out of a stream's live broadcast after its own copy ended. */
const CATCH_UP_LINGER_MS = 10_000;

/** Whose run it is: the session it streams to, and who its quota is charged to. */
export interface Submitter {
  sessionId: string;
  principal: string;
  /** The checkpointer thread holding the session's conversation (src/auth/principal.ts). */
  threadId: string;
  /** The session's graph when a request names none (`auth.graph`); else AGENT_DEFAULT_GRAPH. */
  graph?: string;
  /** The connection that sent the request: it gets the run's state updates when it asked for them. */
  connection?: Connection;
}

/** A run that continues an interrupted one: its graph and the answers to its interrupts. */
export interface PreparedResume {
  request: RunRequest;
  resume: NonNullable<RunPlan["resume"]>;
}

/** One connection's follower of one stream, and the last seq it delivered. */
interface Following {
  stop: AbortController;
  lastSeq: number;
}

interface SessionRuns {
  current: AgentRun | undefined;
  queue: AgentRun[];
}

interface RunManagerDeps {
  fanout: Fanout;
  config: Config;
  state: GatewayState;
  runtime: AgentRuntime;
  nodeId: string;
  log: Logger;
}

/**
 * Owns every agent run on this node: one at a time per session, the
 * multitask policy, cancellation, timeouts, stream history and resume.
 */
export class RunManager {
  private readonly sessions = new Map<string, SessionRuns>();
  private readonly settled = new Set<() => void>();
  /** Each connection's one follower per stream, and the last seq it delivered. */
  private readonly followed = new WeakMap<Connection, Map<string, Following>>();
  /** Runs running or queued on this node, per principal (AGENT_MAX_QUEUED_PER_USER). */
  private readonly perPrincipal = new Map<string, number>();
  private readonly principals = new WeakMap<AgentRun, string>();
  /** Undoes what a run set up on a connection (its state-update group), when it ends. */
  private readonly leaveOnEnd = new WeakMap<AgentRun, () => void>();
  readonly conversations: Conversations;

  constructor(private readonly deps: RunManagerDeps) {
    this.conversations = new Conversations(deps.runtime.graphs, deps.config.agent.interruptTtlMs);
  }

  /**
   * Checks that the session's run `messageId` waits for a resume and turns
   * the client's answer into LangGraph's Command for it.
   */
  async prepareResume(
    submitter: Submitter,
    messageId: string,
    command: ResumeCommand,
  ): Promise<PreparedResume> {
    const { graphs } = this.deps.runtime;
    const { graph, interrupts } = await this.conversations.interrupted(
      (name) => graphs.threadOf(submitter.threadId, name),
      messageId,
    );
    const interruptIds = interrupts.map((i) => i.id);
    return {
      request: { graph, input: null },
      resume: { command: resumeCommand(command, interruptIds), interruptIds },
    };
  }

  /** The session's conversation with `graph` (its default when not given), newest page first. */
  history(
    submitter: Submitter,
    limit: number,
    before?: string,
    graph?: string,
  ): Promise<HistoryPage> {
    const { graphs } = this.deps.runtime;
    const name = graph ?? submitter.graph ?? graphs.defaultName;
    graphs.require(name);
    return this.conversations.history(
      name,
      graphs.threadOf(submitter.threadId, name),
      limit,
      before,
    );
  }

  submit(
    submitter: Submitter,
    request: RunRequest,
    messageId: string = randomUUID(),
    resume?: PreparedResume["resume"],
  ): SubmittedRun {
    const { sessionId, principal, threadId } = submitter;
    const { graphs } = this.deps.runtime;
    const graph = request.graph ?? submitter.graph ?? graphs.defaultName;
    graphs.require(graph);
    const { multitask, maxQueue, maxRuns, maxQueuedPerUser } = this.deps.config.agent;
    // A session already here runs one at a time; a new one is a new concurrent run.
    if (!this.sessions.has(sessionId) && this.sessions.size >= maxRuns) {
      throw new GatewayError("busy", `This server is already running ${maxRuns} agent runs`, {
        limit: maxRuns,
      });
    }
    if ((this.perPrincipal.get(principal) ?? 0) >= maxQueuedPerUser) {
      throw new GatewayError(
        "busy",
        `You already have ${maxQueuedPerUser} agent runs running or waiting on this server`,
        { limit: maxQueuedPerUser },
      );
    }
    const runs = this.session(sessionId);
    if (
      runs.current?.messageId === messageId ||
      runs.queue.some((r) => r.messageId === messageId)
    ) {
      throw new GatewayError(
        "invalid_payload",
        `message_id ${messageId} is already in use in this session`,
      );
    }
    const plan: RunPlan = {
      graph,
      threadId: graphs.threadOf(threadId, graph),
      request,
      ...(resume ? { resume } : {}),
    };
    const run = new AgentRun(messageId, sessionId, plan, {
      coalescing: this.deps.config.agent.streamCoalescing,
      modelIdleMs: this.deps.config.agent.modelIdleMs,
    });
    const follower = submitter.connection;
    if (follower && request.streamModes?.includes("updates")) {
      const group = runUpdatesGroup({ sessionId, messageId });
      follower.join(group);
      this.leaveOnEnd.set(run, () => follower.leave(group));
    }
    if (!runs.current) {
      this.charge(run, principal);
      runs.current = run;
      void this.execute(runs, run);
      return { message_id: messageId, queue_position: 0 };
    }
    const running = { sessionId, messageId: runs.current.messageId, elsewhere: false };
    if (behindRunning(multitask, running, runs.queue.length, maxQueue) === "interrupt") {
      this.cancelAll(runs, INTERRUPTED);
    }
    this.charge(run, principal);
    runs.queue.push(run);
    return { message_id: messageId, queue_position: runs.queue.length };
  }

  /** Cancels the named run, or the session's current one. */
  cancel(
    sessionId: string,
    messageId?: string,
    reason = "cancelled by the client",
  ): { message_id: string } {
    const runs = this.sessions.get(sessionId);
    const current = runs?.current;
    if (
      current &&
      !current.stopped &&
      (messageId === undefined || current.messageId === messageId)
    ) {
      current.cancel(reason);
      return { message_id: current.messageId };
    }
    const index = runs?.queue.findIndex((r) => r.messageId === messageId) ?? -1;
    const queued = index >= 0 ? runs?.queue.splice(index, 1)[0] : undefined;
    if (!queued) {
      throw new GatewayError(
        "not_found",
        messageId ? `No run ${messageId} in this session` : "Nothing to cancel",
      );
    }
    this.announceCancelled(queued, reason);
    return { message_id: queued.messageId };
  }

  /** Cancels everything a session has, when its last client leaves and the configuration says so. */
  async onSessionLeft(sessionId: string): Promise<void> {
    if (!this.deps.config.agent.cancelOnDisconnect || !this.sessions.has(sessionId)) return;
    const remaining = await this.deps.state.connections.sessionConnections(sessionId);
    if (remaining.length > 0) return;
    const runs = this.sessions.get(sessionId);
    if (runs) this.cancelAll(runs, "the last client disconnected");
  }

  /**
   * A connection that arrives while its session streams gets that stream only
   * through `resume`, so the replay and the live events never overlap.
   */
  onConnection(conn: Connection, sessionId: string, remoteRun?: string): void {
    const current = this.sessions.get(sessionId)?.current;
    // `remoteRun`: the session's run on any node, as the run registry knew it at admission.
    for (const messageId of new Set([current?.messageId, remoteRun])) {
      if (messageId) conn.join(catchUpGroup({ sessionId, messageId }));
    }
  }

  /**
   * Replays the stream after `afterSeq` to this connection alone; it then follows
   * the stream live. A connection has one follower per stream: a later resume
   * replaces the earlier one and starts where that one had got to, so no
   * number of resumes makes a connection receive a chunk twice.
   * `trimmedBefore`: the history cap dropped chunks the client asked for; the first seq still stored.
   */
  async resume(
    conn: Connection,
    stream: StreamRef,
    afterSeq: number,
    closed: AbortSignal,
  ): Promise<{ trimmedBefore?: number }> {
    const key = streamKey(stream);
    metrics.resumes.inc();
    let followed = this.followed.get(conn);
    if (!followed) this.followed.set(conn, (followed = new Map<string, Following>()));
    const previous = followed.get(key);
    previous?.stop.abort();
    const group = catchUpGroup(stream);
    const mine: Following = {
      stop: new AbortController(),
      lastSeq: Math.max(afterSeq, previous?.lastSeq ?? 0, this.sentLive(conn, stream, group)),
    };
    followed.set(key, mine);
    // Leave the live broadcast first: from here on this connection's copy of the stream comes from the history.
    conn.join(group);
    const follower = await this.deps.state.streams.follow(
      stream,
      mine.lastSeq,
      (event) => {
        if (mine.stop.signal.aborted) return; // a store still replaying after its replacement
        if (event.payload.seq !== undefined) mine.lastSeq = event.payload.seq;
        conn.send(event.type, event.payload);
      },
      AbortSignal.any([closed, mine.stop.signal]),
    );
    if (!follower) {
      followed.delete(key);
      conn.leave(group);
      throw new GatewayError(
        "stream_expired",
        `Stream ${stream.messageId} is unknown in this session or its history has expired`,
      );
    }
    void follower.done.then((how) => {
      if (followed.get(key) === mine) followed.delete(key);
      // Aborted: replaced by a newer resume, which owns the group now, or the
      // connection closed. Ended: not at once, since in a cluster the history can run
      // ahead of the live broadcast, whose last events may still be on their way.
      if (how === "ended") setTimeout(() => conn.leave(group), CATCH_UP_LINGER_MS).unref();
    });
    return follower.trimmedBefore === undefined ? {} : { trimmedBefore: follower.trimmedBefore };
  }

  /**
   * The chunks a connection on the live broadcast already has of a run on this
   * node: everything published so far. (A run on another node is not known
   * here; its followers start where the client says.)
   */
  private sentLive(conn: Connection, stream: StreamRef, group: string): number {
    if (conn.has(group)) return 0;
    const current = this.sessions.get(stream.sessionId)?.current;
    return current?.messageId === stream.messageId ? current.lastSeq : 0;
  }

  queuedRuns = (): number => [...this.sessions.values()].reduce((n, r) => n + r.queue.length, 0);

  activeRuns(): number {
    let count = 0;
    for (const runs of this.sessions.values()) count += (runs.current ? 1 : 0) + runs.queue.length;
    return count;
  }

  /** Lets running streams finish for up to `graceMs`, then cancels what is left. */
  async drain(graceMs: number): Promise<void> {
    if (this.activeRuns() === 0) return;
    const idle = new Promise<void>((resolve) => {
      const check = () => {
        if (this.activeRuns() > 0) return;
        this.settled.delete(check);
        resolve();
      };
      this.settled.add(check);
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"timeout">(
      (resolve) => (timer = setTimeout(() => resolve("timeout"), graceMs)),
    );
    if ((await Promise.race([idle, deadline])) === "timeout") {
      for (const runs of [...this.sessions.values()]) {
        this.cancelAll(runs, "the server is shutting down");
      }
      await idle;
    }
    clearTimeout(timer);
  }

  /** Everything waiting is cancelled before the running one, so none of it starts on the way. */
  private cancelAll(runs: SessionRuns, reason: string): void {
    for (const queued of runs.queue.splice(0)) this.announceCancelled(queued, reason);
    runs.current?.cancel(reason);
  }

  private session(sessionId: string): SessionRuns {
    let runs = this.sessions.get(sessionId);
    if (!runs) this.sessions.set(sessionId, (runs = { current: undefined, queue: [] }));
    return runs;
  }

  private async execute(runs: SessionRuns, run: AgentRun): Promise<void> {
    const { state, config, runtime, log } = this.deps;
    // Made on first use, and info lines skipped when not logged: at LOG_LEVEL=warn a run's
    // logger cost more than the rest of its bookkeeping (docs/performance.md, first token).
    let child: Logger | undefined;
    const runLog = (): Logger =>
      (child ??= log.child({ session_id: run.sessionId, message_id: run.messageId }));
    const info = log.isInfoEnabled();
    const publish = this.publisher(run);
    const timer = setTimeout(
      () =>
        run.fail(
          new GatewayError(
            "timeout",
            `The run exceeded AGENT_RUN_TIMEOUT (${config.agent.runTimeoutMs / 1000} s)`,
          ),
        ),
      config.agent.runTimeoutMs,
    );
    state.streams.open(run);
    try {
      await this.claim(run, runLog);
      if (info) runLog().info("run started", { graph: run.plan.graph });
      const graph = await this.graphFor(run);
      const stored = () => runtime.graphs.written(run.plan.threadId);
      const outcome = await metrics.timeRun(
        run,
        run.execute(graph, publish, runtime.vendor, stored),
      );
      switch (outcome.status) {
        case "completed":
          if (info) runLog().info("run completed");
          break;
        case "interrupted":
          if (info) runLog().info("run interrupted", { interrupts: outcome.interrupts.length });
          break;
        case "cancelled":
          publish("cancelled", {
            message_id: run.messageId,
            partial_content: run.partialContent,
            reason: outcome.reason,
          });
          if (info) runLog().info("run cancelled", { reason: outcome.reason });
          break;
        case "failed":
          publish("error", {
            code: outcome.error.code,
            message: outcome.error.message,
            message_id: run.messageId,
          });
          // A timeout is the configuration at work; an agent failure is logged with its stack.
          runLog()[outcome.error.code === "agent_error" ? "error" : "warn"]("run failed", {
            code: outcome.error.code,
            error: outcome.error.cause ?? outcome.error,
          });
          break;
      }
    } catch (error) {
      const known = error instanceof GatewayError ? error : undefined;
      if (!known) runLog().error("run bookkeeping failed", { error });
      publish("error", {
        code: known?.code ?? "internal_error",
        message: known?.message ?? "The run failed",
        message_id: run.messageId,
      });
    } finally {
      clearTimeout(timer);
      this.leaveOnEnd.get(run)?.();
      state.streams.close(run, config.agent.streamRetentionMs);
      await state.runs
        .release(run.sessionId, run.messageId)
        .catch((error: unknown) => runLog().error("release failed", { error }));
      this.next(runs, run);
    }
  }

  /**
   * The compiled graph of a run. A resume checks, once the session is this
   * run's, that the interrupts it answers still wait: two resumes of one run
   * (from two clients, or two nodes) run it once, and the second gets
   * `not_interrupted`.
   */
  private async graphFor(run: AgentRun): Promise<CompiledGraph> {
    const { plan } = run;
    const graph = await this.deps.runtime.graphs.compiled(plan.graph, {
      configurable: { ...plan.request.config?.configurable },
    });
    if (plan.resume) {
      const waiting = await this.conversations.pending(plan.graph, plan.threadId);
      const expected = plan.resume.interruptIds;
      if (waiting.length !== expected.length || expected.some((id) => !waiting.includes(id))) {
        throw new GatewayError(
          "not_interrupted",
          `Run ${run.messageId} is no longer waiting for this resume (another resume answered it first)`,
        );
      }
    }
    return graph;
  }

  /**
   * Takes the session in the cluster's run registry. While another node runs
   * the session, `reject` fails this run with `busy` and the other policies
   * wait for it to end (ClusterRuns applies them before submitting). With
   * Redis down the run goes ahead: local clients are served, the policy holds
   * per node.
   */
  private async claim(run: AgentRun, runLog: () => Logger): Promise<void> {
    const { state, nodeId, config } = this.deps;
    for (let wait = 50; !run.stopped; wait = Math.min(wait * 2, 1000)) {
      const info = { messageId: run.messageId, sessionId: run.sessionId, nodeId };
      let claimed: boolean;
      try {
        claimed = await state.runs.claim({ ...info, startedAt: Date.now() });
      } catch (error) {
        runLog().warn("run registry unavailable; running unclaimed", { error });
        return;
      }
      if (claimed) return;
      // Reject refuses here; the other policies wait for the other node's run to end.
      behindRunning(config.agent.multitask, { sessionId: run.sessionId, elsewhere: true }, 0, 1);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private charge(run: AgentRun, principal: string): void {
    this.principals.set(run, principal);
    this.perPrincipal.set(principal, (this.perPrincipal.get(principal) ?? 0) + 1);
  }

  /** Every run leaves once: when it finishes, or when it is cancelled before it started. */
  private refund(run: AgentRun): void {
    const principal = this.principals.get(run);
    if (principal === undefined) return;
    this.principals.delete(run);
    const left = (this.perPrincipal.get(principal) ?? 1) - 1;
    if (left > 0) this.perPrincipal.set(principal, left);
    else this.perPrincipal.delete(principal);
  }

  private next(runs: SessionRuns, finished: AgentRun): void {
    this.refund(finished);
    if (runs.current !== finished) return;
    runs.current = runs.queue.shift();
    if (runs.current) void this.execute(runs, runs.current);
    else this.sessions.delete(finished.sessionId);
    for (const check of [...this.settled]) check();
  }

  /** Stream events go to the history and to the session, minus connections that resume on their own. */
  private publisher(run: AgentRun): Emit {
    const { streams } = this.deps.state;
    return (type, data) => {
      const event = serverEvent(type, data) as WireEvent;
      streams.append(run, { type, payload: event as never });
      metrics.published(run, type);
      if (type === "state_update") this.deps.fanout.toUpdateFollowers(run, event);
      else this.deps.fanout.toSession(run.sessionId, event, run);
    };
  }

  /** A queued run that never started still gets its `cancelled`, so its sender is not left waiting. */
  private announceCancelled(run: AgentRun, reason: string): void {
    this.refund(run);
    this.deps.fanout.toSession(
      run.sessionId,
      serverEvent("cancelled", { message_id: run.messageId, partial_content: "", reason }),
    );
  }
}
