/**
 * Signing and verifying JSON (APP › Signing JSON › Signing Details, Checking for a Signature;
 * checklist B5, B7).
 * @packageDocumentation
 */
import { CanonicalJsonError, encodeCanonicalJsonBytes, type JsonObject, isJsonObject } from '@roomgraph/canonical-json';
import { defaultBackend, type CryptoBackend } from './backend.js';
import { decodeBase64Any, encodeBase64 } from './base64.js';
import { SignatureError, type VerifyFailureCode } from './errors.js';
import type { SigningKey } from './keys.js';

/** Options shared by the signing and verifying functions. */
export interface SignOptions {
  /**
   * Canonical JSON strictness (default `true`). Pass `false` for events of room versions 1–5, whose
   * values may include floats or out-of-range integers (checklist A8).
   */
  readonly strict?: boolean;
  /** Crypto backend; default node:crypto. */
  readonly backend?: CryptoBackend;
}

/** Result of a signature check: `{ valid: true }` or a failure code with a readable reason. */
export type VerifyResult =
  | { readonly valid: true }
  | { readonly valid: false; readonly code: VerifyFailureCode; readonly reason: string };

/** Removed before signing (APP › Signing Details). */
const SIGNING_OMIT: readonly string[] = Object.freeze(['signatures', 'unsigned']);

const OK: VerifyResult = Object.freeze({ valid: true });

function fail(code: VerifyFailureCode, reason: string): VerifyResult {
  return { valid: false, code, reason };
}


/**
 * The bytes that are signed: the canonical JSON of `obj` without `signatures` and `unsigned`.
 * @throws `CanonicalJsonError` if the rest is not canonical-JSON encodable.
 */
export function signingBytes(obj: JsonObject | Record<string, unknown>, options?: SignOptions): Uint8Array {
  return encodeCanonicalJsonBytes(obj, { strict: options?.strict ?? true, omitKeys: SIGNING_OMIT });
}

/**
 * Signs a JSON object (APP › Signing Details, `sign_json`; checklist B5): removes `signatures` and
 * `unsigned`, encodes the rest as canonical JSON, signs it with ed25519, and returns a NEW object
 * equal to `obj` plus `signatures[serverName][key.keyId]` = unpadded base64 signature. Other
 * signatures and `unsigned` are kept untouched; `obj` is not modified.
 *
 * @throws {@link SignatureError} `NOT_JSON_OBJECT` / `MALFORMED_SIGNATURES` (existing `signatures`
 *   or `signatures[serverName]` not an object), or `CanonicalJsonError` for unencodable values.
 */
export function signJson<T extends object>(obj: T, serverName: string, key: SigningKey, options?: SignOptions): T & { signatures: Record<string, Record<string, string>> } {
  if (!isJsonObject(obj)) throw new SignatureError('NOT_JSON_OBJECT', 'only JSON objects can be signed');
  const existing = obj.signatures;
  if (existing !== undefined && !isJsonObject(existing)) throw new SignatureError('MALFORMED_SIGNATURES', '"signatures" is not an object');
  const mine = existing?.[serverName];
  if (mine !== undefined && !isJsonObject(mine)) throw new SignatureError('MALFORMED_SIGNATURES', `"signatures.${serverName}" is not an object`);
  const backend = options?.backend ?? defaultBackend;
  const signature = encodeBase64(backend.sign(key.seed, signingBytes(obj, options)));
  return {
    ...obj,
    signatures: { ...(existing as Record<string, Record<string, string>> | undefined), [serverName]: { ...(mine as Record<string, string> | undefined), [key.keyId]: signature } },
  } as T & { signatures: Record<string, Record<string, string>> };
}

function decodePublicKey(publicKey: Uint8Array | string): Uint8Array | VerifyResult {
  if (typeof publicKey === 'string') {
    try {
      publicKey = decodeBase64Any(publicKey);
    } catch {
      return fail('BAD_BASE64', 'public key is not valid base64');
    }
  }
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return fail('WRONG_LENGTH', 'public key must be 32 bytes');
  return publicKey;
}

/** Checks one signature over precomputed signing bytes. */
function verifyOne(
  signatures: Record<string, unknown>,
  serverName: string,
  keyId: string,
  publicKey: Uint8Array,
  bytes: Uint8Array,
  backend: CryptoBackend,
): VerifyResult {
  const byServer = signatures[serverName];
  if (!isJsonObject(byServer)) return fail('MISSING_SIGNATURE', `no signatures from ${serverName}`);
  const b64 = byServer[keyId];
  if (b64 === undefined || !Object.hasOwn(byServer, keyId)) return fail('MISSING_SIGNATURE', `no signature from ${serverName} with key ${keyId}`);
  if (typeof b64 !== 'string') return fail('BAD_BASE64', `signature ${serverName}/${keyId} is not a string`);
  let sig: Uint8Array;
  try {
    sig = decodeBase64Any(b64);
  } catch {
    return fail('BAD_BASE64', `signature ${serverName}/${keyId} is not valid base64`);
  }
  if (sig.length !== 64) return fail('WRONG_LENGTH', `signature ${serverName}/${keyId} is ${sig.length} bytes, not 64`);
  if (!backend.verify(publicKey, bytes, sig)) return fail('INVALID_SIGNATURE', `signature ${serverName}/${keyId} does not verify`);
  return OK;
}

function prepare(obj: unknown, options: SignOptions | undefined): { signatures: Record<string, unknown>; bytes: Uint8Array } | VerifyResult {
  if (!isJsonObject(obj)) return fail('NOT_JSON_OBJECT', 'value is not a JSON object');
  const signatures = obj.signatures;
  if (!isJsonObject(signatures)) return fail('MISSING_SIGNATURE', 'no "signatures" object');
  try {
    return { signatures, bytes: signingBytes(obj, options) };
  } catch (e) {
    if (e instanceof CanonicalJsonError) return fail('NOT_CANONICAL', `cannot encode as canonical JSON: ${e.message}`);
    throw e;
  }
}

/**
 * Checks the signature of `serverName` with key `keyId` on a JSON object (APP › Checking for a
 * Signature; checklist B7). Never throws on malformed input: every problem is a `{ valid: false }`
 * result with a {@link VerifyFailureCode}.
 *
 * @param publicKey - 32 bytes, or its (standard or URL-safe, padded or not) base64.
 */
export function verifyJson(obj: unknown, serverName: string, keyId: string, publicKey: Uint8Array | string, options?: SignOptions): VerifyResult {
  if (typeof keyId !== 'string' || !keyId.startsWith('ed25519:')) return fail('UNKNOWN_ALGORITHM', `unsupported key algorithm in ${String(keyId)}`);
  const pk = decodePublicKey(publicKey);
  if (!(pk instanceof Uint8Array)) return pk;
  const prep = prepare(obj, options);
  if (!('bytes' in prep)) return prep;
  return verifyOne(prep.signatures, serverName, keyId, pk, prep.bytes, options?.backend ?? defaultBackend);
}

/** A server whose signature is required, with the verify keys known for it (key id → public key). */
export interface RequiredSigner {
  /** Server name, e.g. `example.org`. */
  readonly server: string;
  /** Known (unexpired) verify keys of that server: key id → 32-byte public key or its base64. */
  readonly keys: Readonly<Record<string, Uint8Array | string>>;
}

/** Result of {@link verifyJsonAll}: a failure names the server it concerns. */
export type VerifyAllResult =
  | { readonly valid: true }
  | { readonly valid: false; readonly server: string; readonly code: VerifyFailureCode; readonly reason: string };

/**
 * Checks that every required server signed `obj` (SS › Validating hashes and signatures on received
 * events; checklist B7, B11): for each server, the signatures made with its KNOWN ed25519 keys must
 * all be valid, and there must be at least one. Signatures by unknown key ids (and non-ed25519
 * algorithms) are ignored. The canonical encoding is computed once.
 */
export function verifyJsonAll(obj: unknown, required: readonly RequiredSigner[], options?: SignOptions): VerifyAllResult {
  const prep = prepare(obj, options);
  if (!('bytes' in prep)) return { ...(prep as { valid: false; code: VerifyFailureCode; reason: string }), server: required[0]?.server ?? '' };
  const backend = options?.backend ?? defaultBackend;
  for (const { server, keys } of required) {
    const byServer = prep.signatures[server];
    if (!isJsonObject(byServer)) return { valid: false, server, code: 'MISSING_SIGNATURE', reason: `no signatures from ${server}` };
    let checked = 0;
    for (const keyId of Object.keys(keys)) {
      if (!keyId.startsWith('ed25519:') || !Object.hasOwn(byServer, keyId)) continue;
      const pk = decodePublicKey(keys[keyId]!);
      const r = pk instanceof Uint8Array ? verifyOne(prep.signatures, server, keyId, pk, prep.bytes, backend) : pk;
      if (!r.valid) return { ...r, server };
      checked++;
    }
    if (checked === 0) return { valid: false, server, code: 'MISSING_SIGNATURE', reason: `no signature from ${server} with a known key` };
  }
  return { valid: true };
}

/**
 * Throws unless `result` is valid — for callers that prefer exceptions.
 * @throws {@link SignatureError} carrying the result's code and reason.
 */
export function assertVerified(result: VerifyResult | VerifyAllResult): void {
  if (!result.valid) throw new SignatureError(result.code, result.reason);
}
