/**
 * Committing a checked event (Server-Server API › Checks performed on receipt of a PDU: the
 * outcome is stored; › Room State): one atomic store commit holds the event with its status and
 * rejection, the snapshot of the state before it (and after it, where that is the new current
 * state or a state event), the new forward extremities and the new current state (the resolution
 * of the states after the extremities). Notifications for it are queued in the outbox.
 *
 * @module
 */
import { compareCodePoints } from '@roomgraph/canonical-json';
import { type RoomEvent, splitStateKey, stateKeyOf } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { EventStatus, RoomInfo } from '@roomgraph/store';
import type { EngineContext } from '../context.js';
import { stateAfter } from '../state/after.js';
import { type ResolutionInfo, resolveStates, stateSetKey } from '../state/resolve.js';
import { type VState, SnapshotPlan, rebase, sameVState, stored, withEntry } from '../state/vstate.js';
import type { PduOutcome, StateChange } from '../types.js';
import { newExtremities } from './extremities.js';
import { type Verdict, outcomeOf } from './outcome.js';
import { settleInvite } from '../join/pending-invites.js';

/** A resolved current state's overlay larger than this is tried as a change of the previous current state. */
const REBASE_MIN_OVERLAY = 16;

/** What {@link commitEvent} stores. */
export interface CommitInput {
  readonly roomId: string;
  readonly rules: RoomVersionRules;
  readonly event: RoomEvent;
  readonly status: EventStatus;
  readonly rejection: Verdict | undefined;
  /** The state before the event. */
  readonly before: VState;
  /** The room as it was read (`undefined` for the create event). */
  readonly room: RoomInfo | undefined;
  readonly redactedOnReceipt: boolean;
  /** Backfilled: the extremities and current state stay as they are. */
  readonly backfilled: boolean;
}

/** Stores the event, its state, the extremities and the current state in one commit. */
export async function commitEvent(ctx: EngineContext, input: CommitInput): Promise<PduOutcome> {
  const { store } = ctx;
  const { roomId, rules, event, status, rejection, before, room, redactedOnReceipt, backfilled } = input;
  const plan = new SnapshotPlan();
  const beforeRef = plan.ref(before);
  const isState = event.stateKey !== undefined;
  const after: VState = isState && status !== 'rejected' ? withEntry(before, stateKeyOf(event.type, event.stateKey as string), event.eventId) : before;
  const extremities = backfilled && room !== undefined ? undefined : await newExtremities(ctx, room, event, status);
  let currentRef: ReturnType<SnapshotPlan['ref']> | undefined;
  let afterRef: ReturnType<SnapshotPlan['ref']> | undefined;
  let newCurrent: VState | undefined;
  let currentKey: string | undefined; // the states the new current state was resolved from
  if (extremities !== undefined) {
    const others = extremities.filter((x) => x !== event.eventId);
    if (others.length === 0) {
      newCurrent = after;
    } else {
      const got = await store.getEvents(others);
      const states: VState[] = [after];
      for (const x of others) {
        const e = got.get(x);
        if (e !== undefined) states.push(stateAfter(ctx, e));
      }
      // The same states as those the room's current state was resolved from (an event on one of
      // several extremities that leaves the states as they were: a message, in a room that stays
      // forked): that current state, without resolving again or writing another snapshot of it.
      currentKey = stateSetKey(states);
      const memo = ctx.caches.resolution.peek(roomId)?.current;
      if (memo !== undefined && memo.key === currentKey && room?.currentState === memo.snapshot) {
        newCurrent = stored(memo.snapshot);
      } else {
        const info: ResolutionInfo = { complete: true };
        newCurrent = await resolveStates(ctx, roomId, rules, states, event, info);
        if (!info.complete) currentKey = undefined; // (an event left out may arrive: not remembered)
        // Written as a change of the previous current state where that is smaller: resolved over
        // many extremities it differs from the new event's state by every other branch's changes,
        // from the previous current state by about the event's own (a snapshot that size per
        // event, not one growing with the branches).
        const previous = room?.currentState;
        if (previous !== undefined && newCurrent.overlay.size > REBASE_MIN_OVERLAY) {
          const rebased = await rebase(store, newCurrent, previous);
          if (rebased.overlay.size < newCurrent.overlay.size) newCurrent = rebased;
        }
      }
    }
    if (isState && sameVState(newCurrent, after)) {
      afterRef = plan.ref(after);
      currentRef = afterRef;
    } else {
      currentRef = plan.ref(newCurrent);
      if (isState && status !== 'rejected') afterRef = plan.ref(after);
    }
  }
  const oldCurrent = room?.currentState;
  const res = await store.commit({
    roomId,
    ...(room === undefined ? { createRoom: { roomVersion: rules.id, createEventId: event.eventId } } : {}),
    event: { event, status, ...(rejection !== undefined ? { rejection } : {}), stateBefore: beforeRef },
    snapshots: plan.snapshots,
    ...(extremities !== undefined ? { forwardExtremities: extremities } : {}),
    ...(currentRef !== undefined ? { currentState: currentRef } : {}),
  }, { durable: false });
  if (afterRef !== undefined) {
    const sid = typeof afterRef === 'number' ? afterRef : res.snapshots.get(afterRef.ref);
    if (sid !== undefined) ctx.caches.stateAfter.set(event.eventId, sid);
  }
  // A promoted outlier may be in the room's resolution cache, loaded while it was an outlier.
  if (res.promoted) ctx.caches.settled(roomId, event.eventId, res.event.status === 'rejected');
  else if (currentKey !== undefined && !res.duplicate && res.room.currentState !== undefined) ctx.caches.resolvedCurrent(roomId, currentKey, res.room.currentState);
  const outcome: PduOutcome = { ...outcomeOf(res.event, res.duplicate, redactedOnReceipt), ...(res.promoted ? { promoted: true } : {}) };
  const settling = !res.duplicate && outcome.status === 'accepted' ? settleInvite(ctx, roomId, event.json) : undefined;
  if (settling !== undefined) await settling;
  if (!res.duplicate) await notifyCommitted(ctx, roomId, event.json, outcome, extremities !== undefined, res.room, oldCurrent);
  return outcome;
}

/**
 * Queues the notifications of one committed (not duplicate) event, in order: the event with its
 * outcome, the forward extremities where the commit moved them, and the current state's changes
 * where it changed (read only when someone listens), keys in code point order.
 */
export function notifyCommitted(
  ctx: EngineContext, roomId: string, json: RoomEvent['json'], outcome: PduOutcome, extremitiesMoved: boolean,
  room: RoomInfo, oldCurrent: RoomInfo['currentState'],
): Promise<void> | undefined {
  // Nobody listening: nothing is queued, so nothing is built (an import of many events), and no
  // promise is made.
  if (!ctx.outbox.listening) return undefined;
  return notifyListening(ctx, roomId, json, outcome, extremitiesMoved, room, oldCurrent);
}

/** {@link notifyCommitted} where someone listens. */
async function notifyListening(
  ctx: EngineContext, roomId: string, json: RoomEvent['json'], outcome: PduOutcome, extremitiesMoved: boolean,
  room: RoomInfo, oldCurrent: RoomInfo['currentState'],
): Promise<void> {
  const { outbox, store } = ctx;
  outbox.emit({ kind: 'event', roomId, eventId: outcome.eventId, status: outcome.status, ...(outcome.rule !== undefined ? { rule: outcome.rule } : {}), event: json });
  if (extremitiesMoved) outbox.emit({ kind: 'extremities', roomId, forwardExtremities: room.forwardExtremities });
  if (room.currentState === oldCurrent || room.currentState === undefined) return;
  const changed: StateChange[] = [];
  const change = (k: string, from: string | undefined, to: string | undefined): void => {
    const [type, stateKey] = splitStateKey(k);
    changed.push({ type, stateKey, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
  };
  if (oldCurrent === undefined) {
    for (const [k, v] of await store.loadState(room.currentState)) change(k, undefined, v);
  } else {
    for (const [k, [a, b]] of await store.diffStates(oldCurrent, room.currentState)) change(k, a, b);
  }
  changed.sort((x, y) => compareCodePoints(x.type, y.type) || compareCodePoints(x.stateKey, y.stateKey));
  if (changed.length > 0) outbox.emit({ kind: 'state', roomId, changed });
}
