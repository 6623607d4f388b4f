/**
 * The answering side of federation over HTTPS: every Server-Server API endpoint the room engine
 * serves, routed to a {@link FederationHandler}. Each request except the public key and version
 * endpoints must carry a valid `X-Matrix` signature (Server-Server API › Request Authentication:
 * the origin's key is fetched and cached; a `destination` other than this server's name is
 * refused with 401). Bodies are size-limited and parsed strictly; errors are Matrix JSON
 * (`{"errcode","error"}`) with the spec's status codes; a repeated transaction ID from the same
 * origin is answered from its first result (› Transactions). A hostile request gets an error
 * answer, never a crash.
 *
 * @module
 */
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCanonicalJson, type JsonObject, type JsonValue, isJsonObject } from '@roomgraph/canonical-json';
import { isValidServerName } from '@roomgraph/events';
import type { FederationHandler, KeySource } from '@roomgraph/transport';
import { MatrixHttpError, statusOfErrcode } from './errors.js';
import { parseXMatrix, verifyRequest } from './xMatrix.js';

/** Limits of the federation server. */
export interface FederationServerLimits {
  /** Largest request body accepted (default 8 MiB: a full transaction is 50 PDUs of at most 64 KiB plus EDUs). */
  readonly maxBodyBytes?: number;
  /** Requests one origin may have in progress at once; more are answered 429 `M_LIMIT_EXCEEDED` (default 32). */
  readonly maxConcurrentPerOrigin?: number;
  /** Transaction results remembered for answering repeated transaction IDs (default 10,000). */
  readonly transactionCacheSize?: number;
  /** Time allowed to receive a whole request (default 60 s). */
  readonly requestTimeoutMs?: number;
}

/** Options of {@link FederationServer}. */
export interface FederationServerOptions {
  /** This server's name: the only `destination` accepted. */
  readonly serverName: string;
  /** What answers the requests (a room engine). */
  readonly handler: FederationHandler;
  /** Where the keys of requesting servers come from (an {@link HttpKeySource}). */
  readonly keys: KeySource;
  /** PEM certificate chain and private key. */
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Limits. */
  readonly limits?: FederationServerLimits;
  /** Receives the EDUs of incoming transactions (errors are logged, never answered). */
  readonly onEdus?: (origin: string, edus: readonly JsonObject[]) => void | Promise<void>;
  /** Called for every authenticated request (e.g. to wake the outbound queue for that origin). */
  readonly onAuthenticated?: (origin: string) => void;
  /** What `GET /version` reports. */
  readonly version?: { readonly name: string; readonly version: string };
  /** Log sink (default: none). */
  readonly log?: (line: string) => void;
  /** Clock (ms). */
  readonly now?: () => number;
}

interface Ctx {
  readonly origin: string;
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly body: JsonValue | undefined;
}

interface Route {
  readonly method: 'GET' | 'PUT' | 'POST';
  readonly pattern: RegExp;
  readonly auth: boolean;
  readonly run: (ctx: Ctx) => Promise<JsonObject>;
}


const err = (errcode: string, message: string, extra?: Record<string, number | string>): MatrixHttpError =>
  new MatrixHttpError(statusOfErrcode(errcode), errcode, message, extra);

function objectBody(body: JsonValue | undefined): JsonObject {
  if (!isJsonObject(body)) throw err('M_BAD_JSON', 'the request body must be a JSON object');
  return body;
}

function stringList(v: JsonValue | undefined, field: string, max: number): string[] {
  if (!Array.isArray(v) || v.length > max || !v.every((x) => typeof x === 'string')) throw err('M_BAD_JSON', `${field} must be an array of at most ${max} strings`);
  return v as string[];
}

/** An HTTPS server answering the Server-Server API from a {@link FederationHandler}. */
export class FederationServer {
  readonly #o: FederationServerOptions;
  readonly #server: Server;
  readonly #routes: Route[];
  readonly #maxBody: number;
  readonly #maxPerOrigin: number;
  readonly #txnCacheSize: number;
  readonly #txns = new Map<string, Promise<JsonObject>>();
  readonly #active = new Map<string, number>();
  readonly #now: () => number;
  readonly #log: (line: string) => void;

  constructor(options: FederationServerOptions) {
    this.#o = options;
    this.#maxBody = options.limits?.maxBodyBytes ?? 8 * 1024 * 1024;
    this.#maxPerOrigin = options.limits?.maxConcurrentPerOrigin ?? 32;
    this.#txnCacheSize = options.limits?.transactionCacheSize ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => undefined);
    this.#routes = this.#buildRoutes();
    this.#server = createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => { void this.#handle(req, res); });
    this.#server.requestTimeout = options.limits?.requestTimeoutMs ?? 60_000;
    this.#server.headersTimeout = Math.min(this.#server.requestTimeout, 30_000);
    this.#server.keepAliveTimeout = 30_000;
    this.#server.on('clientError', (_e, socket) => { socket.destroy(); });
    this.#server.on('tlsClientError', () => undefined);
  }

  /** Starts listening; resolves to the bound address. */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting connections and closes idle ones; resolves when every connection is closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
      setTimeout(() => this.#server.closeAllConnections(), 2000).unref();
    });
  }

  #buildRoutes(): Route[] {
    const h = this.#o.handler;
    const me = this.#o.serverName;
    const seg = '([^/]+)';
    const fed = (v: string, rest: string): RegExp => new RegExp(`^/_matrix/federation/${v}/${rest}$`);
    const need = <T>(fn: T | undefined, what: string): T => {
      if (fn === undefined) throw err('M_UNRECOGNIZED', `${what} is not supported by this server`);
      return fn;
    };
    const eventQuery = (q: URLSearchParams): string => {
      const id = q.get('event_id');
      if (id === null || id === '') throw err('M_MISSING_PARAM', 'event_id is required');
      return id;
    };
    const keys = async (): Promise<JsonObject> => h.onGetServerKeys();
    return [
      { method: 'GET', pattern: /^\/_matrix\/federation\/v1\/version$/, auth: false, run: async () => ({ server: { name: this.#o.version?.name ?? 'roomgraph', version: this.#o.version?.version ?? '0.1.0' } }) },
      { method: 'GET', pattern: /^\/_matrix\/key\/v2\/server\/?$/, auth: false, run: keys },
      // Older servers still ask for one key ID in the path; the answer is the whole key object.
      { method: 'GET', pattern: new RegExp(`^/_matrix/key/v2/server/${seg}$`), auth: false, run: keys },
      { method: 'PUT', pattern: fed('v1', `send/${seg}`), auth: true, run: (c) => this.#send(c) },
      {
        method: 'GET', pattern: fed('v1', `event/${seg}`), auth: true, run: async (c) => {
          const pdu = await h.onGetEvent(c.origin, c.params[0]!);
          if (pdu === undefined) throw err('M_NOT_FOUND', 'event not found');
          return { origin: me, origin_server_ts: this.#now(), pdus: [pdu] };
        },
      },
      {
        method: 'GET', pattern: fed('v1', `state/${seg}`), auth: true, run: async (c) => {
          const r = await h.onGetState(c.origin, c.params[0]!, eventQuery(c.query));
          return { pdus: [...r.pdus], auth_chain: [...r.authChain] };
        },
      },
      {
        method: 'GET', pattern: fed('v1', `state_ids/${seg}`), auth: true, run: async (c) => {
          const r = await h.onGetStateIds(c.origin, c.params[0]!, eventQuery(c.query));
          return { pdu_ids: [...r.pduIds], auth_chain_ids: [...r.authChainIds] };
        },
      },
      {
        method: 'POST', pattern: fed('v1', `get_missing_events/${seg}`), auth: true, run: async (c) => {
          const b = objectBody(c.body);
          const limit = b['limit'] === undefined ? 10 : b['limit'];
          const minDepth = b['min_depth'] === undefined ? 0 : b['min_depth'];
          if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) throw err('M_BAD_JSON', 'limit must be a non-negative integer');
          if (typeof minDepth !== 'number' || !Number.isInteger(minDepth)) throw err('M_BAD_JSON', 'min_depth must be an integer');
          const events = await h.onGetMissingEvents(c.origin, c.params[0]!, {
            earliestEvents: stringList(b['earliest_events'], 'earliest_events', 1000),
            latestEvents: stringList(b['latest_events'], 'latest_events', 1000),
            limit: Math.min(limit, 100), minDepth,
          });
          return { events: [...events] };
        },
      },
      {
        method: 'GET', pattern: fed('v1', `backfill/${seg}`), auth: true, run: async (c) => {
          const from = c.query.getAll('v');
          if (from.length === 0) throw err('M_MISSING_PARAM', 'v is required');
          const limitText = c.query.get('limit');
          const limit = limitText === null ? 10 : Number(limitText);
          if (!Number.isInteger(limit) || limit < 0) throw err('M_INVALID_PARAM', 'limit must be a non-negative integer');
          const pdus = await h.onBackfill(c.origin, c.params[0]!, from.slice(0, 100), Math.min(limit, 100));
          return { origin: me, origin_server_ts: this.#now(), pdus: [...pdus] };
        },
      },
      {
        method: 'GET', pattern: fed('v1', `make_join/${seg}/${seg}`), auth: true, run: async (c) => {
          const ver = c.query.getAll('ver');
          // Server-Server API › make_join: without `ver` the requesting server supports only version 1.
          const r = await h.onMakeJoin(c.origin, c.params[0]!, c.params[1]!, ver.length === 0 ? ['1'] : ver);
          return { room_version: r.roomVersion, event: r.event };
        },
      },
      {
        method: 'PUT', pattern: fed('v2', `send_join/${seg}/${seg}`), auth: true, run: async (c) => {
          const r = await h.onSendJoin(c.origin, c.params[0]!, c.params[1]!, objectBody(c.body));
          return {
            origin: me, state: [...r.state], auth_chain: [...r.authChain], members_omitted: r.membersOmitted === true,
            ...(r.event !== undefined ? { event: r.event } : {}),
            ...(r.serversInRoom !== undefined ? { servers_in_room: [...r.serversInRoom] } : {}),
          };
        },
      },
      {
        method: 'GET', pattern: fed('v1', `make_leave/${seg}/${seg}`), auth: true, run: async (c) => {
          const r = await need(h.onMakeLeave?.bind(h), 'make_leave')(c.origin, c.params[0]!, c.params[1]!);
          return { room_version: r.roomVersion, event: r.event };
        },
      },
      {
        method: 'PUT', pattern: fed('v2', `send_leave/${seg}/${seg}`), auth: true, run: async (c) => {
          await need(h.onSendLeave?.bind(h), 'send_leave')(c.origin, c.params[0]!, c.params[1]!, objectBody(c.body));
          return {};
        },
      },
      {
        method: 'PUT', pattern: fed('v2', `invite/${seg}/${seg}`), auth: true, run: async (c) => {
          const b = objectBody(c.body);
          const version = b['room_version'];
          const event = b['event'];
          const state = b['invite_room_state'];
          if (typeof version !== 'string' || !isJsonObject(event)) throw err('M_BAD_JSON', 'room_version and event are required');
          if (state !== undefined && !Array.isArray(state)) throw err('M_BAD_JSON', 'invite_room_state must be an array');
          const signed = await need(h.onInvite?.bind(h), 'invite')(c.origin, c.params[0]!, c.params[1]!, {
            roomVersion: version, event, inviteRoomState: (state ?? []).filter(isJsonObject),
          });
          return { event: signed };
        },
      },
      {
        method: 'GET', pattern: fed('v1', `make_knock/${seg}/${seg}`), auth: true, run: async (c) => {
          const ver = c.query.getAll('ver');
          if (ver.length === 0) throw err('M_MISSING_PARAM', 'ver is required');
          const r = await need(h.onMakeKnock?.bind(h), 'make_knock')(c.origin, c.params[0]!, c.params[1]!, ver);
          return { room_version: r.roomVersion, event: r.event };
        },
      },
      {
        method: 'PUT', pattern: fed('v1', `send_knock/${seg}/${seg}`), auth: true, run: async (c) => {
          const r = await need(h.onSendKnock?.bind(h), 'send_knock')(c.origin, c.params[0]!, c.params[1]!, objectBody(c.body));
          return { knock_room_state: [...r.knockRoomState] };
        },
      },
    ];
  }

  /** `PUT /send/{txnId}`: PDUs to the handler, EDUs to the hook; a repeated ID answered from its first result. */
  async #send(c: Ctx): Promise<JsonObject> {
    const b = objectBody(c.body);
    const pdus = b['pdus'];
    const edus = b['edus'] ?? [];
    if (b['origin'] !== undefined && b['origin'] !== c.origin) throw err('M_FORBIDDEN', `the transaction's origin ${JSON.stringify(b['origin'])} is not the authenticated origin ${c.origin}`);
    if (!Array.isArray(pdus) || !Array.isArray(edus)) throw err('M_BAD_JSON', 'pdus and edus must be arrays');
    // Server-Server API › Transactions: at most 50 PDUs and 100 EDUs.
    if (pdus.length > 50 || edus.length > 100) throw err('M_BAD_JSON', 'a transaction has at most 50 PDUs and 100 EDUs');
    const key = `${c.origin}\u0000${c.params[0]!}`;
    const first = this.#txns.get(key);
    if (first !== undefined) return first;
    const run = (async (): Promise<JsonObject> => {
      const eduObjects = edus.filter(isJsonObject);
      if (eduObjects.length > 0 && this.#o.onEdus !== undefined) {
        try { await this.#o.onEdus(c.origin, eduObjects); } catch (e) { this.#log(`edu hook failed for ${c.origin}: ${(e as Error).message}`); }
      }
      const results = await this.#o.handler.onReceivePdus(c.origin, pdus.filter(isJsonObject));
      const out: Record<string, JsonObject> = {};
      for (const [id, r] of Object.entries(results)) out[id] = r.error !== undefined ? { error: r.error } : {};
      return { pdus: out };
    })();
    this.#txns.set(key, run);
    if (this.#txns.size > this.#txnCacheSize) this.#txns.delete(this.#txns.keys().next().value!);
    // A failure (this server's fault, 5xx) is not remembered: the origin's retry is processed anew.
    run.catch(() => { if (this.#txns.get(key) === run) this.#txns.delete(key); });
    return run;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let origin: string | undefined;
    try {
      const out = await this.#dispatch(req, (o) => { origin = o; });
      this.#reply(res, 200, out);
    } catch (e) {
      const m = toMatrixError(e);
      if (m.status >= 500) this.#log(`${req.method ?? '?'} ${(req.url ?? '').slice(0, 200)} from ${origin ?? '?'}: ${(e as Error)?.stack ?? String(e)}`);
      this.#reply(res, m.status, { errcode: m.errcode, error: m.message, ...m.extra });
    } finally {
      if (origin !== undefined) {
        const n = (this.#active.get(origin) ?? 1) - 1;
        if (n <= 0) this.#active.delete(origin); else this.#active.set(origin, n);
      }
    }
  }

  #reply(res: ServerResponse, status: number, body: JsonObject): void {
    if (res.headersSent) { res.end(); return; }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async #dispatch(req: IncomingMessage, admitted: (origin: string) => void): Promise<JsonObject> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    let pathMatched = false;
    let route: Route | undefined;
    let m: RegExpExecArray | null = null;
    for (const r of this.#routes) {
      const x = r.pattern.exec(path);
      if (x === null) continue;
      pathMatched = true;
      if (r.method === req.method) { route = r; m = x; break; }
    }
    // Server-Server API › Unsupported endpoints: 404 M_UNRECOGNIZED, 405 for a wrong method.
    if (route === undefined || m === null) {
      if (pathMatched) throw new MatrixHttpError(405, 'M_UNRECOGNIZED', `${req.method ?? ''} is not supported on ${path}`);
      throw err('M_UNRECOGNIZED', `unrecognized request ${path.slice(0, 200)}`);
    }
    let params: string[];
    try { params = m.slice(1).map((s) => decodeURIComponent(s)); } catch { throw err('M_INVALID_PARAM', 'bad percent-encoding in the path'); }

    // Authentication first (before reading a body from an unknown party).
    let origin = '';
    let header: ReturnType<typeof parseXMatrix> | undefined;
    if (route.auth) {
      const auth = req.headers['authorization'];
      if (typeof auth !== 'string' || auth === '') throw err('M_UNAUTHORIZED', 'missing Authorization header');
      try { header = parseXMatrix(auth); } catch (e) { throw err('M_UNAUTHORIZED', (e as Error).message); }
      if (!isValidServerName(header.origin)) throw err('M_UNAUTHORIZED', 'the origin is not a server name');
      // Spec: a destination that is not this server's name is denied with 401.
      if (header.destination !== undefined && header.destination !== this.#o.serverName) {
        throw err('M_UNAUTHORIZED', `this is ${this.#o.serverName}, not ${header.destination}`);
      }
      origin = header.origin;
      const active = this.#active.get(origin) ?? 0;
      if (active >= this.#maxPerOrigin) throw err('M_LIMIT_EXCEEDED', `too many requests in progress from ${origin}`, { retry_after_ms: 1000 });
      this.#active.set(origin, active + 1);
      admitted(origin);
    }

    const body = await this.#readBody(req);
    if (route.auth && header !== undefined) {
      const now = this.#now();
      const key = await this.#o.keys.getKey(origin, header.key, now).catch(() => undefined);
      // Only a current verify key may sign requests (old_verify_keys are for events only).
      if (key === undefined || key.expiredTs !== undefined || (key.validUntilTs !== undefined && key.validUntilTs < now)) {
        throw err('M_UNAUTHORIZED', `no valid key ${header.key} of ${origin}`);
      }
      const ok = verifyRequest(header, { method: req.method ?? '', uri: rawUrl, destination: this.#o.serverName, ...(body !== undefined ? { content: body } : {}) }, key.publicKey);
      if (!ok) throw err('M_UNAUTHORIZED', `bad signature from ${origin}`);
      try { this.#o.onAuthenticated?.(origin); } catch { /* a hook never fails a request */ }
    }
    try {
      return await route.run({ origin, params, query, body });
    } catch (e) {
      throw toMatrixError(e);
    }
  }

  /**
   * Reads the body up to the limit. Past it, the rest is read and discarded before the 413 answer
   * (so that the client, still sending, reads the answer rather than a reset); a body more than
   * eight times the limit has its connection cut instead.
   */
  #readBody(req: IncomingMessage): Promise<JsonValue | undefined> {
    const max = this.#maxBody;
    const tooLarge = (): MatrixHttpError => err('M_TOO_LARGE', `the body is larger than ${max} bytes`);
    const discardThenRefuse = (seen: number): Promise<never> => new Promise((_resolve, reject) => {
      let dropped = seen;
      req.removeAllListeners('data');
      req.on('data', (c: Buffer) => { dropped += c.length; if (dropped > 8 * max) { req.destroy(); reject(tooLarge()); } });
      req.once('end', () => reject(tooLarge()));
      req.once('close', () => reject(tooLarge()));
      req.resume();
    });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > 8 * max) { req.destroy(); return Promise.reject(tooLarge()); }
    if (declared > max) return discardThenRefuse(0);
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      req.on('data', (chunk: Buffer) => {
        if (failed) return;
        size += chunk.length;
        if (size > max) { failed = true; chunks.length = 0; discardThenRefuse(size).catch(reject); return; }
        chunks.push(chunk);
      });
      req.once('error', (e) => { if (!failed) { failed = true; reject(e); } });
      req.once('end', () => {
        if (failed) return;
        if (size === 0) { resolve(undefined); return; }
        try {
          resolve(parseCanonicalJson(Buffer.concat(chunks), { strict: false }));
        } catch (e) {
          reject(err('M_NOT_JSON', `the body is not valid JSON: ${(e as Error).message.slice(0, 200)}`));
        }
      });
    });
  }
}

/** Maps a thrown error to a Matrix error answer (handlers refuse with `TRANSPORT_REJECTED` + `errcode`). */
function toMatrixError(e: unknown): MatrixHttpError {
  if (e instanceof MatrixHttpError) return e;
  const errcode = (e as { errcode?: unknown } | null)?.errcode;
  if (typeof errcode === 'string' && /^M_[A-Z_]+$/.test(errcode)) {
    const message = e instanceof Error ? e.message : 'refused';
    return new MatrixHttpError(statusOfErrcode(errcode), errcode, message.slice(0, 1000));
  }
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ENGINE_UNKNOWN_ROOM') return err('M_NOT_FOUND', e instanceof Error ? e.message : 'unknown room');
  if (code === 'ENGINE_INVALID_ARGUMENT') return err('M_INVALID_PARAM', e instanceof Error ? e.message : 'invalid argument');
  return new MatrixHttpError(500, 'M_UNKNOWN', 'internal server error');
}
