/**
 * Creating a room (Client-Server API › Creating a room, `POST /createRoom`: the events it sends and
 * its presets; room versions › the create event): the create event, the creator's join, power
 * levels, join rules, history visibility and guest access as the preset says, all signed by this
 * server, then the invites.
 *
 * Presets (CS › `POST /createRoom`, `preset`; without one the server uses `private_chat`, as a
 * room created with the default `private` visibility gets):
 *
 * | preset | join_rules | history_visibility | guest_access | other |
 * |---|---|---|---|---|
 * | `private_chat` (default) | invite | shared | can_join | |
 * | `trusted_private_chat` | invite | shared | can_join | invitees get the creator's power |
 * | `public_chat` | public | shared | forbidden | |
 *
 * `forbidden` guest access is the absence of an `m.room.guest_access` event (CS › Guest access:
 * guests may not join without one); like Synapse, `public_chat` sends none. The power levels'
 * `invite` level is 0 for the private presets and 50 for `public_chat` (the spec leaves it to the
 * server; these are Synapse's). With `trusted_private_chat` the invitees get the creator's power:
 * power level 100 in room versions whose creators are ordinary users, and — where creators are
 * privileged (v12) — a place in the create event's `additional_creators`, as MSC4289 asks of
 * `/createRoom` (the union with `createContent.additional_creators`, deduplicated). Where creators
 * are privileged the power levels also set `m.room.tombstone` to 150, as the spec requires.
 *
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { randomId } from '@roomgraph/crypto';
import { buildEvent, domainOf, roomIdFromCreateEvent } from '@roomgraph/events';
import { DEFAULT_ROOM_VERSION } from '@roomgraph/room-versions';
import { type EngineContext, signerOf } from '../context.js';
import { EngineError } from '../errors.js';
import { inviteUser } from '../join/invite.js';
import type { CreateRoomTemplate, RoomPreset } from '../types.js';
import { createLocalEvent, processLocal } from './create-event.js';

/** What a preset sets (see the module comment). */
interface PresetRules {
  readonly joinRule: string;
  readonly historyVisibility: string;
  readonly guestCanJoin: boolean;
  readonly invitePower: number;
  readonly inviteesHaveCreatorPower: boolean;
}

/** The presets of CS › `POST /createRoom` (invite power levels: Synapse's). */
export const ROOM_PRESETS: Readonly<Record<RoomPreset, PresetRules>> = {
  private_chat: { joinRule: 'invite', historyVisibility: 'shared', guestCanJoin: true, invitePower: 0, inviteesHaveCreatorPower: false },
  trusted_private_chat: { joinRule: 'invite', historyVisibility: 'shared', guestCanJoin: true, invitePower: 0, inviteesHaveCreatorPower: true },
  public_chat: { joinRule: 'public', historyVisibility: 'shared', guestCanJoin: false, invitePower: 50, inviteesHaveCreatorPower: false },
};

/** The preset a room is created with when none is given (CS › `POST /createRoom`: `private` visibility → `private_chat`). */
export const DEFAULT_ROOM_PRESET: RoomPreset = 'private_chat';

/** The creator's power level where creators are ordinary users (v1–v11). */
const CREATOR_POWER = 100;

/**
 * Creates a room; returns its ID (not waiting for durability: callers wrap it).
 * @throws {@link EngineError} `ENGINE_INVALID_ARGUMENT` (creator not of this server, unknown
 *   preset, an invitee that is not a user ID), `ENGINE_AUTH_FAILED`; an invite's errors
 *   (`ENGINE_JOIN_REFUSED`: a remote invitee's server refused; the room exists then).
 */
export async function createRoom(ctx: EngineContext, template: CreateRoomTemplate): Promise<string> {
  await ctx.outbox.ready();
  const version = template.roomVersion ?? DEFAULT_ROOM_VERSION;
  const rules = ctx.versions.get(version);
  const server = domainOf(template.creator);
  if (server !== ctx.serverName) throw new EngineError('ENGINE_INVALID_ARGUMENT', `creator ${template.creator} is not a user of ${ctx.serverName}`);
  const presetName = template.preset ?? DEFAULT_ROOM_PRESET;
  if (!Object.hasOwn(ROOM_PRESETS, presetName)) throw new EngineError('ENGINE_INVALID_ARGUMENT', `unknown preset ${JSON.stringify(presetName)} (private_chat, trusted_private_chat or public_chat)`);
  const preset = ROOM_PRESETS[presetName];
  const invite = [...new Set(template.invite ?? [])];
  for (const u of invite) {
    if (typeof u !== 'string' || !u.startsWith('@') || domainOf(u) === undefined) throw new EngineError('ENGINE_INVALID_ARGUMENT', `invitee ${JSON.stringify(u)} is not a user ID`);
  }
  const createContent: Record<string, JsonValue> = { ...(template.createContent ?? {}), room_version: version };
  if (rules.authorization.creatorInContent) createContent['creator'] = template.creator;
  const privileged = rules.authorization.privilegedCreators;
  if (preset.inviteesHaveCreatorPower && privileged && invite.length > 0) {
    const given = createContent['additional_creators'];
    const extra = invite.filter((u) => u !== template.creator);
    createContent['additional_creators'] = [...new Set([...(Array.isArray(given) ? given : []), ...extra])];
  }
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
  await local('m.room.power_levels', template.powerLevels ?? defaultPowerLevels(template.creator, privileged, preset, invite));
  await local('m.room.join_rules', { join_rule: template.joinRule ?? preset.joinRule });
  await local('m.room.history_visibility', { history_visibility: preset.historyVisibility });
  if (preset.guestCanJoin) await local('m.room.guest_access', { guest_access: 'can_join' });
  for (const u of invite) await ctx.outbox.durably(() => inviteUser(ctx, rid, template.creator, u));
  return rid;
}

/** The event type of a room upgrade. */
const TOMBSTONE = 'm.room.tombstone';
/** Its level in new rooms with privileged creators: above `state_default` (50) and every ordinary user's 100. */
const TOMBSTONE_POWER = 150;

/**
 * The initial power levels: the creator at 100 where creators are ordinary users (nothing for
 * privileged creators, whom `users` must not name), trusted invitees at the creator's level there.
 */
function defaultPowerLevels(creator: string, privileged: boolean, preset: PresetRules, invite: readonly string[]): JsonObject {
  const users: Record<string, number> = {};
  if (!privileged) {
    users[creator] = CREATOR_POWER;
    if (preset.inviteesHaveCreatorPower) for (const u of invite) users[u] = CREATOR_POWER;
  }
  const levels = { users, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: preset.invitePower };
  // Client-Server API › `m.room.power_levels` (`events`, since v1.16): in room versions with
  // privileged creators (12 and later) the initial power levels MUST name `m.room.tombstone` at a
  // level above `state_default` — upgrading the room stays the creators' (Synapse: 150).
  return privileged ? { ...levels, events: { [TOMBSTONE]: TOMBSTONE_POWER } } : levels;
}
