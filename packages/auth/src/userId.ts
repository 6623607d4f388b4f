/**
 * Internal: user ID validation for F1.5 (`additional_creators`) and F11.3 (`users` keys), following
 * APP › User Identifiers with the historical localpart grammar that servers must accept over
 * federation (checklist D7). The grammar itself lives in `@roomgraph/events` (`isValidUserId`),
 * the same check PDU parsing applies to `sender`.
 *
 * @module
 */
import { isValidUserId } from '@roomgraph/events';

/** Whether `id` is a syntactically valid user ID (historical grammar, at most 255 bytes). */
export function isUserId(id: string): boolean {
  return isValidUserId(id);
}
