/**
 * The servers in a room (Server-Server API › PDUs: a server sends its events to every server with
 * a joined member in the room's current state) and the joined members they are counted from.
 * Counts are kept per room at a current-state snapshot and moved forward through state diffs, so
 * a join in a 100k-member room does not re-read every member.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { type Pdu, domainOf, stateKeyOf } from '@roomgraph/events';
import type { SnapshotId, StoredEvent } from '@roomgraph/store';
import type { MemberKeys, ServerCounts } from '../caches.js';
import type { EngineContext } from '../context.js';
import { joinedUser } from '../stored.js';

/** A state diff larger than this recounts the members instead of moving the counts. */
export const MAX_COUNTS_DIFF = 10_000;
/** The state key prefix of `m.room.member` entries. */
const MEMBER_PREFIX = stateKeyOf('m.room.member', '');
/** Member events read per batch. */
const MEMBER_BATCH = 512;

/**
 * The joined members of a state (those `keep` accepts): the member list is read once
 * (O(members)); their events are fetched in batches as the caller iterates, so a caller that
 * stops at the first one reads little.
 */
export async function* joinedMembers(ctx: EngineContext, snapshot: SnapshotId, keep: (userId: string) => boolean): AsyncGenerator<string> {
  const prefix = stateKeyOf('m.room.member', '');
  const ids: string[] = [];
  for (const [key, id] of await ctx.store.loadState(snapshot)) if (key.startsWith(prefix) && keep(key.slice(prefix.length))) ids.push(id);
  for (let i = 0; i < ids.length; i += MEMBER_BATCH) {
    for (const e of (await ctx.store.getEvents(ids.slice(i, i + MEMBER_BATCH))).values()) {
      const user = joinedUser(e);
      if (user !== undefined) yield user;
    }
  }
}

function joinedServer(e: StoredEvent | undefined): string | undefined {
  const user = joinedUser(e);
  return user === undefined ? undefined : domainOf(user);
}

function add(counts: Map<string, number>, server: string | undefined, by: number): void {
  if (server === undefined) return;
  const n = (counts.get(server) ?? 0) + by;
  if (n > 0) counts.set(server, n);
  else counts.delete(server);
}

/** Moves cached server counts from their snapshot to `to` through the state diff; `false` when the diff is too large to be worth it. */
async function advanceServerCounts(ctx: EngineContext, cached: ServerCounts, to: SnapshotId): Promise<boolean> {
  const prefix = stateKeyOf('m.room.member', '');
  const diff = await ctx.store.diffStates(cached.snapshot, to);
  if (diff.size > MAX_COUNTS_DIFF) return false;
  const changed = [...diff].filter(([k]) => k.startsWith(prefix));
  const ids = changed.flatMap(([, [a, b]]) => [a, b]).filter((x): x is string => x !== undefined);
  const events = await ctx.store.getEvents(ids);
  for (const [, [a, b]] of changed) {
    add(cached.counts, joinedServer(a === undefined ? undefined : events.get(a)), -1);
    add(cached.counts, joinedServer(b === undefined ? undefined : events.get(b)), 1);
  }
  cached.snapshot = to;
  return true;
}

/** The servers with joined members in the room's current state. */
export async function serversInRoom(ctx: EngineContext, roomId: string): Promise<Set<string>> {
  const room = await ctx.store.getRoom(roomId);
  if (room?.currentState === undefined) return new Set();
  let cached = ctx.caches.serverCounts.get(roomId);
  if (cached === undefined || (cached.snapshot !== room.currentState && !(await advanceServerCounts(ctx, cached, room.currentState)))) {
    const counts = new Map<string, number>();
    for await (const user of joinedMembers(ctx, room.currentState, () => true)) add(counts, domainOf(user), 1);
    cached = { snapshot: room.currentState, counts };
    ctx.caches.serverCounts.set(roomId, cached);
  }
  return new Set(cached.counts.keys());
}

/**
 * Sends PDUs to `destinations`: through the transport's durable queue when it has one (resolves
 * once they are journalled; a journal failure rejects), else pushed at once, best effort.
 */
async function deliver(ctx: EngineContext, destinations: readonly string[], pdus: readonly JsonObject[]): Promise<void> {
  const t = ctx.transport;
  const to = [...new Set(destinations)].filter((d) => d !== ctx.serverName);
  if (t === undefined || to.length === 0 || pdus.length === 0) return;
  if (t.queuePdus !== undefined) { await t.queuePdus(to, pdus); return; }
  await Promise.all(to.map((d) => t.sendPdus(d, pdus).catch(() => undefined)));
}

/**
 * The member state keys (`m.room.member` entries, any membership) of `server`'s users in the room's
 * current state. Grouped by server once per room (O(members)), then moved forward through state
 * diffs as the current state changes, so that each request of a server (what it may see) does not
 * scan every member of a 100k-member room.
 */
export async function memberKeysOf(ctx: EngineContext, roomId: string, server: string): Promise<readonly string[]> {
  const room = await ctx.store.getRoom(roomId);
  if (room?.currentState === undefined) return [];
  const to = room.currentState;
  let cached = ctx.caches.memberKeys.get(roomId);
  if (cached !== undefined && cached.snapshot !== to && !(await advanceMemberKeys(ctx, cached, to))) cached = undefined;
  if (cached === undefined) {
    const byServer = new Map<string, Set<string>>();
    for (const key of (await ctx.store.loadState(to)).keys()) fileMemberKey(byServer, key, true);
    cached = { snapshot: to, byServer };
    ctx.caches.memberKeys.set(roomId, cached);
  }
  return [...(cached.byServer.get(server) ?? [])];
}

/** Files (or, with `present` false, removes) a state key under its user's server when it is a member key. */
function fileMemberKey(byServer: Map<string, Set<string>>, key: string, present: boolean): void {
  if (!key.startsWith(MEMBER_PREFIX)) return;
  const server = domainOf(key.slice(MEMBER_PREFIX.length));
  if (server === undefined) return;
  let keys = byServer.get(server);
  if (present) {
    if (keys === undefined) byServer.set(server, (keys = new Set()));
    keys.add(key);
  } else if (keys !== undefined) {
    keys.delete(key);
    if (keys.size === 0) byServer.delete(server);
  }
}

/** Moves cached member keys from their snapshot to `to` through the state diff; `false` when the diff is too large to be worth it. */
async function advanceMemberKeys(ctx: EngineContext, cached: MemberKeys, to: SnapshotId): Promise<boolean> {
  const diff = await ctx.store.diffStates(cached.snapshot, to);
  if (diff.size > MAX_COUNTS_DIFF) return false;
  for (const [key, [, b]] of diff) fileMemberKey(cached.byServer, key, b !== undefined);
  cached.snapshot = to;
  return true;
}

/** Sends PDUs to every other server in the room (its current state), except `skip`, and to `also`. */
export async function sendToRoom(ctx: EngineContext, roomId: string, pdus: readonly JsonObject[], skip: readonly string[] = [], also: readonly string[] = []): Promise<void> {
  if (ctx.transport === undefined) return;
  const servers = await serversInRoom(ctx, roomId);
  for (const x of also) servers.add(x);
  for (const x of [ctx.serverName, ...skip]) servers.delete(x);
  await deliver(ctx, [...servers], pdus);
}

/** Sends this server's events to other servers (durably queued when the transport has a queue, else best effort). */
export async function sendToServers(ctx: EngineContext, destinations: readonly string[], pdus: readonly Pdu[]): Promise<void> {
  await deliver(ctx, destinations, pdus.map((p) => p.json));
}

/**
 * After a local event: with a durable queue, it is queued for every other server in the room and,
 * for a membership change of another server's user (a kick, ban, or that user's own leave), that
 * server too. Without a queue nothing is sent here (the embedder pushes with `sendToServers`).
 */
export async function distributeLocal(ctx: EngineContext, roomId: string, pdu: Pdu): Promise<void> {
  if (ctx.transport?.queuePdus === undefined) return;
  const target = pdu.type === 'm.room.member' && pdu.stateKey !== undefined ? domainOf(pdu.stateKey) : undefined;
  await sendToRoom(ctx, roomId, [pdu.json], [], target === undefined ? [] : [target]);
}
