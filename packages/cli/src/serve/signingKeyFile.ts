/**
 * The signing key file of `roomgraph serve`, in the format Synapse uses (one line
 * `ed25519 <version> <unpadded base64 seed>`): read when it exists, created (mode 0600, written to
 * a temporary file, fsynced and renamed) when it does not, so a restart reuses the key.
 * @module
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { decodeBase64Any, encodeBase64, generateSigningKey, signingKeyFromSeed, type SigningKey } from '@roomgraph/crypto';
import { CliError } from '../framework.js';

/** Reads the key in `file`, creating a new one there first if the file does not exist. */
export function loadOrCreateSigningKey(file: string): { readonly key: SigningKey; readonly created: boolean } {
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
    const parts = line?.split(/\s+/) ?? [];
    if (parts.length !== 3 || parts[0] !== 'ed25519') throw new CliError('BAD_SIGNING_KEY', `${file}: expected one line "ed25519 <version> <base64 seed>"`);
    let seed: Uint8Array;
    try { seed = decodeBase64Any(parts[2]!); } catch { throw new CliError('BAD_SIGNING_KEY', `${file}: the seed is not base64`); }
    if (seed.length !== 32) throw new CliError('BAD_SIGNING_KEY', `${file}: the seed is not 32 bytes`);
    try { return { key: signingKeyFromSeed(seed, parts[1]!), created: false }; } catch (e) {
      throw new CliError('BAD_SIGNING_KEY', `${file}: ${(e as Error).message}`);
    }
  }
  const version = `a_${encodeBase64(crypto.getRandomValues(new Uint8Array(3))).replace(/[^A-Za-z0-9]/g, 'x')}`;
  const key = generateSigningKey(version);
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `ed25519 ${version} ${encodeBase64(key.seed)}\n`);
    fsyncSync(fd);
  } finally { closeSync(fd); }
  renameSync(tmp, file);
  return { key, created: true };
}
