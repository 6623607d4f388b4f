/**
 * Inviting over federation (Server-Server API › Inviting to a room, `PUT /v2/invite`). The
 * inviting server builds and signs the invite, sends it to the invitee's server with the room's
 * stripped state, checks that the event it gets back is the same event countersigned by that
 * server, then stores it as a local event and sends it to the room. The invitee's server checks
 * the invite (room version, the event, its sender's server and signature, a local invitee),
 * countersigns it and remembers it (the invite is its only knowledge of the room until a join).
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { type Pdu, addEventSignature, buildEvent, checkContentHash, domainOf, parsePdu, verifyEventSignatures } from '@roomgraph/events';
import type { InviteRequest } from '@roomgraph/transport';
import { TransportError } from '@roomgraph/transport';
import { type EngineContext, signerOf } from '../context.js';
import { EngineError } from '../errors.js';
import { aclAllows } from '../federation/acl.js';
import { sendToRoom } from '../federation/servers.js';
import { refuse, served } from '../federation/serving.js';
import { processLocal } from '../local/create-event.js';
import { eventFrame } from '../local/frame.js';
import { keyLookup } from '../receipt/signatures.js';
import { isJsonObject } from '@roomgraph/canonical-json';
import { strippedState } from './membership.js';
import { keepInvite } from './pending-invites.js';

/**
 * Invites `invitee` to `roomId` as `sender` (a local member). A local invitee gets an ordinary local
 * event; a remote one goes through `PUT /v2/invite` on its server first. The stored invite is
 * queued for the room's other servers (and the invitee's).
 * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM`, `ENGINE_AUTH_FAILED` (nothing stored),
 *   `ENGINE_JOIN_REFUSED` when the invitee's server refuses (its errcode in `rule`).
 */
export async function inviteUser(ctx: EngineContext, roomId: string, sender: string, invitee: string, content?: JsonObject): Promise<Pdu> {
  await ctx.outbox.ready();
  const target = domainOf(invitee);
  if (target === undefined) throw new EngineError('ENGINE_INVALID_ARGUMENT', `${invitee} is not a user ID`);
  const body: JsonObject = { ...(content ?? {}), membership: 'invite' };
  const pdu = await ctx.locks.withRoom(roomId, async () => {
    const room = await ctx.store.getRoom(roomId);
    if (room === undefined || room.currentState === undefined) throw new EngineError('ENGINE_UNKNOWN_ROOM', `unknown room ${roomId}`);
    const rules = ctx.versions.get(room.roomVersion);
    const frame = await eventFrame(ctx, room, rules, { type: 'm.room.member', stateKey: invitee, sender, content: body });
    let built = buildEvent({
      roomVersion: rules, type: 'm.room.member', stateKey: invitee, sender, content: body,
      prevEvents: frame.prevEvents, authEvents: frame.authEvents, depth: frame.depth, originServerTs: ctx.now(), roomId,
    }, signerOf(ctx));
    if (target !== ctx.serverName) {
      const t = ctx.transport;
      if (t?.invite === undefined) throw new EngineError('ENGINE_INVALID_ARGUMENT', 'inviting a remote user needs a transport that supports invites');
      const senderMember = await ctx.store.getEvents(frame.authEvents.filter((e) => e.type === 'm.room.member' && e.stateKey === sender).map((e) => e.eventId));
      const request: InviteRequest = {
        roomVersion: rules.id, event: built.json,
        inviteRoomState: await strippedState(ctx, roomId, [...senderMember.values()].map((e) => e.json)),
      };
      const signed = await t.invite(target, roomId, built.eventId, request).catch((e: unknown) => {
        throw new EngineError('ENGINE_JOIN_REFUSED', `${target} refused the invite: ${e instanceof TransportError ? `${e.errcode ?? e.code}: ${e.message}` : String(e)}`, e instanceof TransportError ? e.errcode ?? e.code : undefined);
      });
      // It must be our event (same ID: same content, hashes) with the invitee's server's signature added.
      let back: Pdu;
      try { back = parsePdu(signed, rules); } catch { throw new EngineError('ENGINE_JOIN_REFUSED', `${target} returned an invalid invite event`); }
      if (back.eventId !== built.eventId) throw new EngineError('ENGINE_JOIN_REFUSED', `${target} returned a different event`);
      const keys = await keyLookup(ctx, back.json, [target], rules);
      if (verifyEventSignatures(back.json, rules, keys, { servers: [target] }).status !== 'ok') throw new EngineError('ENGINE_JOIN_REFUSED', `${target} did not sign the invite`);
      built = back;
    }
    const o = await processLocal(ctx, built, rules, roomId);
    if (o.status !== 'accepted') throw new EngineError('ENGINE_AUTH_FAILED', `invite ${o.status}: ${o.reason ?? ''}`, o.rule);
    return built;
  });
  await ctx.store.flush?.();
  await sendToRoom(ctx, roomId, [pdu.json], [], [target]);
  return pdu;
}

/**
 * `PUT /v2/invite/{roomId}/{eventId}` (the invitee's server): refused with `M_INCOMPATIBLE_ROOM_VERSION`
 * (an unsupported version), `M_BAD_JSON` (not a PDU of that version), `M_INVALID_PARAM` (another
 * event or room, not an invite), `M_FORBIDDEN` (the invitee is not local, the sender is not the
 * origin's, its signature or content hash does not verify, or the room's ACL denies the origin); otherwise
 * countersigned, remembered and returned.
 */
export async function onInvite(ctx: EngineContext, origin: string, roomId: string, eventId: string, request: InviteRequest): Promise<JsonObject> {
  await served(ctx);
  if (!ctx.versions.has(request.roomVersion)) throw refuse(ctx, 'M_INCOMPATIBLE_ROOM_VERSION', `room version ${JSON.stringify(request.roomVersion)} is not supported`);
  const rules = ctx.versions.get(request.roomVersion);
  let pdu: Pdu;
  try { pdu = parsePdu(request.event, rules); } catch (e) {
    throw refuse(ctx, 'M_BAD_JSON', `not a valid PDU of room version ${rules.id}: ${String(e).slice(0, 300)}`);
  }
  if (pdu.eventId !== eventId) throw refuse(ctx, 'M_INVALID_PARAM', `the event's ID is ${pdu.eventId}, not ${eventId}`);
  if (pdu.roomId !== roomId) throw refuse(ctx, 'M_INVALID_PARAM', `the event is for ${String(pdu.roomId)}, not ${roomId}`);
  if (pdu.type !== 'm.room.member' || pdu.content['membership'] !== 'invite' || pdu.stateKey === undefined) throw refuse(ctx, 'M_INVALID_PARAM', 'not an invite');
  if (domainOf(pdu.stateKey) !== ctx.serverName) throw refuse(ctx, 'M_FORBIDDEN', `${pdu.stateKey} is not a user of ${ctx.serverName}`);
  if (domainOf(pdu.sender) !== origin) throw refuse(ctx, 'M_FORBIDDEN', `${pdu.sender} is not a user of ${origin}`);
  if (!(await aclAllows(ctx, roomId, origin))) throw refuse(ctx, 'M_FORBIDDEN', `${origin} is denied by the server ACL of ${roomId}`);
  const keys = await keyLookup(ctx, pdu.json, [origin], rules);
  const check = verifyEventSignatures(pdu.json, rules, keys, { servers: [origin] });
  if (check.status !== 'ok') throw refuse(ctx, 'M_FORBIDDEN', `the invite is not signed by ${origin}`);
  // The signatures cover the redacted event only: the content must match its hash too.
  if (!checkContentHash(pdu.json, rules)) throw refuse(ctx, 'M_FORBIDDEN', 'the invite\'s content does not match its hash');
  const signed = addEventSignature(pdu.json, rules, signerOf(ctx));
  await keepInvite(ctx, {
    roomId, userId: pdu.stateKey, sender: pdu.sender, eventId, roomVersion: rules.id, event: signed,
    inviteRoomState: boundedStrippedState(request.inviteRoomState ?? []),
  });
  return signed;
}

/** At most this many events of an invite's stripped state are kept (the reference homeserver sends fewer than ten). */
export const MAX_INVITE_ROOM_STATE = 32;
/** At most this many bytes of JSON of an invite's stripped state are kept (every invite is kept in the store: see `pending-invites.ts`). */
export const MAX_INVITE_ROOM_STATE_BYTES = 65_536;

/**
 * The stripped state an inviting server sent (`invite_room_state`), bounded: its JSON objects in
 * order, as long as there are at most {@link MAX_INVITE_ROOM_STATE} of them and their JSON text
 * stays within {@link MAX_INVITE_ROOM_STATE_BYTES} (UTF-16 units, an upper bound of neither
 * form's bytes: close enough for a bound); the rest is dropped. A hostile server could otherwise
 * have the store keep megabytes per invite.
 */
function boundedStrippedState(list: readonly unknown[]): JsonObject[] {
  const out: JsonObject[] = [];
  let size = 0;
  for (const e of list) {
    if (out.length >= MAX_INVITE_ROOM_STATE) break;
    if (!isJsonObject(e)) continue;
    let text: string;
    try {
      text = JSON.stringify(e);
    } catch {
      continue;
    }
    if (size + text.length > MAX_INVITE_ROOM_STATE_BYTES) break;
    size += text.length;
    out.push(e);
  }
  return out;
}
