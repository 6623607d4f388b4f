/** What the fuzzer records. */

/** One violated property, with the input that showed it (truncated). */
export interface Finding {
  readonly target: string;
  readonly kind: string;
  readonly detail: string;
  /** The input (UTF-8 with invalid bytes escaped, at most 2,000 characters). */
  readonly input?: string;
}

/** Figures of one target. */
export interface TargetStats {
  cases: number;
  ms: number;
  /** Peak RSS of the CLI child process (KiB), for CLI targets. */
  maxRssKb?: number;
  /** Error codes seen (typed errors and error lines), with counts. */
  codes: Record<string, number>;
}

export function showInput(b: Uint8Array | string | unknown): string {
  let s: string;
  if (typeof b === 'string') s = b;
  else if (b instanceof Uint8Array) s = Buffer.from(b).toString('latin1').replace(/[\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  else { try { s = String(b); } catch { s = '<unprintable>'; } }
  return s.length > 2000 ? `${s.slice(0, 2000)}…(${s.length} chars)` : s;
}

/** A stack trace in a message: "    at f (file.js:1:2)" or a file:line:column position. */
export const STACK = /(^|\n)\s+at \S|\.(?:js|ts|mjs):\d+:\d+/;

/** Codes a typed error may have: upper case words. */
export const CODE = /^[A-Z][A-Z0-9_]*$/;

export function bump(codes: Record<string, number>, code: string): void {
  codes[code] = (codes[code] ?? 0) + 1;
}
