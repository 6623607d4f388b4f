/**
 * Renders a content value for a rejection message. Never throws: a value that is not JSON (a
 * BigInt, a cycle, nesting deep enough to overflow a recursive encoder) is the kind of input the
 * rules reject, so describing it must not turn the rejection into an `internal` failure.
 * @packageDocumentation
 */

const MAX_STRING = 100;
const MAX_ITEMS = 5;
const MAX_DEPTH = 2;

/** A short, bounded rendering of `v` (JSON-like for JSON values; always terminates, never throws). */
export function showValue(v: unknown, depth = 0): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > MAX_STRING ? `${v.slice(0, MAX_STRING)}…` : v);
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint':
      return `${v.toString()}n`;
    case 'boolean':
      return String(v);
    case 'undefined':
      return 'undefined';
    case 'object': {
      if (v === null) return 'null';
      if (depth >= MAX_DEPTH) return Array.isArray(v) ? '[…]' : '{…}';
      if (Array.isArray(v)) {
        const items = v.slice(0, MAX_ITEMS).map((x: unknown) => showValue(x, depth + 1));
        if (v.length > MAX_ITEMS) items.push('…');
        return `[${items.join(',')}]`;
      }
      const keys = Object.keys(v);
      const items = keys.slice(0, MAX_ITEMS).map((k) => `${JSON.stringify(k)}:${showValue((v as Record<string, unknown>)[k], depth + 1)}`);
      if (keys.length > MAX_ITEMS) items.push('…');
      return `{${items.join(',')}}`;
    }
    default:
      return typeof v;
  }
}
