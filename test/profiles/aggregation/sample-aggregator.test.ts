import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GadgetRow } from '../../../src/rows/gadget-row.js';
import { PROFILE_CPU_SPEC } from '../../../src/gadget-bridge/profile-presets.js';
import { Counters } from '../../../src/observability/counters.js';
import { AgingMap } from '../../../src/util/aging-map.js';
import type { ExportProfilesServiceRequest } from '../../../src/profiles/model/otlp-model.js';
import { generateRequest } from '../../../src/profiles/request/request-generator.js';
import { ResourceResolver } from '../../../src/profiles/aggregation/resource-attributes.js';
import {
  SampleAggregator,
  STACK_CACHE_GENERATIONS,
  STACK_RETENTION_CHARS,
} from '../../../src/profiles/aggregation/sample-aggregator.js';
import type { InternedFrame } from '../../../src/profiles/aggregation/stack-frames.js';
import { FrameTable, parseUserFrames } from '../../../src/profiles/aggregation/stack-frames.js';
import { batchOf, DEFAULT_RESOURCE_CONFIG } from '../../support/profiles-fixtures.js';
import { gadgetRow } from '../../../src/rows/gadget-row.js';

/** Parsed stacks, their strings and frames are kept across flushes; these pin down how, and that dedup survives it. */

const T0 = 1_763_800_000_000_000_000n;
const SECOND = 1_000_000_000n;

function row(symbols: string, addresses = ''): GadgetRow {
  return gadgetRow({
    samples: 1,
    kern_stack: '',
    user_stack_raw: { symbols, addresses, buildid: '' },
    proc: { pid: 7, tid: 7, comm: 'app' },
    k8s: { node: 'node-1' },
    runtime: { containerId: 'c1', containerName: 'app' },
  });
}

function bigintSafe(value: unknown): string {
  return JSON.stringify(value, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

/** Fails when two locations or two functions of the request's dictionary are equal by value. */
function assertNoDuplicateEntries(request: ExportProfilesServiceRequest): void {
  const d = request.dictionary;
  const locations = d.locationTable.map(bigintSafe);
  assert.equal(new Set(locations).size, locations.length, `duplicate locations: ${locations.join('\n')}`);
  const functions = d.functionTable.map(bigintSafe);
  assert.equal(new Set(functions).size, functions.length, `duplicate functions: ${functions.join('\n')}`);
}

class Harness {
  readonly resources = new ResourceResolver({ config: DEFAULT_RESOURCE_CONFIG });
  readonly agg = new SampleAggregator({ resources: this.resources, counters: new Counters(), exporter: 't' });
  private _fetch = 0;

  /** One fetch of rows, then a flush; returns the flush's request. */
  flush(rows: GadgetRow[]): ExportProfilesServiceRequest {
    const start = T0 + BigInt(this._fetch++) * SECOND;
    this.agg.add(batchOf(PROFILE_CPU_SPEC, rows, start, start + SECOND));
    const request = generateRequest(this.agg.drain(), { resources: this.resources, sampleMerge: 'flush' });
    assert.ok(request);
    return request;
  }
}

describe('AgingMap', () => {
  it('keeps entries while used, forgets them after `generations` unused flushes', () => {
    const map = new AgingMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.advance();
    assert.equal(map.get('a'), 1, 'an entry of the previous generation is still there');
    map.advance();
    assert.equal(map.get('a'), 1, 'used in the previous generation: kept');
    assert.equal(map.get('b'), undefined, 'unused for two generations: forgotten');
    assert.equal(map.size, 1);
  });

  it('reports an entry revived from an earlier generation once per generation', () => {
    const revived: number[] = [];
    const map = new AgingMap<string, number>(3, { onRevive: (v) => revived.push(v) });
    map.set('a', 1);
    map.get('a');
    assert.deepEqual(revived, [], 'used in the generation that set it: no revival');
    map.advance();
    map.get('a');
    map.get('a');
    assert.deepEqual(revived, [1]);
  });

  it('with one generation forgets everything at each advance', () => {
    const map = new AgingMap<string, number>(1);
    map.set('a', 1);
    map.advance();
    assert.equal(map.get('a'), undefined);
  });
});

describe('AgingMap retention', () => {
  const weighed = (budget: number): AgingMap<string, number> =>
    new AgingMap<string, number>(1, { retention: { budget, weigh: (v) => v } });

  it('keeps older generations, newest first, while their weight fits the budget', () => {
    const map = weighed(5);
    map.set('a', 3);
    assert.equal(map.advance(), 0, 'generation 0 (weight 3) fits');
    map.set('b', 2);
    assert.equal(map.advance(), 0, 'generations 1 and 0 (weight 5) fit');
    map.set('c', 1);
    assert.equal(map.advance(), 1, 'generations 2 and 1 fit (3); with 0 they would not (6): 0 goes');
    assert.equal(map.get('a'), undefined, 'the oldest generation is given up first');
    assert.equal(map.get('b'), 2);
    assert.equal(map.get('c'), 1);
  });

  it('an entry used again is weighed with its newest generation', () => {
    const map = weighed(5);
    map.set('a', 3);
    map.set('b', 2);
    assert.equal(map.advance(), 0, 'generation 0 (weight 5) fits');
    map.get('a');
    map.set('c', 1);
    assert.equal(map.advance(), 1, 'generation 1 (a, c: 4) fits, with generation 0 (b: 2) it would not');
    assert.equal(map.get('b'), undefined);
    assert.equal(map.get('a'), 3);
  });

  it('never drops the last `generations`, however heavy, and keeps nothing older past the budget', () => {
    const map = new AgingMap<string, number>(2, { retention: { budget: 1, weigh: (v) => v } });
    map.set('heavy', 100);
    assert.equal(map.advance(), 0, 'the previous generation is always kept');
    assert.equal(map.size, 1);
    assert.equal(map.advance(), 1, 'older than that and over the budget: given up');
    assert.equal(map.size, 0);
  });

  it('a budget of 0 keeps exactly the last `generations`', () => {
    const map = new AgingMap<string, number>(2, { retention: { budget: 0, weigh: () => 1 } });
    map.set('a', 1);
    map.advance();
    map.advance();
    assert.equal(map.get('a'), undefined);
  });
});

describe('FrameTable generations', () => {
  it('returns the same object for an equal frame while the frame is in use', () => {
    const table = new FrameTable(2);
    const [a] = parseUserFrames('f; ', undefined, undefined, table);
    table.advance();
    table.advance();
    const cells: InternedFrame[] = [];
    const [b] = parseUserFrames('f; ', undefined, undefined, table.recording(cells));
    assert.notEqual(a, b, 'unused for two generations: a new object');
    assert.deepEqual(
      cells.map((c) => c.frame),
      [b],
      'the recording interner reports the cell of each frame',
    );
    table.advance();
    table.touch(cells);
    table.advance();
    const [c] = parseUserFrames('f; ', undefined, undefined, table);
    assert.equal(b, c, 'touched in the previous generation: the very same object');
    table.advance();
    table.advance();
    assert.equal(table.size, 0, 'untouched for two generations: forgotten');
  });
});

describe('stack cache across flushes keeps one object per frame within a flush', () => {
  it('a stack kept from an earlier flush and a stack parsed afresh share frame objects', () => {
    const h = new Harness();
    // Flush 0 parses A and B; both hold `shared`.
    assertNoDuplicateEntries(h.flush([row('leafA; shared; main; '), row('leafB; shared; main; ')]));
    // A recurs in every flush (it stays cached); nothing else uses `shared` or `main` directly, so
    // only A being used keeps their frames alive.
    for (let i = 0; i <= STACK_CACHE_GENERATIONS; i++)
      assertNoDuplicateEntries(h.flush([row('leafA; shared; main; ')]));
    // C is new: parsed afresh in the same flush as the cached A, sharing `shared` and `main`.
    const request = h.flush([row('leafA; shared; main; '), row('leafC; shared; main; ')]);
    assertNoDuplicateEntries(request);
    assert.equal(request.dictionary.locationTable.length, 1 + 4, 'leafA, leafC, shared, main (+ index 0)');
  });

  it('the same stack with addresses from a promoted and a fresh stack resolves to the same locations', () => {
    const h = new Harness();
    h.flush([row('f; g; ', '0x10; 0x20; ')]);
    h.flush([row('f; g; ', '0x10; 0x20; ')]);
    const request = h.flush([row('f; g; ', '0x10; 0x20; '), row('h; g; ', '0x30; 0x20; ')]);
    assertNoDuplicateEntries(request);
    assert.equal(request.dictionary.locationTable.length, 1 + 3);
  });

  it('a stack kept past the last flushes by the retention budget still shares frames with fresh stacks', () => {
    const h = new Harness();
    h.flush([row('old; shared; ')]);
    for (let i = 0; i <= STACK_CACHE_GENERATIONS; i++) h.flush([row('other; ')]);
    const request = h.flush([row('old; shared; '), row('new; shared; ')]);
    assertNoDuplicateEntries(request);
    assert.equal(request.dictionary.locationTable.length, 1 + 3);
  });

  it('a stack given up by the retention budget is parsed again and still deduplicated', () => {
    const h = new Harness();
    const huge = `${'f'.repeat(STACK_RETENTION_CHARS + 1)}; shared; `;
    h.flush([row(huge)]);
    for (let i = 0; i <= STACK_CACHE_GENERATIONS; i++) h.flush([row('other; ')]);
    const request = h.flush([row(huge), row('new; shared; ')]);
    assertNoDuplicateEntries(request);
    assert.equal(request.dictionary.locationTable.length, 1 + 3);
  });
});
