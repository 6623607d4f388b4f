// Authorization rule 3 (the event's `auth_events` list: F3.1–F3.5) against a reference model: the
// rule as the spec words it, with maps and key strings. The implementation scans short lists
// linearly and uses maps for long ones (events parsed without the reference limits); both must give
// the model's outcome — the same rule code and message — for any list: repeated IDs, entries the
// event does not cite, non-state entries, other rooms, rejected entries, lists short and long.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { authEventTypes, stateKeyOf, toRoomEvent, type RoomEvent } from '@roomgraph/events';
import { getRoomVersion, type RoomVersionRules } from '@roomgraph/room-versions';
import type { AuthOptions, AuthResult } from '@roomgraph/auth';
import { checkAuthEventsList } from '../src/rules/auth-events.js';

function model(event: RoomEvent, rules: RoomVersionRules, authEvents: readonly RoomEvent[], isRejected: (id: string) => boolean): AuthResult {
  const byId = new Map<string, RoomEvent>();
  for (const e of authEvents) if (!byId.has(e.eventId)) byId.set(e.eventId, e);
  const listed = [...new Set(event.authEvents)].flatMap((id) => byId.get(id) ?? []);
  const seen = new Set<string>();
  for (const e of listed) {
    const key = stateKeyOf(e.type, e.stateKey ?? '');
    if (e.stateKey !== undefined && seen.has(key)) return { allowed: false, rule: 'auth_events.duplicate', reason: `duplicate auth event for (${e.type}, ${e.stateKey})` };
    seen.add(key);
  }
  const allowed = new Set(authEventTypes(event, rules).map(([t, k]) => stateKeyOf(t, k)));
  const odd = listed.find((e) => e.stateKey === undefined || !allowed.has(stateKeyOf(e.type, e.stateKey)));
  if (odd !== undefined) return { allowed: false, rule: 'auth_events.unexpected', reason: `auth event ${odd.eventId} (${odd.type}, ${String(odd.stateKey)}) is not selected by auth events selection` };
  const rejected = listed.find((e) => isRejected(e.eventId));
  if (rejected !== undefined) return { allowed: false, rule: 'auth_events.rejected', reason: `auth event ${rejected.eventId} was rejected` };
  if (rules.eventFormat.createEventInAuthEvents && !listed.some((e) => e.type === 'm.room.create' && e.stateKey === '')) {
    return { allowed: false, rule: 'auth_events.no_create', reason: 'no m.room.create among the auth events' };
  }
  const elsewhere = listed.find((e) => e.roomId !== event.roomId);
  if (elsewhere !== undefined) return { allowed: false, rule: 'auth_events.wrong_room', reason: `auth event ${elsewhere.eventId} is in room ${String(elsewhere.roomId)}` };
  return { allowed: true };
}

const ids = fc.constantFrom(...Array.from({ length: 24 }, (_, i) => `$e${i}`));
const users = fc.constantFrom('@a:x', '@b:x', '@c:x');
const entry = fc.record({
  id: ids,
  type: fc.constantFrom('m.room.create', 'm.room.power_levels', 'm.room.member', 'm.room.join_rules', 'm.room.third_party_invite', 'm.room.message'),
  stateKey: fc.option(fc.oneof(fc.constant(''), users, fc.constant('tok')), { nil: undefined }),
  room: fc.constantFrom('!r:x', '!r:x', '!r:x', '!other:x'),
});

describe('authorization rule 3 (auth_events list) equals its reference model', () => {
  it('for short and long lists, in every room version', () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.constantFrom('1', '3', '6', '10', '11', '12'),
        fc.record({ type: fc.constantFrom('m.room.member', 'm.room.message'), sender: users, stateKey: users, membership: fc.constantFrom('join', 'invite', 'leave') }),
        fc.array(ids, { maxLength: 40, size: 'max' }),
        fc.array(entry, { maxLength: 40, size: 'max' }),
        fc.array(ids, { maxLength: 3 }),
        fc.option(fc.array(fc.nat(5), { maxLength: 30, size: 'max' }), { nil: undefined }),
        fc.constantFrom('!r:x', '!r:x', '!other:x'),
        (v, ev, citedAny, entriesAny, rejectedIds, padding, plRoom) => {
          const rules = getRoomVersion(v);
          // Mostly arbitrary lists; sometimes a valid list (create, power levels, the sender's
          // member event) padded — long — with repeats, IDs of no entry, and entries not cited.
          const valid = [
            { id: '$e0', type: 'm.room.create', stateKey: '', room: '!r:x' },
            { id: '$e1', type: 'm.room.power_levels', stateKey: '', room: plRoom },
            { id: '$e2', type: 'm.room.member', stateKey: ev.sender, room: '!r:x' },
          ];
          const cited = padding === undefined ? citedAny : ['$e0', '$e1', '$e2', ...padding.map((n) => (n < 3 ? `$e${n}` : `$unknown${n}`))];
          const entries = padding === undefined ? entriesAny : [...valid, ...entriesAny.filter((e) => !cited.includes(e.id)), ...padding.map((n) => ({ ...valid[n % 3]!, type: 'm.room.message' }))];
          const view = (json: JsonObject, id: string): RoomEvent => toRoomEvent(json, rules, id);
          const event = view({
            room_id: '!r:x', type: ev.type, sender: ev.sender, ...(ev.type === 'm.room.member' ? { state_key: ev.stateKey } : {}),
            content: ev.type === 'm.room.member' ? { membership: ev.membership, third_party_invite: { signed: { token: 'tok' } } } : { body: 'x' },
            auth_events: cited, prev_events: [], depth: 1, origin_server_ts: 1,
          }, '$event');
          const authEvents = entries.map((e) => view({
            room_id: e.room, type: e.type, sender: '@a:x', ...(e.stateKey !== undefined ? { state_key: e.stateKey } : {}),
            content: {}, auth_events: [], prev_events: [], depth: 1, origin_server_ts: 1,
          }, e.id));
          const rejected = new Set(rejectedIds);
          const options: AuthOptions = { authEvents, isRejected: (id) => rejected.has(id) };
          const got = checkAuthEventsList(event, rules, authEvents, options);
          expect(got).toEqual(model(event, rules, authEvents, (id) => rejected.has(id)));
          const k = `${got.allowed ? 'allowed' : got.rule}/${cited.length > 16 || entries.length > 16 ? 'long' : 'short'}`;
          outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
        },
      ),
      { numRuns: 3000 },
    );
    // Every outcome was reached, by short lists and by long ones.
    for (const rule of ['allowed', 'auth_events.duplicate', 'auth_events.unexpected', 'auth_events.rejected', 'auth_events.no_create', 'auth_events.wrong_room']) {
      for (const size of ["short", "long"]) expect(outcomes.get(`${rule}/${size}`) ?? 0, `${rule}/${size}`).toBeGreaterThan(0);
    }
  });
});
