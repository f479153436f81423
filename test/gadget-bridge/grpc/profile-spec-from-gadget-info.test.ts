import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataSource, GadgetInfo } from '../../../src/gadget-bridge/grpc/gadget-messages.js';
import { DATASOURCE_TYPE_ARRAY, Kind } from '../../../src/gadget-bridge/grpc/gadget-messages.js';
import { parseGoDuration } from '../../../src/gadget-bridge/grpc/go-duration.js';
import { instanceIdFromName, isInstanceId } from '../../../src/gadget-bridge/grpc/instance-id.js';
import {
  profileSpecFromDataSource,
  samplerFrequencyHz,
} from '../../../src/gadget-bridge/grpc/profile-spec-from-gadget-info.js';
import { profileCpuGadgetInfo } from '../../support/ig-profile-cpu-layout.js';

describe('profileSpecFromDataSource', () => {
  it('maps profile_cpu (annotations + 49 Hz sampler from gadget.yaml)', () => {
    const info = profileCpuGadgetInfo();
    const samples = info.dataSources.find((d) => d.name === 'samples')!;
    const spec = profileSpecFromDataSource(info, samples);
    assert.deepEqual(spec, {
      datasource: 'samples',
      gadget: 'profile_cpu',
      profileName: 'process_cpu',
      sampleType: { type: 'samples', unit: 'count' },
      periodType: { type: 'cpu', unit: 'nanoseconds' },
      period: 20408163n,
      stackFields: ['kern_stack', 'user_stack_raw.symbols'],
      valueField: 'samples',
      sampleAttributeFields: ['proc.comm', 'runtime.containerName'],
      fetchIntervalNano: 1_000_000_000n,
    });
  });

  it('returns undefined for datasources without stack-fields and value-field', () => {
    const info = profileCpuGadgetInfo();
    assert.equal(
      profileSpecFromDataSource(
        info,
        info.dataSources.find((d) => d.name === 'stats')!,
      ),
      undefined,
    );
    const onlyStacks = profileCpuGadgetInfo({ annotations: { 'profiles.value-field': '' } });
    assert.equal(profileSpecFromDataSource(onlyStacks, onlyStacks.dataSources[0]!), undefined);
  });

  it('maps a profile_cuda-like datasource like IG’s operator (period named after the profile)', () => {
    const allocs: DataSource = {
      id: 0,
      name: 'allocs',
      type: DATASOURCE_TYPE_ARRAY,
      tags: [],
      flags: 0,
      annotations: {
        'profiles.stack-fields': 'ustack_raw.symbols',
        'profiles.value-field': 'count',
        'profiles.name': 'process_cuda',
        'profiles.type': 'malloc',
        'profiles.unit': 'bytes',
        'fetch-interval': '0s',
        'profiles.trace-id-field': 'otel.trace_id',
        'profiles.span-id-field': 'otel.span_id',
      },
      fields: [
        {
          name: 'count',
          fullName: 'count',
          index: 0,
          payloadIndex: 1,
          offs: 0,
          size: 8,
          flags: 0,
          kind: Kind.Uint64,
          tags: [],
          annotations: {},
          parent: 0,
          order: 0,
        },
        {
          name: 'comm',
          fullName: 'proc.comm',
          index: 1,
          payloadIndex: 1,
          offs: 8,
          size: 16,
          flags: 8,
          kind: Kind.CString,
          tags: [],
          annotations: { 'profiles.sample-attribute': 'true' },
          parent: 0,
          order: 1,
        },
        {
          name: 'old',
          fullName: 'old',
          index: 2,
          payloadIndex: 2,
          offs: 0,
          size: 0,
          flags: 32,
          kind: Kind.String,
          tags: [],
          annotations: { 'profiles.sample-attribute': 'true' },
          parent: 0,
          order: 2,
        },
      ],
    };
    const info: GadgetInfo = {
      name: 'profile_cuda',
      imageName: 'ghcr.io/inspektor-gadget/gadget/profile_cuda:latest',
      dataSources: [allocs],
      annotations: {},
      metadata: new TextEncoder().encode(
        'name: profile_cuda\nprograms:\n  cuMemAlloc:\n    uprobe: libcuda.so:cuMemAlloc\n',
      ),
      params: [],
      id: '',
    };
    assert.deepEqual(profileSpecFromDataSource(info, allocs), {
      datasource: 'allocs',
      gadget: 'profile_cuda',
      profileName: 'process_cuda',
      sampleType: { type: 'malloc', unit: 'bytes' },
      periodType: { type: 'process_cuda', unit: 'bytes' },
      period: 1n,
      stackFields: ['ustack_raw.symbols'],
      valueField: 'count',
      sampleAttributeFields: ['proc.comm'],
      fetchIntervalNano: 0n,
      traceIdField: 'otel.trace_id',
      spanIdField: 'otel.span_id',
    });
  });

  it('applies IG’s defaults (name = datasource, samples/count) and profiles.frequency', () => {
    const info = profileCpuGadgetInfo({
      metadata: '',
      annotations: {
        'profiles.name': '',
        'profiles.type': '',
        'profiles.unit': '',
        'profiles.frequency': '99',
      },
    });
    const spec = profileSpecFromDataSource(
      { ...info, name: 'my_sampler', imageName: 'example.com/my_sampler:1' },
      info.dataSources[0]!,
    )!;
    assert.equal(spec.profileName, 'samples');
    assert.deepEqual(spec.sampleType, { type: 'samples', unit: 'count' });
    assert.equal(spec.period, 10101010n);
    assert.throws(
      () =>
        profileSpecFromDataSource(
          info,
          profileCpuGadgetInfo({ annotations: { 'profiles.frequency': 'fast' } }).dataSources[0]!,
        ),
      /samples.*profiles\.frequency.*"fast"/,
    );
    assert.throws(
      () =>
        profileSpecFromDataSource(
          info,
          profileCpuGadgetInfo({ annotations: { 'fetch-interval': 'soon' } }).dataSources[0]!,
        ),
      /fetch-interval.*"soon".*Go duration/,
    );
  });

  it('without metadata, a non-sampling gadget gets period 1 but profile_cpu keeps 49 Hz', () => {
    const info = profileCpuGadgetInfo({ metadata: '' });
    const other = { ...info, name: 'my_gadget', imageName: 'example.com/my_gadget:1' };
    assert.deepEqual(profileSpecFromDataSource(other, info.dataSources[0]!)!.periodType, {
      type: 'process_cpu',
      unit: 'count',
    });
    assert.equal(profileSpecFromDataSource({ ...info, name: '' }, info.dataSources[0]!)!.period, 20408163n);
  });
});

describe('samplerFrequencyHz', () => {
  it('finds the sampler frequency wherever gadget.yaml nests it', () => {
    assert.equal(samplerFrequencyHz('sampler:\n  frequency: 49\n'), 49);
    assert.equal(samplerFrequencyHz('programs:\n  profiler:\n    sampler:\n      frequency: "97"\n'), 97);
    assert.equal(samplerFrequencyHz('ebpf:\n  sampler.frequency: 19\n'), 19);
    assert.equal(samplerFrequencyHz('programs:\n  - name: x\n    sampler: {frequency: 11}\n'), 11);
  });
  it('ignores absent, zero or malformed frequencies and non-YAML', () => {
    assert.equal(samplerFrequencyHz(''), undefined);
    assert.equal(samplerFrequencyHz('sampler:\n  frequency: 0\n'), undefined);
    assert.equal(samplerFrequencyHz('frequency: 49\n'), undefined);
    assert.equal(samplerFrequencyHz('{{{ not yaml'), undefined);
  });
});

describe('parseGoDuration', () => {
  it('converts Go duration strings exactly', () => {
    assert.equal(parseGoDuration('1s'), 1_000_000_000n);
    assert.equal(parseGoDuration('1000ms'), 1_000_000_000n);
    assert.equal(parseGoDuration('1m30s'), 90_000_000_000n);
    assert.equal(parseGoDuration('1.5h'), 5_400_000_000_000n);
    assert.equal(parseGoDuration('2µs'), 2_000n);
    assert.equal(parseGoDuration('0'), 0n);
    assert.equal(parseGoDuration('0s'), 0n);
    assert.equal(parseGoDuration('-5ms'), -5_000_000n);
  });
  it('rejects what Go rejects', () => {
    for (const bad of ['', '1', 's', '1x', '1s2', '.s']) assert.equal(parseGoDuration(bad), undefined, bad);
  });
});

describe('instance ids', () => {
  it('keeps ids and derives Helm names as sha256(name)[:32]', () => {
    const id = '0123456789abcdef0123456789ABCDEF';
    assert.equal(instanceIdFromName(id), id.toLowerCase());
    // sha256("profile-cpu") computed independently: printf %s profile-cpu | sha256sum
    assert.equal(instanceIdFromName('profile-cpu'), '2bd79ba47b38bc7ebe83ecc4356cf194');
    assert.ok(isInstanceId(instanceIdFromName('x')));
    assert.throws(() => instanceIdFromName(' '), /instance/);
  });
});
