/**
 * Server-Server API › Retrieving server keys: a {@link KeySource} that fetches a server's own key
 * object (`GET /_matrix/key/v2/server`; self-signed, `server_name` matching, keys decoding to 32
 * bytes, `valid_until_ts` and `old_verify_keys` read), falls back to notaries (`POST
 * /_matrix/key/v2/query`, the answer signed by both the server and the notary), and caches what
 * it learns until it expires.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { verifyJson } from '@roomgraph/crypto';
import { type CallOptions, type KeyCache, type KeySource, type ServerKey, parseServerKeys } from '@roomgraph/transport';

/** What {@link HttpKeySource} needs from a transport. */
export interface KeyFetcher {
  /** `GET /_matrix/key/v2/server` on the server itself. */
  getServerKeys(destination: string, options?: CallOptions): Promise<JsonObject>;
  /** `POST /_matrix/key/v2/query` on a notary. */
  queryKeys(notary: string, criteria: Readonly<Record<string, Readonly<Record<string, { readonly minimum_valid_until_ts?: number }>>>>, options?: CallOptions): Promise<readonly JsonObject[]>;
}

/** Options of {@link HttpKeySource}. */
export interface HttpKeySourceOptions {
  /** The transport used for key requests. */
  readonly fetcher: KeyFetcher;
  /** Notary servers asked when a server cannot be reached (in order; default none). */
  readonly notaries?: readonly string[];
  /** A persistent cache (e.g. the room store's key table), read on a miss and written on fetch. */
  readonly cache?: KeyCache;
  /** How long a failed look-up is remembered before asking again (default 30 s). */
  readonly negativeCacheMs?: number;
  /** Clock (ms). */
  readonly now?: () => number;
}

/**
 * Room version 5 › Signing key validity period: a key's `valid_until_ts` is honoured for at most
 * 7 days after it was fetched.
 */
const MAX_VALIDITY_MS = 7 * 24 * 3600 * 1000;

interface ServerEntry {
  readonly keys: ReadonlyMap<string, ServerKey>;
  /** When to refetch (the object's valid_until_ts, capped). */
  readonly expiresAt: number;
}

/** Fetches, checks and caches server keys over federation, with notary fallback. */
export class HttpKeySource implements KeySource {
  readonly #fetcher: KeyFetcher;
  readonly #notaries: readonly string[];
  readonly #cache: KeyCache | undefined;
  readonly #negativeMs: number;
  readonly #now: () => number;
  readonly #servers = new Map<string, ServerEntry>();
  readonly #failedUntil = new Map<string, number>();
  readonly #inflight = new Map<string, Promise<ServerEntry | undefined>>();

  constructor(options: HttpKeySourceOptions) {
    this.#fetcher = options.fetcher;
    this.#notaries = options.notaries ?? [];
    this.#cache = options.cache;
    this.#negativeMs = options.negativeCacheMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** Adds keys known up front (this server's own key), never expiring. */
  addStatic(key: ServerKey): void {
    const prev = this.#servers.get(key.serverName);
    const keys = new Map(prev?.keys ?? []);
    keys.set(key.keyId, key);
    this.#servers.set(key.serverName, { keys, expiresAt: Number.MAX_SAFE_INTEGER });
  }

  /**
   * `KeySource.getKey` of `@roomgraph/transport`.
   * A key counts as found when its validity (`expired_ts` for an old key, else `valid_until_ts`)
   * reaches `minimumValidUntilTs`; otherwise the server (then the notaries) are asked again, at
   * most once per negative-cache period.
   */
  async getKey(serverName: string, keyId: string, minimumValidUntilTs?: number, options?: CallOptions): Promise<ServerKey | undefined> {
    const now = this.#now();
    const entry = this.#servers.get(serverName);
    const cached = entry?.keys.get(keyId);
    if (cached !== undefined && entry!.expiresAt > now && validFor(cached, minimumValidUntilTs)) return cached;
    const stored = await this.#cache?.getServerKey(serverName, keyId).catch(() => undefined);
    if (stored !== undefined && validFor(stored, minimumValidUntilTs) && (stored.validUntilTs ?? stored.expiredTs ?? 0) > now) return stored;
    if ((this.#failedUntil.get(`${serverName}\u0000${keyId}`) ?? 0) > now) return best(cached, stored);
    const fetched = await this.#fetchDeduped(serverName, keyId, minimumValidUntilTs, options);
    const key = fetched?.keys.get(keyId);
    if (key !== undefined && validFor(key, minimumValidUntilTs)) return key;
    this.#failedUntil.set(`${serverName}\u0000${keyId}`, now + this.#negativeMs);
    // Stale knowledge is still returned: the caller judges validity (and refuses an old key where it must).
    return best(key, best(cached, stored));
  }

  #fetchDeduped(serverName: string, keyId: string, minimumValidUntilTs: number | undefined, options?: CallOptions): Promise<ServerEntry | undefined> {
    const k = `${serverName}\u0000${keyId}`;
    let p = this.#inflight.get(k);
    if (p === undefined) {
      p = this.#fetch(serverName, keyId, minimumValidUntilTs, options).finally(() => this.#inflight.delete(k));
      this.#inflight.set(k, p);
    }
    return p;
  }

  async #fetch(serverName: string, keyId: string, minimumValidUntilTs: number | undefined, options?: CallOptions): Promise<ServerEntry | undefined> {
    // Directly from the server.
    const direct = await this.#fetcher.getServerKeys(serverName, options).then((b) => this.#accept(serverName, b), () => undefined);
    if (direct !== undefined && direct.keys.has(keyId) && validFor(direct.keys.get(keyId)!, minimumValidUntilTs)) return direct;
    // Through notaries: the answer must be signed by the server itself and by the notary.
    for (const notary of this.#notaries) {
      if (notary === serverName) continue;
      const objects = await this.#fetcher.queryKeys(notary, { [serverName]: { [keyId]: minimumValidUntilTs !== undefined ? { minimum_valid_until_ts: minimumValidUntilTs } : {} } }, options)
        .catch(() => [] as readonly JsonObject[]);
      for (const body of objects) {
        if (body['server_name'] !== serverName) continue;
        if (!(await this.#signedByNotary(body, notary, options))) continue;
        const got = await this.#accept(serverName, body);
        if (got !== undefined && got.keys.has(keyId)) return got;
      }
    }
    return direct;
  }

  async #signedByNotary(body: JsonObject, notary: string, options?: CallOptions): Promise<boolean> {
    const sigs = body['signatures'];
    if (sigs === null || typeof sigs !== 'object' || Array.isArray(sigs)) return false;
    const byNotary = (sigs as JsonObject)[notary];
    if (byNotary === null || typeof byNotary !== 'object' || Array.isArray(byNotary)) return false;
    for (const kid of Object.keys(byNotary)) {
      // The notary's own key comes from the notary directly (never through another notary).
      const entry = this.#servers.get(notary);
      let key = entry !== undefined && entry.expiresAt > this.#now() ? entry.keys.get(kid) : undefined;
      if (key === undefined) {
        const fetched = await this.#fetcher.getServerKeys(notary, options).then((b) => this.#accept(notary, b), () => undefined);
        key = fetched?.keys.get(kid);
      }
      if (key !== undefined && key.expiredTs === undefined && verifyJson(body, notary, kid, key.publicKey).valid) return true;
    }
    return false;
  }

  /** Checks a key object (parseServerKeys) and caches its keys; `undefined` if it fails a check. */
  async #accept(serverName: string, body: JsonObject): Promise<ServerEntry | undefined> {
    const parsed = parseServerKeys(serverName, body);
    if (parsed === undefined) return undefined;
    const now = this.#now();
    const cap = now + MAX_VALIDITY_MS;
    const keys = new Map<string, ServerKey>();
    let until = 0;
    for (const k of parsed) {
      const key: ServerKey = k.validUntilTs !== undefined && k.validUntilTs > cap ? { ...k, validUntilTs: cap } : k;
      keys.set(key.keyId, key);
      if (key.expiredTs === undefined) until = Math.max(until, key.validUntilTs ?? 0);
    }
    // Refetch when the published validity ends (at least a minute from now, at most the cap).
    const entry: ServerEntry = { keys, expiresAt: Math.min(Math.max(until, now + 60_000), cap) };
    const prev = this.#servers.get(serverName);
    if (prev !== undefined) for (const [id, k] of prev.keys) if (!keys.has(id) && k.expiredTs !== undefined) keys.set(id, k);
    this.#servers.set(serverName, entry);
    await this.#cache?.putServerKeys([...keys.values()]).catch(() => undefined);
    return entry;
  }
}

function validFor(key: ServerKey, minimumValidUntilTs: number | undefined): boolean {
  if (minimumValidUntilTs === undefined) return true;
  const until = key.expiredTs ?? key.validUntilTs;
  return until === undefined || until >= minimumValidUntilTs;
}

function best(a: ServerKey | undefined, b: ServerKey | undefined): ServerKey | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return (a.expiredTs ?? a.validUntilTs ?? Infinity) >= (b.expiredTs ?? b.validUntilTs ?? Infinity) ? a : b;
}
