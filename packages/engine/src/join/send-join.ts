/**
 * Answering `PUT /v2/send_join/{roomId}/{eventId}` (Server-Server API › Joining Rooms), the
 * resident's side: the checks before accepting the join (its ID, room, type, membership, sender of
 * the requesting server `origin`, state key), a restricted join countersigned, the join received
 * like any PDU, then the answer (the state before the join and the auth chain) and the join pushed
 * to the room's other servers.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { type Pdu, addEventSignature, domainOf, parsePdu } from '@roomgraph/events';
import type { SendJoinResponse } from '@roomgraph/transport';
import { type EngineContext, signerOf } from '../context.js';
import { sendToRoom } from '../federation/servers.js';
import { assertAclAllows } from '../federation/acl.js';
import { refuse, served } from '../federation/serving.js';
import { packedStateAt } from '../queries.js';
import { receivePdusDurably } from '../receipt/receive.js';

/** `PUT /v2/send_join/{roomId}/{eventId}`: checks and accepts the join; answers with the state before it and the auth chain. */
export async function onSendJoin(ctx: EngineContext, origin: string, roomId: string, eventId: string, event: JsonObject): Promise<SendJoinResponse> {
  await served(ctx);
  const store = ctx.store;
  const room = await store.getRoom(roomId);
  if (room === undefined || room.currentState === undefined) throw refuse(ctx, 'M_NOT_FOUND', `${ctx.serverName} is not in ${roomId}`);
  // Server-Server API › Server ACLs: make_join / send_join are protected.
  await assertAclAllows(ctx, roomId, origin);
  const rules = ctx.versions.get(room.roomVersion);
  let pdu: Pdu;
  try {
    pdu = parsePdu(event, rules);
  } catch (e) {
    throw refuse(ctx, 'M_BAD_JSON', `not a valid PDU of room version ${rules.id}: ${String(e).slice(0, 300)}`);
  }
  const membership = pdu.content['membership'];
  if (pdu.eventId !== eventId) throw refuse(ctx, 'M_INVALID_PARAM', `the event's ID is ${pdu.eventId}, not ${eventId}`);
  if (pdu.roomId !== roomId) throw refuse(ctx, 'M_INVALID_PARAM', `the event is for ${String(pdu.roomId)}, not ${roomId}`);
  if (pdu.type !== 'm.room.member' || membership !== 'join') throw refuse(ctx, 'M_INVALID_PARAM', 'not a join event');
  if (domainOf(pdu.sender) !== origin) throw refuse(ctx, 'M_INVALID_PARAM', `${pdu.sender} is not a user of ${origin}`);
  if (pdu.stateKey !== pdu.sender) throw refuse(ctx, 'M_INVALID_PARAM', 'the state key is not the sender');
  // A restricted join this server vouches for gets its signature before it is stored or sent on.
  const vouch = pdu.content['join_authorised_via_users_server'];
  const countersign = typeof vouch === 'string' && domainOf(vouch) === ctx.serverName && rules.authorization.restrictedJoinRule;
  const json = countersign ? addEventSignature(pdu.json, rules, signerOf(ctx)) : pdu.json;
  const [o] = await receivePdusDurably(ctx, origin, [json]);
  if (o === undefined || o.status !== 'accepted') {
    const why = `${o?.status ?? 'dropped'}: ${o?.rule ?? ''} ${o?.reason ?? ''}`.trim();
    throw refuse(ctx, o?.status === 'dropped' ? 'M_INVALID_PARAM' : 'M_FORBIDDEN', `the join was not accepted (${why})`);
  }
  // The state before the join and the auth chains of that state and of the join.
  const before = await packedStateAt(ctx, pdu.eventId);
  const stateEvents = await store.getEvents([...before.values()]);
  const chain = await store.getAuthChain([...before.values(), pdu.eventId]);
  const chainEvents = await store.getEvents([...chain]);
  const answer: SendJoinResponse = {
    state: [...stateEvents.values()].map((e) => e.json),
    authChain: [...chainEvents.values()].map((e) => e.json),
    ...(countersign ? { event: json } : {}),
  };
  // The resident sends the join to the other servers in the room (best effort).
  await sendToRoom(ctx, roomId, [json], [origin]);
  return answer;
}
