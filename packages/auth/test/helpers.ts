/** Test helpers: small rooms built from readable fake IDs. */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { stateLookupOf, toRoomEvent, type RoomEvent } from '@roomgraph/events';
import { getRoomVersion, type RoomVersionRules } from '@roomgraph/room-versions';
import { checkAuth, type AuthOptions, type AuthResult } from '@roomgraph/auth';

/** Every room version. */
export const ALL = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'] as const;
/** Versions `from`…`to` inclusive. */
export const versions = (from: number, to = 12): string[] => ALL.filter((v) => Number(v) >= from && Number(v) <= to);

export const ALICE = '@alice:a.org'; // creator
export const BOB = '@bob:a.org'; // joined, PL 50
export const CAROL = '@carol:b.org'; // joined, PL 0
export const DAVE = '@dave:b.org'; // banned
export const ERIN = '@erin:c.org'; // invited
export const FRANK = '@frank:c.org'; // no membership
export const GRACE = '@grace:b.org'; // knocking (v7+), else left

/** A test room of one version. */
export class Room {
  readonly rules: RoomVersionRules;
  readonly roomId: string;
  readonly createId = '$create';
  private n = 0;
  constructor(readonly version: string) {
    this.rules = getRoomVersion(version);
    this.roomId = this.rules.authorization.roomIdFromCreateEvent ? '!create' : '!room:a.org';
  }
  /** A PDU JSON with defaults. */
  json(type: string, sender: string, content: JsonObject, stateKey?: string, extra: Record<string, JsonValue> = {}): JsonObject {
    const j: Record<string, JsonValue> = {
      event_id: `$e${++this.n}`,
      room_id: this.roomId,
      type,
      sender,
      content,
      origin_server_ts: 1000 + this.n,
      depth: 10,
      prev_events: ['$prev'],
      auth_events: [],
      ...extra,
    };
    if (stateKey !== undefined) j['state_key'] = stateKey;
    return j;
  }
  ev(type: string, sender: string, content: JsonObject, stateKey?: string, extra: Record<string, JsonValue> = {}): RoomEvent {
    const j = this.json(type, sender, content, stateKey, extra);
    return toRoomEvent(j, this.rules, j['event_id'] as string);
  }
  create(content: JsonObject = {}, extra: Record<string, JsonValue> = {}): RoomEvent {
    const c: Record<string, JsonValue> = { room_version: this.version, ...content };
    if (this.rules.authorization.creatorInContent && !('creator' in content)) c['creator'] = ALICE;
    const base: Record<string, JsonValue> = { event_id: this.createId, prev_events: [], ...extra };
    const j: Record<string, JsonValue> = { ...this.json('m.room.create', ALICE, c, '', base) };
    if (this.rules.authorization.roomIdFromCreateEvent && !('room_id' in extra)) delete j['room_id'];
    return toRoomEvent(j, this.rules, j['event_id'] as string);
  }
  member(user: string, membership: JsonValue, sender = user, content: JsonObject = {}, extra: Record<string, JsonValue> = {}): RoomEvent {
    return this.ev('m.room.member', sender, { membership, ...content }, user, extra);
  }
  /** Power levels: alice 100 (omitted in v12 — creators may not be listed), bob 50. */
  pl(content: JsonObject = {}, sender = ALICE): RoomEvent {
    const users: Record<string, JsonValue> = this.rules.authorization.privilegedCreators ? { [BOB]: 50 } : { [ALICE]: 100, [BOB]: 50 };
    return this.ev('m.room.power_levels', sender, { users, ...content }, '');
  }
  joinRules(rule: JsonValue, content: JsonObject = {}): RoomEvent {
    return this.ev('m.room.join_rules', ALICE, { join_rule: rule, ...content }, '');
  }
  /** The standard state: create, PL, join rule, memberships of the cast. */
  state(opts: { joinRule?: JsonValue; pl?: JsonObject | null; create?: JsonObject; extra?: RoomEvent[] } = {}): RoomEvent[] {
    const out = [this.create(opts.create ?? {})];
    if (opts.pl !== null) out.push(this.pl(opts.pl ?? {}));
    out.push(this.joinRules(opts.joinRule ?? 'invite'));
    out.push(this.member(ALICE, 'join'), this.member(BOB, 'join'), this.member(CAROL, 'join'));
    out.push(this.member(DAVE, 'ban', ALICE), this.member(ERIN, 'invite', ALICE));
    out.push(this.member(GRACE, this.rules.authorization.knocking ? 'knock' : 'leave'));
    if (opts.extra) out.push(...opts.extra);
    return out;
  }
  check(event: RoomEvent, state: readonly RoomEvent[], options?: AuthOptions): AuthResult {
    return checkAuth(event, stateLookupOf(state), this.rules, options);
  }
}

/** `'allow'` or the rejecting rule code. */
export const outcome = (r: AuthResult): string => (r.allowed ? 'allow' : r.rule);
