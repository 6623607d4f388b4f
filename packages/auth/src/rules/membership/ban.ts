/**
 * Bans (Room versions › Authorization rules, `m.room.member` with membership `ban`; checklist
 * F6.6): a joined sender at the ban level, banning a user of lower power.
 *
 * @module
 */
import { ALLOW, type AuthResult, reject } from '../common.js';
import type { MemberTransition } from '../membership.js';

/** F6.6: `membership: ban`. */
export function checkBan(t: MemberTransition): AuthResult {
  const { pls, sender, target, senderMembership } = t;
  // F6.6.1
  if (senderMembership !== 'join') return reject('member.ban.sender_not_joined', `${sender} is not joined`);
  // F6.6.2–3
  const senderLevel = pls.userLevel(sender);
  const targetLevel = pls.userLevel(target);
  if (senderLevel >= pls.ban && targetLevel < senderLevel) return ALLOW;
  return reject('member.ban.power', `${sender} (power ${senderLevel}, ban level ${pls.ban}) cannot ban ${target} (power ${targetLevel})`);
}
