/**
 * `roomgraph keygen --server NAME`: makes an ed25519 signing key and the matching KEYS.json entry
 * (Server-Server API › Retrieving server keys: a server's verify keys are `ed25519:<version>` →
 * unpadded base64 public key).
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { encodeCanonicalJson, parseCanonicalJson, type JsonObject } from '@roomgraph/canonical-json';
import { decodeBase64, encodeBase64, randomId, signingKeyFromSeed } from '@roomgraph/crypto';
import { isValidServerName } from '@roomgraph/events';
import { CliError, EXIT, commandHelp, defineMainCommand, parseFlags, stringFlag, writeError } from '../framework.js';


/** `roomgraph keygen`. */
export const command = defineMainCommand({
  name: 'keygen',
  summary: 'make an ed25519 signing key for a server and its KEYS.json entry',
  flags: {
    server: { type: 'string', description: 'the server name the key belongs to, e.g. example.org', required: true },
    'key-id': { type: 'string', description: 'key ID ed25519:VERSION (default: ed25519: + 6 random characters)' },
    seed: { type: 'string', description: 'unpadded base64 32-byte seed (default: random)' },
    keys: { type: 'string', description: 'add the public key to this KEYS.json (created if missing; other entries kept)' },
    help: { type: 'boolean', description: 'show help for this command' },
  },
  usage: `
Output (stdout, canonical JSON): the signing key, secret included — keep it private:
  {"key_id":"ed25519:AbCdEf","public_key":"<base64>","seed":"<base64>","server_name":"example.org"}
With --keys FILE the public half is merged into FILE, the KEYS.json that ingest reads:
  {"example.org":{"ed25519:AbCdEf":"<unpadded base64 public key>"}}

Example:
  roomgraph keygen --server example.org --keys KEYS.json > example.org.key.json
  roomgraph sign --server example.org --key-id ed25519:AbCdEf --seed <seed> < event.json
`,
  async main(argv, io) {
    try {
      const flags = parseFlags(argv, command.flags);
      if (flags.help) {
        io.stdout.write(commandHelp(command));
        return EXIT.OK;
      }
      const server = stringFlag(flags, 'server');
      if (!isValidServerName(server)) throw new CliError('USAGE', `--server ${JSON.stringify(server)} is not a valid server name`);
      const keyId = typeof flags['key-id'] === 'string' ? flags['key-id'] : `ed25519:${randomId(6)}`;
      if (!/^ed25519:[A-Za-z0-9_]+$/.test(keyId)) throw new CliError('USAGE', `--key-id must be ed25519:VERSION with VERSION in [A-Za-z0-9_], got ${JSON.stringify(keyId)}`);
      const seed = typeof flags.seed === 'string' ? decodeBase64(flags.seed) : new Uint8Array(randomBytes(32));
      const key = signingKeyFromSeed(seed, keyId.slice('ed25519:'.length));
      const publicKey = encodeBase64(key.publicKey);
      if (typeof flags.keys === 'string') {
        const path = flags.keys;
        let existing: JsonObject = {};
        if (existsSync(path)) {
          const parsed = parseCanonicalJson(readFileSync(path), { strict: false });
          if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError('BAD_KEYS_FILE', `${path} is not a KEYS.json object`);
          existing = parsed as JsonObject;
        }
        const prior = existing[server];
        const entry = prior !== null && typeof prior === 'object' && !Array.isArray(prior) ? prior : {};
        writeFileSync(path, JSON.stringify({ ...existing, [server]: { ...entry, [keyId]: publicKey } }, null, 2) + '\n');
      }
      io.stdout.write(encodeCanonicalJson({ server_name: server, key_id: keyId, seed: encodeBase64(seed), public_key: publicKey }) + '\n');
      return EXIT.OK;
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    }
  },
});
