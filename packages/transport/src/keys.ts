/**
 * Key sources: a static map (tests, the CLI's KEYS.json), a caching layer, and fetching a server's
 * published keys over a {@link Transport} (Server-Server API › Retrieving server keys; key
 * validity per room version 5 › Signing key validity period).
 *
 * @module
 */
import { isJsonObject, type JsonObject } from '@roomgraph/canonical-json';
import { decodeBase64Any, verifyJson } from '@roomgraph/crypto';
import type { CallOptions, KeySource, ServerKey, Transport } from './interfaces.js';


/** Public keys given up front: server name → key ID → unpadded base64 (or raw bytes). */
export type StaticKeys = Readonly<Record<string, Readonly<Record<string, string | Uint8Array>>>>;

/**
 * A key source over a fixed map; keys have no validity limit. Malformed base64 entries are
 * treated as absent keys (the events they sign then fail verification).
 */
export class StaticKeySource implements KeySource {
  readonly #keys = new Map<string, ServerKey>();

  /** @param keys - server → key ID → public key (unpadded base64, standard or URL-safe, or bytes). */
  constructor(keys: StaticKeys = {}) {
    for (const [server, byId] of Object.entries(keys)) {
      for (const [keyId, value] of Object.entries(byId)) this.add(server, keyId, value);
    }
  }

  /** Adds or replaces one key. Returns false (and adds nothing) when it does not decode to 32 bytes. */
  add(serverName: string, keyId: string, publicKey: string | Uint8Array, validUntilTs?: number): boolean {
    let bytes: Uint8Array;
    try {
      bytes = typeof publicKey === 'string' ? decodeBase64Any(publicKey) : publicKey;
    } catch {
      return false;
    }
    if (bytes.length !== 32) return false;
    this.#keys.set(`${serverName}\u0000${keyId}`, Object.freeze({
      serverName, keyId, publicKey: bytes, ...(validUntilTs !== undefined ? { validUntilTs } : {}),
    }));
    return true;
  }

  /** {@inheritDoc KeySource.getKey} */
  async getKey(serverName: string, keyId: string): Promise<ServerKey | undefined> {
    return this.#keys.get(`${serverName}\u0000${keyId}`);
  }
}

/** Where a {@link CachingKeySource} keeps keys (a store's key table satisfies it). */
export interface KeyCache {
  /** A cached key, if any. */
  getServerKey(serverName: string, keyId: string): Promise<ServerKey | undefined>;
  /** Stores keys (a cache: partial writes are acceptable). */
  putServerKeys(keys: readonly ServerKey[]): Promise<void>;
}

/**
 * Looks in a cache first, then asks the upstream sources in order; keys found upstream are cached.
 * A cached key that is not valid long enough for `minimumValidUntilTs` is refetched.
 */
export class CachingKeySource implements KeySource {
  readonly #cache: KeyCache;
  readonly #upstream: readonly KeySource[];

  /** @param cache - the key cache. @param upstream - sources tried in order on a miss. */
  constructor(cache: KeyCache, upstream: readonly KeySource[]) {
    this.#cache = cache;
    this.#upstream = upstream;
  }

  /** {@inheritDoc KeySource.getKey} */
  async getKey(serverName: string, keyId: string, minimumValidUntilTs?: number, options?: CallOptions): Promise<ServerKey | undefined> {
    const cached = await this.#cache.getServerKey(serverName, keyId);
    if (cached !== undefined && validFor(cached, minimumValidUntilTs)) return cached;
    for (const source of this.#upstream) {
      const key = await source.getKey(serverName, keyId, minimumValidUntilTs, options).catch(() => undefined);
      if (key !== undefined) {
        await this.#cache.putServerKeys([key]);
        if (validFor(key, minimumValidUntilTs)) return key;
      }
    }
    return cached;
  }
}

function validFor(key: ServerKey, minimumValidUntilTs: number | undefined): boolean {
  if (minimumValidUntilTs === undefined) return true;
  const until = key.expiredTs ?? key.validUntilTs;
  return until === undefined || until >= minimumValidUntilTs;
}

/** A simple in-memory {@link KeyCache}. */
export class MemoryKeyCache implements KeyCache {
  readonly #keys = new Map<string, ServerKey>();
  /** {@inheritDoc KeyCache.getServerKey} */
  async getServerKey(serverName: string, keyId: string): Promise<ServerKey | undefined> {
    return this.#keys.get(`${serverName}\u0000${keyId}`);
  }
  /** {@inheritDoc KeyCache.putServerKeys} */
  async putServerKeys(keys: readonly ServerKey[]): Promise<void> {
    for (const k of keys) this.#keys.set(`${k.serverName}\u0000${k.keyId}`, k);
  }
}

/**
 * Parses and checks a server's published key object (Server-Server API › Retrieving server keys): `server_name` must match,
 * the object must be self-signed by at least one of its `verify_keys`, and every key must decode
 * to 32 bytes. Returns the current and old keys, or `undefined` if the object fails any check.
 */
export function parseServerKeys(serverName: string, body: JsonObject): ServerKey[] | undefined {
  if (body['server_name'] !== serverName) return undefined;
  const validUntil = body['valid_until_ts'];
  const validUntilTs = typeof validUntil === 'number' ? validUntil : undefined;
  const verify = body['verify_keys'];
  if (!isJsonObject(verify)) return undefined;
  const keys: ServerKey[] = [];
  for (const [keyId, entry] of Object.entries(verify)) {
    const b64 = isJsonObject(entry) ? entry['key'] : undefined;
    if (typeof b64 !== 'string') return undefined;
    let publicKey: Uint8Array;
    try { publicKey = decodeBase64Any(b64); } catch { return undefined; }
    if (publicKey.length !== 32) return undefined;
    keys.push({ serverName, keyId, publicKey, ...(validUntilTs !== undefined ? { validUntilTs } : {}) });
  }
  const selfSigned = keys.some((k) => verifyJson(body, serverName, k.keyId, k.publicKey).valid);
  if (!selfSigned) return undefined;
  const old = body['old_verify_keys'];
  if (isJsonObject(old)) {
    for (const [keyId, entry] of Object.entries(old)) {
      if (!isJsonObject(entry)) continue;
      const b64 = entry['key'];
      const expired = entry['expired_ts'];
      if (typeof b64 !== 'string' || typeof expired !== 'number') continue;
      try {
        const publicKey = decodeBase64Any(b64);
        if (publicKey.length === 32) keys.push({ serverName, keyId, publicKey, expiredTs: expired });
      } catch { /* skip malformed old key */ }
    }
  }
  return keys;
}

/** Fetches keys from the server itself over a {@link Transport} (no notary). */
export class FederationKeySource implements KeySource {
  readonly #transport: Transport;
  /** @param transport - used for `GET /_matrix/key/v2/server`. */
  constructor(transport: Transport) {
    this.#transport = transport;
  }
  /** {@inheritDoc KeySource.getKey} */
  async getKey(serverName: string, keyId: string, _minimumValidUntilTs?: number, options?: CallOptions): Promise<ServerKey | undefined> {
    const body = await this.#transport.getServerKeys(serverName, options).catch(() => undefined);
    if (body === undefined) return undefined;
    return parseServerKeys(serverName, body)?.find((k) => k.keyId === keyId);
  }
}
