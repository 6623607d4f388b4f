/**
 * Server-Server API › Server discovery › Resolving server names: from a server name to the
 * address and port to connect to, the `Host` header to send and the name the TLS certificate must
 * be valid for (IP literal; explicit port; `/.well-known/matrix/server` delegation, cached as the
 * spec recommends; SRV `_matrix-fed._tcp` then the deprecated `_matrix._tcp`; port 8448).
 *
 * @module
 */
import { promises as dnsPromises } from 'node:dns';
import { parseServerName } from './serverName.js';

/** Where and how to reach a server. */
export interface ResolvedServer {
  /** The server name that was resolved. */
  readonly serverName: string;
  /** The IP address or hostname to connect to (a hostname is resolved with A/AAAA by the connection). */
  readonly address: string;
  /** The port to connect to. */
  readonly port: number;
  /** The `Host` header to send. */
  readonly hostHeader: string;
  /**
   * The name the certificate must be valid for, sent as SNI; `undefined` when the certificate is
   * expected for an IP address (no SNI is sent then: TLS › SNI is not used for IP addresses).
   */
  readonly tlsServerName?: string;
}

/** One SRV record. */
export interface SrvRecord {
  /** Target host. */
  readonly name: string;
  /** Target port. */
  readonly port: number;
  /** Lower is preferred. */
  readonly priority: number;
  /** Relative weight among records of one priority. */
  readonly weight: number;
}

/** The DNS look-ups discovery needs (injectable for tests; default: node's resolver). */
export interface DiscoveryDns {
  /** SRV records of `name`; rejects or resolves to `[]` when there are none. */
  resolveSrv(name: string): Promise<readonly SrvRecord[]>;
}

/** A `/.well-known/matrix/server` answer. */
export interface WellKnownResponse {
  /** HTTP status (after redirects). */
  readonly status: number;
  /** The body text, when there is one. */
  readonly body?: string;
  /** The `Cache-Control` header, if any. */
  readonly cacheControl?: string;
}

/** Fetches `https://<hostname>/.well-known/matrix/server` (following redirects); rejects on network errors. */
export type WellKnownFetcher = (hostname: string) => Promise<WellKnownResponse>;

/** Options of {@link ServerResolver}. */
export interface ServerResolverOptions {
  /** How `/.well-known/matrix/server` is fetched. */
  readonly fetchWellKnown: WellKnownFetcher;
  /** DNS (default: `node:dns`). */
  readonly dns?: DiscoveryDns;
  /** Clock (ms). */
  readonly now?: () => number;
  /** Random number in [0, 1) for weighted SRV choice (default `Math.random`). */
  readonly random?: () => number;
}

const HOUR = 3600_000;
/** Spec: a sensible default of 24 hours when the answer has no cache headers. */
const WELL_KNOWN_DEFAULT_TTL = 24 * HOUR;
/** Spec: a maximum cache time of 48 hours is recommended. */
const WELL_KNOWN_MAX_TTL = 48 * HOUR;
/** Spec: errors cached for up to an hour, with exponential back-off for repeated failures. */
const WELL_KNOWN_ERROR_MIN_TTL = 60_000;
const WELL_KNOWN_ERROR_MAX_TTL = HOUR;
const SRV_TTL = HOUR;
const DEFAULT_PORT = 8448;

interface WellKnownEntry { readonly delegated: string | undefined; readonly expiresAt: number; readonly failures: number }

/** The `max-age` of a `Cache-Control` header in ms (`0` for `no-store` / `no-cache`), if any. */
export function cacheControlMaxAge(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const h = header.toLowerCase();
  if (/(^|,)\s*(no-store|no-cache)\s*(,|$)/.test(h)) return 0;
  const m = /(?:^|,)\s*max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/.exec(h);
  return m === null ? undefined : Number(m[1]) * 1000;
}

/** Parses a well-known body: the `m.server` value when it is a valid server name, else `undefined`. */
export function parseWellKnown(body: string | undefined): string | undefined {
  if (body === undefined || body.length > 64 * 1024) return undefined;
  let v: unknown;
  try { v = JSON.parse(body); } catch { return undefined; }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const s = (v as Record<string, unknown>)['m.server'];
  if (typeof s !== 'string') return undefined;
  try { parseServerName(s); return s; } catch { return undefined; }
}

/** Resolves server names as the spec says, caching well-known and SRV answers. */
export class ServerResolver {
  readonly #fetchWellKnown: WellKnownFetcher;
  readonly #dns: DiscoveryDns;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #wellKnown = new Map<string, WellKnownEntry>();
  readonly #srv = new Map<string, { readonly records: readonly SrvRecord[]; readonly expiresAt: number }>();

  constructor(options: ServerResolverOptions) {
    this.#fetchWellKnown = options.fetchWellKnown;
    this.#dns = options.dns ?? { resolveSrv: async (name) => dnsPromises.resolveSrv(name) };
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /**
   * Resolves `serverName` (Server-Server API › Resolving server names, steps 1–6).
   * @throws {@link FederationHttpError} `FED_BAD_SERVER_NAME` for a name that does not parse.
   */
  async resolve(serverName: string): Promise<ResolvedServer> {
    const name = parseServerName(serverName);
    // 1. IP literal: that address, the given port or 8448; Host = the server name; cert for the IP.
    if (name.ipLiteral) return { serverName, address: name.hostname, port: name.port ?? DEFAULT_PORT, hostHeader: serverName };
    // 2. Explicit port: A/AAAA of the hostname; Host = the server name; cert for the hostname.
    if (name.port !== undefined) return { serverName, address: name.hostname, port: name.port, hostHeader: serverName, tlsServerName: name.hostname };
    // 3. /.well-known/matrix/server delegation.
    const delegated = await this.#delegation(name.hostname);
    if (delegated !== undefined) {
      const d = parseServerName(delegated);
      // 3.1 IP literal: Host = the IP (with the port if given); cert for the IP.
      if (d.ipLiteral) return { serverName, address: d.hostname, port: d.port ?? DEFAULT_PORT, hostHeader: delegated };
      // 3.2 Explicit port: Host = delegated_hostname:port; cert for delegated_hostname.
      if (d.port !== undefined) return { serverName, address: d.hostname, port: d.port, hostHeader: delegated, tlsServerName: d.hostname };
      // 3.3 / 3.4 SRV _matrix-fed._tcp, then _matrix._tcp; 3.5 port 8448. Host and cert: delegated_hostname.
      const srv = await this.#srvTarget(d.hostname);
      return { serverName, address: srv?.name ?? d.hostname, port: srv?.port ?? DEFAULT_PORT, hostHeader: d.hostname, tlsServerName: d.hostname };
    }
    // 4 / 5: SRV on the hostname; 6: port 8448. Host and cert: the hostname.
    const srv = await this.#srvTarget(name.hostname);
    return { serverName, address: srv?.name ?? name.hostname, port: srv?.port ?? DEFAULT_PORT, hostHeader: name.hostname, tlsServerName: name.hostname };
  }

  /** Forgets cached answers (all, or for one hostname). */
  clear(hostname?: string): void {
    if (hostname === undefined) { this.#wellKnown.clear(); this.#srv.clear(); return; }
    this.#wellKnown.delete(hostname);
  }

  async #delegation(hostname: string): Promise<string | undefined> {
    const now = this.#now();
    const cached = this.#wellKnown.get(hostname);
    if (cached !== undefined && cached.expiresAt > now) return cached.delegated;
    let entry: WellKnownEntry;
    try {
      const r = await this.#fetchWellKnown(hostname);
      const delegated = r.status === 200 ? parseWellKnown(r.body) : undefined;
      if (delegated !== undefined) {
        const maxAge = cacheControlMaxAge(r.cacheControl);
        const ttl = Math.min(maxAge ?? WELL_KNOWN_DEFAULT_TTL, WELL_KNOWN_MAX_TTL);
        entry = { delegated, expiresAt: now + ttl, failures: 0 };
      } else {
        entry = this.#failure(cached, now);
      }
    } catch {
      entry = this.#failure(cached, now);
    }
    this.#wellKnown.set(hostname, entry);
    return entry.delegated;
  }

  #failure(previous: WellKnownEntry | undefined, now: number): WellKnownEntry {
    const failures = previous !== undefined && previous.delegated === undefined ? previous.failures + 1 : 0;
    const ttl = Math.min(WELL_KNOWN_ERROR_MIN_TTL * 2 ** Math.min(failures, 10), WELL_KNOWN_ERROR_MAX_TTL);
    return { delegated: undefined, expiresAt: now + ttl, failures };
  }

  async #srvTarget(hostname: string): Promise<SrvRecord | undefined> {
    for (const service of ['_matrix-fed._tcp', '_matrix._tcp']) {
      const records = await this.#srvRecords(`${service}.${hostname}`);
      const pick = this.#choose(records);
      if (pick !== undefined) return pick;
    }
    return undefined;
  }

  async #srvRecords(name: string): Promise<readonly SrvRecord[]> {
    const now = this.#now();
    const cached = this.#srv.get(name);
    if (cached !== undefined && cached.expiresAt > now) return cached.records;
    let records: readonly SrvRecord[];
    try {
      records = (await this.#dns.resolveSrv(name)).filter((r) => typeof r.name === 'string' && r.name !== '' && r.name !== '.' && Number.isInteger(r.port) && r.port > 0 && r.port < 65536);
    } catch {
      records = [];
    }
    this.#srv.set(name, { records, expiresAt: now + SRV_TTL });
    return records;
  }

  /** RFC 2782: the lowest priority, then a weighted random choice among its records. */
  #choose(records: readonly SrvRecord[]): SrvRecord | undefined {
    if (records.length === 0) return undefined;
    const best = Math.min(...records.map((r) => r.priority));
    const group = records.filter((r) => r.priority === best);
    const total = group.reduce((s, r) => s + Math.max(0, r.weight), 0);
    if (total === 0) return group[0];
    let x = this.#random() * total;
    for (const r of group) { x -= Math.max(0, r.weight); if (x < 0) return r; }
    return group[group.length - 1];
  }
}
