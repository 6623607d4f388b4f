/**
 * Invites (Room versions › Authorization rules, `m.room.member` with membership `invite`;
 * checklist F6.4): a third-party invite must carry a signature by a key of the matching
 * `m.room.third_party_invite`; otherwise the sender must be joined, the target neither joined nor
 * banned, and the sender's power at least the invite level.
 *
 * @module
 */
import type { JsonValue } from '@roomgraph/canonical-json';
import { showValue } from '../../show.js';
import { verifyThirdPartySigned } from '../../signatures.js';
import { ALLOW, type AuthResult, asObject, has, own, reject } from '../common.js';
import type { MemberTransition } from '../membership.js';

/** F6.4: `membership: invite`. */
export function checkInvite(t: MemberTransition): AuthResult {
  const { content, authState, pls, sender, target, senderMembership, targetMembership } = t;
  // F6.4.1
  if (has(content, 'third_party_invite')) {
    if (targetMembership === 'ban') return reject('member.invite.third_party.banned', `${target} is banned`);
    const tpi = asObject(content['third_party_invite']);
    const signed = asObject(own(tpi, 'signed'));
    if (signed === undefined) return reject('member.invite.third_party.no_signed', 'third_party_invite has no signed object');
    if (!has(signed, 'mxid') || !has(signed, 'token')) {
      return reject('member.invite.third_party.signed_fields', 'third_party_invite.signed lacks mxid or token');
    }
    if (signed['mxid'] !== target) return reject('member.invite.third_party.mxid', 'signed.mxid does not match state_key');
    const token = signed['token'];
    const inviteEvent = typeof token === 'string' ? authState.get('m.room.third_party_invite', token) : undefined;
    if (inviteEvent === undefined) {
      return reject('member.invite.third_party.no_invite_event', `no m.room.third_party_invite with token ${showValue(token)}`);
    }
    if (inviteEvent.sender !== sender) {
      return reject('member.invite.third_party.sender', 'the sender did not send the m.room.third_party_invite');
    }
    const keys: string[] = [];
    const pk = inviteEvent.content['public_key'];
    if (typeof pk === 'string') keys.push(pk);
    const pks = inviteEvent.content['public_keys'];
    if (Array.isArray(pks)) {
      for (const entry of pks as readonly JsonValue[]) {
        const k = own(asObject(entry), 'public_key');
        if (typeof k === 'string') keys.push(k);
      }
    }
    if (verifyThirdPartySigned(signed, keys)) return ALLOW;
    return reject('member.invite.third_party.signature', 'no signature in signed matches a public key of the m.room.third_party_invite');
  }
  // F6.4.2
  if (senderMembership !== 'join') return reject('member.invite.sender_not_joined', `${sender} is not joined`);
  // F6.4.3
  if (targetMembership === 'join' || targetMembership === 'ban') {
    return reject('member.invite.target_membership', `${target} is ${targetMembership === 'join' ? 'already joined' : 'banned'}`);
  }
  // F6.4.4–5
  if (pls.userLevel(sender) >= pls.invite) return ALLOW;
  return reject('member.invite.power', `${sender} has power ${pls.userLevel(sender)} < invite level ${pls.invite}`);
}
