/**
 * The resident's decision on a join to a restricted room (Client-Server API › Restricted rooms;
 * Server-Server API › Restricted rooms): which allow condition the user meets, and which local
 * member vouches for the join (`join_authorised_via_users_server`).
 *
 * @module
 */
import { powerLevelsOf } from '@roomgraph/auth';
import type { RoomEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { RoomInfo } from '@roomgraph/store';
import { FederationRefusal } from '@roomgraph/transport';
import type { EngineContext } from '../context.js';
import { joinedMembers } from '../federation/servers.js';
import { currentEvent } from '../state/current.js';
import { compareCodePoints, isJsonObject } from '@roomgraph/canonical-json';

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
 * is needed. Refuses with a {@link FederationRefusal}: `M_FORBIDDEN` (no condition met),
 * `M_UNABLE_TO_AUTHORISE_JOIN` (a listed room is unknown here), `M_UNABLE_TO_GRANT_JOIN` (no local
 * member may invite).
 */
export async function authoriseRestrictedJoin(ctx: RestrictedJoinContext, roomId: string, rules: RoomVersionRules, userId: string): Promise<string | undefined> {
  const refuse = (errcode: string, message: string): FederationRefusal => new FederationRefusal(ctx.serverName, errcode, message);
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
    if (!isJsonObject(cond) || cond['type'] !== 'm.room_membership' || typeof cond['room_id'] !== 'string') continue;
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
  if (isJsonObject(listed)) for (const u of Object.keys(listed)) if (u.endsWith(suffix)) candidates.add(u);
  const sorted = [...candidates].sort((a, b) => pls.userLevel(b) - pls.userLevel(a) || compareCodePoints(a, b));
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


/** What the restricted-join decision reads of this server's rooms, from the engine's store. */
export function restrictedJoinContext(ctx: EngineContext): RestrictedJoinContext {
  const store = ctx.store;
  const roomOf = async (roomId: string): Promise<RoomInfo | undefined> => {
    const r = await store.getRoom(roomId);
    return r?.currentState === undefined ? undefined : r;
  };
  const serverName = ctx.serverName;
  return {
    serverName,
    knowsRoom: async (roomId) => (await roomOf(roomId)) !== undefined,
    currentEvent: async (roomId, type, stateKey) => {
      const r = await roomOf(roomId);
      return r === undefined ? undefined : currentEvent(ctx, r, ctx.versions.get(r.roomVersion), type, stateKey);
    },
    localMembers: (roomId) => (async function* () {
      const r = await roomOf(roomId);
      if (r?.currentState !== undefined) yield* joinedMembers(ctx, r.currentState, (user) => user.endsWith(`:${serverName}`));
    })(),
  };
}
