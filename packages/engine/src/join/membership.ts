/**
 * Leaving and knocking over federation (Server-Server API › Leaving Rooms (Rejecting Invites),
 * › Knocking upon a room): the same handshake as a join — `make_leave` / `make_knock` for a
 * template from a resident server, filled in, hashed and signed by the requesting server, then
 * `send_leave` (v2) / `send_knock`. Both sides are here: the resident's answers (`onMake*`,
 * `onSend*`) and the requesting server's calls.
 *
 * @module
 */
import { checkAuth } from '@roomgraph/auth';
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { type Pdu, buildEvent, domainOf, hashAndSignEvent, parsePdu, stateKeyOf, toRoomEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { type MakeMembershipResponse, TransportError } from '@roomgraph/transport';
import { type EngineContext, signerOf } from '../context.js';
import { EngineError } from '../errors.js';
import { assertAclAllows } from '../federation/acl.js';
import { sendToRoom } from '../federation/servers.js';
import { refuse, served } from '../federation/serving.js';
import { eventFrame } from '../local/frame.js';
import { receivePdusDurably } from '../receipt/receive.js';
import { loadAuthState } from '../state/auth-state.js';
import { stored } from '../state/vstate.js';
import { isJsonObject } from '@roomgraph/canonical-json';

/** A membership reached by the make/send handshake. */
export type HandshakeMembership = 'leave' | 'knock';

/**
 * Server-Server API › Leaving Rooms / Knocking: the requesting server MUST check that a template is
 * the event it asked for (type, room, sender, state key, membership).
 */
export function isMembershipTemplateFor(template: unknown, roomId: string, userId: string, membership: string): template is JsonObject & { readonly content: JsonObject } {
  if (!isJsonObject(template)) return false;
  const content = template['content'];
  return template['type'] === 'm.room.member' && template['room_id'] === roomId && template['sender'] === userId
    && template['state_key'] === userId && isJsonObject(content) && content['membership'] === membership;
}

/** Fills in a template: `origin_server_ts`, `origin` when present, the v1–v2 `event_id`; extra content merged (membership kept). */
export function fillMembershipTemplate(
  template: JsonObject & { readonly content: JsonObject }, rules: RoomVersionRules,
  fill: { readonly serverName: string; readonly now: number; readonly membership: string; readonly content?: JsonObject },
): Record<string, JsonValue> {
  const ev: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(template)) {
    if (k === 'hashes' || k === 'signatures' || k === 'unsigned' || k === 'event_id') continue;
    ev[k] = v as JsonValue;
  }
  ev['content'] = { ...template.content, ...(fill.content ?? {}), membership: fill.membership };
  ev['origin_server_ts'] = fill.now;
  if (Object.hasOwn(template, 'origin')) ev['origin'] = fill.serverName;
  if (rules.eventFormat.eventIdFormat === 'server-assigned') {
    ev['event_id'] = `$${Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('base64url')}:${fill.serverName}`;
  }
  return ev;
}

/**
 * `GET /make_leave` and `GET /make_knock` (the resident's side): a template in this server's frame
 * of the room, refused with a Matrix errcode when this server is not in the room (`M_NOT_FOUND`),
 * the ACL denies the origin or the user is not the origin's (`M_FORBIDDEN`), the room version is
 * not among the knocking server's or has no knocking (`M_INCOMPATIBLE_ROOM_VERSION`), or the event
 * would not pass auth against the current state (`M_FORBIDDEN`).
 */
export async function onMakeMembership(
  ctx: EngineContext, origin: string, roomId: string, userId: string, membership: HandshakeMembership, supportedVersions?: readonly string[],
): Promise<MakeMembershipResponse> {
  await served(ctx);
  const known = await ctx.store.getRoom(roomId);
  if (known === undefined || known.currentState === undefined) throw refuse(ctx, 'M_NOT_FOUND', `${ctx.serverName} is not in ${roomId}`);
  await assertAclAllows(ctx, roomId, origin);
  if (supportedVersions !== undefined && !supportedVersions.includes(known.roomVersion)) {
    throw refuse(ctx, 'M_INCOMPATIBLE_ROOM_VERSION', `${roomId} has room version ${known.roomVersion}, which ${origin} does not support`);
  }
  if (domainOf(userId) !== origin) throw refuse(ctx, 'M_FORBIDDEN', `${userId} is not a user of ${origin}`);
  const rules = ctx.versions.get(known.roomVersion);
  if (membership === 'knock' && !rules.authorization.knocking) throw refuse(ctx, 'M_INCOMPATIBLE_ROOM_VERSION', `room version ${rules.id} has no knocking`);
  return ctx.locks.withRoom(roomId, async () => {
    const room = (await ctx.store.getRoom(roomId)) ?? known;
    const content: JsonObject = { membership };
    const frame = await eventFrame(ctx, room, rules, { type: 'm.room.member', stateKey: userId, sender: userId, content });
    const trial = buildEvent({
      roomVersion: rules, type: 'm.room.member', stateKey: userId, sender: userId, content,
      prevEvents: frame.prevEvents, authEvents: frame.authEvents, depth: frame.depth, originServerTs: ctx.now(), roomId,
    }, signerOf(ctx), { validate: false });
    const view = toRoomEvent(trial.json, rules, trial.eventId);
    const auth = await loadAuthState(ctx, rules, stored(room.currentState ?? null), view);
    const r = checkAuth(view, auth, rules);
    if (!r.allowed) throw refuse(ctx, 'M_FORBIDDEN', `${userId} may not ${membership} ${roomId}: ${r.rule}: ${r.reason}`);
    const event: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(trial.json)) if (k !== 'hashes' && k !== 'signatures' && k !== 'event_id') event[k] = v as JsonValue;
    return { roomVersion: rules.id, event };
  });
}

/**
 * `PUT /v2/send_leave` and `PUT /v1/send_knock` (the resident's side): the checks before accepting
 * the event (its ID, room, type, membership, a sender of the origin, state key = sender), the
 * event received like any PDU (it must be accepted), then pushed to the room's other servers.
 */
export async function onSendMembership(
  ctx: EngineContext, origin: string, roomId: string, eventId: string, event: JsonObject, membership: HandshakeMembership,
): Promise<Pdu> {
  await served(ctx);
  const room = await ctx.store.getRoom(roomId);
  if (room === undefined || room.currentState === undefined) throw refuse(ctx, 'M_NOT_FOUND', `${ctx.serverName} is not in ${roomId}`);
  await assertAclAllows(ctx, roomId, origin);
  const rules = ctx.versions.get(room.roomVersion);
  let pdu: Pdu;
  try { pdu = parsePdu(event, rules); } catch (e) {
    throw refuse(ctx, 'M_BAD_JSON', `not a valid PDU of room version ${rules.id}: ${String(e).slice(0, 300)}`);
  }
  if (pdu.eventId !== eventId) throw refuse(ctx, 'M_INVALID_PARAM', `the event's ID is ${pdu.eventId}, not ${eventId}`);
  if (pdu.roomId !== roomId) throw refuse(ctx, 'M_INVALID_PARAM', `the event is for ${String(pdu.roomId)}, not ${roomId}`);
  if (pdu.type !== 'm.room.member' || pdu.content['membership'] !== membership) throw refuse(ctx, 'M_INVALID_PARAM', `not a ${membership} event`);
  if (domainOf(pdu.sender) !== origin) throw refuse(ctx, 'M_FORBIDDEN', `${pdu.sender} is not a user of ${origin}`);
  if (pdu.stateKey !== pdu.sender) throw refuse(ctx, 'M_INVALID_PARAM', 'the state key is not the sender');
  const [o] = await receivePdusDurably(ctx, origin, [pdu.json]);
  if (o === undefined || o.status !== 'accepted') {
    const why = `${o?.status ?? 'dropped'}: ${o?.rule ?? ''} ${o?.reason ?? ''}`.trim();
    throw refuse(ctx, o?.status === 'dropped' ? 'M_INVALID_PARAM' : 'M_FORBIDDEN', `the ${membership} was not accepted (${why})`);
  }
  await sendToRoom(ctx, roomId, [pdu.json], [origin]);
  return pdu;
}

/** Client-Server API › Stripped state: the events a knocking or invited user may see of a room. */
const STRIPPED_TYPES = ['m.room.create', 'm.room.join_rules', 'm.room.name', 'm.room.avatar', 'm.room.canonical_alias', 'm.room.encryption', 'm.room.topic'];

/** The room's stripped state (`type`, `state_key`, `sender`, `content`) from its current state, plus `extra` events. */
export async function strippedState(ctx: EngineContext, roomId: string, extra: readonly JsonObject[] = []): Promise<JsonObject[]> {
  const room = await ctx.store.getRoom(roomId);
  if (room?.currentState === undefined) return [];
  const ids = (await ctx.store.getStateEntries(room.currentState, STRIPPED_TYPES.map((t) => stateKeyOf(t, '')))).filter((x): x is string => x !== undefined);
  const events = await ctx.store.getEvents(ids);
  const strip = (j: JsonObject): JsonObject => ({ type: j['type'] ?? null, state_key: j['state_key'] ?? '', sender: j['sender'] ?? null, content: j['content'] ?? {} });
  return [...[...events.values()].map((e) => strip(e.json)), ...extra.map(strip)];
}

/** The requesting server's handshake: make_X through `via`, fill in, sign, send_X. Returns the signed event and the answer. */
export async function remoteMembership<T>(
  ctx: EngineContext, roomId: string, via: string, userId: string, membership: HandshakeMembership, content: JsonObject | undefined,
  send: (pdu: Pdu) => Promise<T>,
): Promise<{ readonly pdu: Pdu; readonly answer: T }> {
  const t = ctx.transport;
  const make = membership === 'leave' ? t?.makeLeave : t?.makeKnock;
  if (t === undefined || make === undefined) throw new EngineError('ENGINE_INVALID_ARGUMENT', `${membership} over federation needs a transport that supports it`);
  if (domainOf(userId) !== ctx.serverName) throw new EngineError('ENGINE_INVALID_ARGUMENT', `${userId} is not a user of ${ctx.serverName}`);
  const refused = (e: unknown): EngineError => new EngineError('ENGINE_JOIN_REFUSED',
    `${via} refused the ${membership}: ${e instanceof TransportError ? `${e.errcode ?? e.code}: ${e.message}` : String((e as Error)?.message ?? e)}`,
    e instanceof TransportError ? (e.errcode ?? e.code) : undefined);
  const made = await (membership === 'leave'
    ? t.makeLeave!(via, roomId, userId)
    : t.makeKnock!(via, roomId, userId, ctx.versions.list().map((r) => r.id))).catch((e: unknown) => { throw refused(e); });
  if (!ctx.versions.has(made.roomVersion)) throw new EngineError('ENGINE_UNKNOWN_ROOM', `${via} answered with unsupported room version ${JSON.stringify(made.roomVersion)}`);
  const rules = ctx.versions.get(made.roomVersion);
  if (!isMembershipTemplateFor(made.event, roomId, userId, membership)) {
    throw new EngineError('ENGINE_UNKNOWN_ROOM', `${via} sent a ${membership} template for another event`);
  }
  const ev = fillMembershipTemplate(made.event, rules, { serverName: ctx.serverName, now: ctx.now(), membership, ...(content !== undefined ? { content } : {}) });
  let pdu: Pdu;
  try { pdu = parsePdu(hashAndSignEvent(ev, rules, signerOf(ctx)).event, rules); } catch (e) {
    throw new EngineError('ENGINE_UNKNOWN_ROOM', `${via} sent an unusable ${membership} template: ${String(e).slice(0, 300)}`);
  }
  const answer = await send(pdu).catch((e: unknown) => { throw refused(e); });
  return { pdu, answer };
}
