// Canonical JSON: encode vs JSON.stringify vs fast-json-stable-stringify; parse vs JSON.parse.
import { encodeCanonicalJson, encodeCanonicalJsonBytes, parseCanonicalJson } from '@roomgraph/canonical-json';
import stableStringify from 'fast-json-stable-stringify';
import { table, ratio } from '../lib/measure.mjs';
import { memberEvent } from '../lib/events.mjs';

export default async function suite() {
  // Shuffle key order so sorting actually happens (as for a freshly built or parsed event).
  const event = JSON.parse(JSON.stringify(memberEvent, Object.keys(memberEvent).reverse().concat(Object.keys(memberEvent.content), Object.keys(memberEvent.unsigned), 'sha256', 'example.org', 'other.example.com', 'ed25519:key_version', 'ed25519:a_Xyz', 'displayname', 'membership')));
  const text = encodeCanonicalJson(event);
  const bytes = new TextEncoder().encode(text);
  if (encodeCanonicalJson(event) !== stableStringify(event)) throw new Error('baseline disagrees on BMP-only event');
  console.log(`event: m.room.member PDU, ${bytes.length} bytes of canonical JSON`);

  const enc = await table('encode (1 KB event)', {
    'encodeCanonicalJson (strict, validating)': () => encodeCanonicalJson(event),
    'encodeCanonicalJson (lenient)': () => encodeCanonicalJson(event, { strict: false }),
    'encodeCanonicalJsonBytes': () => encodeCanonicalJsonBytes(event),
    'JSON.stringify (unsorted, no validation)': () => JSON.stringify(event),
    'fast-json-stable-stringify': () => stableStringify(event),
  });
  ratio('encode/JSON.stringify', enc['encodeCanonicalJson (strict, validating)'], enc['JSON.stringify (unsorted, no validation)'], 0.6);
  ratio('encode/fast-json-stable-stringify', enc['encodeCanonicalJson (strict, validating)'], enc['fast-json-stable-stringify'], 1.5);

  const dec = await table('parse (1 KB event)', {
    'parseCanonicalJson(string)': () => parseCanonicalJson(text),
    'parseCanonicalJson(bytes)': () => parseCanonicalJson(bytes),
    'JSON.parse(string)': () => JSON.parse(text),
  });
  ratio('parse/JSON.parse', dec['parseCanonicalJson(string)'], dec['JSON.parse(string)']);
}
