/**
 * Receiving pushed PDUs (Server-Server API › Transactions, `PUT /send/{txnId}`): each PDU goes
 * through the receipt checks as if from `origin`; the answer has a result per event, an error for
 * dropped, rejected or parked events. Server-Server API › Server Access Control Lists: the ACL of
 * each PDU's room is applied to `origin` per PDU — a denied PDU is ignored, with an error in its
 * result.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { parsePdu } from '@roomgraph/events';
import type { EngineContext } from '../context.js';
import type { PduOutcome } from '../types.js';
import { aclAllows } from './acl.js';

/** `PUT /send/{txnId}`: per-event results (`receive` is the engine's durable `receivePdus`). */
export async function onReceivePdus(
  ctx: EngineContext, origin: string, pdus: readonly JsonObject[],
  receive: (origin: string, pdus: readonly unknown[]) => Promise<PduOutcome[]>,
): Promise<Readonly<Record<string, { readonly error?: string }>>> {
  await ctx.outbox.ready();
  const res: Record<string, { error?: string }> = {};
  const allowed: JsonObject[] = [];
  const denied = new Map<string, boolean>();
  for (const pdu of pdus) {
    const roomId = pdu['room_id'];
    if (typeof roomId !== 'string') { allowed.push(pdu); continue; }
    let ok = denied.get(roomId);
    if (ok === undefined) { ok = await aclAllows(ctx, roomId, origin); denied.set(roomId, ok); }
    if (ok) { allowed.push(pdu); continue; }
    // Ignored: named in the answer when its ID can be computed in the room's version.
    const room = await ctx.store.getRoom(roomId);
    try {
      if (room !== undefined) res[parsePdu(pdu, ctx.versions.get(room.roomVersion)).eventId] = { error: `M_FORBIDDEN: ${origin} is denied by the server ACL of ${roomId}` };
    } catch { /* unparsable: nothing to name */ }
  }
  for (const o of await receive(origin, allowed)) {
    if (o.eventId === '') continue;
    res[o.eventId] = o.status === 'accepted' || o.status === 'soft-failed' || o.status === 'outlier' ? {} : { error: `${o.status}: ${o.rule ?? ''} ${o.reason ?? ''}`.trim() };
  }
  return res;
}
