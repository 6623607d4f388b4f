/**
 * Leaving, kicking and unbanning (Room versions › Authorization rules, `m.room.member` with
 * membership `leave`; checklist F6.5): a user leaves from invite, join or (v7+) knock; another
 * user's leave is a kick (kick level, lower target) or an unban (ban level).
 *
 * @module
 */
import { ALLOW, type AuthResult, reject } from '../common.js';
import type { MemberTransition } from '../membership.js';

/** F6.5: `membership: leave`. */
export function checkLeave(t: MemberTransition): AuthResult {
  const { flags, pls, sender, target, senderMembership, targetMembership } = t;
  // F6.5.1
  if (sender === target) {
    if (senderMembership === 'invite' || senderMembership === 'join' || (flags.knocking && senderMembership === 'knock')) return ALLOW;
    return reject('member.leave.self_membership', `${sender} cannot leave with membership ${String(senderMembership)}`);
  }
  // F6.5.2
  if (senderMembership !== 'join') return reject('member.leave.sender_not_joined', `${sender} is not joined`);
  const senderLevel = pls.userLevel(sender);
  // F6.5.3
  if (targetMembership === 'ban' && senderLevel < pls.ban) {
    return reject('member.leave.unban_power', `${sender} has power ${senderLevel} < ban level ${pls.ban}`);
  }
  // F6.5.4–5
  const targetLevel = pls.userLevel(target);
  if (senderLevel >= pls.kick && targetLevel < senderLevel) return ALLOW;
  return reject('member.leave.kick_power', `${sender} (power ${senderLevel}, kick level ${pls.kick}) cannot kick ${target} (power ${targetLevel})`);
}
