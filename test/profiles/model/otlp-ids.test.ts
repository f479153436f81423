import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PROFILE_ID_BYTES,
  SPAN_ID_BYTES,
  SPAN_ID_HEX,
  TRACE_ID_BYTES,
  TRACE_ID_HEX,
} from '../../../src/profiles/model/otlp-ids.js';

describe('OTLP id lengths', () => {
  it('are the proto lengths: trace and profile ids 16 bytes, span ids 8', () => {
    assert.deepEqual([TRACE_ID_BYTES, SPAN_ID_BYTES, PROFILE_ID_BYTES], [16, 8, 16]);
  });

  it('hex patterns take exactly two lowercase digits per byte', () => {
    assert.ok(TRACE_ID_HEX.test('4bf92f3577b34da6a3ce929d0e0e4736'));
    assert.ok(!TRACE_ID_HEX.test('4bf92f3577b34da6a3ce929d0e0e473'), 'one digit short');
    assert.ok(!TRACE_ID_HEX.test('4bf92f3577b34da6a3ce929d0e0e47366'), 'one digit long');
    assert.ok(!TRACE_ID_HEX.test('4BF92F3577B34DA6A3CE929D0E0E4736'), 'uppercase: callers lowercase first');
    assert.ok(SPAN_ID_HEX.test('00f067aa0ba902b7'));
    assert.ok(!SPAN_ID_HEX.test('00f067aa0ba902b'));
    assert.ok(!SPAN_ID_HEX.test('00f067aa0ba902bg'));
  });
});
