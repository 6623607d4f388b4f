/**
 * Check 3 on receipt of a PDU: the content hash (Server-Server API › Checks performed on receipt
 * of a PDU; › Validating hashes and signatures on received events): an event whose content hash
 * does not match is not dropped but redacted, and processing goes on with the redacted event.
 *
 * @module
 */
import { type Pdu, type RoomEvent, checkContentHash, redact, toRoomEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';

/** The event to process after the content hash check (`trusted`: the check is skipped). */
export function applyContentHash(pdu: Pdu, rules: RoomVersionRules, trusted: boolean): { readonly event: RoomEvent; readonly redactedOnReceipt: boolean } {
  if (trusted || checkContentHash(pdu.json, rules)) return { event: pdu, redactedOnReceipt: false };
  return { event: toRoomEvent(redact(pdu.json, rules), rules, pdu.eventId), redactedOnReceipt: true };
}
