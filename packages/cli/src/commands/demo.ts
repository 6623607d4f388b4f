/**
 * `roomgraph demo`: a short walk through canonical JSON, hashing, signing and verifying.
 * Placeholder until the full room-engine demo lands.
 * @packageDocumentation
 */
import { encodeCanonicalJson } from '@roomgraph/canonical-json';
import { computeContentHashBase64, encodeBase64, computeReferenceHash, publicKeyBase64, signJson, signingKeyFromSeed, verifyJson } from '@roomgraph/crypto';
import { defineMainCommand, parseFlags, writeError, EXIT, commandHelp } from '../framework.js';

/** The spec's test signing key seed (APP › Cryptographic Test Vectors). */
const DEMO_SEED = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';

/** `roomgraph demo`: prints each step of hashing and signing an example event. */
export const command = defineMainCommand({
  name: 'demo',
  summary: 'walk through canonical JSON, content hash, signing and verification of an example event',
  flags: { help: { type: 'boolean', description: 'show help for this command' } },
  async main(argv, io) {
    try {
      if (parseFlags(argv, command.flags).help) {
        io.stdout.write(commandHelp(command));
        return EXIT.OK;
      }
    } catch (e) {
      writeError(io.stderr, e);
      return EXIT.ERROR;
    }
    const out = (s: string) => io.stdout.write(s + '\n');
    const event = {
      type: 'm.room.message',
      room_id: '!demo:example.org',
      sender: '@alice:example.org',
      origin_server_ts: 1700000000000,
      content: { msgtype: 'm.text', body: 'Hello, 世界 🌍' },
      depth: 3,
      prev_events: [],
      auth_events: [],
      unsigned: { age: 12 },
    };
    const key = signingKeyFromSeed(DEMO_SEED, '1');
    out('1. Example event (as written):');
    out('   ' + JSON.stringify(event));
    out('2. Canonical JSON (sorted keys, no whitespace, UTF-8):');
    out('   ' + encodeCanonicalJson(event));
    const sha256 = computeContentHashBase64(event);
    out('3. Content hash (without unsigned/signatures/hashes):');
    out(`   hashes.sha256 = ${sha256}`);
    const hashed = { ...event, hashes: { sha256 } };
    out(`4. Signing key ${key.keyId}, public key ${publicKeyBase64(key)} (the spec test seed)`);
    const signed = signJson(hashed, 'example.org', key);
    out('   Signed event:');
    out('   ' + encodeCanonicalJson(signed));
    const ok = verifyJson(signed, 'example.org', key.keyId, key.publicKey);
    out(`5. Verify signature: ${JSON.stringify(ok)}`);
    const tampered = verifyJson({ ...signed, content: { ...event.content, body: 'tampered' } }, 'example.org', key.keyId, key.publicKey);
    out(`6. Verify after changing the body: ${JSON.stringify(tampered)}`);
    out(`7. Reference hash (unredacted here; event IDs hash the redacted event): ${encodeBase64(computeReferenceHash(signed))}`);
    return ok.valid && !tampered.valid ? EXIT.OK : EXIT.ERROR;
  },
});
