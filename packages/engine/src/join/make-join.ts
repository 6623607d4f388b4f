/**
 * Answering `GET /make_join/{roomId}/{userId}` (Server-Server API › Joining Rooms), the resident's
 * side: a join template in this server's frame of the room, refused (with a Matrix `errcode`)
 * when this server is not in the room, the room version is not supported by the joining server,
 * the user is not of the requesting server (`origin`), or the join would not pass auth (a
 * restricted join is vouched for first, `restricted.ts`).
 *
 * @module
 */
import { checkAuth } from '@roomgraph/auth';
import type { JsonValue } from '@roomgraph/canonical-json';
import { buildEvent, domainOf, toRoomEvent } from '@roomgraph/events';
import type { MakeJoinResponse } from '@roomgraph/transport';
import { type EngineContext, signerOf } from '../context.js';
import { assertAclAllows } from '../federation/acl.js';
import { refuse, served } from '../federation/serving.js';
import { eventFrame } from '../local/frame.js';
import { authorisingKeys } from '../receipt/signatures.js';
import { loadAuthState } from '../state/auth-state.js';
import { stored } from '../state/vstate.js';
import { authoriseRestrictedJoin, restrictedJoinContext } from './restricted.js';

/** `GET /make_join/{roomId}/{userId}`: a join template, or a `FederationRefusal` with the Matrix errcode. */
export async function onMakeJoin(ctx: EngineContext, origin: string, roomId: string, userId: string, supportedVersions: readonly string[]): Promise<MakeJoinResponse> {
  await served(ctx);
  const known = await ctx.store.getRoom(roomId);
  if (known === undefined || known.currentState === undefined) throw refuse(ctx, 'M_NOT_FOUND', `${ctx.serverName} is not in ${roomId}`);
  // Server-Server API › Server ACLs: make_join / send_join are protected.
  await assertAclAllows(ctx, roomId, origin);
  if (!supportedVersions.includes(known.roomVersion)) {
    throw refuse(ctx, 'M_INCOMPATIBLE_ROOM_VERSION', `${roomId} has room version ${known.roomVersion}, which ${origin} does not support`);
  }
  if (domainOf(userId) !== origin) throw refuse(ctx, 'M_FORBIDDEN', `${userId} is not a user of ${origin}`);
  const rules = ctx.versions.get(known.roomVersion);
  return ctx.locks.withRoom(roomId, async () => {
    const room = (await ctx.store.getRoom(roomId)) ?? known;
    const content: Record<string, JsonValue> = { membership: 'join' };
    const vouch = await authoriseRestrictedJoin(restrictedJoinContext(ctx), roomId, rules, userId);
    if (vouch !== undefined) content['join_authorised_via_users_server'] = vouch;
    const frame = await eventFrame(ctx, room, rules, { type: 'm.room.member', stateKey: userId, sender: userId, content });
    // The join as it would be (countersigned by this server, which a restricted join needs),
    // checked against the current state: a join that would be rejected is refused now.
    const trial = buildEvent({
      roomVersion: rules, type: 'm.room.member', stateKey: userId, sender: userId, content,
      prevEvents: frame.prevEvents, authEvents: frame.authEvents, depth: frame.depth, originServerTs: ctx.now(), roomId,
    }, signerOf(ctx), { validate: false });
    const view = toRoomEvent(trial.json, rules, trial.eventId);
    const auth = await loadAuthState(ctx, rules, stored(room.currentState ?? null), view);
    const r = checkAuth(view, auth, rules, { serverKeys: await authorisingKeys(ctx, view, rules) });
    if (!r.allowed) throw refuse(ctx, 'M_FORBIDDEN', `${userId} may not join ${roomId}: ${r.rule}: ${r.reason}`);
    const event: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(trial.json)) if (k !== 'hashes' && k !== 'signatures' && k !== 'event_id') event[k] = v as JsonValue;
    return { roomVersion: rules.id, event };
  });
}
