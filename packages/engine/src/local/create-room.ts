/**
 * Creating a room (Client-Server API › Creating a room, `POST /createRoom`, the events it sends;
 * room versions › the create event): the create event, the creator's join, power levels, join
 * rules and history visibility, all signed by this server.
 *
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { randomId } from '@roomgraph/crypto';
import { buildEvent, domainOf, roomIdFromCreateEvent } from '@roomgraph/events';
import { DEFAULT_ROOM_VERSION } from '@roomgraph/room-versions';
import { type EngineContext, signerOf } from '../context.js';
import { EngineError } from '../errors.js';
import type { CreateRoomTemplate } from '../types.js';
import { createLocalEvent, processLocal } from './create-event.js';

/**
 * Creates a room; returns its ID (not waiting for durability: callers wrap it).
 * @throws {@link EngineError} `ENGINE_INVALID_ARGUMENT` (creator not of this server), `ENGINE_AUTH_FAILED`.
 */
export async function createRoom(ctx: EngineContext, template: CreateRoomTemplate): Promise<string> {
  await ctx.outbox.ready();
  const version = template.roomVersion ?? DEFAULT_ROOM_VERSION;
  const rules = ctx.versions.get(version);
  const server = domainOf(template.creator);
  if (server !== ctx.serverName) throw new EngineError('ENGINE_INVALID_ARGUMENT', `creator ${template.creator} is not a user of ${ctx.serverName}`);
  const createContent: Record<string, JsonValue> = { ...(template.createContent ?? {}), room_version: version };
  if (rules.authorization.creatorInContent) createContent['creator'] = template.creator;
  let roomId: string | undefined;
  if (rules.eventFormat.createEventHasRoomId) {
    roomId = `!${template.roomIdLocalpart ?? randomId(18)}:${ctx.serverName}`;
  }
  const create = buildEvent({
    roomVersion: rules, type: 'm.room.create', stateKey: '', sender: template.creator, content: createContent,
    prevEvents: [], authEvents: [], depth: 1, originServerTs: ctx.now(), ...(roomId !== undefined ? { roomId } : {}),
  }, signerOf(ctx));
  roomId ??= roomIdFromCreateEvent(create.json, rules);
  const rid = roomId;
  await ctx.locks.withRoom(rid, async () => {
    const o = await processLocal(ctx, create, rules, rid);
    if (o.status !== 'accepted') throw new EngineError('ENGINE_AUTH_FAILED', `create event ${o.status}: ${o.reason ?? ''}`, o.rule);
  });
  const local = (type: string, content: JsonObject, stateKey = ''): Promise<unknown> =>
    ctx.outbox.durably(() => createLocalEvent(ctx, rid, { type, stateKey, sender: template.creator, content }));
  await local('m.room.member', { membership: 'join' }, template.creator);
  const pl: JsonObject = template.powerLevels ?? (rules.authorization.privilegedCreators
    ? { users: {}, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 }
    : { users: { [template.creator]: 100 }, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 });
  await local('m.room.power_levels', pl);
  await local('m.room.join_rules', { join_rule: template.joinRule ?? 'public' });
  await local('m.room.history_visibility', { history_visibility: 'shared' });
  return rid;
}
