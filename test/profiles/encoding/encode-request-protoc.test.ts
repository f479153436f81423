import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { encodeExportRequest } from '../../../src/profiles/encoding/encode-request.js';
import {
  completeRequest,
  KERNEL_ADDRESS,
  NON_ASCII_NAME,
  SPAN_ID,
  T0,
  TRACE_ID,
} from '../../support/encoding-fixtures.js';

const PROTO_DIR = fileURLToPath(new URL('../../../proto/profiles/', import.meta.url));
const SERVICE_PROTO = 'opentelemetry/proto/collector/profiles/v1development/profiles_service.proto';
const MESSAGE = 'opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest';

/** protoc's text-format escaping of bytes/strings (C escapes; non-printable and non-ASCII bytes as 3-digit octal). */
function cEscape(bytes: Uint8Array): string {
  const named: Record<number, string> = {
    0x0a: '\\n',
    0x0d: '\\r',
    0x09: '\\t',
    0x22: '\\"',
    0x27: "\\'",
    0x5c: '\\\\',
  };
  return [...bytes]
    .map(
      (b) =>
        named[b] ?? (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`),
    )
    .join('');
}

function protocSkipReason(): string | false {
  const probe = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
  if (probe.error) return `protoc is not on PATH (${probe.error.message})`;
  if (probe.status !== 0) return `protoc --version exited with ${probe.status}`;
  return false;
}

const skip = protocSkipReason();
if (skip) console.log(`# skipping protoc tests: ${skip}`);

describe('protoc --decode on our bytes', () => {
  it('decodes the complete request and shows the values we put in', { skip }, () => {
    const request = completeRequest();
    const bytes = encodeExportRequest(request);
    const out = spawnSync('protoc', [`--decode=${MESSAGE}`, '-I', PROTO_DIR, SERVICE_PROTO], {
      input: bytes,
      encoding: 'utf8',
      cwd: PROTO_DIR,
    });
    assert.equal(out.status, 0, `protoc failed: ${out.stderr}`);
    const text = out.stdout;
    // 64-bit values: fixed64 time and timestamps, uint64 address above 2^63, negative int64.
    assert.match(text, new RegExp(`time_unix_nano: ${T0}\\b`));
    assert.match(text, new RegExp(`timestamps_unix_nano: ${T0 + 1n}\\b`));
    assert.match(text, new RegExp(`address: ${KERNEL_ADDRESS}\\b`));
    assert.match(text, /values: 3\b/);
    assert.match(text, /duration_nano: 10000000000\b/);
    assert.match(text, /period: 10000000\b/);
    // Sample fields by name (v1.10 layout in our proto matches the bytes).
    assert.match(text, /stack_index: 2\b/);
    assert.match(text, /link_index: 1\b/);
    assert.match(text, /attribute_indices: 5\b/);
    // Resource/scope attributes with plain keys, several AnyValue kinds.
    assert.match(text, /key: "service.name"/);
    assert.match(text, /string_value: "checkout"/);
    assert.match(text, /int_value: -5\b/);
    assert.match(text, /bool_value: true/);
    assert.match(text, /double_value: 0.25/);
    assert.match(text, /name: "ig-otel-profiles"/);
    // Dictionary: every string, including the empty index 0 and a non-ASCII one (protoc escapes UTF-8 as octal).
    const strings = [...text.matchAll(/string_table: "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
    assert.equal(strings.length, request.dictionary.stringTable.length);
    assert.equal(strings[0], '');
    assert.ok(strings.includes('/usr/bin/app'));
    const escaped = cEscape(Buffer.from(NON_ASCII_NAME));
    assert.ok(strings.includes(escaped), `non-ASCII string present as ${escaped}`);
    // Index-0 zero values appear as empty messages.
    assert.match(text, /mapping_table \{\n {2}\}/);
    assert.match(text, /stack_table \{\n {2}\}/);
    assert.match(text, /link_table \{\n {2}\}/);
    // Link ids (protoc prints bytes escaped): 16/8 bytes.
    assert.ok(text.includes(`trace_id: "${cEscape(TRACE_ID)}"`), 'trace_id bytes');
    assert.ok(text.includes(`span_id: "${cEscape(SPAN_ID)}"`), 'span_id bytes');
    assert.match(text, /original_payload_format: "pprof"/);
  });

  it(
    'protoc re-encodes its decoding of our bytes to exactly our bytes (canonical proto3 serialization)',
    { skip },
    () => {
      const bytes = encodeExportRequest(completeRequest());
      const args = ['-I', PROTO_DIR, SERVICE_PROTO];
      const text = spawnSync('protoc', [`--decode=${MESSAGE}`, ...args], { input: bytes, cwd: PROTO_DIR });
      assert.equal(text.status, 0, `protoc --decode failed: ${String(text.stderr)}`);
      const again = spawnSync('protoc', [`--encode=${MESSAGE}`, ...args], {
        input: text.stdout,
        cwd: PROTO_DIR,
      });
      assert.equal(again.status, 0, `protoc --encode failed: ${String(again.stderr)}`);
      assert.deepStrictEqual(Buffer.from(again.stdout), Buffer.from(bytes));
    },
  );
});
