/**
 * Server-Server API › Request Authentication: the `X-Matrix` `Authorization` header. The request's
 * method, target (path and query as sent), origin, destination and JSON body are signed as a JSON
 * object (Appendices › Signing JSON); the header carries the origin, destination, key ID and
 * signature.
 *
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { signJson, verifyJson, type SigningKey } from '@roomgraph/crypto';
import { FederationHttpError } from './errors.js';

/** The parameters of an `X-Matrix` header. */
export interface XMatrixParams {
  /** The requesting server's name. */
  readonly origin: string;
  /** The receiving server's name (absent in requests from servers older than spec v1.3). */
  readonly destination?: string;
  /** The key ID, e.g. `ed25519:a1`. */
  readonly key: string;
  /** Unpadded base64 signature. */
  readonly sig: string;
}

/** What a request signature covers. */
export interface SignedRequest {
  /** HTTP method, upper case. */
  readonly method: string;
  /** The request target: path and query exactly as sent (`/_matrix/...?...`). */
  readonly uri: string;
  /** The requesting server. */
  readonly origin: string;
  /** The receiving server (its server name before any delegation). */
  readonly destination: string;
  /** The JSON body, for requests that have one. */
  readonly content?: JsonValue;
}

function requestJson(r: SignedRequest): JsonObject {
  const o: Record<string, JsonValue> = { method: r.method, uri: r.uri, origin: r.origin, destination: r.destination };
  if (r.content !== undefined) o['content'] = r.content;
  return o;
}

/** Builds the `Authorization` header value for a request signed by `key` of `request.origin`. */
export function signRequest(request: SignedRequest, key: SigningKey): string {
  const signed = signJson(requestJson(request), request.origin, key, { strict: false });
  const sig = signed.signatures[request.origin]?.[key.keyId];
  if (sig === undefined) throw new FederationHttpError('FED_BAD_AUTH_HEADER', 'signing produced no signature');
  // Spec: one space after X-Matrix, lower-case names, no whitespace around commas (compatibility).
  return `X-Matrix origin="${request.origin}",destination="${request.destination}",key="${key.keyId}",sig="${sig}"`;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:]/;

/**
 * Parses an `X-Matrix` header value (RFC 9110 › 11.4 auth-param list: names case-insensitive,
 * quoted values with backslash escapes, optional whitespace around commas; colons allowed in
 * unquoted values for older servers). Unknown parameters are ignored.
 * @throws {@link FederationHttpError} `FED_BAD_AUTH_HEADER` when it is not an `X-Matrix` header
 *   with `origin`, `key` and `sig`.
 */
export function parseXMatrix(header: string): XMatrixParams {
  const bad = (why: string): never => { throw new FederationHttpError('FED_BAD_AUTH_HEADER', `bad X-Matrix header: ${why}`); };
  if (typeof header !== 'string' || header.length > 8192) bad('missing or too long');
  const m = /^X-Matrix +/i.exec(header);
  if (m === null) bad('scheme is not X-Matrix');
  const params = new Map<string, string>();
  let i = m![0].length;
  const s = header;
  while (i < s.length) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    if (i >= s.length) break;
    const eq = s.indexOf('=', i);
    if (eq < 0) bad('parameter without a value');
    const name = s.slice(i, eq).trim().toLowerCase();
    if (!/^[a-z0-9_-]+$/.test(name)) bad('bad parameter name');
    i = eq + 1;
    let value = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const c = s[i]!;
        if (c === '\\') { if (i + 1 >= s.length) bad('dangling escape'); value += s[i + 1]; i += 2; continue; }
        if (c === '"') { closed = true; i++; break; }
        value += c; i++;
      }
      if (!closed) bad('unterminated quoted value');
    } else {
      while (i < s.length && TOKEN_CHAR.test(s[i]!)) value += s[i++];
    }
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    if (i < s.length && s[i] !== ',') bad('junk after a value');
    if (!params.has(name)) params.set(name, value);
  }
  const origin = params.get('origin');
  const key = params.get('key');
  const sig = params.get('sig');
  if (origin === undefined || origin === '' || key === undefined || key === '' || sig === undefined || sig === '') bad('origin, key and sig are required');
  const destination = params.get('destination');
  return { origin: origin!, key: key!, sig: sig!, ...(destination !== undefined ? { destination } : {}) };
}

/**
 * Verifies a request signature with the origin's public key: rebuilds the signed JSON from the
 * request and the header's parameters and checks the header's signature over it.
 */
export function verifyRequest(
  params: XMatrixParams, request: { readonly method: string; readonly uri: string; readonly destination: string; readonly content?: JsonValue },
  publicKey: Uint8Array,
): boolean {
  const json = requestJson({ ...request, origin: params.origin, destination: params.destination ?? request.destination });
  const signed = { ...json, signatures: { [params.origin]: { [params.key]: params.sig } } };
  try {
    return verifyJson(signed, params.origin, params.key, publicKey, { strict: false }).valid;
  } catch {
    return false;
  }
}
