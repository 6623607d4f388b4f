/**
 * Knocks (Room versions 7+ › Authorization rules, `m.room.member` with membership `knock`;
 * checklist F6.7): only where the join rule is `knock` (or, v10+, `knock_restricted`), for
 * oneself, and not when banned, invited or joined.
 *
 * @module
 */
import { showValue } from '../../show.js';
import { ALLOW, type AuthResult, reject } from '../common.js';
import type { MemberTransition } from '../membership.js';

/** F6.7: `membership: knock` (room versions with knocking). */
export function checkKnock(t: MemberTransition): AuthResult {
  const { flags, sender, target, senderMembership, joinRule, joinRuleRaw } = t;
  // F6.7.1
  if (joinRule !== 'knock' && !(flags.knockRestrictedJoinRule && joinRule === 'knock_restricted')) {
    return reject('member.knock.join_rule', `join rule ${showValue(joinRuleRaw)} does not allow knocking`);
  }
  // F6.7.2
  if (sender !== target) return reject('member.knock.sender_mismatch', 'a user may only knock for themselves');
  // F6.7.3–4
  if (senderMembership !== 'ban' && senderMembership !== 'invite' && senderMembership !== 'join') return ALLOW;
  return reject('member.knock.membership', `${sender} cannot knock with membership ${senderMembership}`);
}
