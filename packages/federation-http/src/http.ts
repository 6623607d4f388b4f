/**
 * The HTTPS client under the federation transport: undici connection pools (keep-alive, one pool
 * per address), TLS verification on by default (system CAs, plus a CA file when given; skipping
 * verification only for named servers or when explicitly asked), connect/request timeouts and a
 * response size limit. Server-Server API › TLS: SNI is sent for the certificate's hostname and not
 * for IP addresses (undici derives it from the `Host` header, which discovery sets to that name).
 *
 * @module
 */
import { RoomgraphError, type RoomgraphErrorOptions } from '@roomgraph/errors';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import { FederationHttpError } from './errors.js';
import { formatHostPort } from './serverName.js';
import type { ResolvedServer } from './resolve.js';

/** TLS settings of outgoing connections. */
export interface TlsClientOptions {
  /** PEM CA certificate(s) to trust in addition to the system's. */
  readonly ca?: string | readonly string[];
  /** A PEM file of CA certificate(s) to trust in addition to the system's. */
  readonly caFile?: string;
  /**
   * Skip certificate verification: a list of server names (for test hosts) or `true` for every
   * server. Never the default; never use `true` outside tests.
   */
  readonly insecureSkipVerify?: boolean | readonly string[];
}

/** Limits of outgoing requests. */
export interface HttpClientLimits {
  /** TCP + TLS connect timeout (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Whole-request timeout: headers and body (default 60 s). */
  readonly requestTimeoutMs?: number;
  /** Largest response body accepted (default 64 MiB). */
  readonly maxResponseBytes?: number;
}

/** One outgoing request. */
export interface HttpRequest {
  /** Upper-case method. */
  readonly method: 'GET' | 'PUT' | 'POST';
  /** Path and query, as sent. */
  readonly path: string;
  /** Extra headers (`Authorization`, `Content-Type`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Body bytes. */
  readonly body?: string;
  /** Cancels the request. */
  readonly signal?: AbortSignal;
  /** Overrides the request timeout. */
  readonly timeoutMs?: number;
}

/** A response (any status). */
export interface HttpResponse {
  /** HTTP status. */
  readonly status: number;
  /** Response headers (lower-case names). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Body text (UTF-8). */
  readonly body: string;
}

/** Why a request failed before a response: `timeout`, `too-large`, `aborted` or `network`. */
export class HttpFailure extends RoomgraphError<'HTTP_FAILURE'> {
  override readonly name: string = 'HttpFailure';
  /** Kind of failure. */
  readonly kind: 'timeout' | 'too-large' | 'aborted' | 'network';
  /** @param kind - the kind of failure; @param message - description; @param options - `cause`. */
  constructor(kind: HttpFailure['kind'], message: string, options?: RoomgraphErrorOptions) {
    super('HTTP_FAILURE', message, options);
    this.kind = kind;
  }
}

/** An HTTPS client with pooled keep-alive connections and per-server TLS verification. */
export class HttpClient {
  readonly #verifying: Agent;
  readonly #insecure: Agent;
  readonly #skip: ReadonlySet<string> | true;
  readonly #timeout: number;

  constructor(tls: TlsClientOptions = {}, limits: HttpClientLimits = {}) {
    const extra: string[] = [];
    if (tls.ca !== undefined) extra.push(...(typeof tls.ca === 'string' ? [tls.ca] : tls.ca));
    if (tls.caFile !== undefined) {
      try { extra.push(readFileSync(tls.caFile, 'utf8')); } catch (e) {
        throw new FederationHttpError('FED_BAD_CONFIG', `cannot read CA file ${tls.caFile}: ${(e as Error).message}`);
      }
    }
    const connectTimeout = limits.connectTimeoutMs ?? 10_000;
    const maxResponseSize = limits.maxResponseBytes ?? 64 * 1024 * 1024;
    const common = { keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000, connections: 8, maxResponseSize };
    this.#verifying = new Agent({
      ...common,
      // Node's `ca` replaces the system roots: keep them and add the extra CAs.
      connect: { timeout: connectTimeout, rejectUnauthorized: true, ...(extra.length > 0 ? { ca: [...rootCertificates, ...extra] } : {}) },
    });
    this.#insecure = new Agent({ ...common, connect: { timeout: connectTimeout, rejectUnauthorized: false } });
    this.#skip = tls.insecureSkipVerify === true ? true : new Set(tls.insecureSkipVerify === false || tls.insecureSkipVerify === undefined ? [] : tls.insecureSkipVerify);
    this.#timeout = limits.requestTimeoutMs ?? 60_000;
  }

  /** Whether certificates of `serverName` are not verified. */
  skipsVerification(serverName: string): boolean {
    return this.#skip === true || this.#skip.has(serverName);
  }

  /** Sends one request to a resolved server. Rejects with {@link HttpFailure} when there is no response. */
  async request(target: ResolvedServer, req: HttpRequest): Promise<HttpResponse> {
    const agent = this.skipsVerification(target.serverName) ? this.#insecure : this.#verifying;
    const timeoutMs = req.timeoutMs ?? this.#timeout;
    const timer = AbortSignal.timeout(timeoutMs);
    const signal = req.signal !== undefined ? AbortSignal.any([req.signal, timer]) : timer;
    try {
      const res = await agent.request({
        origin: `https://${formatHostPort(target.address, target.port)}`,
        path: req.path,
        method: req.method,
        headers: { host: target.hostHeader, ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}), ...req.headers },
        ...(req.body !== undefined ? { body: req.body } : {}),
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const body = await res.body.text();
      return { status: res.statusCode, headers: res.headers, body };
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (req.signal?.aborted === true) throw new HttpFailure('aborted', `request to ${target.serverName} aborted`);
      if (timer.aborted || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
        throw new HttpFailure('timeout', `request to ${target.serverName} timed out`);
      }
      if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') throw new HttpFailure('too-large', `response from ${target.serverName} is too large`);
      throw new HttpFailure('network', `request to ${target.serverName} (${formatHostPort(target.address, target.port)}) failed: ${(e as Error).message}`);
    }
  }

  /** Closes every pooled connection. */
  async close(): Promise<void> {
    await Promise.all([this.#verifying.close(), this.#insecure.close()]);
  }
}
