// Shared helpers for the suites: measure with mitata, print a table and ratios from the same run,
// and record every figure for `run.mjs --json` (results compared across runs with --compare).
import { measure, do_not_optimize } from 'mitata';

/** Every figure recorded in this process: suite → key → { value, unit } (see `record`). */
export const results = {};
let currentSuite = 'default';

/** Sets the suite that `record` files figures under (run.mjs calls it before each suite). */
export function beginSuite(name) {
  currentSuite = name;
  results[name] ??= {};
}

/**
 * Records one figure of this run. `unit` says which way is better: times (`ns`, `ms`, `s`) lower,
 * rates (`ops/s`, `PDUs/s`) and speed ratios (`x`) higher; anything else is informational.
 */
export function record(key, value, unit) {
  (results[currentSuite] ??= {})[key] = { value: Number(value), unit };
}

/** Measures `fn` and returns its median time per call in nanoseconds. */
export async function time(fn) {
  const stats = await measure(() => do_not_optimize(fn()), { min_cpu_time: 300 * 1e6 });
  return stats.p50;
}

const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);

/**
 * Runs every case of `cases` ({ name: fn }) and prints a table; returns { name: ns }.
 */
export async function table(title, cases, rounds = 3) {
  console.log(`\n## ${title}`);
  const out = {};
  // Warm every case up first, then measure in interleaved rounds and keep each case's best median:
  // this machine is shared (2 cores), so single runs are noisy.
  for (const fn of Object.values(cases)) for (let i = 0; i < 2000; i++) do_not_optimize(fn());
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(cases)) {
      const t = await time(fn);
      out[name] = r === 0 ? t : Math.min(out[name], t);
    }
  }
  for (const name of Object.keys(cases)) {
    record(`${title} › ${name}`, out[name], 'ns');
    console.log(`  ${name.padEnd(44)} ${fmt(out[name]).padStart(10)}/op  ${(1e9 / out[name]).toFixed(0).padStart(10)} ops/s`);
  }
  return out;
}

/** Prints "a/b = 0.72x" where the number is the speed of `a` relative to `b` (b time / a time). */
export function ratio(label, ours, baseline, target) {
  const r = baseline / ours;
  record(`ratio › ${label}`, r, 'x');
  const verdict = target === undefined ? '' : r >= target ? `  (target >= ${target}x: met)` : `  (target >= ${target}x: MISSED)`;
  console.log(`  ${label} = ${r.toFixed(2)}x${verdict}`);
  return r;
}
