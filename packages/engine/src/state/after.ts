/**
 * The state after an event (Server-Server API › Room State; spec glossary "state after"): the
 * state before it plus the event itself when it is a state event that was not rejected. Read from
 * the snapshot written with the event where there is one (cached), else derived.
 *
 * @module
 */
import { stateKeyOf } from '@roomgraph/events';
import type { StoredEvent } from '@roomgraph/store';
import type { EngineContext } from '../context.js';
import { isRejectedStatus } from '../stored.js';
import { type VState, stored, withEntry } from './vstate.js';

/** The state after a stored (non-outlier) event. */
export function stateAfter(ctx: EngineContext, e: StoredEvent): VState {
  const cached = ctx.caches.stateAfter.get(e.eventId);
  if (cached !== undefined) return stored(cached);
  const before = stored(e.stateBefore ?? null);
  if (e.stateKey === undefined || isRejectedStatus(e)) return before;
  return withEntry(before, stateKeyOf(e.type, e.stateKey), e.eventId);
}
