/**
 * Stable codes for the rule that rejected an event, with the item of the spec digest
 * (`docs/spec-checklist.md` §f in the repository) each implements.
 *
 * @module
 */

/**
 * Every rule code {@link checkAuth} can return, with a description. The codes are stable: callers
 * (state resolution, the engine, the CLI) may match on them.
 */
export const AUTH_RULE_CODES = Object.freeze({
  // F1 — m.room.create
  'create.prev_events': 'F1.1: an m.room.create event has prev_events.',
  'create.room_id_domain': 'F1.2 [v1–v11]: the domain of the create event\'s room_id differs from the domain of its sender.',
  'create.room_id_present': 'F1.2 [v12]: the create event has a room_id (the room ID is derived from the create event ID).',
  'create.room_version': 'F1.3: content.room_version is present and not a recognised room version.',
  'create.no_creator': 'F1.4 [v1–v10]: the create event has no content.creator.',
  'create.additional_creators': 'F1.5 [v12]: content.additional_creators is not an array of valid user IDs.',
  // F2 — room ID (v12)
  'room_id.create_event': 'F2 [v12]: room_id is not "!" + the event ID (minus "$") of an accepted m.room.create event.',
  // F3 — the auth_events list
  'auth_events.duplicate': 'F3.1: auth_events has two entries with the same (type, state_key).',
  'auth_events.unexpected': 'F3.2: an auth event\'s (type, state_key) is not one the auth events selection picks (in v12 this includes m.room.create).',
  'auth_events.rejected': 'F3.3: an auth event was itself rejected.',
  'auth_events.no_create': 'F3.4 [v1–v11]: there is no m.room.create among the auth events.',
  'auth_events.wrong_room': 'F3.5: an auth event belongs to another room.',
  'state.no_create': 'The state the event is checked against has no m.room.create event (F0.10; the rules need one).',
  // F4
  federate: 'F4: the room has m.federate = false and the sender is on another server than the create event\'s sender.',
  // F5 — v1–v5 aliases
  'aliases.no_state_key': 'F5 [v1–v5]: an m.room.aliases event has no state_key.',
  'aliases.domain': 'F5 [v1–v5]: the sender\'s domain does not match the m.room.aliases state_key.',
  // F6 — m.room.member
  'member.no_state_key': 'F6.1: an m.room.member event has no state_key.',
  'member.no_membership': 'F6.1: an m.room.member event has no content.membership.',
  'member.join_authorised_signature':
    'F6.2 [v8+]: content.join_authorised_via_users_server is present and the event is not validly signed by that user\'s server.',
  'member.join.sender_mismatch': 'F6.3.2: a join whose sender differs from its state_key.',
  'member.join.banned': 'F6.3.3: the joining user is banned.',
  'member.join.not_invited': 'F6.3.4: the join rule is invite (or knock / knock_restricted) and the user is neither invited nor joined.',
  'member.join.authorising_user':
    'F6.3.5.2 [v8+]: restricted join whose join_authorised_via_users_server is not a joined member with power ≥ invite level.',
  'member.join.join_rule': 'F6.3.7: the join rule does not allow joining (private, unknown, or not yet supported in this room version).',
  'member.invite.third_party.banned': 'F6.4.1.1: third-party invite of a banned user.',
  'member.invite.third_party.no_signed': 'F6.4.1.2: content.third_party_invite has no (object) signed property.',
  'member.invite.third_party.signed_fields': 'F6.4.1.3: third_party_invite.signed lacks mxid or token.',
  'member.invite.third_party.mxid': 'F6.4.1.4: third_party_invite.signed.mxid does not match the state_key.',
  'member.invite.third_party.no_invite_event': 'F6.4.1.5: no m.room.third_party_invite in state with state_key = signed.token.',
  'member.invite.third_party.sender': 'F6.4.1.6: the sender differs from the sender of the m.room.third_party_invite.',
  'member.invite.third_party.signature': 'F6.4.1.8: no signature in signed verifies with a public key of the m.room.third_party_invite.',
  'member.invite.sender_not_joined': 'F6.4.2: the inviter is not joined.',
  'member.invite.target_membership': 'F6.4.3: the invitee is already joined or is banned.',
  'member.invite.power': 'F6.4.5: the inviter\'s power level is below the invite level.',
  'member.leave.self_membership': 'F6.5.1: a user leaving who is not invited, joined (or, v7+, knocking).',
  'member.leave.sender_not_joined': 'F6.5.2: kick/unban by a sender who is not joined.',
  'member.leave.unban_power': 'F6.5.3: unban by a sender whose power level is below the ban level.',
  'member.leave.kick_power': 'F6.5.5: kick by a sender below the kick level or not above the target\'s power level.',
  'member.ban.sender_not_joined': 'F6.6.1: ban by a sender who is not joined.',
  'member.ban.power': 'F6.6.3: ban by a sender below the ban level or not above the target\'s power level.',
  'member.knock.join_rule': 'F6.7.1 [v7+]: knock while the join rule is not knock (v10+: nor knock_restricted).',
  'member.knock.sender_mismatch': 'F6.7.2 [v7+]: a knock whose sender differs from its state_key.',
  'member.knock.membership': 'F6.7.4 [v7+]: knock by a user who is banned, invited or joined.',
  'member.unknown_membership': 'F6.8: unknown membership value (including knock before v7).',
  // F7–F10
  sender_not_joined: 'F7: the sender is not joined to the room.',
  'third_party_invite.power': 'F8: m.room.third_party_invite by a sender below the invite level.',
  'power.insufficient': 'F9: the sender\'s power level is below the required power level of the event type.',
  'state_key.user_id': 'F10: the state_key starts with "@" and is not the sender.',
  // F11 — m.room.power_levels
  'power_levels.not_integer': 'F11.1 [v10+]: users_default, events_default, state_default, ban, redact, kick or invite is not an integer.',
  'power_levels.map_not_integers': 'F11.2 [v10+]: events or notifications is not an object of integers.',
  'power_levels.invalid_value':
    'F0.5/F0.6 [v1–v9]: a named level or an events/notifications value is not an integer, an integer string (or, v1–v5, a finite float).',
  'power_levels.users_invalid': 'F11.3: users is not an object of valid user IDs to integers (v1–v9: or integer strings).',
  'power_levels.creator_in_users': 'F11.4 [v12]: users lists a room creator.',
  'power_levels.named_level': 'F11.6: a named level was changed from or to a value above the sender\'s power level.',
  'power_levels.events_level': 'F11.7/F11.8: an events (v6+: or notifications) entry was changed from or to a value above the sender\'s power level.',
  'power_levels.user_level':
    'F11.9/F11.10: a users entry (not the sender\'s own) at or above the sender\'s level was changed, or an entry was set above the sender\'s level.',
  // F12 — v1–v2 redaction
  internal: 'A caller-supplied callback or lookup threw; the event is treated as rejected.',
  'redaction.insufficient': 'F12 [v1–v2]: redaction by a sender below the redact level of an event from another server.',
} as const);

/** A stable rule code; see {@link AUTH_RULE_CODES}. */
export type AuthRuleCode = keyof typeof AUTH_RULE_CODES;
