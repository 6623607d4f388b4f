/**
 * Progress on stderr for long-running commands (`ingest`): a redrawn bar when stderr is a
 * terminal, periodic plain lines otherwise (`--progress`). Events per second since the start; an
 * ETA when the input's size is known (stdin is a file), from the bytes read so far.
 * @packageDocumentation
 */

/** Options of a {@link Progress} reporter. */
export interface ProgressOptions {
  /** Where to write (stderr). */
  readonly write: (s: string) => void;
  /** `bar`: redraw one line in place (a terminal); `lines`: one plain line per interval. */
  readonly mode: 'bar' | 'lines';
  /** Size of the whole input in bytes, when known: gives a percentage and an ETA. */
  readonly totalBytes?: number;
  /** Milliseconds between two reports (default: 100 for the bar, 2000 for lines). */
  readonly intervalMs?: number;
  /** The clock, in milliseconds (default `performance.now`); tests pass their own. */
  readonly now?: () => number;
  /** What is counted (default `events`). */
  readonly unit?: string;
  /** Text before each plain line (e.g. `roomgraph ingest: `). */
  readonly prefix?: string;
}

const BAR_WIDTH = 24;

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A progress reporter: call {@link Progress.update} often (it decides when to write), then {@link Progress.finish}. */
export class Progress {
  readonly #o: ProgressOptions;
  readonly #now: () => number;
  readonly #interval: number;
  readonly #start: number;
  #last = -Infinity;
  #count = 0;
  #bytes = 0;
  #drawn = false;

  /** @param options - see {@link ProgressOptions}. */
  constructor(options: ProgressOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
    this.#interval = options.intervalMs ?? (options.mode === 'bar' ? 100 : 2000);
    this.#start = this.#now();
    this.#last = this.#start;
  }

  /** Records that `count` items have been processed and `bytesRead` input bytes read; writes when an interval has passed. */
  update(count: number, bytesRead: number): void {
    this.#count = count;
    this.#bytes = bytesRead;
    const t = this.#now();
    if (t - this.#last < this.#interval) return;
    this.#last = t;
    this.#report(t, false);
  }

  /** Writes the final report (the bar is replaced by a finished line). */
  finish(): void {
    this.#report(this.#now(), true);
  }

  /** Clears the bar (if drawn) so that another message can be written on a clean line. */
  clear(): void {
    if (this.#o.mode === 'bar' && this.#drawn) {
      this.#o.write('\r\x1b[K');
      this.#drawn = false;
    }
  }

  /** The text of one report at time `t` (exposed for tests). */
  text(t: number, done: boolean): string {
    const elapsed = t - this.#start;
    const unit = this.#o.unit ?? 'events';
    const rate = elapsed > 0 ? Math.round((this.#count * 1000) / elapsed) : 0;
    const total = this.#o.totalBytes;
    const parts: string[] = [`${this.#count} ${unit}`, `${rate} ${unit}/s`];
    if (done) {
      parts.push(`done in ${duration(elapsed)}`);
    } else if (total !== undefined && total > 0) {
      const frac = Math.min(1, this.#bytes / total);
      parts.unshift(`${Math.floor(frac * 100)}%`);
      if (this.#o.mode === 'bar') {
        const full = Math.round(frac * BAR_WIDTH);
        parts.unshift(`[${'#'.repeat(full)}${'.'.repeat(BAR_WIDTH - full)}]`);
      }
      parts.push(frac > 0 ? `ETA ${duration((elapsed * (1 - frac)) / frac)}` : 'ETA ?');
    } else {
      parts.push(`${bytes(this.#bytes)} read`);
    }
    return parts.join('  ');
  }

  #report(t: number, done: boolean): void {
    const line = this.text(t, done);
    if (this.#o.mode === 'bar') {
      this.#o.write(`\r\x1b[K${line}${done ? '\n' : ''}`);
      this.#drawn = !done;
    } else {
      this.#o.write(`${this.#o.prefix ?? ''}${line}\n`);
    }
  }
}
