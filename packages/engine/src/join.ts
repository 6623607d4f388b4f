/**
 * The parts of joining over federation that do not need the engine's state (Server-Server API
 * › Joining Rooms, Restricted rooms): checking and filling in a make_join template on the joining
 * side, and the resident's decision on a restricted join.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { encodeBase64 } from '@roomgraph/crypto';
import { powerLevelsOf } from '@roomgraph/auth';
import type { RoomEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { TransportError } from '@roomgraph/transport';

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Whether a make_join template is the join that was asked for: the joining server MUST check
 * `type`, `room_id`, `sender`, `state_key` and `content.membership` (SS › Joining Rooms).
 */
export function isJoinTemplateFor(template: unknown, roomId: string, userId: string): template is JsonObject & { readonly content: JsonObject } {
  if (!isObject(template)) return false;
  const content = template['content'];
  return template['type'] === 'm.room.member' && template['room_id'] === roomId && template['sender'] === userId
    && template['state_key'] === userId && isObject(content) && content['membership'] === 'join';
}

/**
 * The joining server's part of the template (SS › Joining Rooms): `origin_server_ts` set, `origin`
 * replaced when the template has one, the v1–v2 `event_id` assigned, any hashes, signatures,
 * `unsigned` and v3+ `event_id` dropped (the event is hashed and signed next), and extra member
 * content merged in (`membership` stays `join`).
 */
export function fillJoinTemplate(
  template: JsonObject & { readonly content: JsonObject }, rules: RoomVersionRules,
  fill: { readonly serverName: string; readonly now: number; readonly content?: JsonObject },
): Record<string, JsonValue> {
  const ev: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(template)) {
    if (k === 'hashes' || k === 'signatures' || k === 'unsigned' || k === 'event_id') continue;
    ev[k] = v as JsonValue;
  }
  ev['content'] = { ...template.content, ...(fill.content ?? {}), membership: 'join' };
  ev['origin_server_ts'] = fill.now;
  if (Object.hasOwn(template, 'origin')) ev['origin'] = fill.serverName;
  if (rules.eventFormat.eventIdFormat === 'server-assigned') ev['event_id'] = `$${encodeBase64(randomBytes(12)).replace(/[+/]/g, 'x')}:${fill.serverName}`;
  return ev;
}

/** What {@link authoriseRestrictedJoin} reads: current-state events of the rooms this server is in. */
export interface RestrictedJoinContext {
  /** This (the resident) server. */
  readonly serverName: string;
  /** A current-state event of a room, or `undefined` (also when this server is not in the room). */
  currentEvent(roomId: string, type: string, stateKey: string): Promise<RoomEvent | undefined>;
  /** Whether this server is in the room (knows its current state). */
  knowsRoom(roomId: string): Promise<boolean>;
  /** The joined members of a room whose user IDs end with `:serverName` (read only when needed). */
  localMembers(roomId: string): AsyncIterable<string>;
}

/**
 * The resident's decision on a join to a restricted room (CS › Restricted rooms; SS › Restricted
 * rooms): a user neither joined nor invited must meet an allow condition — be joined to a listed
 * room this server is in — and a local member who can invite must vouch for the join
 * (`join_authorised_via_users_server`). Returns that member, or `undefined` when no authorisation
 * is needed. Refuses with a `TRANSPORT_REJECTED` error: `M_FORBIDDEN` (no condition met),
 * `M_UNABLE_TO_AUTHORISE_JOIN` (a listed room is unknown here), `M_UNABLE_TO_GRANT_JOIN` (no local
 * member may invite).
 */
export async function authoriseRestrictedJoin(ctx: RestrictedJoinContext, roomId: string, rules: RoomVersionRules, userId: string): Promise<string | undefined> {
  const refuse = (errcode: string, message: string): TransportError => new TransportError('TRANSPORT_REJECTED', ctx.serverName, message, errcode);
  if (!rules.authorization.restrictedJoinRule) return undefined;
  const jr = await ctx.currentEvent(roomId, 'm.room.join_rules', '');
  const rule = jr?.content['join_rule'];
  if (rule !== 'restricted' && !(rule === 'knock_restricted' && rules.authorization.knockRestrictedJoinRule)) return undefined;
  const own = (await ctx.currentEvent(roomId, 'm.room.member', userId))?.content['membership'];
  if (own === 'join' || own === 'invite') return undefined;
  const allow = jr?.content['allow'];
  let met = false;
  let unknown = false;
  for (const cond of Array.isArray(allow) ? allow : []) {
    if (!isObject(cond) || cond['type'] !== 'm.room_membership' || typeof cond['room_id'] !== 'string') continue;
    if (!(await ctx.knowsRoom(cond['room_id']))) { unknown = true; continue; }
    if ((await ctx.currentEvent(cond['room_id'], 'm.room.member', userId))?.content['membership'] === 'join') { met = true; break; }
  }
  if (!met) {
    if (unknown) throw refuse('M_UNABLE_TO_AUTHORISE_JOIN', `${ctx.serverName} cannot check the rooms ${roomId} allows joins from`);
    throw refuse('M_FORBIDDEN', `${userId} meets none of the join conditions of ${roomId}`);
  }
  // A joined local member whose power level reaches the invite level: the most powerful first.
  const pls = powerLevelsOf(await ctx.currentEvent(roomId, 'm.room.power_levels', ''), await ctx.currentEvent(roomId, 'm.room.create', ''), rules);
  const suffix = `:${ctx.serverName}`;
  const candidates = new Set<string>([...pls.creators].filter((u) => u.endsWith(suffix)));
  const listed = pls.event?.content['users'];
  if (isObject(listed)) for (const u of Object.keys(listed)) if (u.endsWith(suffix)) candidates.add(u);
  const sorted = [...candidates].sort((a, b) => pls.userLevel(b) - pls.userLevel(a) || (a < b ? -1 : 1));
  for (const u of sorted) {
    if (pls.userLevel(u) < pls.invite) break;
    if ((await ctx.currentEvent(roomId, 'm.room.member', u))?.content['membership'] === 'join') return u;
  }
  if (pls.usersDefault >= pls.invite) {
    // Anyone may invite: any joined local member.
    for await (const u of ctx.localMembers(roomId)) if (pls.userLevel(u) >= pls.invite) return u;
  }
  throw refuse('M_UNABLE_TO_GRANT_JOIN', `no member of ${ctx.serverName} in ${roomId} may invite ${userId}; try another server`);
}
