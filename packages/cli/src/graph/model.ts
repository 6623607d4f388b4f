/**
 * The picture model of a room DAG, read from a store: events (with status, state-ness, forward
 * extremity), `prev_events` edges, and the conflicts state resolution settled at each merge event
 * (an event with several `prev_events`: Server-Server API › Room State Resolution — the state
 * before it is the resolution of the states after its prev events).
 * @packageDocumentation
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { splitStateKey, stateKeyOf } from '@roomgraph/events';
import type { EventStatus, RoomInfo, RoomStore, StoredEvent } from '@roomgraph/store';
import { CliError } from '../framework.js';

/** One drawn event. */
export interface GraphNode {
  /** The event ID. */
  readonly id: string;
  /** The event type. */
  readonly type: string;
  /** The state key, for state events. */
  readonly stateKey: string | undefined;
  /** The sender. */
  readonly sender: string;
  /** The engine's verdict. */
  readonly status: EventStatus;
  /** The rule that rejected or soft-failed it. */
  readonly rule: string | undefined;
  /** The reason given with the rule. */
  readonly reason: string | undefined;
  /** `depth` of the event. */
  readonly depth: number;
  /** Stream (receipt) position. */
  readonly stream: number;
  /** Whether it is a forward extremity of the room. */
  readonly extremity: boolean;
  /** Set when the event is a merge whose state before it resolved conflicts. */
  readonly resolution: readonly ResolvedConflict[] | undefined;
  /** Set when the event took part in a drawn conflict: it won (is in the merged state) or lost. */
  readonly conflict: 'won' | 'lost' | undefined;
  /** The stored PDU JSON (for the HTML page). */
  readonly json: JsonObject;
}

/**
 * One state key changed concurrently on the branches a merge event joins, and what resolution
 * kept. Only concurrent changes are listed: a branch value that is an ancestor of another branch's
 * value (one branch simply has the newer change) is in the spec's conflicted set but is not drawn
 * as a conflict.
 */
export interface ResolvedConflict {
  /** The event type of the key. */
  readonly type: string;
  /** The state key. */
  readonly stateKey: string;
  /** The concurrent candidate event IDs (none an ancestor of another). */
  readonly candidates: readonly string[];
  /** The event ID in the state before the merge event (`undefined`: the key was removed). */
  readonly winner: string | undefined;
}

/** A drawn DAG. */
export interface RoomGraph {
  /** The room ID. */
  readonly roomId: string;
  /** The room version. */
  readonly roomVersion: string;
  /** Events, in stream order. */
  readonly nodes: readonly GraphNode[];
  /** `prev_events` edges `[event, prev]` between drawn events. */
  readonly edges: readonly (readonly [from: string, to: string])[];
  /** Drawn events whose `prev_events` include events that are not drawn (cut by `--around`), by ID. */
  readonly cut: ReadonlyMap<string, number>;
  /** Events of the room in total. */
  readonly totalEvents: number;
}

/** Options of {@link readRoomGraph}. */
export interface ReadGraphOptions {
  /** Draw only the events within `depth` `prev_events` hops (either direction) of this event. */
  readonly around?: string;
  /** Hops for `around` (default 10). */
  readonly depth?: number;
  /** Refuse to draw more events than this (default 2,000). */
  readonly maxEvents?: number;
}

/**
 * Reads the DAG of `room` from `store`.
 * @throws {@link CliError} `EVENT_NOT_FOUND` for an `around` event not in the room; `GRAPH_TOO_LARGE`
 *   when more than `maxEvents` events would be drawn.
 */
export async function readRoomGraph(store: RoomStore, room: RoomInfo, options: ReadGraphOptions = {}): Promise<RoomGraph> {
  const maxEvents = options.maxEvents ?? 2000;
  // One pass over the room's timeline: the prev/next adjacency of every event (IDs only).
  const prevs = new Map<string, readonly string[]>();
  const depthOf = new Map<string, number>();
  const order: string[] = [];
  let from: number | undefined;
  for (;;) {
    const page = await store.timeline(room.roomId, { limit: 5000, ...(from !== undefined ? { from } : {}) });
    for (const e of page) {
      if (e.status === 'outlier') continue;
      prevs.set(e.eventId, e.prevEvents);
      depthOf.set(e.eventId, e.depth);
      order.push(e.eventId);
    }
    if (page.length < 5000) break;
    from = page[page.length - 1]!.stream + 1;
  }
  let chosen: Set<string>;
  if (options.around !== undefined) {
    if (!prevs.has(options.around)) throw new CliError('EVENT_NOT_FOUND', `event ${options.around} is not in room ${room.roomId}`);
    const next = new Map<string, string[]>();
    for (const [id, ps] of prevs) for (const p of ps) (next.get(p) ?? next.set(p, []).get(p)!).push(id);
    const depth = options.depth ?? 10;
    chosen = new Set([options.around]);
    let frontier = [options.around];
    for (let d = 0; d < depth && frontier.length > 0; d++) {
      const nextFrontier: string[] = [];
      for (const id of frontier) {
        for (const n of [...(prevs.get(id) ?? []), ...(next.get(id) ?? [])]) {
          if (!prevs.has(n) || chosen.has(n)) continue;
          chosen.add(n);
          nextFrontier.push(n);
        }
      }
      frontier = nextFrontier;
      if (chosen.size > maxEvents) break;
    }
  } else {
    chosen = new Set(order);
  }
  if (chosen.size > maxEvents) {
    throw new CliError('GRAPH_TOO_LARGE', `${chosen.size} events to draw (more than --max-events ${maxEvents}); draw part of the room with --around EVENT_ID --depth N, or raise --max-events`);
  }
  const ids = order.filter((id) => chosen.has(id));
  const events = await store.getEvents(ids);
  const extremities = new Set(room.forwardExtremities);

  /** Whether `a` is reachable from `b` through prev_events (depth prunes the walk). */
  const isAncestor = (a: string, b: string): boolean => {
    const da = depthOf.get(a);
    if (da === undefined) return false;
    const seen = new Set<string>([b]);
    const stack = [b];
    while (stack.length > 0) {
      for (const p of prevs.get(stack.pop()!) ?? []) {
        if (p === a) return true;
        if (seen.has(p) || (depthOf.get(p) ?? -1) <= da) continue;
        seen.add(p);
        stack.push(p);
      }
    }
    return false;
  };

  // Conflicts settled at merge events: keys whose values differ between the states after the
  // merge's prev events, and the value the state before the merge holds.
  const resolutions = new Map<string, ResolvedConflict[]>();
  const conflictRole = new Map<string, 'won' | 'lost'>();
  const prevEventsOf = new Map<string, StoredEvent>();
  for (const id of ids) {
    const e = events.get(id)!;
    if (e.prevEvents.length < 2 || e.stateBefore === undefined) continue;
    const ps = await store.getEvents(e.prevEvents);
    for (const [k, v] of ps) prevEventsOf.set(k, v);
    const afters: Map<string, string>[] = [];
    for (const p of e.prevEvents) {
      const pe = ps.get(p);
      if (pe === undefined || pe.stateBefore === undefined) continue;
      const after = new Map(await store.loadState(pe.stateBefore));
      if (pe.stateKey !== undefined && pe.status !== 'rejected') after.set(stateKeyOf(pe.type, pe.stateKey), pe.eventId);
      afters.push(after);
    }
    if (afters.length < 2) continue;
    const before = await store.loadState(e.stateBefore);
    const keys = new Set<string>();
    for (const a of afters) for (const k of a.keys()) keys.add(k);
    const conflicts: ResolvedConflict[] = [];
    for (const k of [...keys].sort()) {
      const values = new Set(afters.map((a) => a.get(k)));
      if (values.size < 2) continue;
      const [type, stateKey] = splitStateKey(k);
      const all = [...values].filter((v): v is string => v !== undefined);
      const candidates = all.filter((c) => !all.some((o) => o !== c && isAncestor(c, o))).sort();
      if (candidates.length < 2) continue;
      const winner = before.get(k);
      conflicts.push({ type, stateKey, candidates, winner });
      for (const c of candidates) if (chosen.has(c)) conflictRole.set(c, c === winner ? 'won' : conflictRole.get(c) === 'won' ? 'won' : 'lost');
    }
    if (conflicts.length > 0) resolutions.set(id, conflicts);
  }

  const nodes: GraphNode[] = ids.map((id) => {
    const e = events.get(id)!;
    return {
      id,
      type: e.type,
      stateKey: e.stateKey,
      sender: typeof e.json['sender'] === 'string' ? e.json['sender'] : '',
      status: e.status,
      rule: e.rejection?.rule,
      reason: e.rejection?.reason,
      depth: e.depth,
      stream: e.stream,
      extremity: extremities.has(id),
      resolution: resolutions.get(id),
      conflict: conflictRole.get(id),
      json: e.json,
    };
  });
  const edges: (readonly [string, string])[] = [];
  const cut = new Map<string, number>();
  for (const id of ids) {
    for (const p of events.get(id)!.prevEvents) {
      if (chosen.has(p)) edges.push([id, p]);
      else cut.set(id, (cut.get(id) ?? 0) + 1);
    }
  }
  return { roomId: room.roomId, roomVersion: room.roomVersion, nodes, edges, cut, totalEvents: order.length };
}

/** A short label for an event type: `m.room.member` → `member`. */
export function shortType(type: string): string {
  return type.startsWith('m.room.') ? type.slice('m.room.'.length) : type;
}

/** A short form of an ID: `$abcdefgh…`. */
export function shortId(id: string, n = 8): string {
  const colon = id.indexOf(':');
  const core = colon > 0 && id.startsWith('$') ? id.slice(0, colon) : id;
  return core.length > n + 1 ? core.slice(0, n + 1) + '…' : core;
}

/** A user ID without its server when short enough: `@u3:b.example` → `@u3`. */
export function shortUser(user: string): string {
  const colon = user.indexOf(':');
  return colon > 0 ? user.slice(0, colon) : user;
}
