import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { encodeExportRequest } from '../../../src/profiles/encoding/encode-request.js';
import { ProtobufWriter } from '../../../src/profiles/encoding/protobuf-writer.js';
import { exportRequestType } from '../../../src/profiles/encoding/proto-schema.js';
import { readExportRequest } from '../../../src/profiles/encoding/request-decoder.js';
import type { ExportProfilesServiceRequest } from '../../../src/profiles/model/otlp-model.js';
import { toProtobufjsPlain } from '../../support/encoding-fixtures.js';
import { decodeWithProtobufjs } from '../../support/protobufjs-request-decoder.js';
import { RandomRequests } from '../../support/random-otlp-request.js';
import { mixedSeededRandom } from '../../support/seeded-random.js';
import { rewriteWire } from '../../support/wire-rewriter.js';

/** Random requests per differential run (each decoded in several encodings by both decoders). */
const RANDOM_REQUESTS = 120;
/** Rewritten (non-canonical but valid) encodings per random request. */
const REWRITES = 4;
/** Byte-level mutations of valid encodings (truncations, flips, insertions, deletions). */
const MUTATIONS = 4000;
/** Requests re-serialized by protoc (C++ protobuf), two processes each. */
const PROTOC_REQUESTS = 12;

const PROTO_DIR = fileURLToPath(new URL('../../../proto/profiles/', import.meta.url));
const SERVICE_PROTO = 'opentelemetry/proto/collector/profiles/v1development/profiles_service.proto';
const MESSAGE = 'opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest';

function protobufjsEncode(request: ExportProfilesServiceRequest): Uint8Array {
  const type = exportRequestType();
  return type.encode(type.fromObject(toProtobufjsPlain(request) as Record<string, unknown>)).finish();
}

/** Both decoders on the same bytes (as a Buffer, as the receivers pass them). */
function decodeBoth(bytes: Uint8Array): {
  ours: ExportProfilesServiceRequest | Error;
  theirs: ExportProfilesServiceRequest | Error;
} {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const run = (f: (b: Uint8Array) => ExportProfilesServiceRequest): ExportProfilesServiceRequest | Error => {
    try {
      return f(buf);
    } catch (err) {
      assert.ok(err instanceof Error, `threw a non-Error: ${String(err)}`);
      return err;
    }
  };
  return { ours: run(readExportRequest), theirs: run(decodeWithProtobufjs) };
}

function assertSameModel(bytes: Uint8Array, expected: ExportProfilesServiceRequest, what: string): void {
  const { ours, theirs } = decodeBoth(bytes);
  if (theirs instanceof Error) assert.fail(`${what}: protobufjs rejected it: ${theirs.message}`);
  if (ours instanceof Error) assert.fail(`${what}: our decoder rejected it: ${ours.message}`);
  assert.deepStrictEqual(ours, theirs, `${what}: the decoders disagree`);
  assert.deepStrictEqual(ours, expected, `${what}: not the request that was encoded`);
}

/**
 * Where we are knowingly stricter than protobufjs: it skips a known field sent with a wire type its type
 * never uses as if unknown (losing the data silently) and skips unknown varints of any length.
 */
function knowinglyStricter(err: Error): boolean {
  return /the sender may speak another OTLP profiles version|varint longer than 10 bytes/.test(err.message);
}

const randomRequests = (seed: number): { rnd: ReturnType<typeof mixedSeededRandom>; gen: RandomRequests } => {
  const rnd = mixedSeededRandom(seed);
  return { rnd, gen: new RandomRequests(rnd) };
};

describe('readExportRequest: the same model as the former protobufjs decoder', () => {
  it('random requests encoded by our encoder, by protobufjs and rewritten (unpacked, split, merged, unknown fields, padded)', () => {
    const { rnd, gen } = randomRequests(20261207);
    const type = exportRequestType();
    let variants = 0;
    for (let i = 0; i < RANDOM_REQUESTS; i++) {
      const request = gen.request();
      const ours = encodeExportRequest(request);
      assertSameModel(ours, request, `request ${i}, our encoder`);
      assertSameModel(protobufjsEncode(request), request, `request ${i}, protobufjs' encoder`);
      for (let k = 0; k < REWRITES; k++) {
        const rewritten = rewriteWire(ours, type, rnd, { percent: 25 + 20 * k });
        assertSameModel(rewritten, request, `request ${i}, rewrite ${k}`);
        variants++;
      }
    }
    assert.equal(variants, RANDOM_REQUESTS * REWRITES);
  });

  const protoc = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
  const protocSkip = protoc.error ? `protoc is not on PATH (${protoc.error.message})` : false;
  if (protocSkip) console.log(`# skipping the protoc differential test: ${protocSkip}`);

  it(
    'random requests re-serialized by protoc (C++ protobuf: decode to text, encode back)',
    { skip: protocSkip },
    () => {
      const { gen } = randomRequests(7);
      const protocRun = (mode: string, input: Uint8Array | string): Buffer => {
        const out = spawnSync('protoc', [`--${mode}=${MESSAGE}`, '-I', PROTO_DIR, SERVICE_PROTO], {
          input,
          cwd: PROTO_DIR,
          maxBuffer: 64 * 1024 * 1024,
        });
        assert.equal(out.status, 0, `protoc --${mode} failed: ${out.stderr.toString()}`);
        return out.stdout;
      };
      for (let i = 0; i < PROTOC_REQUESTS; i++) {
        const request = gen.request();
        const text = protocRun('decode', encodeExportRequest(request));
        const bytes = protocRun('encode', text);
        assertSameModel(bytes, request, `request ${i} via protoc`);
      }
    },
  );

  it('mutated bytes: never a crash; accepted → the same model, rejected → rejected by protobufjs too (or knowingly stricter)', () => {
    const { rnd, gen } = randomRequests(99);
    const seeds = Array.from({ length: 30 }, () => encodeExportRequest(gen.request()));
    const counts = { same: 0, bothRejected: 0, stricter: 0 };
    for (let i = 0; i < MUTATIONS; i++) {
      const bytes = Array.from(seeds[rnd.int(seeds.length)]!);
      const edits = 1 + rnd.int(3);
      for (let e = 0; e < edits && bytes.length > 0; e++) {
        const at = rnd.int(bytes.length);
        switch (rnd.int(4)) {
          case 0:
            bytes.length = at;
            break;
          case 1:
            bytes[at] = rnd.int(256);
            break;
          case 2:
            bytes.splice(at, 0, rnd.int(256));
            break;
          default:
            bytes.splice(at, 1);
        }
      }
      const { ours, theirs } = decodeBoth(Uint8Array.from(bytes));
      const what = `mutation ${i} (${Buffer.from(bytes).toString('hex').slice(0, 200)})`;
      if (ours instanceof Error && theirs instanceof Error) counts.bothRejected++;
      else if (ours instanceof Error) {
        assert.ok(knowinglyStricter(ours), `${what}: only we reject it: ${ours.message}`);
        counts.stricter++;
      } else if (theirs instanceof Error)
        assert.fail(`${what}: only protobufjs rejects it: ${theirs.message}`);
      else {
        assert.ok(isDeepStrictEqual(ours, theirs), `${what}: the decoders disagree`);
        counts.same++;
      }
    }
    // Mutations both accept and both reject (a generator that only produced garbage would prove little).
    assert.ok(counts.same > 100 && counts.bothRejected > 100, JSON.stringify(counts));
  });

  it('nesting: 100 levels are read like protobufjs reads them, 101 are refused by both', () => {
    // resource_profiles(1) › resource(2) › attributes(3) › value(4) › [array_value › values] pairs …
    const nested = (levels: number): Uint8Array => {
      const w = new ProtobufWriter();
      w.fork(0x0a); // resource_profiles
      w.fork(0x0a); // resource
      w.fork(0x0a); // attributes
      w.fork(0x12); // value: AnyValue at depth 4
      let depth = 4;
      let open = 4;
      while (depth + 2 <= levels) {
        w.fork(0x2a); // array_value
        w.fork(0x0a); // values[0]
        depth += 2;
        open += 2;
      }
      w.uint(0x10); // bool_value: true
      w.uint(1);
      for (let i = 0; i < open; i++) w.join();
      return w.finish();
    };
    const deepest = nested(100);
    const { ours, theirs } = decodeBoth(deepest);
    assert.ok(!(theirs instanceof Error), `protobufjs: ${outcome(theirs)}`);
    assert.deepStrictEqual(ours, theirs);
    const tooDeep = nested(102);
    const both = decodeBoth(tooDeep);
    assert.ok(both.theirs instanceof Error && /max depth/.test(both.theirs.message));
    assert.ok(both.ours instanceof Error);
    assert.match(both.ours.message, /nesting deeper than 100 levels/);
    assert.match(
      both.ours.message,
      /^resource_profiles\[0\]\.resource\.attributes\[0\]\.value\.array_value\.values\[0\]/,
    );
  });
});

/** What a decode gave, for assertion messages. */
function outcome(x: ExportProfilesServiceRequest | Error): string {
  return x instanceof Error ? `rejected: ${x.message}` : 'accepted';
}

/** Bytes of a varint (test-side, for hand-assembled messages). */
function varint(v: bigint | number): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, BigInt(v));
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

/** A length-delimited field: tag, length, body. */
function len(tag: number, ...body: number[][]): number[] {
  const flat = body.flat();
  return [tag, ...varint(flat.length), ...flat];
}

/** dictionary { … } */
const dictionary = (...fields: number[][]): number[] => len(0x12, ...fields);
/** resource_profiles { resource { attributes { key "k" value { … } } } } */
const resourceAttribute = (...value: number[][]): number[] =>
  len(0x0a, len(0x0a, len(0x0a, len(0x0a, [0x6b]), len(0x12, ...value))));
/** resource_profiles { scope_profiles { profiles { samples { … } } } } */
const sample = (...fields: number[][]): number[] => len(0x0a, len(0x12, len(0x12, len(0x12, ...fields))));

interface BadCase {
  readonly name: string;
  readonly bytes: number[];
  /** Our message: the field path, then the problem. */
  readonly message: RegExp;
  /** protobufjs accepted it silently (a case where we are knowingly stricter). */
  readonly protobufjsAccepted?: boolean;
}

const BAD: readonly BadCase[] = [
  {
    name: 'a truncated varint',
    bytes: sample([0x08, 0x96]),
    message:
      /^resource_profiles\[0\]\.scope_profiles\[0\]\.profiles\[0\]\.samples\[0\]\.stack_index: truncated varint \(at byte 9\)$/,
  },
  {
    name: 'a truncated length at the very end of the input',
    bytes: [0x12, 0x02, 0x0a, 0x00, 0x12, 0x80],
    message: /^dictionary: truncated length \(at byte 5\)$/,
  },
  {
    name: 'a length past the end of the enclosing message',
    bytes: dictionary(len(0x3a, [0x0a, 0x05, 0x01])),
    message:
      /^dictionary\.stack_table\[0\]\.location_indices: length 5 runs past the end of its message \(1 bytes left\)/,
  },
  {
    name: 'a length past the end of the input',
    bytes: [0x12, 0x7f, 0x00],
    message: /^dictionary: length 127 runs past the end of its message \(1 bytes left\) \(at byte 1\)$/,
  },
  {
    name: 'a varint longer than 10 bytes',
    bytes: dictionary(len(0x0a, [0x08, ...new Array<number>(10).fill(0xff), 0x01])),
    message: /^dictionary\.mapping_table\[0\]\.memory_start: varint longer than 10 bytes/,
  },
  {
    name: 'a string that is not UTF-8',
    bytes: dictionary(len(0x2a, [0x61]), len(0x2a, [0x61, 0xc3, 0x28])),
    message: /^dictionary\.string_table\[1\]: string is not valid UTF-8 \(at byte \d+\)$/,
  },
  {
    name: 'an overlong UTF-8 encoding (C0 AF for "/")',
    bytes: resourceAttribute(len(0x0a, [0xc0, 0xaf])),
    message:
      /^resource_profiles\[0\]\.resource\.attributes\[0\]\.value\.string_value: string is not valid UTF-8/,
  },
  {
    name: 'field number 0',
    bytes: dictionary([0x00, 0x01]),
    message: /^dictionary: illegal tag 0: field number 0/,
  },
  {
    name: 'wire type 7',
    bytes: dictionary([0x7f, 0x01]),
    message: /^dictionary: invalid wire type 7 \(field 15\) \(at byte 3\)$/,
  },
  {
    name: 'an end-group tag with no group',
    bytes: sample([0x0c]),
    message: /samples\[0\]\.stack_index: end-group tag of field 1 without a start-group/,
  },
  {
    name: 'an unknown group never closed',
    bytes: dictionary([0x83, 0x01, 0x08, 0x01]),
    message: /^dictionary: group of field 16 has no end-group tag/,
  },
  {
    name: 'an unknown group closed by another field',
    bytes: dictionary([0x83, 0x01, 0x08, 0x01, 0x8c, 0x01]),
    message: /^dictionary: group of field 16 closed by the end-group tag of field 17/,
  },
  {
    name: 'packed fixed64 timestamps not a multiple of 8 bytes',
    bytes: sample(len(0x2a, [1, 2, 3, 4, 5, 6, 7, 8, 9])),
    message: /samples\[0\]\.timestamps_unix_nano: packed fixed64 field of 9 bytes, not a multiple of 8/,
  },
  {
    name: 'a packed varint crossing the end of its run',
    bytes: dictionary(len(0x3a, [0x0a, 0x02, 0x01, 0x96, 0x01])),
    message:
      /^dictionary\.stack_table\[0\]\.location_indices: the last varint of a packed field runs past its length/,
  },
  {
    name: 'a truncated fixed64',
    bytes: sample([0x29, 1, 2, 3]),
    message: /samples\[0\]\.timestamps_unix_nano: truncated fixed64: 8 bytes needed, 3 left/,
  },
  {
    name: 'a tag longer than 32 bits',
    bytes: dictionary([0xff, 0xff, 0xff, 0xff, 0x7f]),
    message: /^dictionary: tag longer than 32 bits/,
  },
  {
    name: 'a length prefix of 2 GiB',
    bytes: [0x12, 0x80, 0x80, 0x80, 0x80, 0x08],
    message: /^dictionary: length prefix of 2 GiB or more/,
  },
  {
    name: 'an empty AnyValue inside an array_value',
    bytes: resourceAttribute(len(0x2a, len(0x0a, [0x0a, 0x01, 0x61]), len(0x0a))),
    message:
      /^resource_profiles\[0\]\.resource\.attributes\[0\]\.value\.array_value\.values\[1\]: empty AnyValue inside an array_value is not supported by the model$/,
  },
  {
    name: 'a known field with the wrong wire type (a v1.9 Sample: link_index sent as packed attribute indices)',
    bytes: sample([0x08, 0x01], len(0x1a, [0x01, 0x02])),
    message:
      /samples\[0\]\.link_index: sent as length-delimited \(wire type 2\), but this int32 field is varint \(wire type 0\); the sender may speak another OTLP profiles version/,
    protobufjsAccepted: true,
  },
  {
    name: 'a message field sent as a varint',
    bytes: [0x10, 0x05],
    message: /^dictionary: sent as varint \(wire type 0\), but this message field is length-delimited/,
    protobufjsAccepted: true,
  },
  {
    name: 'a repeated int32 sent as fixed32',
    bytes: dictionary(len(0x3a, [0x0d, 1, 0, 0, 0])),
    message:
      /^dictionary\.stack_table\[0\]\.location_indices: sent as fixed32 \(wire type 5\), but this repeated int32 field is length-delimited \(wire type 2\) \(packed\) or varint/,
    protobufjsAccepted: true,
  },
  {
    name: 'an unknown varint longer than 10 bytes',
    bytes: dictionary([0x80, 0x01, ...new Array<number>(11).fill(0x80), 0x00]),
    message: /^dictionary: varint longer than 10 bytes/,
    protobufjsAccepted: true,
  },
];

describe('readExportRequest: malformed input is a precise error', () => {
  for (const c of BAD) {
    it(c.name, () => {
      const { ours, theirs } = decodeBoth(Uint8Array.from(c.bytes));
      assert.ok(
        ours instanceof Error,
        `accepted: ${JSON.stringify(ours, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
      );
      assert.match(ours.message, c.message);
      if (c.protobufjsAccepted)
        assert.ok(!(theirs instanceof Error), `protobufjs now rejects it too: ${outcome(theirs)}`);
      else assert.ok(theirs instanceof Error, 'protobufjs accepts it');
    });
  }

  it('the first bytes of every valid request, cut anywhere, are an error (never a crash, never a partial model)', () => {
    const { gen } = randomRequests(3);
    const bytes = encodeExportRequest(gen.request());
    let rejected = 0;
    for (let cut = 1; cut < bytes.length; cut++) {
      const { ours, theirs } = decodeBoth(bytes.subarray(0, cut));
      assert.equal(
        ours instanceof Error,
        theirs instanceof Error,
        `cut at ${cut}: ${outcome(ours)} / ${outcome(theirs)}`,
      );
      if (ours instanceof Error) rejected++;
      else assert.deepStrictEqual(ours, theirs);
    }
    assert.ok(rejected > bytes.length / 2, `${rejected} of ${bytes.length} cuts rejected`);
  });
});

describe('readExportRequest: proto3 corner cases read as protobufjs reads them', () => {
  const same = (bytes: number[]): ExportProfilesServiceRequest => {
    const { ours, theirs } = decodeBoth(Uint8Array.from(bytes));
    assert.ok(!(theirs instanceof Error), outcome(theirs));
    assert.ok(!(ours instanceof Error), outcome(ours));
    assert.deepStrictEqual(ours, theirs);
    return ours;
  };
  const resourceValue = (r: ExportProfilesServiceRequest): unknown =>
    r.resourceProfiles[0]!.resource!.attributes[0]!.value;

  it('the last member of a oneof wins, also across two occurrences of the field (merged)', () => {
    assert.deepStrictEqual(resourceValue(same(resourceAttribute(len(0x0a, [0x61]), [0x18, 0x05]))), {
      intValue: 5n,
    });
    const twice = len(
      0x0a,
      len(0x0a, len(0x0a, len(0x0a, [0x6b]), len(0x12, len(0x0a, [0x61])), len(0x12, [0x10, 0x01]))),
    );
    assert.deepStrictEqual(resourceValue(same(twice)), { boolValue: true });
  });

  it('an empty AnyValue in an array replaced by a later member is no error', () => {
    const r = same(resourceAttribute(len(0x2a, len(0x0a)), len(0x0a, [0x78])));
    assert.deepStrictEqual(resourceValue(r), { stringValue: 'x' });
  });

  it('an array_value met twice is one array (merged), an empty AnyValue is no value', () => {
    const r = same(resourceAttribute(len(0x2a, len(0x0a, [0x10, 0x01])), len(0x2a, len(0x0a, [0x18, 0x02]))));
    assert.deepStrictEqual(resourceValue(r), {
      arrayValue: { values: [{ boolValue: true }, { intValue: 2n }] },
    });
    assert.equal(resourceValue(same(resourceAttribute())), undefined);
  });

  it('two dictionaries are one (tables appended); a later zero resets a scalar; a leading BOM is kept', () => {
    const r = same([
      ...dictionary(len(0x2a, [0xef, 0xbb, 0xbf, 0x61]), len(0x1a, [0x08, 0x07])),
      ...dictionary(len(0x2a, [0x62])),
      ...sample([0x08, 0x05], [0x08, 0x00], [0x18, 0x02]),
    ]);
    assert.deepStrictEqual(r.dictionary.stringTable, ['\uFEFFa', 'b']);
    assert.equal(r.dictionary.functionTable[0]!.nameStrindex, 7);
    const s = r.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!.samples[0]!;
    assert.equal(s.stackIndex, 0);
    assert.equal(s.linkIndex, 2);
  });

  it('int32 fields keep the low 32 bits of a longer varint; bool is true when any bit is set', () => {
    const r = same([
      ...sample([0x08, ...varint((1n << 40n) + 7n)]),
      ...resourceAttribute([0x10, 0x80, 0x80, 0x80, 0x80, 0x10]),
    ]);
    assert.equal(r.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!.samples[0]!.stackIndex, 7);
    assert.deepStrictEqual(r.resourceProfiles[1]!.resource!.attributes[0]!.value, { boolValue: true });
  });

  it('bytes fields are copies in plain Uint8Arrays (the input buffer can be reused)', () => {
    const input = Buffer.from(len(0x0a, len(0x12, len(0x12, len(0x3a, [1, 2, 3])))));
    const profileId = readExportRequest(input).resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!.profileId!;
    input.fill(0);
    assert.equal(Object.getPrototypeOf(profileId), Uint8Array.prototype);
    assert.deepStrictEqual([...profileId], [1, 2, 3]);
  });
});
