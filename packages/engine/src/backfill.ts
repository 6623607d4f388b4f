/**
 * Backfilling (Server-Server API › Backfilling and retrieving missing events, `GET
 * /backfill/{roomId}`), the requesting side: where the room's known history ends (its backward
 * extremities), and fetching older events from there. Backfilled events run through the receipt
 * checks oldest first — without the 20 prev / 10 auth event limits, which backfilled events must
 * not be held to — taking their state from their prev events, or from the remote's `state_ids`
 * where those are unknown. They are not soft-fail checked and never move the forward extremities
 * or the current state (as in Synapse); outliers among them are promoted.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { type Pdu, parsePdu, roomIdFromCreateEvent } from '@roomgraph/events';
import { type EngineContext, NESTING_FETCHED } from './context.js';
import { EngineError } from './errors.js';
import { knownRoom } from './queries.js';
import { eventIdOrEmpty } from './receipt/identify.js';
import { byDepthDescThenId, byDepthThenId } from './stored.js';
import type { PduOutcome } from './types.js';

/** Timeline page size when looking for backward extremities. */
const PAGE = 2000;
/** Default and maximum events asked for in one backfill. */
export const DEFAULT_BACKFILL_LIMIT = 50;
export const MAX_BACKFILL_LIMIT = 1000;
/** Starting points sent in one backfill request. */
export const MAX_BACKFILL_FROM = 20;

/**
 * What {@link backwardExtremities} knows of a room (one entry of `EngineCaches.backward`): the
 * prev events its stored (non-outlier) events cite, each with the depth of its deepest citing
 * event, as of the room's stream position `stream`. Events not stored are the backward
 * extremities; each call reads only the events stored since (a promoted or replaced event moves
 * to a new stream position, so it is read again), and drops what it finds stored. So a room's
 * history is read once per process, not at every backfill (1M events read for each call before).
 */
export class BackwardIndex {
  /** Cited prev event → the depth of its deepest citing event. */
  readonly cited = new Map<string, number>();
  /** The room's last stream position read (0: nothing read yet). */
  stream = 0;
}

/**
 * The room's backward extremities: events referenced as `prev_events` by its stored (non-outlier)
 * events but not stored themselves, or stored only as outliers. Deepest referencing events first.
 * Reads the room's events stored since the last call in this process (the whole timeline the
 * first time), and the candidates.
 * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM`.
 */
export async function backwardExtremities(ctx: EngineContext, roomId: string): Promise<string[]> {
  await knownRoom(ctx, roomId);
  let index = ctx.caches.backward.get(roomId);
  if (index === undefined) ctx.caches.backward.set(roomId, (index = new BackwardIndex()));
  const { cited } = index;
  // The events read are stored (and not outliers): a prev event among them, or among the page
  // before (most events cite the one just before them), is not a candidate, and one cited earlier
  // stops being one — so the map holds about the backward extremities, not every prev event of a
  // 1M-event room's first read.
  let before = new Set<string>();
  for (;;) {
    const page = await ctx.store.timeline(roomId, { limit: PAGE, statuses: ['accepted', 'soft-failed', 'rejected'], from: index.stream + 1 });
    const here = new Set<string>();
    for (const e of page) {
      here.add(e.eventId);
      cited.delete(e.eventId);
    }
    for (const e of page) {
      for (const p of e.prevEvents) {
        if (here.has(p) || before.has(p)) continue;
        const d = cited.get(p);
        if (d === undefined || d < e.depth) cited.set(p, e.depth);
      }
      if (e.stream > index.stream) index.stream = e.stream;
    }
    if (page.length < PAGE) break;
    before = here;
  }
  // Candidates stored since as non-outliers are not extremities (and never will be again: an
  // event stored stays stored; an outlier promoted is accepted, soft-failed or rejected).
  const known = await ctx.store.getEvents([...cited.keys()]);
  for (const [id, e] of known) if (e.status !== 'outlier') cited.delete(id);
  return [...cited]
    .map(([eventId, depth]) => ({ eventId, depth }))
    .sort(byDepthDescThenId)
    .map((e) => e.eventId);
}

/**
 * Fetches older history of a room from `via` and processes it (not waiting for durability: the
 * facade wraps it). Returns an outcome per event received, oldest first.
 * @throws {@link EngineError} `ENGINE_INVALID_ARGUMENT` (no transport), `ENGINE_UNKNOWN_ROOM`.
 */
export async function backfill(ctx: EngineContext, roomId: string, via: string, options?: { readonly limit?: number; readonly from?: readonly string[] }): Promise<PduOutcome[]> {
  await ctx.outbox.ready();
  const t = ctx.transport;
  if (t === undefined) throw new EngineError('ENGINE_INVALID_ARGUMENT', 'backfilling needs a transport');
  const room = await ctx.store.getRoom(roomId);
  if (room === undefined) throw new EngineError('ENGINE_UNKNOWN_ROOM', `unknown room ${roomId}`);
  const rules = ctx.versions.get(room.roomVersion);
  const limit = Math.max(1, Math.min(options?.limit ?? DEFAULT_BACKFILL_LIMIT, MAX_BACKFILL_LIMIT));
  const from = (options?.from ?? (await backwardExtremities(ctx, roomId))).slice(0, MAX_BACKFILL_FROM);
  if (from.length === 0) return [];
  const got = await t.backfill(via, roomId, from, limit).catch(() => [] as readonly JsonObject[]);
  const out: PduOutcome[] = [];
  const pdus: Pdu[] = [];
  for (const j of got.slice(0, limit)) {
    try {
      const p = parsePdu(j, rules, { skipReferenceLimits: true });
      if ((p.roomId ?? roomIdFromCreateEvent(p.json, rules)) !== roomId) {
        out.push({ eventId: p.eventId, status: 'dropped', rule: 'room_id', reason: `not an event of ${roomId}` });
        continue;
      }
      pdus.push(p);
    } catch (e) {
      out.push({ eventId: eventIdOrEmpty(j, rules), status: 'dropped', rule: 'format', reason: String((e as Error)?.message ?? e).slice(0, 500) });
    }
  }
  pdus.sort(byDepthThenId);
  await ctx.locks.withRoom(roomId, async () => {
    for (const p of pdus) out.push(await ctx.process({ origin: via, pdu: p, rules, roomId, nesting: NESTING_FETCHED, backfilled: true }));
  });
  return out;
}
