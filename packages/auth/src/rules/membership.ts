/**
 * The rules for `m.room.member` (Room versions › Authorization rules, rule 4 in v12's numbering —
 * checklist F6): the common checks (a state key and a membership; in v8+ the authorising server's
 * signature on a restricted join), then one rule set per membership transition, each in its own
 * file under `membership/` (join, invite, leave, ban, knock).
 *
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { type RoomEvent, type StateLookup, domainOf } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { PowerLevels } from '../powerLevels.js';
import { showValue } from '../show.js';
import { isSignedByServer } from '../signatures.js';
import { type AuthOptions, type AuthResult, has, membershipOf, reject } from './common.js';
import { checkBan } from './membership/ban.js';
import { checkInvite } from './membership/invite.js';
import { checkJoin } from './membership/join.js';
import { checkKnock } from './membership/knock.js';
import { checkLeave } from './membership/leave.js';

/** What each membership transition's rules read. */
export interface MemberTransition {
  /** The member event. */
  readonly event: RoomEvent;
  /** Its content. */
  readonly content: JsonObject;
  /** The state the rules read. */
  readonly authState: StateLookup<RoomEvent>;
  /** The room version's authorization flags. */
  readonly flags: RoomVersionRules['authorization'];
  /** The room's create event. */
  readonly create: RoomEvent;
  /** The room's power levels. */
  readonly pls: PowerLevels;
  /** The sender. */
  readonly sender: string;
  /** The target (the state key). */
  readonly target: string;
  /** The sender's current membership. */
  readonly senderMembership: string | undefined;
  /** The target's current membership. */
  readonly targetMembership: string | undefined;
  /** The join rule (`invite` when there is none; `undefined` when it is not a string). */
  readonly joinRule: string | undefined;
  /** The join rule as found (for messages). */
  readonly joinRuleRaw: JsonValue | undefined;
}

/** F6: `m.room.member`. */
export function checkMember(
  event: RoomEvent,
  authState: StateLookup<RoomEvent>,
  rules: RoomVersionRules,
  create: RoomEvent,
  pls: PowerLevels,
  options: AuthOptions | undefined,
): AuthResult {
  const flags = rules.authorization;
  const content = event.content;
  // F6.1
  if (event.stateKey === undefined) return reject('member.no_state_key', 'm.room.member without state_key');
  if (!has(content, 'membership')) return reject('member.no_membership', 'm.room.member without content.membership');
  const target = event.stateKey;
  const sender = event.sender;
  const membership = content['membership'];

  // F6.2 [v8+]: applies to every membership (the reference server checks it for joins only, in its
  // signature checks; the spec rule is general and we follow it).
  if (flags.restrictedJoinRule && has(content, 'join_authorised_via_users_server')) {
    const via = content['join_authorised_via_users_server'];
    const server = typeof via === 'string' ? domainOf(via) : undefined;
    if (server === undefined || !isSignedByServer(event, server, rules, options?.serverKeys)) {
      return reject('member.join_authorised_signature', `the event is not validly signed by the server of join_authorised_via_users_server ${showValue(via)}`);
    }
  }

  const jrEvent = authState.get('m.room.join_rules', '');
  // F0.8 AMBIGUOUS: no join rules event → 'invite' (the reference server's default). A join_rules
  // event without a join_rule also reads as 'invite' there.
  const joinRuleRaw = jrEvent === undefined ? 'invite' : has(jrEvent.content, 'join_rule') ? jrEvent.content['join_rule'] : 'invite';
  // (A join or leave of one's own: one look-up for both.)
  const senderMembership = membershipOf(authState.get('m.room.member', sender));
  const t: MemberTransition = {
    event, content, authState, flags, create, pls, sender, target, senderMembership,
    targetMembership: target === sender ? senderMembership : membershipOf(authState.get('m.room.member', target)),
    joinRule: typeof joinRuleRaw === 'string' ? joinRuleRaw : undefined,
    joinRuleRaw,
  };
  if (membership === 'join') return checkJoin(t);
  if (membership === 'invite') return checkInvite(t);
  if (membership === 'leave') return checkLeave(t);
  if (membership === 'ban') return checkBan(t);
  if (membership === 'knock' && flags.knocking) return checkKnock(t);
  // F6.8
  return reject('member.unknown_membership', `unknown membership ${showValue(membership)}`);
}
