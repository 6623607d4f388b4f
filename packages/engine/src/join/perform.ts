/**
 * Joining a room over federation, the joining server's side (Server-Server API › Joining Rooms):
 * `make_join` for a template (checked, `template.ts`), filled in, hashed and signed, then
 * `send_join`; the answer's state and auth chain are checked like any received events and stored
 * as outliers, and the join is accepted with the answer's state as the state before it.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { type Pdu, domainOf, hashAndSignEvent, parsePdu, roomIdFromCreateEvent } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { TransportError } from '@roomgraph/transport';
import { type EngineContext, NESTING_FETCHED, signerOf } from '../context.js';
import { EngineError } from '../errors.js';
import { sendToRoom } from '../federation/servers.js';
import { createLocalEvent } from '../local/create-event.js';
import { byDepthThenId, overlayOf } from '../stored.js';
import type { PduOutcome } from '../types.js';
import { fillJoinTemplate, isJoinTemplateFor } from './template.js';

/**
 * Joins `roomId` as `userId` through `via` (see {@link RoomEngine.joinRemoteRoom}); not waiting
 * for durability (the facade wraps it).
 */
export async function joinRemoteRoom(ctx: EngineContext, roomId: string, via: string, userId: string, options?: { readonly content?: JsonObject }): Promise<PduOutcome> {
  await ctx.outbox.ready();
  const t = ctx.transport;
  if (t === undefined) throw new EngineError('ENGINE_INVALID_ARGUMENT', 'joining over federation needs a transport');
  if (domainOf(userId) !== ctx.serverName) throw new EngineError('ENGINE_INVALID_ARGUMENT', `${userId} is not a user of ${ctx.serverName}`);
  const content: JsonObject = { ...(options?.content ?? {}), membership: 'join' };
  const known = await ctx.store.getRoom(roomId);
  if (known !== undefined && known.currentState !== undefined) {
    // Already resident: an ordinary local event, pushed to the other servers in the room.
    const pdu = await createLocalEvent(ctx, roomId, { type: 'm.room.member', stateKey: userId, sender: userId, content });
    // Only durable events leave this server.
    await ctx.store.flush?.();
    await sendToRoom(ctx, roomId, [pdu.json]);
    return { eventId: pdu.eventId, status: 'accepted' };
  }
  const refused = (e: unknown): EngineError => {
    if (e instanceof TransportError) return new EngineError('ENGINE_JOIN_REFUSED', `${via} refused the join: ${e.errcode ?? e.code}: ${e.message}`, e.errcode ?? e.code);
    return new EngineError('ENGINE_JOIN_REFUSED', `${via} refused the join: ${String((e as Error)?.message ?? e)}`);
  };

  // make_join: a template from the resident.
  const made = await t.makeJoin(via, roomId, userId, ctx.versions.list().map((r) => r.id)).catch((e: unknown) => { throw refused(e); });
  if (!ctx.versions.has(made.roomVersion)) throw new EngineError('ENGINE_UNKNOWN_ROOM', `${via} answered with unsupported room version ${JSON.stringify(made.roomVersion)}`);
  const rules = ctx.versions.get(made.roomVersion);
  const tpl = made.event;
  if (!isJoinTemplateFor(tpl, roomId, userId)) {
    throw new EngineError('ENGINE_UNKNOWN_ROOM', `${via} sent a join template for another event (SS › Joining Rooms: type, room_id, sender, state_key and membership must be as asked)`);
  }

  // Fill in, hash and sign.
  const ev = fillJoinTemplate(tpl, rules, { serverName: ctx.serverName, now: ctx.now(), content });
  let join: Pdu;
  try {
    join = parsePdu(hashAndSignEvent(ev, rules, signerOf(ctx)).event, rules);
  } catch (e) {
    throw new EngineError('ENGINE_UNKNOWN_ROOM', `${via} sent an unusable join template: ${String(e).slice(0, 300)}`);
  }

  // send_join: the state before the join and its auth chain.
  const answer = await t.sendJoin(via, roomId, join.eventId, join.json).catch((e: unknown) => { throw refused(e); });
  if (answer.event !== undefined) {
    // A restricted join countersigned by the resident: the same event (same ID) with more signatures.
    let signed: Pdu | undefined;
    try { signed = parsePdu(answer.event, rules); } catch { signed = undefined; }
    if (signed === undefined || signed.eventId !== join.eventId) throw new EngineError('ENGINE_UNKNOWN_ROOM', `${via} returned a different join event`);
    join = signed;
  }
  return importJoin(ctx, via, rules, roomId, join, answer.state, answer.authChain);
}

/**
 * Stores a joined room's state from a `send_join` answer: the create event, then the auth chain
 * and state as outliers (each checked: format, signatures, hash, auth against its auth events),
 * then `join` with the answer's state as the state before it.
 */
async function importJoin(ctx: EngineContext, via: string, rules: RoomVersionRules, roomId: string, join: Pdu, state: readonly JsonObject[], authChain: readonly JsonObject[]): Promise<PduOutcome> {
  const parsed: Pdu[] = [];
  const seen = new Set<string>();
  for (const j of [...authChain, ...state]) {
    try {
      const p = parsePdu(j, rules);
      if (!seen.has(p.eventId)) { seen.add(p.eventId); parsed.push(p); }
    } catch { /* malformed: left out (its dependants then fail auth) */ }
  }
  const create = parsed.find((p) => p.type === 'm.room.create' && p.stateKey === '');
  const createVersion = create !== undefined ? (create.content['room_version'] ?? '1') : undefined;
  if (create === undefined || createVersion !== rules.id || (create.roomId ?? roomIdFromCreateEvent(create.json, rules)) !== roomId) {
    throw new EngineError('ENGINE_UNKNOWN_ROOM', `${via} gave no create event of ${roomId} in room version ${rules.id}`);
  }
  const stateIds = new Set<string>();
  for (const j of state) { try { stateIds.add(parsePdu(j, rules).eventId); } catch { /* left out above */ } }
  return ctx.locks.withRoom(roomId, async () => {
    const fetched = { origin: via, rules, roomId, nesting: NESTING_FETCHED } as const;
    // The create event first (it creates the room in the store), then the rest by depth.
    const c = await ctx.process({ ...fetched, pdu: create, asOutlier: true });
    if (c.status !== 'outlier') throw new EngineError('ENGINE_UNKNOWN_ROOM', `create event of ${roomId} ${c.status}: ${c.reason ?? ''}`);
    const rest = parsed.filter((p) => p !== create).sort(byDepthThenId);
    for (const p of rest) await ctx.process({ ...fetched, pdu: p, asOutlier: true });
    // The state before the join: the answer's state events that are stored and not rejected.
    const got = await ctx.store.getEvents([...stateIds]);
    const o = await ctx.process({ ...fetched, pdu: join, knownStateBefore: { base: null, overlay: overlayOf(got.values()) } });
    if (o.status !== 'accepted') throw new EngineError('ENGINE_AUTH_FAILED', `join ${join.eventId} ${o.status}: ${o.reason ?? ''}`, o.rule);
    return o;
  });
}
