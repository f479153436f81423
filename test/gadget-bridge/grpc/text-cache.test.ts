import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TextSource } from '../../../src/gadget-bridge/grpc/text-cache.js';
import { sameBytes, TextBudget, TextCache } from '../../../src/gadget-bridge/grpc/text-cache.js';

/** Lays texts out back to back in one buffer, as slots of a message are. */
function layout(texts: readonly (string | Uint8Array)[]): { src: TextSource; spans: [number, number][] } {
  const parts = texts.map((t) => (typeof t === 'string' ? Buffer.from(t, 'utf8') : Buffer.from(t)));
  const text = Buffer.concat([Buffer.from('pad'), ...parts]) as TextSource['text'];
  const spans: [number, number][] = [];
  let at = 3;
  for (const p of parts) {
    spans.push([at, at + p.length]);
    at += p.length;
  }
  return {
    src: {
      bytes: new Uint8Array(text.buffer, text.byteOffset, text.length),
      view: new DataView(text.buffer, text.byteOffset, text.length),
      text,
    },
    spans,
  };
}

describe('TextCache', () => {
  it('decodes exactly what utf8 decoding gives, hit or miss, short or long', () => {
    const long = 'sym_a; '.repeat(300);
    const texts = ['', 'a', 'python3', 'é€😀', long, long, `${long}x`, 'python3', '', 'x'.repeat(20_000)];
    const { src, spans } = layout(texts);
    const cache = new TextCache();
    for (let round = 0; round < 3; round++) {
      spans.forEach(([s, e], i) =>
        assert.equal(cache.decode(src, s, e), texts[i], `text ${i} round ${round}`),
      );
    }
  });

  it('returns the same string object for equal bytes (hits)', () => {
    const { src, spans } = layout(['kern_a; kern_b; '.repeat(10), 'kern_a; kern_b; '.repeat(10)]);
    const cache = new TextCache();
    const a = cache.decode(src, ...spans[0]!);
    const b = cache.decode(src, ...spans[1]!);
    assert.equal(a, b);
    assert.ok(Object.is(a, b));
  });

  it('never confuses texts the sampled hash cannot tell apart', () => {
    // Long texts: same length, same ends and middle; only bytes outside the sampled windows differ.
    const make = (c: string): string => `${'A'.repeat(8)}${c}${'B'.repeat(100)}${c}${'C'.repeat(8)}`;
    // Short texts (hashed whole): differences in the first word and in the tail bytes.
    const head = (c: string): string => `${c}${'-'.repeat(30)}`;
    const tail = (c: string): string => `${'-'.repeat(30)}${c}`;
    const texts = [
      make('x'),
      make('y'),
      make('x'),
      make('z'),
      head('1'),
      head('2'),
      head('1'),
      tail('a'),
      tail('b'),
    ];
    const { src, spans } = layout(texts);
    const cache = new TextCache();
    for (let round = 0; round < 2; round++) {
      spans.forEach(([s, e], i) => assert.equal(cache.decode(src, s, e), texts[i], `text ${i}`));
    }
  });

  it('stays correct past its entry limit (starts over)', () => {
    const texts = Array.from({ length: 10_000 }, (_, i) => `container-${i}`);
    const { src, spans } = layout([...texts, ...texts]);
    const cache = new TextCache(new TextBudget(100_000));
    spans.forEach(([s, e], i) => assert.equal(cache.decode(src, s, e), texts[i % texts.length]));
    assert.ok(cache.size < texts.length, 'the budget made it start over');
  });

  it('decodes invalid UTF-8 like Buffer does (replacement characters)', () => {
    const bad = Uint8Array.of(0x61, 0xff, 0xc3);
    const { src, spans } = layout([bad, bad]);
    const cache = new TextCache();
    for (const [s, e] of spans) assert.equal(cache.decode(src, s, e), Buffer.from(bad).toString('utf8'));
  });

  it('compares every byte: words, tail bytes, long texts, at any offset of either side', () => {
    const long = 'L'.repeat(100);
    const texts = [
      'abcdefg',
      'abcdefh',
      'abcdxfg',
      'xbcdefg',
      long,
      `${long.slice(1)}M`,
      `M${long.slice(1)}`,
    ];
    const { src, spans } = layout(texts);
    texts.forEach((a, i) => {
      // The remembered side at an odd offset, as texts sit in the arena.
      const remembered = layout(['?', a]);
      const at = remembered.spans[1]![0];
      texts.forEach((b, j) => {
        if (a.length !== b.length) return; // the cache compares lengths first
        assert.equal(sameBytes(remembered.src, at, src, ...spans[j]!), i === j, `${a} vs ${b}`);
      });
    });
  });

  it('keeps every text findable as its table grows and probes past collisions', () => {
    // Thousands of short texts: the table doubles many times, and many share a home slot.
    const texts = Array.from({ length: 5000 }, (_, i) => `pod-${(i * 7919) % 100_003}`);
    const { src, spans } = layout([...texts, ...texts.slice().reverse()]);
    const cache = new TextCache();
    spans.forEach(([s, e], i) => {
      const want = i < texts.length ? texts[i] : texts[2 * texts.length - 1 - i];
      assert.equal(cache.decode(src, s, e), want, `text ${i}`);
    });
    assert.equal(cache.size, texts.length, 'the second pass only hit');
  });

  it('caches sharing a budget stay within it and start over together', () => {
    const budget = new TextBudget(20_000);
    const a = new TextCache(budget);
    const b = new TextCache(budget);
    const texts = Array.from({ length: 400 }, (_, i) => `stack_${i}; `.repeat(5));
    const { src, spans } = layout(texts);
    const kept = a.decode(src, ...spans[0]!);
    assert.ok(Object.is(a.decode(src, ...spans[0]!), kept), 'a hit before the budget runs out');
    spans.forEach(([s, e], i) => {
      assert.equal((i % 2 ? a : b).decode(src, s, e), texts[i]);
      assert.ok(budget.held <= budget.maxBytes, `held ${budget.held} after text ${i}`);
    });
    assert.ok(budget.generation > 0, 'the budget ran out at least once');
    const again = a.decode(src, ...spans[0]!);
    assert.equal(again, texts[0]);
  });
});
