import type { BroadcastOptions } from "socket.io-adapter";
import type { Logger } from "../../core/logger.js";
import type { PeerGroups } from "../../cluster/peer-groups.js";
import type { BroadcastTarget, Bus, GroupMembership, WireEvent } from "../../sessions/fanout.js";
import type { GatewayServer } from "./types.js";

/**
 * Delivers a broadcast to this node's members that are not Socket.IO
 * sockets (plain WebSocket connections): `frame` is the event's JSON,
 * encoded once for all of them.
 */
export type OtherMembersDelivery = (ids: Iterable<string>, frame: string) => void;

/** Hands one connection of a dialect the native event, which it translates and sends itself. */
export type TranslatedDelivery = (event: WireEvent) => void;

/** The parts of socket.io-adapter's in-memory Adapter the hook below relies on. */
interface AdapterInternals {
  _encode(packet: { type: number; data?: unknown[] }, packetOpts: object): unknown;
  apply(opts: BroadcastOptions, callback: (socket: unknown) => void): void;
}

const EVENT_PACKET = 2;

/**
 * Socket.IO's adapter as the one bus of the gateway, for both transports.
 *
 * Plain WebSocket connections are members of the adapter's rooms (under
 * their own ids), so the Redis or cluster adapter knows this node has
 * members of a group and forwards its broadcasts here. Every broadcast,
 * emitted on this node or arriving from a peer, runs the base Adapter's
 * `broadcast`, which calls `this._encode(packet)` then `this.apply(opts)`;
 * the peers' path calls `super.broadcast`, so an override of `broadcast`
 * itself would miss it (docs/cluster.md). Both are wrapped on this one
 * adapter instance: after Socket.IO's own delivery, the other members of
 * `opts.rooms` minus `opts.except` get the event too.
 *
 * Connections of a compatibility dialect, of either transport, are skipped
 * by that shared encoding and handed the native event to translate for
 * themselves; native connections keep the encode-once path.
 */
export class SocketIoBus implements Bus {
  private deliverOthers: OtherMembersDelivery | undefined;
  private readonly others = new Set<string>();
  /** Connections of a dialect (either transport), each fed the native event to translate for itself. */
  private readonly translated = new Map<string, TranslatedDelivery>();
  private extended = false;
  /** Set in a cluster: which session groups have members elsewhere (src/cluster/peer-groups.ts). */
  private peerGroups: PeerGroups | undefined;

  constructor(
    private readonly io: GatewayServer,
    private readonly log: Logger,
  ) {}

  /** From now on, a broadcast to sessions with no member on another node stays on this one. */
  keepLocalBroadcasts(peerGroups: PeerGroups): void {
    this.peerGroups = peerGroups;
  }

  broadcast({ groups, except = [], local = false }: BroadcastTarget, event: WireEvent): void {
    let operator = this.io.except(except);
    if (groups.length > 0) operator = operator.to(groups);
    if (local || this.peerGroups?.keepsLocal(groups)) operator = operator.local;
    operator.emit(event.type, event);
  }

  memberArriving(group: string): Promise<void> {
    return this.peerGroups?.arriving(group) ?? Promise.resolve();
  }

  askPeers(name: string, request: unknown, timeoutMs: number): Promise<unknown[]> {
    return new Promise((resolve) => {
      // The adapter never answers when Redis is down (it swallows the error): a timer of our own.
      const timer = setTimeout(() => resolve([]), timeoutMs);
      this.io.serverSideEmit(name, request, (error: Error | null, replies: unknown[]) => {
        clearTimeout(timer);
        // After the adapter's own timeout (a node died mid-request) the replies that came still count.
        if (error) this.log.warn("not every node answered", { request: name, error });
        resolve(replies ?? []);
      });
    });
  }

  answerPeers(name: string, answer: (request: unknown) => unknown): void {
    this.io.on(name, (request, reply) => reply(answer(request)));
  }

  /**
   * Lets members that are not Socket.IO sockets join the adapter's rooms and
   * receive its broadcasts. Called once the adapter is final (io.adapter()).
   */
  acceptOtherMembers(deliver: OtherMembersDelivery): GroupMembership {
    const adapter = this.io.of("/").adapter;
    this.extendBroadcast();
    this.deliverOthers = deliver;
    const others = this.others;
    return {
      join(id, group) {
        others.add(id);
        void adapter.addAll(id, new Set([group]));
      },
      leave(id, group) {
        void adapter.del(id, group);
      },
      has: (id, group) => adapter.sids.get(id)?.has(group) ?? false,
      leaveAll(id) {
        others.delete(id);
        void adapter.delAll(id);
      },
    };
  }

  translateFor(connectionId: string, deliver: TranslatedDelivery): () => void {
    this.extendBroadcast();
    this.translated.set(connectionId, deliver);
    return () => this.translated.delete(connectionId);
  }

  /**
   * Wraps `_encode` and `apply` on this one adapter instance (see the class
   * comment); once, whoever asks first, after the adapter is final.
   */
  private extendBroadcast(): void {
    if (this.extended) return;
    this.extended = true;
    const adapter = this.io.of("/").adapter;
    const internals = adapter as unknown as AdapterInternals;
    if (typeof internals._encode !== "function" || typeof internals.apply !== "function") {
      throw new Error("socket.io-adapter changed: its broadcast can no longer be extended");
    }
    const encode = internals._encode.bind(adapter);
    const apply = internals.apply.bind(adapter);
    const translated = this.translated;
    let pending: { type: number; data?: unknown[] } | undefined;
    internals._encode = (packet, packetOpts) => {
      pending = packet;
      return encode(packet, packetOpts);
    };
    internals.apply = (opts, callback) => {
      const packet = pending;
      pending = undefined;
      const isEvent = packet?.type === EVENT_PACKET;
      // Dialect sockets must not get the frame encoded for the native ones: they get their own below.
      const native =
        isEvent && translated.size > 0
          ? (socket: unknown) => {
              if (!translated.has((socket as { id: string }).id)) callback(socket);
            }
          : callback;
      apply(opts, native);
      if (isEvent && (this.others.size > 0 || translated.size > 0)) this.deliver(opts, packet.data);
    };
  }

  private deliver(opts: BroadcastOptions, data: unknown[] | undefined): void {
    const rooms = this.io.of("/").adapter.rooms;
    const isMember = (id: string) => this.others.has(id) || this.translated.has(id);
    const excluded = new Set<string>();
    for (const room of opts.except ?? []) {
      for (const id of rooms.get(room) ?? []) if (isMember(id)) excluded.add(id);
    }
    const ids = new Set<string>();
    if (opts.rooms.size === 0) {
      for (const id of [...this.others, ...this.translated.keys()])
        if (!excluded.has(id)) ids.add(id);
    } else {
      for (const room of opts.rooms) {
        for (const id of rooms.get(room) ?? []) if (isMember(id) && !excluded.has(id)) ids.add(id);
      }
    }
    if (ids.size === 0) return;
    const [type, event] = data ?? [];
    const wire = (
      typeof event === "object" && event !== null ? { type, ...event } : { type }
    ) as WireEvent;
    // Without dialect connections on this node, the native members are all there is to serve.
    let natives: Set<string> | string[] = ids;
    if (this.translated.size > 0) {
      natives = [];
      for (const id of ids) {
        const translate = this.translated.get(id);
        if (translate) translate(wire);
        else natives.push(id);
      }
    }
    // Encoded once for every native plain WebSocket member.
    const count = Array.isArray(natives) ? natives.length : natives.size;
    if (count > 0 && this.deliverOthers) this.deliverOthers(natives, JSON.stringify(wire));
  }
}
