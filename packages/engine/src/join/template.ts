/**
 * The joining server's part of a `make_join` template (Server-Server API › Joining Rooms):
 * checking that the template is the join that was asked for, and filling it in.
 *
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { randomId } from '@roomgraph/crypto';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { isJsonObject } from '@roomgraph/canonical-json';

/**
 * Whether a make_join template is the join that was asked for: the joining server MUST check
 * `type`, `room_id`, `sender`, `state_key` and `content.membership` (SS › Joining Rooms).
 */
export function isJoinTemplateFor(template: unknown, roomId: string, userId: string): template is JsonObject & { readonly content: JsonObject } {
  if (!isJsonObject(template)) return false;
  const content = template['content'];
  return template['type'] === 'm.room.member' && template['room_id'] === roomId && template['sender'] === userId
    && template['state_key'] === userId && isJsonObject(content) && content['membership'] === 'join';
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
  if (rules.eventFormat.eventIdFormat === 'server-assigned') ev['event_id'] = `$${randomId(18)}:${fill.serverName}`;
  return ev;
}
