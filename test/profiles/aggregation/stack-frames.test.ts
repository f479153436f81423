import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FrameTable,
  isKernelStackField,
  parseKernelFrames,
  parseUserFrames,
  splitStackString,
} from '../../../src/profiles/aggregation/stack-frames.js';
import type { Frame } from '../../../src/profiles/aggregation/stack-frames.js';

describe('splitStackString', () => {
  it('drops the trailing empty item IG always appends', () => {
    assert.deepEqual(splitStackString('a; b; c; '), ['a', 'b', 'c']);
  });
  it('returns no frame for an empty stack', () => {
    assert.deepEqual(splitStackString(''), []);
  });
  it('strips legacy [N] prefixes (IG before v0.53)', () => {
    assert.deepEqual(splitStackString('[0]chacha_permute; [1]get_random_bytes_user; '), [
      'chacha_permute',
      'get_random_bytes_user',
    ]);
  });
  it('keeps a legacy empty entry as an empty name (unresolved) and tolerates a bare trailing ";"', () => {
    assert.deepEqual(splitStackString('[0]; [1]main;'), ['', 'main']);
  });
  it('keeps brackets that are part of a name', () => {
    assert.deepEqual(splitStackString('[unknown]; f; '), ['[unknown]', 'f']);
  });
});

describe('isKernelStackField', () => {
  it('recognises the kernel stack field names gadgets use', () => {
    assert.equal(isKernelStackField('kern_stack'), true);
    assert.equal(isKernelStackField('kstack'), true);
    assert.equal(isKernelStackField('kernel_stack'), true);
    assert.equal(isKernelStackField('user_stack_raw.symbols'), false);
    assert.equal(isKernelStackField('ustack_raw.symbols'), false);
  });
});

describe('parseKernelFrames', () => {
  it('makes kernel frames, leaf first, interned', () => {
    const table = new FrameTable();
    const a = parseKernelFrames('chacha_permute; vfs_read; ', table);
    const b = parseKernelFrames('vfs_read; ', table);
    assert.deepEqual(
      a.map((f) => [f.functionName, f.frameType]),
      [
        ['chacha_permute', 'kernel'],
        ['vfs_read', 'kernel'],
      ],
    );
    assert.equal(a[1], b[0], 'equal frames are the same object');
  });
});

describe('FrameTable', () => {
  it('one object per distinct frame: any differing field makes another frame, equal fields the same one', () => {
    const table = new FrameTable();
    const variants: Frame[] = [
      { functionName: 'f', frameType: 'native' },
      { functionName: 'f', frameType: 'kernel' },
      { functionName: 'f', frameType: 'native', address: 0x10n },
      { functionName: 'f', frameType: 'native', address: 0x11n },
      { functionName: 'f', frameType: 'native', address: 0x10n, buildId: 'ab' },
      { functionName: 'f', frameType: 'native', address: 0x10n, buildId: 'ac' },
      { module: 'f', frameType: 'native', address: 0x10n },
      { buildId: 'f', frameType: 'native', address: 0x10n },
      { frameType: 'native', address: 0x10n },
      { frameType: 'native', address: 0x10n, module: 'libc.so.6' },
      { functionName: '', frameType: 'native' },
      { frameType: 'native' },
      // Past 2^53 and equal in value but distinct BigInt objects: the same frame.
      { frameType: 'native', address: 0xffff_ffff_ffff_fff0n },
    ];
    const interned = variants.map((v) => table.intern(v));
    assert.equal(new Set(interned).size, variants.length, 'every variant is its own frame');
    assert.equal(table.size, variants.length);
    for (const [i, v] of variants.entries()) {
      assert.equal(table.intern({ ...v }), interned[i], `an equal copy of variant ${i} is the same object`);
    }
    assert.equal(table.intern({ frameType: 'native', address: BigInt('0xfffffffffffffff0') }), interned[12]);
    assert.equal(table.size, variants.length, 'equal frames add nothing');
  });

  it('forgets unused frames bucket by bucket and counts what it keeps', () => {
    const table = new FrameTable(1);
    const kept = table.intern({ functionName: 'f', frameType: 'native', address: 1n });
    table.intern({ functionName: 'f', frameType: 'native', address: 2n });
    table.intern({ functionName: 'g', frameType: 'native' });
    table.advance();
    assert.equal(table.size, 0, 'one generation: nothing used in the new one survives');
    const again = table.intern({ functionName: 'f', frameType: 'native', address: 1n });
    assert.notEqual(again, kept, 'a forgotten frame comes back as a new object');
    table.intern({ functionName: 'f', frameType: 'native', address: 2n });
    table.advance();
    table.intern({ functionName: 'f', frameType: 'native', address: 1n });
    assert.equal(table.size, 1);
    table.clear();
    assert.equal(table.size, 0);
  });
});

describe('parseUserFrames', () => {
  it('zips aligned addresses and build ids; a build id makes the address a file offset', () => {
    const t = new FrameTable();
    const frames = parseUserFrames(
      'burn_cpu; 0x7f0c6ce29d90; ',
      '0x000055d3e29f11a9; 0x00007f0c6ce29d90; ',
      '5b3e0a2d6c1f4e8a9b7c2d1e0f3a4b5c6d7e8f90 +11a9; 490FEF8403240c91833978d494d39e537409b92e +29d90; ',
      t,
    );
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0], {
      functionName: 'burn_cpu',
      frameType: 'native',
      buildId: '5b3e0a2d6c1f4e8a9b7c2d1e0f3a4b5c6d7e8f90',
      address: 0x11a9n,
    });
    assert.equal(frames[1]?.functionName, undefined, 'an unresolved frame has no function');
    assert.equal(frames[1]?.address, 0x29d90n);
    assert.equal(frames[1]?.buildId, '490fef8403240c91833978d494d39e537409b92e', 'build ids are lower-cased');
  });

  it('keeps the process address when no build id is known', () => {
    const frames = parseUserFrames(
      'main; 0x4a9f5b; ',
      '0x0000000000401000; 0x00000000004a9f5b; ',
      undefined,
      new FrameTable(),
    );
    assert.equal(frames[0]?.address, 0x401000n);
    assert.equal(frames[0]?.functionName, 'main');
    assert.equal(frames[1]?.address, 0x4a9f5bn);
  });

  it('an IP-fallback build id entry (no +offset) adds no build id', () => {
    const frames = parseUserFrames('0x401000; ', '0x0000000000401000; ', '401000; ', new FrameTable());
    assert.equal(frames[0]?.buildId, undefined);
    assert.equal(frames[0]?.address, 0x401000n);
  });

  it('module+offset frames keep module and offset', () => {
    const [f] = parseUserFrames('libc.so.6+0x2a1ca; ', undefined, undefined, new FrameTable());
    assert.deepEqual(f, { module: 'libc.so.6', address: 0x2a1can, frameType: 'native' });
  });

  it('marks interpreted frames of the OTel symbolizer with the interpreter found in the native frames', () => {
    const symbols = 'compute_fibonacci; burn_cpu; <module>; python3.13+0x25a722; libc.so.6+0x2a1ca; _start; ';
    const frames = parseUserFrames(symbols, '0x00005627a1b5a3c1; ', undefined, new FrameTable());
    assert.deepEqual(
      frames.map((f) => f.frameType),
      ['cpython', 'cpython', 'cpython', 'native', 'native', 'native'],
    );
  });

  it('does not guess an interpreter when symbols and addresses line up', () => {
    const frames = parseUserFrames('f; python3+0x10; ', '0x1; 0x2; ', undefined, new FrameTable());
    assert.equal(frames[0]?.frameType, 'native');
  });
});
