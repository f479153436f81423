import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyAnnotations,
  createSpecResolver,
  detectPreset,
  parseAnnotations,
  presetForGadget,
  PROFILE_CPU_SPEC,
} from '../../src/gadget-bridge/profile-presets.js';
import { gadgetRow } from '../../src/rows/gadget-row.js';

describe('profile presets', () => {
  it('profile_cpu: samples/count with a cpu/nanoseconds period of 1e9/49', () => {
    assert.equal(PROFILE_CPU_SPEC.period, BigInt(Math.round(1e9 / 49)));
    assert.deepEqual(PROFILE_CPU_SPEC.sampleType, { type: 'samples', unit: 'count' });
    assert.deepEqual(PROFILE_CPU_SPEC.periodType, { type: 'cpu', unit: 'nanoseconds' });
  });

  it('finds a preset by gadget name or image reference, as IG accepts them, and nothing else', () => {
    for (const name of [
      'profile_cpu',
      'profile_cpu:latest',
      'ghcr.io/inspektor-gadget/gadget/profile_cpu:v0.55.1',
      'ghcr.io/inspektor-gadget/gadget/profile_cpu',
      'localhost:5000/gadgets/profile_cpu@sha256:0123abcd',
    ])
      assert.equal(presetForGadget(name)?.gadget, 'profile_cpu', name);
    assert.equal(
      presetForGadget('ghcr.io/inspektor-gadget/gadget/profile_cuda:v0.55.1')?.gadget,
      'profile_cuda',
    );
    for (const name of ['nope', 'profile_cpu_v2', 'ghcr.io/profile_cpu/other:v1', ''])
      assert.equal(presetForGadget(name), undefined, name);
  });

  it('detects profile_cpu and profile_cuda rows by shape', () => {
    assert.equal(detectPreset(gadgetRow({ samples: 3, kern_stack: 'a; ' }))?.gadget, 'profile_cpu');
    assert.equal(
      detectPreset(gadgetRow({ count: 3, ustack_raw: { symbols: 'a; ' } }))?.gadget,
      'profile_cuda',
    );
    assert.equal(detectPreset(gadgetRow({ foo: 1 })), undefined);
  });

  it('parses IG --annotate syntax for datasources and fields', () => {
    assert.deepEqual(
      parseAnnotations(['mem:profiles.value-field=bytes,mem.task:profiles.sample-attribute=true']),
      [
        { datasource: 'mem', key: 'profiles.value-field', value: 'bytes' },
        { datasource: 'mem', field: 'task', key: 'profiles.sample-attribute', value: 'true' },
      ],
    );
    assert.throws(() => parseAnnotations(['nonsense']), /expected <datasource>:<key>=<value>/);
  });

  it('builds a spec for an unknown gadget from annotations, naming the period after the profile like IG', () => {
    const spec = applyAnnotations(
      'mem',
      undefined,
      parseAnnotations([
        'mem:profiles.stack-fields=ustack.symbols',
        'mem:profiles.value-field=size',
        'mem:profiles.name=heap',
        'mem:profiles.type=alloc_space',
        'mem:profiles.unit=bytes',
        'mem.comm:profiles.sample-attribute=true',
        'mem:fetch-interval=5s',
      ]),
    );
    assert.ok(spec);
    assert.deepEqual(spec.stackFields, ['ustack.symbols']);
    assert.deepEqual(spec.sampleType, { type: 'alloc_space', unit: 'bytes' });
    assert.deepEqual(spec.periodType, { type: 'heap', unit: 'bytes' });
    assert.equal(spec.period, 1n);
    assert.deepEqual(spec.sampleAttributeFields, ['comm']);
    assert.equal(spec.fetchIntervalNano, 5_000_000_000n);
  });

  it('refuses a spec without stack or value field, saying how to fix it', () => {
    assert.throws(
      () => applyAnnotations('mem', undefined, parseAnnotations(['mem:profiles.name=x'])),
      /profiles.stack-fields and profiles.value-field/,
    );
  });

  it('resolver: presets by shape, combined-<ds> treated as <ds>, annotations override presets', () => {
    const resolve = createSpecResolver(parseAnnotations(['samples:profiles.frequency=99']));
    const spec = resolve({ datasource: 'combined-samples', row: gadgetRow({ samples: 1, kern_stack: '' }) });
    assert.equal(spec?.datasource, 'samples');
    assert.equal(spec?.period, BigInt(Math.round(1e9 / 99)));
    assert.equal(resolve({ row: gadgetRow({ other: 1 }) }), undefined);
  });
});
