/**
 * Helpers shared by the built-in commands.
 * @packageDocumentation
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { signingKeyFromSeed, type SigningKey } from '@roomgraph/crypto';
import { CliError } from '../framework.js';

/** The input as an object, or a `NOT_JSON_OBJECT` error. */
export function requireObject(input: JsonValue): JsonObject {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new CliError('NOT_JSON_OBJECT', 'input must be a JSON object');
  }
  return input as JsonObject;
}

/** A signing key from `--key-id ed25519:VERSION` and `--seed BASE64`. */
export function keyFromFlags(keyId: string, seed: string): SigningKey {
  if (!keyId.startsWith('ed25519:')) throw new CliError('USAGE', `--key-id must be ed25519:VERSION, got ${JSON.stringify(keyId)}`);
  return signingKeyFromSeed(seed, keyId.slice('ed25519:'.length));
}
