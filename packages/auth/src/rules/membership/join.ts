/**
 * Joins (Room versions › Authorization rules, `m.room.member` with membership `join`; checklist
 * F6.3): the creator's first join, then by join rule — `invite`/`knock` need an invite,
 * `restricted`/`knock_restricted` an authorising joined member who may invite, `public` anyone.
 *
 * @module
 */
import { showValue } from '../../show.js';
import { ALLOW, type AuthResult, membershipOf, reject } from '../common.js';
import type { MemberTransition } from '../membership.js';

/** F6.3: `membership: join`. */
export function checkJoin(t: MemberTransition): AuthResult {
  const { event, content, authState, flags, create, pls, sender, target, senderMembership, joinRule, joinRuleRaw } = t;
  // F6.3.1: the only previous event is the create event and the target is the creator
  // ([v1–v10] content.creator, [v11] create sender, [v12] create sender only).
  if (event.prevEvents.length === 1 && event.prevEvents[0] === create.eventId) {
    const creator = flags.creatorInContent ? create.content['creator'] : create.sender;
    if (typeof creator === 'string' && creator === target) return ALLOW;
  }
  // F6.3.2
  if (sender !== target) return reject('member.join.sender_mismatch', 'a user may only join themselves');
  // F6.3.3
  if (senderMembership === 'ban') return reject('member.join.banned', `${sender} is banned`);
  // F6.3.4
  if (joinRule === 'invite' || (flags.knocking && joinRule === 'knock')) {
    if (senderMembership === 'invite' || senderMembership === 'join') return ALLOW;
    return reject('member.join.not_invited', `join rule is ${joinRule} and ${sender} is not invited`);
  }
  // F6.3.5
  if ((flags.restrictedJoinRule && joinRule === 'restricted') || (flags.knockRestrictedJoinRule && joinRule === 'knock_restricted')) {
    if (senderMembership === 'join' || senderMembership === 'invite') return ALLOW;
    const via = content['join_authorised_via_users_server'];
    if (typeof via !== 'string') {
      return reject('member.join.authorising_user', `join rule is ${joinRule} and the join has no join_authorised_via_users_server`);
    }
    if (membershipOf(authState.get('m.room.member', via)) !== 'join') {
      return reject('member.join.authorising_user', `authorising user ${via} is not joined`);
    }
    if (pls.userLevel(via) < pls.invite) {
      return reject('member.join.authorising_user', `authorising user ${via} may not invite`);
    }
    return ALLOW;
  }
  // F6.3.6
  if (joinRule === 'public') return ALLOW;
  // F6.3.7 (also reached by knock_restricted in v8–v9 or knock in v1–v6: not join rules there)
  return reject('member.join.join_rule', `join rule ${showValue(joinRuleRaw)} does not allow joining`);
}
