/**
 * Output helpers for commands that write many lines or files.
 * @packageDocumentation
 */
import { createWriteStream } from 'node:fs';
import type { Io } from '../framework.js';

/** A line sink with backpressure: `line()` buffers, flushing ~1 MB chunks and awaiting `drain`. */
export interface LineSink {
  /** Queues one line (without its newline). */
  line(text: string): Promise<void>;
  /** Flushes and, for a file, closes it. */
  end(): Promise<void>;
}

type Writable = { write(chunk: string): unknown; once?: (event: 'drain', cb: () => void) => unknown };

function sinkOn(stream: Writable, close?: () => Promise<void>): LineSink {
  let buf = '';
  const flush = async (): Promise<void> => {
    if (buf === '') return;
    const ok = stream.write(buf);
    buf = '';
    if (ok === false && typeof stream.once === 'function') await new Promise<void>((r) => stream.once!('drain', r));
  };
  return {
    async line(text) {
      buf += text + '\n';
      if (buf.length >= 1 << 20) await flush();
    },
    async end() {
      await flush();
      await close?.();
    },
  };
}

/** Lines to `path`, or to the command's stdout when `path` is undefined or `-`. */
export function lineSink(path: string | undefined, io: Io): LineSink {
  if (path === undefined || path === '-') return sinkOn(io.stdout as Writable);
  const file = createWriteStream(path);
  return sinkOn(file as unknown as Writable, () => new Promise<void>((resolve, reject) => {
    file.once('error', reject);
    file.end(() => resolve());
  }));
}
