/**
 * The receipt pipeline for one parsed PDU, inside its room's lock (Server-Server API › Checks
 * performed on receipt of a PDU). The steps, in the spec's order, each in its own module:
 *
 * 1. format — `identify.ts` (before the pipeline: it finds the room and parses the PDU);
 * 2. signatures — `signatures.ts` (else dropped);
 * 3. content hash — `content-hash.ts` (else redacted);
 * 4. auth against the auth events — `auth-events.ts` (else rejected; missing ones fetched, else parked);
 * 5. auth against the state before — `state-before.ts` (else rejected; missing prev events
 *    fetched with `get_missing_events` / `state_ids`, else parked);
 * 6. auth against the current state — `soft-fail.ts` (else soft-failed);
 *
 * then `commit.ts` (one atomic commit; `extremities.ts`). Outliers stop after step 4
 * (`outliers.ts`); a stored outlier delivered normally is promoted through steps 2–6.
 *
 * @module
 */
import type { StoredEvent } from '@roomgraph/store';
import type { EngineContext, ProcessRequest } from '../context.js';
import { fetchMissingEvents } from '../missing/get-missing-events.js';
import { isPromotableOutlier } from '../stored.js';
import type { PduOutcome } from '../types.js';
import { checkAuthEvents } from './auth-events.js';
import { commitEvent } from './commit.js';
import { applyContentHash } from './content-hash.js';
import { type Verdict, dropped, outcomeOf } from './outcome.js';
import { canPromote, promoteOutlierAncestors, storeOutlier } from './outliers.js';
import { checkStateBefore, computeStateBefore } from './state-before.js';
import { checkSignatures } from './signatures.js';
import { checkSoftFail } from './soft-fail.js';

/** Runs the receipt checks on one parsed PDU and stores the outcome (never throws for bad input). */
export async function processPdu(ctx: EngineContext, req: ProcessRequest): Promise<PduOutcome> {
  const { store } = ctx;
  const { pdu, rules, roomId, origin, nesting } = req;
  const asOutlier = req.asOutlier === true;
  const backfilled = req.backfilled === true;
  const id = pdu.eventId;
  const existing = await store.getEvent(id);
  // A stored event is a duplicate — unless it is an outlier that now arrives through normal
  // receipt with its state known: it is then "de-outliered" (as Synapse does): run through the
  // whole pipeline and committed as a promotion (the store replaces the outlier record).
  if (existing !== undefined && (asOutlier || !(await canPromote(ctx, existing, pdu, roomId, req.knownStateBefore !== undefined, backfilled)))) {
    return outcomeOf(existing, true);
  }

  // Step 2: signatures. Failing → dropped. A trusted import (the embedder's own data) skips this
  // and the content hash check.
  if (req.trusted !== true) {
    const sig = await checkSignatures(ctx, pdu, rules, req.sig);
    if (sig.status !== 'ok') {
      // A badly signed copy of a stored outlier does not promote it.
      if (existing !== undefined) return outcomeOf(existing, true);
      return dropped(`signature.${sig.status}`, sig.message, id);
    }
  }

  // Step 3: content hash. On mismatch, continue with the redacted event.
  const { event, redactedOnReceipt } = applyContentHash(pdu, rules, req.trusted === true);

  let room = await store.getRoom(roomId);
  const isCreate = event.type === 'm.room.create' && event.stateKey === '';
  if (room === undefined && !isCreate) return dropped('unknown_room', 'room not known', id);

  // Prev events stored as outliers are promoted first where their own prev events have state
  // (no network needed: their stored JSON was checked when they were stored).
  const prevStored = new Map<string, StoredEvent>(await store.getEvents(event.prevEvents));
  if (!asOutlier && req.knownStateBefore === undefined && room !== undefined && [...prevStored.values()].some(isPromotableOutlier)) {
    await promoteOutlierAncestors(ctx, origin, roomId, rules, event.prevEvents, nesting, backfilled);
    for (const [k, v] of await store.getEvents(event.prevEvents)) prevStored.set(k, v);
    // Promotions moved the extremities and the current state.
    room = await store.getRoom(roomId);
  }
  // Missing prev events next (get_missing_events; prev events still outliers count as missing,
  // and are promoted when the answer includes them). Fetching auth events first would store
  // events that are also prev events as outliers (they would be promoted later, but at a cost).
  const isMissingPrev = (p: string): boolean => { const e = prevStored.get(p); return e === undefined || e.status === 'outlier'; };
  let missingPrev = asOutlier || req.knownStateBefore !== undefined ? [] : event.prevEvents.filter(isMissingPrev);
  if (missingPrev.length > 0 && room !== undefined) {
    await fetchMissingEvents(ctx, origin, roomId, rules, event, room, nesting);
    for (const [k, v] of await store.getEvents(event.prevEvents)) prevStored.set(k, v);
    // The fetched events moved the extremities and the current state: the soft-fail check and
    // the new extremities must start from the room as it is now.
    room = await store.getRoom(roomId);
    missingPrev = event.prevEvents.filter(isMissingPrev);
  }

  // Step 4: auth against the event's auth events (fetched as outliers if not stored).
  const authCheck = await checkAuthEvents(ctx, req, event, room);
  if (authCheck.parked !== undefined) return authCheck.parked;
  let rejection: Verdict | undefined = authCheck.rejection;
  const { serverKeys } = authCheck;

  // Outliers stop here. A create event of a room that has one is stored as a rejected outlier —
  // except a backfilled copy of the room's own create event, stored as an outlier: promoted below.
  const promotingCreate = isCreate && backfilled && existing !== undefined && room !== undefined && room.createEventId === id;
  if (asOutlier || (isCreate && room !== undefined && !promotingCreate)) {
    if (isCreate && room !== undefined && !asOutlier) rejection ??= { rule: 'create.duplicate', reason: 'the room already has a create event' };
    return storeOutlier(ctx, req, event, room, rejection, redactedOnReceipt);
  }

  // A rejected create event of a room not known yet creates nothing (as for outliers above): had
  // it been stored, it would claim the room ID, and the room's real create would then be a
  // duplicate (a server forging a create for another server's room ID, delivered first, would
  // empty that room).
  if (isCreate && room === undefined && rejection !== undefined) return { eventId: id, status: 'rejected', rule: rejection.rule, reason: rejection.reason };

  // Step 5: the state before the event, and auth against it.
  const before = await computeStateBefore(ctx, req, event, isCreate, prevStored, missingPrev, room);
  if ('status' in before) return before;
  if (rejection === undefined && !isCreate) rejection = await checkStateBefore(ctx, rules, before, event, serverKeys);

  // Step 6: soft failure against the current state.
  let softFail: Verdict | undefined;
  if (rejection === undefined && room !== undefined && room.currentState !== undefined && !isCreate && req.local !== true && !backfilled) {
    softFail = await checkSoftFail(ctx, roomId, rules, room, event, before, missingPrev.length > 0, serverKeys);
  }

  const status = rejection !== undefined ? 'rejected' : softFail !== undefined ? 'soft-failed' : 'accepted';
  if (req.local === true && rejection !== undefined) return { eventId: id, status: 'rejected', rule: rejection.rule, reason: rejection.reason };
  return commitEvent(ctx, { roomId, rules, event, status, rejection: rejection ?? softFail, before, room, redactedOnReceipt, backfilled });
}
