/**
 * Outliers: events known without the state before them (spec glossary; Server-Server API ›
 * Checks performed on receipt of a PDU applies checks 1–4 only). They are stored with their
 * status, never in the timeline; a later normal delivery with the state known "de-outliers" them
 * (promotion, as Synapse does in `_process_pulled_event` / `on_receive_pdu`; the spec is silent).
 *
 * @module
 */
import { type Pdu, type RoomEvent, parsePdu, roomIdFromCreateEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { type RoomInfo, type StoredEvent, compareTopological } from '@roomgraph/store';
import type { EngineContext, Nesting, ProcessRequest } from '../context.js';
import { isPromotableOutlier } from '../stored.js';
import type { PduOutcome } from '../types.js';
import { type Verdict, outcomeOf } from './outcome.js';

/**
 * Whether a stored event may be promoted from outlier by this (normal) delivery: it is an
 * outlier that was not rejected, of this room, not a create event, the delivered PDU has the
 * same edges, and its state before is known — given (`knownState`), or all its prev events are
 * stored with state (not outliers).
 */
export async function canPromote(ctx: EngineContext, existing: StoredEvent, pdu: Pdu, roomId: string, knownState: boolean, backfilled = false): Promise<boolean> {
  if (!isPromotableOutlier(existing) || existing.roomId !== roomId) return false;
  // The create event is promoted only by backfill (its state before is empty): elsewhere it
  // arrives as the room's first event, or as an outlier of a joined room.
  if (existing.type === 'm.room.create' && existing.stateKey === '' && !backfilled) return false;
  const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  // v1/v2 event IDs are not hashes: a different event under a known ID is not promoted.
  if (pdu.type !== existing.type || pdu.stateKey !== existing.stateKey || !same(pdu.prevEvents, existing.prevEvents) || !same(pdu.authEvents, existing.authEvents)) return false;
  // Backfilled: the state before comes from the prev events, or the remote's state_ids.
  if (knownState || backfilled) return true;
  if (existing.prevEvents.length === 0) return false;
  const prevs = await ctx.store.getEvents(existing.prevEvents);
  return existing.prevEvents.every((p) => { const e = prevs.get(p); return e !== undefined && e.status !== 'outlier'; });
}

/**
 * Promotes stored outliers among `ids` and their outlier ancestors (through prev_events,
 * bounded by `limits.maxMissingEvents`), oldest first, from their stored JSON: each one whose
 * prev events then all have state goes through the normal pipeline (see {@link canPromote}).
 */
export async function promoteOutlierAncestors(ctx: EngineContext, origin: string, roomId: string, rules: RoomVersionRules, ids: readonly string[], nesting: Nesting, backfilled = false): Promise<void> {
  const max = ctx.limits.maxMissingEvents;
  const found = new Map<string, StoredEvent>();
  let frontier = [...new Set(ids)];
  while (frontier.length > 0 && found.size < max) {
    const got = await ctx.store.getEvents(frontier);
    const next: string[] = [];
    for (const id of frontier) {
      const e = got.get(id);
      if (e === undefined || !isPromotableOutlier(e) || e.roomId !== roomId || found.has(id) || found.size >= max) continue;
      found.set(id, e);
      for (const p of e.prevEvents) if (!found.has(p)) next.push(p);
    }
    frontier = [...new Set(next)];
  }
  const order = [...found.values()].sort(compareTopological);
  for (const e of order) {
    let pdu: Pdu;
    try { pdu = parsePdu(e.json, rules); } catch { continue; }
    if (pdu.eventId !== e.eventId) continue;
    // Ancestors of a backfilled event are backfilled too: they never move the extremities.
    await ctx.process({ origin, pdu, rules, roomId, nesting: nesting + 1, trusted: true, backfilled });
  }
}

/**
 * Stores `event` as an outlier after checks 1–4 (rejected ones remember their rejection). An
 * outlier create event of an unknown room (joining over federation) creates the room, without
 * state or extremities yet; a rejected one creates nothing.
 */
export async function storeOutlier(
  ctx: EngineContext, req: ProcessRequest, event: RoomEvent, room: RoomInfo | undefined,
  rejection: Verdict | undefined, redactedOnReceipt: boolean,
): Promise<PduOutcome> {
  const id = event.eventId;
  if (room === undefined && rejection !== undefined) return { eventId: id, status: 'rejected', rule: rejection.rule, reason: rejection.reason };
  if (room === undefined && event.roomId === undefined && roomIdFromCreateEvent(event.json, req.rules) !== req.roomId) {
    return { eventId: id, status: 'dropped', rule: 'room_id', reason: `the create event is not the one of ${req.roomId}` };
  }
  const res = await ctx.store.commit({
    roomId: req.roomId,
    ...(room === undefined ? { createRoom: { roomVersion: req.rules.id, createEventId: id } } : {}),
    event: { event, status: 'outlier', ...(rejection !== undefined ? { rejection } : {}) },
  }, { durable: false });
  return outcomeOf(res.event, false, redactedOnReceipt);
}
