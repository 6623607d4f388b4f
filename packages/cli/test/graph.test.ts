// roomgraph graph: the DOT, SVG and HTML forms carry every event, edge and outcome of the room,
// and hostile strings never become markup. (The browser check is graph-browser.test.ts.)
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE, hostileStore, referenceStore, run, workDir } from './graph-helpers.js';

const work = workDir('graph');
afterAll(() => rmSync(work, { recursive: true, force: true }));
let ref: Awaited<ReturnType<typeof referenceStore>>;
beforeAll(async () => {
  ref = await referenceStore(work);
});

const count = (text: string, re: RegExp): number => (text.match(re) ?? []).length;

describe('roomgraph graph', () => {
  it('dot: one node per event, one edge per prev_events reference, outcomes and extremities distinct', async () => {
    const r = await run(['graph', '--store', ref.dir, '--format', 'dot']);
    expect(r.code).toBe(0);
    const dot = r.out;
    const events = ref.room.events.filter((e) => !ref.room.expected.dropped.includes(String(e['event_id'])));
    expect(count(dot, /^ {2}n\d+ \[id=/gm)).toBe(events.length);
    const prevRefs = events.reduce((s, e) => s + (e['prev_events'] as unknown[]).length, 0);
    expect(count(dot, /^ {2}n\d+ -> n\d+ \[class="prev"\];$/gm)).toBe(prevRefs);
    expect(count(dot, /class="ev rejected /g)).toBe(ref.room.expected.rejected.length);
    expect(count(dot, /class="ev soft-failed /g)).toBe(ref.room.expected.soft_failed.length);
    expect(count(dot, /class="ev [a-z-]+ (state|message) extremity/g)).toBe(ref.room.expected.forward_extremities.length);
    for (const id of ref.room.expected.forward_extremities) expect(dot).toContain(`tooltip="${id}"`);
    // Merges that resolved concurrent changes are hexagons naming the winner; winners and losers are marked.
    expect(count(dot, /shape=hexagon, style="filled"/g)).toBeGreaterThan(0);
    expect(dot).toMatch(/⋈ resolved [a-z_]+.* → \$/);
    expect(dot).toContain('✓ won the conflict');
    expect(dot).toContain('✗ lost the conflict');
    expect(dot).toContain('subgraph cluster_legend');
  });

  it('--around EVENT --depth N draws the neighbourhood and marks cut edges', async () => {
    const target = ref.room.expected.forward_extremities[0]!;
    const r = await run(['graph', '--store', ref.dir, '--format', 'dot', '--around', target, '--depth', '3']);
    expect(r.code).toBe(0);
    const nodes = count(r.out, /^ {2}n\d+ \[id=/gm);
    expect(nodes).toBeGreaterThan(1);
    expect(nodes).toBeLessThan(60);
    expect(r.out).toContain(`tooltip="${target}"`);
    expect(r.out).toMatch(/prev events? not drawn/);
    const unknown = await run(['graph', '--store', ref.dir, '--around', '$nope']);
    expect(JSON.parse(unknown.err).error.code).toBe('EVENT_NOT_FOUND');
    const big = await run(['graph', '--store', ref.dir, '--max-events', '10']);
    expect(JSON.parse(big.err).error.code).toBe('GRAPH_TOO_LARGE');
    expect(JSON.parse((await run(['graph', '--store', ref.dir, '--format', 'png'])).err).error.code).toBe('USAGE');
    expect(JSON.parse((await run(['graph', '--store', ref.dir, '--depth', '2'])).err).error.code).toBe('USAGE');
  });

  it('svg: laid out by Graphviz (WASM), every event a node with its classes', async () => {
    const r = await run(['graph', '--store', ref.dir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/<svg [^>]*width="\d+pt" height="\d+pt"/);
    expect(count(r.out, /<g id="n\d+" class="node ev /g)).toBe(ref.room.events.length - ref.room.expected.dropped.length);
    expect(count(r.out, /class="node ev rejected /g)).toBe(ref.room.expected.rejected.length);
    expect(r.out).toContain('class="node ev accepted state');
  });

  it('hostile strings in types, state keys and content stay text in the SVG and the page', async () => {
    const h = await hostileStore(work);
    const svg = (await run(['graph', '--store', h.dir])).out;
    expect(svg).not.toContain('<img');
    expect(svg).not.toContain('</script>');
    expect(svg).toContain('&lt;/script&gt;&lt;img');
    const html = (await run(['graph', '--store', h.dir, '--format', 'html'])).out;
    // The only script end tags are the page's own two.
    expect(count(html, /<\/script>/g)).toBe(2);
    expect(html).not.toContain('<img');
    expect(html).toContain('\\u003c/script\\u003e\\u003cimg');
    expect(html).toMatch(/Content-Security-Policy" content="default-src 'none'/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(HOSTILE).toContain('<img');
  });

  it('--out writes the file and says so on stderr', async () => {
    const out = `${work}/room.html`;
    const r = await run(['graph', '--store', ref.dir, '--format', 'html', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^roomgraph graph: \d+ of \d+ events of !\S+ -> .*room\.html\n$/);
  });
});
