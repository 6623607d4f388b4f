/**
 * The client side of federation over HTTPS: a {@link Transport} whose every request goes to the
 * destination found by server discovery (Server-Server API › Resolving server names), signed with
 * an `X-Matrix` header (› Request Authentication), with timeouts, a response size limit, pooled
 * connections, retries with exponential back-off, and — when given a queue file — a durable
 * per-destination transaction queue (› Transactions).
 *
 * @module
 */
import { encodeCanonicalJson, type JsonObject, type JsonValue, isJsonObject } from '@roomgraph/canonical-json';
import type { SigningKey } from '@roomgraph/crypto';
import {
  type CallOptions, type InviteRequest, type MakeJoinResponse, type MakeMembershipResponse, type MissingEventsRequest,
  type SendJoinResponse, type SendKnockResponse, type StateIdsResponse, type StateResponse, type Transport, TransportError,
} from '@roomgraph/transport';
import { HttpClient, HttpFailure, type HttpClientLimits, type HttpResponse, type TlsClientOptions } from './http.js';
import { type DiscoveryDns, type ResolvedServer, ServerResolver, type WellKnownFetcher, type WellKnownResponse } from './resolve.js';
import { TransactionQueue, type QueueOptions, type TransactionResult } from './queue.js';
import { signRequest } from './xMatrix.js';

/** Retry policy of one request (network failures, timeouts, 5xx and 429 answers). */
export interface RetryOptions {
  /** Attempts in all, the first included (default 3; 1 = no retry). */
  readonly attempts?: number;
  /** Delay before the first retry (default 200 ms), doubled each time. */
  readonly baseDelayMs?: number;
  /** Longest delay between attempts (default 5 s). */
  readonly maxDelayMs?: number;
}

/** Options of {@link HttpTransport}. */
export interface HttpTransportOptions {
  /** This server's name (the `origin` of every request). */
  readonly serverName: string;
  /** This server's signing key. */
  readonly signingKey: SigningKey;
  /** TLS verification settings (verification is on unless skipped here). */
  readonly tls?: TlsClientOptions;
  /** Timeouts and the response size limit. */
  readonly limits?: HttpClientLimits;
  /** Retries of individual requests. */
  readonly retry?: RetryOptions;
  /** DNS for SRV look-ups (default node's resolver). */
  readonly dns?: DiscoveryDns;
  /** How `/.well-known/matrix/server` is fetched (default: over HTTPS with this transport's TLS settings). */
  readonly fetchWellKnown?: WellKnownFetcher;
  /** The durable outbound queue: a journal file and back-off settings. Without it `queuePdus` is absent. */
  readonly queue?: Omit<QueueOptions, 'send'>;
  /** Clock (ms). */
  readonly now?: () => number;
  /** Log sink for queue and retry messages (default: none). */
  readonly log?: (line: string) => void;
}

/** A transaction to push with `PUT /send/{txnId}`. */
export interface Transaction {
  /** PDUs (at most 50). */
  readonly pdus: readonly JsonObject[];
  /** EDUs (at most 100). */
  readonly edus?: readonly JsonObject[];
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});


const enc = encodeURIComponent;

/**
 * A {@link Transport} over HTTPS. Also serves as the well-known fetcher of its own discovery and
 * offers the requests the engine interface does not name (`sendTransaction`, `queryKeys`,
 * `version`).
 */
export class HttpTransport implements Transport {
  /** This server's name. */
  readonly serverName: string;
  readonly #key: SigningKey;
  readonly #client: HttpClient;
  readonly #resolver: ServerResolver;
  readonly #retry: Required<RetryOptions>;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #queue: TransactionQueue | undefined;
  /**
   * `Transport.queuePdus` of `@roomgraph/transport`. Present only when a queue file was configured: PDUs are
   * journalled (fsync) before this resolves and delivered in the background.
   */
  readonly queuePdus?: (destinations: readonly string[], pdus: readonly JsonObject[]) => Promise<void>;
  #txnCounter = 0;
  readonly #txnPrefix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

  constructor(options: HttpTransportOptions) {
    this.serverName = options.serverName;
    this.#key = options.signingKey;
    this.#client = new HttpClient(options.tls, options.limits);
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => undefined);
    this.#retry = { attempts: options.retry?.attempts ?? 3, baseDelayMs: options.retry?.baseDelayMs ?? 200, maxDelayMs: options.retry?.maxDelayMs ?? 5000 };
    this.#resolver = new ServerResolver({
      fetchWellKnown: options.fetchWellKnown ?? ((h) => this.#fetchWellKnown(h)),
      ...(options.dns !== undefined ? { dns: options.dns } : {}),
      now: this.#now,
    });
    this.#queue = options.queue === undefined ? undefined : new TransactionQueue({
      ...options.queue,
      send: (d, txnId, pdus) => this.sendTransaction(d, txnId, { pdus }),
      log: this.#log,
    });
    const queue = this.#queue;
    if (queue !== undefined) {
      this.queuePdus = async (destinations: readonly string[], pdus: readonly JsonObject[]): Promise<void> => {
        await queue.enqueue(destinations.filter((d) => d !== this.serverName), pdus);
      };
    }
  }

  /** The discovery used (its caches can be cleared in tests). */
  get resolver(): ServerResolver {
    return this.#resolver;
  }

  /** The outbound queue, when one was configured. */
  get queue(): TransactionQueue | undefined {
    return this.#queue;
  }

  /** Opens the outbound queue (reads its journal and resumes delivery). Call once before use when a queue is configured. */
  async open(): Promise<void> {
    await this.#queue?.open();
  }

  /** Stops the queue (in-flight transactions finish) and closes every connection. */
  async close(): Promise<void> {
    await this.#queue?.close();
    await this.#client.close();
  }

  async #fetchWellKnown(hostname: string): Promise<WellKnownResponse> {
    // RFC 8615 over HTTPS on port 443, following redirects (at most 5, never a loop).
    let target: ResolvedServer = { serverName: hostname, address: hostname, port: 443, hostHeader: hostname, tlsServerName: hostname };
    let path = '/.well-known/matrix/server';
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const key = `${target.hostHeader}${path}`;
      if (seen.has(key)) break;
      seen.add(key);
      const res = await this.#client.request(target, { method: 'GET', path, timeoutMs: 10_000 });
      const loc = res.headers['location'];
      if (res.status >= 300 && res.status < 400 && typeof loc === 'string') {
        let url: URL;
        try { url = new URL(loc, `https://${target.hostHeader}${path}`); } catch { break; }
        if (url.protocol !== 'https:') break;
        const port = url.port === '' ? 443 : Number(url.port);
        target = { serverName: hostname, address: url.hostname.replace(/^\[|\]$/g, ''), port, hostHeader: url.host, tlsServerName: url.hostname };
        path = `${url.pathname}${url.search}`;
        continue;
      }
      const cc = res.headers['cache-control'];
      return { status: res.status, body: res.body, ...(typeof cc === 'string' ? { cacheControl: cc } : {}) };
    }
    return { status: 599 };
  }

  /**
   * Sends one signed request and returns the parsed JSON answer of a 2xx response.
   * @throws `TransportError` (`@roomgraph/transport`): `TRANSPORT_UNREACHABLE` (no answer, 5xx, 429 after retries),
   *   `TRANSPORT_REJECTED` with the `errcode` (4xx), `TRANSPORT_BAD_RESPONSE` (not a JSON object),
   *   `TRANSPORT_ABORTED`.
   */
  async request(
    destination: string, method: 'GET' | 'PUT' | 'POST', path: string, body?: JsonValue,
    options?: CallOptions & { readonly authenticated?: boolean; readonly retry?: boolean },
  ): Promise<JsonObject> {
    const signal = options?.signal;
    const attempts = options?.retry === false ? 1 : Math.max(1, this.#retry.attempts);
    let last: TransportError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        const retryAfter = last instanceof RetryableError ? last.retryAfterMs : undefined;
        await sleep(Math.min(retryAfter ?? this.#retry.baseDelayMs * 2 ** (attempt - 1), this.#retry.maxDelayMs), signal);
      }
      if (signal?.aborted === true) throw new TransportError('TRANSPORT_ABORTED', destination, `${method} ${path} to ${destination} aborted`);
      try {
        return await this.#once(destination, method, path, body, options);
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        last = e;
      }
    }
    throw new TransportError('TRANSPORT_UNREACHABLE', destination, last?.message ?? `${destination} unreachable`, last?.errcode);
  }

  async #once(
    destination: string, method: 'GET' | 'PUT' | 'POST', path: string, body: JsonValue | undefined,
    options: (CallOptions & { readonly authenticated?: boolean }) | undefined,
  ): Promise<JsonObject> {
    let target: ResolvedServer;
    try {
      target = await this.#resolver.resolve(destination);
    } catch (e) {
      throw new TransportError('TRANSPORT_UNREACHABLE', destination, `cannot resolve ${destination}: ${(e as Error).message}`);
    }
    const headers: Record<string, string> = {};
    let text: string | undefined;
    if (body !== undefined) {
      try { text = encodeCanonicalJson(body, { strict: false }); } catch {
        throw new TransportError('TRANSPORT_BAD_RESPONSE', destination, `request body for ${path} is not encodable JSON`);
      }
    }
    if (options?.authenticated !== false) {
      headers['authorization'] = signRequest({ method, uri: path, origin: this.serverName, destination, ...(body !== undefined ? { content: body } : {}) }, this.#key);
    }
    let res: HttpResponse;
    try {
      res = await this.#client.request(target, { method, path, headers, ...(text !== undefined ? { body: text } : {}), ...(options?.signal !== undefined ? { signal: options.signal } : {}) });
    } catch (e) {
      if (e instanceof HttpFailure && e.kind === 'aborted') throw new TransportError('TRANSPORT_ABORTED', destination, e.message);
      if (e instanceof HttpFailure && e.kind === 'too-large') throw new TransportError('TRANSPORT_BAD_RESPONSE', destination, e.message);
      throw new RetryableError(destination, (e as Error).message);
    }
    let json: unknown;
    try { json = JSON.parse(res.body); } catch { json = undefined; }
    if (res.status >= 200 && res.status < 300) {
      if (!isJsonObject(json)) throw new TransportError('TRANSPORT_BAD_RESPONSE', destination, `${method} ${path}: ${destination} answered ${res.status} without a JSON object`);
      return json;
    }
    const errcode = isJsonObject(json) && typeof json['errcode'] === 'string' ? json['errcode'] : undefined;
    const error = isJsonObject(json) && typeof json['error'] === 'string' ? json['error'].slice(0, 500) : res.body.slice(0, 200);
    const msg = `${method} ${path}: ${destination} answered ${res.status} ${errcode ?? ''} ${error}`.trim();
    if (res.status === 429 || res.status >= 500) {
      const after = isJsonObject(json) && typeof json['retry_after_ms'] === 'number' ? json['retry_after_ms'] : undefined;
      throw new RetryableError(destination, msg, errcode, after);
    }
    if (res.status === 404 && errcode === undefined) throw new TransportError('TRANSPORT_NOT_FOUND', destination, msg);
    throw new TransportError('TRANSPORT_REJECTED', destination, msg, errcode ?? `HTTP_${res.status}`);
  }

  // -- Transport ---------------------------------------------------------------------------------

  /** `Transport.getEvent` of `@roomgraph/transport`. */
  async getEvent(destination: string, eventId: string, options?: CallOptions): Promise<JsonObject | undefined> {
    let r: JsonObject;
    try {
      r = await this.request(destination, 'GET', `/_matrix/federation/v1/event/${enc(eventId)}`, undefined, options);
    } catch (e) {
      if (e instanceof TransportError && (e.code === 'TRANSPORT_NOT_FOUND' || e.errcode === 'M_NOT_FOUND')) return undefined;
      throw e;
    }
    const pdus = r['pdus'];
    if (!Array.isArray(pdus)) throw new TransportError('TRANSPORT_BAD_RESPONSE', destination, 'event: no pdus');
    const first = pdus[0];
    return isJsonObject(first) ? first : undefined;
  }

  /** `Transport.getMissingEvents` of `@roomgraph/transport`. */
  async getMissingEvents(destination: string, roomId: string, request: MissingEventsRequest, options?: CallOptions): Promise<readonly JsonObject[]> {
    const r = await this.request(destination, 'POST', `/_matrix/federation/v1/get_missing_events/${enc(roomId)}`, {
      earliest_events: [...request.earliestEvents], latest_events: [...request.latestEvents], limit: request.limit, min_depth: request.minDepth ?? 0,
    }, options);
    return r['events'] as unknown as readonly JsonObject[];
  }

  /** `Transport.getStateIds` of `@roomgraph/transport`. */
  async getStateIds(destination: string, roomId: string, eventId: string, options?: CallOptions): Promise<StateIdsResponse> {
    const r = await this.request(destination, 'GET', `/_matrix/federation/v1/state_ids/${enc(roomId)}?event_id=${enc(eventId)}`, undefined, options);
    return { pduIds: r['pdu_ids'] as unknown as string[], authChainIds: r['auth_chain_ids'] as unknown as string[] };
  }

  /** `Transport.getState` of `@roomgraph/transport`. */
  async getState(destination: string, roomId: string, eventId: string, options?: CallOptions): Promise<StateResponse> {
    const r = await this.request(destination, 'GET', `/_matrix/federation/v1/state/${enc(roomId)}?event_id=${enc(eventId)}`, undefined, options);
    return { pdus: r['pdus'] as unknown as JsonObject[], authChain: r['auth_chain'] as unknown as JsonObject[] };
  }

  /** `Transport.backfill` of `@roomgraph/transport`. */
  async backfill(destination: string, roomId: string, fromEventIds: readonly string[], limit: number, options?: CallOptions): Promise<readonly JsonObject[]> {
    const q = [...fromEventIds.map((v) => `v=${enc(v)}`), `limit=${Math.max(1, Math.floor(limit))}`].join('&');
    const r = await this.request(destination, 'GET', `/_matrix/federation/v1/backfill/${enc(roomId)}?${q}`, undefined, options);
    return r['pdus'] as unknown as JsonObject[];
  }

  /** `Transport.getServerKeys` of `@roomgraph/transport`. */
  async getServerKeys(destination: string, options?: CallOptions): Promise<JsonObject> {
    return this.request(destination, 'GET', '/_matrix/key/v2/server', undefined, { ...options, authenticated: false });
  }

  /**
   * `POST /_matrix/key/v2/query` on a notary: the key objects it has for the given servers
   * (Server-Server API › Querying Keys Through Another Server).
   */
  async queryKeys(notary: string, criteria: Readonly<Record<string, Readonly<Record<string, { readonly minimum_valid_until_ts?: number }>>>>, options?: CallOptions): Promise<readonly JsonObject[]> {
    const r = await this.request(notary, 'POST', '/_matrix/key/v2/query', { server_keys: criteria as unknown as JsonObject }, { ...options, authenticated: false });
    const keys = r['server_keys'];
    if (!Array.isArray(keys)) throw new TransportError('TRANSPORT_BAD_RESPONSE', notary, 'key query: server_keys is not an array');
    return keys.filter(isJsonObject);
  }

  /** `GET /_matrix/federation/v1/version`: the destination's implementation name and version. */
  async version(destination: string, options?: CallOptions): Promise<{ readonly name?: string; readonly version?: string }> {
    const r = await this.request(destination, 'GET', '/_matrix/federation/v1/version', undefined, { ...options, authenticated: false });
    const s = r['server'];
    if (!isJsonObject(s)) return {};
    return { ...(typeof s['name'] === 'string' ? { name: s['name'] } : {}), ...(typeof s['version'] === 'string' ? { version: s['version'] } : {}) };
  }

  /** `Transport.makeJoin` of `@roomgraph/transport`. */
  async makeJoin(destination: string, roomId: string, userId: string, versions: readonly string[], options?: CallOptions): Promise<MakeJoinResponse> {
    const q = versions.map((v) => `ver=${enc(v)}`).join('&');
    const r = await this.request(destination, 'GET', `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(userId)}${q === '' ? '' : `?${q}`}`, undefined, options);
    return templateOf(r);
  }

  /** `Transport.sendJoin` of `@roomgraph/transport`. */
  async sendJoin(destination: string, roomId: string, eventId: string, event: JsonObject, options?: CallOptions): Promise<SendJoinResponse> {
    const r = await this.request(destination, 'PUT', `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(eventId)}`, event, { ...options, retry: false });
    const ev = r['event'];
    const servers = r['servers_in_room'];
    return {
      state: r['state'] as unknown as JsonObject[],
      authChain: r['auth_chain'] as unknown as JsonObject[],
      ...(isJsonObject(ev) ? { event: ev } : {}),
      ...(r['members_omitted'] === true ? { membersOmitted: true } : {}),
      ...(Array.isArray(servers) ? { serversInRoom: servers.filter((s): s is string => typeof s === 'string') } : {}),
    };
  }

  /** `Transport.makeLeave` of `@roomgraph/transport`. */
  async makeLeave(destination: string, roomId: string, userId: string, options?: CallOptions): Promise<MakeMembershipResponse> {
    return templateOf(await this.request(destination, 'GET', `/_matrix/federation/v1/make_leave/${enc(roomId)}/${enc(userId)}`, undefined, options));
  }

  /** `Transport.sendLeave` of `@roomgraph/transport`. */
  async sendLeave(destination: string, roomId: string, eventId: string, event: JsonObject, options?: CallOptions): Promise<void> {
    await this.request(destination, 'PUT', `/_matrix/federation/v2/send_leave/${enc(roomId)}/${enc(eventId)}`, event, { ...options, retry: false });
  }

  /** `Transport.invite` of `@roomgraph/transport`. */
  async invite(destination: string, roomId: string, eventId: string, request: InviteRequest, options?: CallOptions): Promise<JsonObject> {
    const r = await this.request(destination, 'PUT', `/_matrix/federation/v2/invite/${enc(roomId)}/${enc(eventId)}`, {
      room_version: request.roomVersion, event: request.event, invite_room_state: [...(request.inviteRoomState ?? [])],
    }, { ...options, retry: false });
    const ev = r['event'];
    if (!isJsonObject(ev)) throw new TransportError('TRANSPORT_BAD_RESPONSE', destination, 'invite: no event in the answer');
    return ev;
  }

  /** `Transport.makeKnock` of `@roomgraph/transport`. */
  async makeKnock(destination: string, roomId: string, userId: string, versions: readonly string[], options?: CallOptions): Promise<MakeMembershipResponse> {
    const q = versions.map((v) => `ver=${enc(v)}`).join('&');
    return templateOf(await this.request(destination, 'GET', `/_matrix/federation/v1/make_knock/${enc(roomId)}/${enc(userId)}${q === '' ? '' : `?${q}`}`, undefined, options));
  }

  /** `Transport.sendKnock` of `@roomgraph/transport`. */
  async sendKnock(destination: string, roomId: string, eventId: string, event: JsonObject, options?: CallOptions): Promise<SendKnockResponse> {
    const r = await this.request(destination, 'PUT', `/_matrix/federation/v1/send_knock/${enc(roomId)}/${enc(eventId)}`, event, { ...options, retry: false });
    const state = r['knock_room_state'] ?? r['knock_state_events'];
    return { knockRoomState: Array.isArray(state) ? state.filter(isJsonObject) : [] };
  }

  /** A fresh transaction ID (unique for this origin). */
  newTransactionId(): string {
    return `${this.#txnPrefix}.${(++this.#txnCounter).toString(36)}`;
  }

  /**
   * `PUT /send/{txnId}`: one transaction (≤ 50 PDUs, ≤ 100 EDUs); resolves to the per-PDU
   * results. Not retried here (the queue retries with the same transaction ID).
   */
  async sendTransaction(destination: string, txnId: string, txn: Transaction, options?: CallOptions): Promise<TransactionResult> {
    const r = await this.request(destination, 'PUT', `/_matrix/federation/v1/send/${enc(txnId)}`, {
      origin: this.serverName, origin_server_ts: this.#now(), pdus: [...txn.pdus], ...(txn.edus !== undefined && txn.edus.length > 0 ? { edus: [...txn.edus] } : {}),
    }, { ...options, retry: false });
    const pdus = r['pdus'];
    const out: Record<string, { error?: string }> = {};
    if (isJsonObject(pdus)) {
      for (const [id, v] of Object.entries(pdus)) {
        const error = isJsonObject(v) ? v['error'] : undefined;
        Object.defineProperty(out, id, { value: typeof error === 'string' ? { error } : {}, enumerable: true, writable: true, configurable: true });
      }
    }
    return out;
  }

  /** `Transport.sendPdus` of `@roomgraph/transport`. Sends at once (in transactions of at most 50), not through the queue. */
  async sendPdus(destination: string, pdus: readonly JsonObject[], options?: CallOptions): Promise<Readonly<Record<string, { readonly error?: string }>>> {
    const out: Record<string, { error?: string }> = {};
    for (let i = 0; i < pdus.length || i === 0; i += 50) {
      Object.assign(out, await this.sendTransaction(destination, this.newTransactionId(), { pdus: pdus.slice(i, i + 50) }, options));
      if (pdus.length === 0) break;
    }
    return out;
  }
}

function templateOf(r: JsonObject): MakeJoinResponse {
  // Server-Server API › make_join: `room_version` defaults to "1" when absent.
  const v = r['room_version'];
  return { roomVersion: typeof v === 'string' ? v : '1', event: r['event'] as JsonObject };
}

/** A failure worth retrying: no answer, 5xx or 429. */
class RetryableError extends TransportError {
  readonly retryAfterMs: number | undefined;
  constructor(destination: string, message: string, errcode?: string, retryAfterMs?: number) {
    super('TRANSPORT_UNREACHABLE', destination, message, errcode);
    this.retryAfterMs = retryAfterMs;
  }
}
