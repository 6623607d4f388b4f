/**
 * Receiving pushed PDUs (Server-Server API › Transactions, `PUT /send/{txnId}`): each PDU goes
 * through the receipt checks as if from `origin`; the answer has a result per event, an error for
 * dropped, rejected or parked events.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import type { EngineContext } from '../context.js';
import type { PduOutcome } from '../types.js';

/** `PUT /send/{txnId}`: per-event results (`receive` is the engine's durable `receivePdus`). */
export async function onReceivePdus(
  _ctx: EngineContext, origin: string, pdus: readonly JsonObject[],
  receive: (origin: string, pdus: readonly unknown[]) => Promise<PduOutcome[]>,
): Promise<Readonly<Record<string, { readonly error?: string }>>> {
  const res: Record<string, { error?: string }> = {};
  for (const o of await receive(origin, pdus)) {
    if (o.eventId === '') continue;
    res[o.eventId] = o.status === 'accepted' || o.status === 'soft-failed' || o.status === 'outlier' ? {} : { error: `${o.status}: ${o.rule ?? ''} ${o.reason ?? ''}`.trim() };
  }
  return res;
}
