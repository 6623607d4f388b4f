/**
 * Pending invites (Server-Server API › Inviting to a room, the invitee's server): the invites
 * received for local users (`PUT /invite`, `invite.ts`) until the user joins or leaves. Kept in the
 * store (`RoomStore.putInvites`), so that they outlive a restart, and in memory
 * (`EngineCaches.invites`, the newest `limits.caches.invites` of them), loaded from the store on
 * first use. Several processes on one shared store each load them once: an invite received by
 * another process afterwards is not listed here until this one restarts.
 *
 * @module
 */
import { type JsonObject, isJsonObject } from '@roomgraph/canonical-json';
import { domainOf } from '@roomgraph/events';
import type { InviteKey, PduJson } from '@roomgraph/store';
import { type ReceivedInvite, inviteKey } from '../caches.js';
import type { EngineContext } from '../context.js';

/** Loads the stored invites into memory once (the oldest beyond the bound are removed from the store too). */
export async function loadInvites(ctx: EngineContext): Promise<void> {
  const caches = ctx.caches;
  if (caches.invitesLoaded) return;
  caches.invitesLoading ??= (async () => {
    const evicted: ReceivedInvite[] = [];
    for (const s of await ctx.store.listInvites()) {
      const r = s.record as JsonObject;
      if (!isReceivedInvite(r)) continue;
      const e = caches.rememberInvite(r);
      if (e !== undefined) evicted.push(e);
    }
    if (evicted.length > 0) await ctx.store.deleteInvites(evicted.map(keyOf));
    caches.invitesLoaded = true;
  })().finally(() => {
    caches.invitesLoading = undefined;
  });
  await caches.invitesLoading;
}

/** Keeps an invite received for a local user (replacing an earlier one of the same room and user). */
export async function keepInvite(ctx: EngineContext, invite: ReceivedInvite): Promise<void> {
  await loadInvites(ctx);
  const evicted = ctx.caches.rememberInvite(invite);
  await ctx.store.putInvites([{ roomId: invite.roomId, userId: invite.userId, record: invite as unknown as PduJson, receivedTs: ctx.now() }]);
  if (evicted !== undefined) await ctx.store.deleteInvites([keyOf(evicted)]);
}

/** The pending invite of `userId` to `roomId`, if any. */
export async function pendingInvite(ctx: EngineContext, roomId: string, userId: string): Promise<ReceivedInvite | undefined> {
  await loadInvites(ctx);
  return ctx.caches.invites.get(inviteKey(roomId, userId));
}

/** The pending invites (for one user when given), oldest first. */
export async function pendingInvites(ctx: EngineContext, userId?: string): Promise<ReceivedInvite[]> {
  await loadInvites(ctx);
  return [...ctx.caches.invites.values()].filter((i) => userId === undefined || i.userId === userId);
}

/** Forgets the invite of `userId` to `roomId` (the user left through this engine). */
export async function dropInvite(ctx: EngineContext, roomId: string, userId: string): Promise<void> {
  await loadInvites(ctx);
  ctx.caches.invites.delete(inviteKey(roomId, userId));
  await ctx.store.deleteInvites([{ roomId, userId }]);
}

/**
 * After an accepted event of `roomId`: a membership event of a local user other than an invite,
 * newer than their pending invite, settles it (see `EngineCaches.membershipStored`). For any other
 * event `undefined` at once — no promise, nothing read (it runs for every accepted event).
 */
export function settleInvite(ctx: EngineContext, roomId: string, json: JsonObject): Promise<void> | undefined {
  if (json['type'] !== 'm.room.member') return undefined;
  const userId = json['state_key'];
  if (typeof userId !== 'string' || domainOf(userId) !== ctx.serverName) return undefined;
  return settleLocal(ctx, roomId, userId, json);
}

/** {@link settleInvite} for a membership event of local user `userId`. */
async function settleLocal(ctx: EngineContext, roomId: string, userId: string, json: JsonObject): Promise<void> {
  await loadInvites(ctx);
  if (ctx.caches.membershipStored(roomId, json)) await ctx.store.deleteInvites([{ roomId, userId }]);
}

function keyOf(i: ReceivedInvite): InviteKey {
  return { roomId: i.roomId, userId: i.userId };
}

/** Whether a stored record is an invite as {@link keepInvite} stored it. */
function isReceivedInvite(r: JsonObject): r is JsonObject & ReceivedInvite {
  const str = (k: string): boolean => typeof r[k] === 'string';
  return str('roomId') && str('userId') && str('sender') && str('eventId') && str('roomVersion') && isJsonObject(r['event']) && Array.isArray(r['inviteRoomState']);
}
