/**
 * Auth events selection (Server-Server API › Auth events selection; checklist I5/F3.2): which
 * (type, state_key) pairs of the room state may give an event's sender permission to send it.
 *
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { StateLookup } from './view.js';

/** The fields of an event that auth events selection reads. */
export interface AuthSelectionInput {
  /** The event type. */
  readonly type: string;
  /** The state key (`undefined` for non-state events). */
  readonly stateKey: string | undefined;
  /** The sender's user ID. */
  readonly sender: string;
  /** The content. */
  readonly content: JsonObject;
}

function obj(v: JsonValue | undefined): JsonObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

/**
 * The (type, state_key) pairs the auth events of `event` may have, in the spec's order; empty for
 * `m.room.create`. The `m.room.create` pair is included only where the room version puts the
 * create event in `auth_events` (not v12), unless `options.includeCreate` is set: callers that
 * look the pairs up in a room state to *check* an event (state resolution's iterative auth checks,
 * the soft-fail check against current state) need the create event in every version, as Synapse's
 * `auth_types_for_event` always includes it.
 */
export function authEventTypes(
  event: AuthSelectionInput,
  rules: RoomVersionRules,
  options?: { readonly includeCreate?: boolean },
): Array<readonly [type: string, stateKey: string]> {
  if (event.type === 'm.room.create') return [];
  const out: Array<readonly [string, string]> = [];
  if (rules.eventFormat.createEventInAuthEvents || options?.includeCreate === true) out.push(['m.room.create', '']);
  out.push(['m.room.power_levels', '']);
  out.push(['m.room.member', event.sender]);
  if (event.type === 'm.room.member' && event.stateKey !== undefined) {
    if (event.stateKey !== event.sender) out.push(['m.room.member', event.stateKey]);
    const membership = event.content['membership'];
    if (membership === 'join' || membership === 'invite' || membership === 'knock') {
      out.push(['m.room.join_rules', '']);
    }
    if (membership === 'invite') {
      const tpi = obj(event.content['third_party_invite']);
      const token = obj(tpi?.['signed'])?.['token'];
      if (typeof token === 'string') out.push(['m.room.third_party_invite', token]);
    }
    if (membership === 'join' && rules.authorization.restrictedJoinRule) {
      const via = event.content['join_authorised_via_users_server'];
      if (typeof via === 'string' && via !== event.sender && via !== event.stateKey) out.push(['m.room.member', via]);
    }
  }
  return out;
}

/**
 * Selects the `auth_events` of a new event from the room state (Server-Server API › Auth events
 * selection; checklist I5): the IDs of the state events at the pairs {@link authEventTypes} lists
 * that exist in `state`, in that order, without duplicates. Empty for `m.room.create`.
 *
 * @param event - the new event's type, state key, sender and content.
 * @param state - the room state the event is sent against (usually the current state).
 */
export function selectAuthEvents<E extends { readonly eventId: string }>(
  event: AuthSelectionInput,
  state: StateLookup<E>,
  rules: RoomVersionRules,
): string[] {
  const out: string[] = [];
  for (const [type, stateKey] of authEventTypes(event, rules)) {
    const e = state.get(type, stateKey);
    if (e !== undefined && !out.includes(e.eventId)) out.push(e.eventId);
  }
  return out;
}
