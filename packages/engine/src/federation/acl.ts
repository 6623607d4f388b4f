/**
 * Server ACLs (Client-Server API › Server Access Control Lists; Server-Server API › Server Access
 * Control Lists): whether a server may take part in a room, from the `m.room.server_acl` event of
 * its current state, checked on every federation request about the room (403 `M_FORBIDDEN`
 * otherwise) and per PDU of a transaction.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { stateKeyOf } from '@roomgraph/events';
import type { EngineContext } from '../context.js';
import { isJsonObject } from '@roomgraph/canonical-json';
import { refuse } from './serving.js';

/**
 * Appendices › Glob-style matching: `*` matches any run of characters (also none), `?` exactly
 * one; every other character matches itself, here case-insensitively (the ACL's globs are).
 */
export function globMatches(glob: string, value: string): boolean {
  const g = glob.toLowerCase();
  const v = value.toLowerCase();
  // Iterative wildcard matching with backtracking to the last '*' (linear-ish, no regex blow-up).
  let gi = 0; let vi = 0; let star = -1; let mark = 0;
  while (vi < v.length) {
    if (gi < g.length && (g[gi] === '?' || g[gi] === v[vi])) { gi++; vi++; continue; }
    if (gi < g.length && g[gi] === '*') { star = gi++; mark = vi; continue; }
    if (star >= 0) { gi = star + 1; vi = ++mark; continue; }
    return false;
  }
  while (gi < g.length && g[gi] === '*') gi++;
  return gi === g.length;
}

/** The host part of a server name (the port is never considered by ACLs), without IPv6 brackets. */
function hostOf(serverName: string): { readonly host: string; readonly ipLiteral: boolean } {
  if (serverName.startsWith('[')) {
    const close = serverName.indexOf(']');
    return { host: serverName.slice(0, close + 1), ipLiteral: true };
  }
  const colon = serverName.lastIndexOf(':');
  const host = colon < 0 ? serverName : serverName.slice(0, colon);
  return { host, ipLiteral: /^\d{1,3}(\.\d{1,3}){3}$/.test(host) };
}

/**
 * m.room.server_acl: whether `serverName` is allowed by this ACL content — 1. no ACL event: allow
 * (the caller's case); 2. an IP literal when `allow_ip_literals` is `false`: deny; 3. matching a
 * `deny` glob: deny; 4. matching an `allow` glob: allow; 5. otherwise deny. Globs are matched
 * against the server name without its port; non-string entries are ignored.
 */
export function serverAclAllows(content: JsonObject, serverName: string): boolean {
  const { host, ipLiteral } = hostOf(serverName);
  if (ipLiteral && content['allow_ip_literals'] === false) return false;
  const globs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  if (globs(content['deny']).some((g) => globMatches(g, host))) return false;
  return globs(content['allow']).some((g) => globMatches(g, host));
}

/** Whether the room's current ACL allows `serverName` (no ACL, or an unknown room: allowed). */
export async function aclAllows(ctx: EngineContext, roomId: string, serverName: string): Promise<boolean> {
  const room = await ctx.store.getRoom(roomId);
  if (room?.currentState === undefined) return true;
  const [id] = await ctx.store.getStateEntries(room.currentState, [stateKeyOf('m.room.server_acl', '')]);
  if (id === undefined) return true;
  const e = await ctx.store.getEvent(id);
  const content = e?.json['content'];
  return !isJsonObject(content) || serverAclAllows(content, serverName);
}

/** Refuses (403 `M_FORBIDDEN`) a request from a server the room's ACL denies. */
export async function assertAclAllows(ctx: EngineContext, roomId: string, origin: string): Promise<void> {
  if (!(await aclAllows(ctx, roomId, origin))) throw refuse(ctx, 'M_FORBIDDEN', `${origin} is denied by the server ACL of ${roomId}`);
}
