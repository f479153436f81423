import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { notIgShaped, requestRows, stackFieldStrings } from '../../src/relay/ig-request-rows.js';
import { rewriteV19Samples } from '../../src/relay/sample-layout.js';
import { completeRequest } from '../support/encoding-fixtures.js';
import { igRequest } from '../support/ig-otlp-wire.js';

describe('IG requests back into rows', () => {
  it('cuts the frames at the empty frame IG leaves after each stack field', () => {
    assert.deepEqual(stackFieldStrings(['k1', 'k2', '', 'u1', ''], 2), ['k1; k2; ', 'u1; ']);
    // An empty kernel stack is IG's split of "": one empty frame.
    assert.deepEqual(stackFieldStrings(['', 'u1', 'u2', ''], 2), ['', 'u1; u2; ']);
    assert.deepEqual(stackFieldStrings(['k1', '', ''], 2), ['k1; ', '']);
    // A sender that left no separator: everything in the first field, the rest empty.
    assert.deepEqual(stackFieldStrings(['a', 'b'], 2), ['a; b', '']);
    assert.deepEqual(stackFieldStrings(['a', '', 'b', ''], 1), ['a; ; b; ']);
  });

  it('makes the rows IG JSON shows: stack fields, value, attributes under IG field names, IG version', () => {
    const bytes = igRequest(
      [
        {
          stacks: ['[0]do_idle; ', '0x4011a0; main; '],
          value: 4,
          attributes: { 'proc.comm': 'app', 'k8s.owner.kind': 'Deployment', 'proc.pid': 42 },
        },
      ],
      { layout: 'v1.9', version: 'v0.53.0' },
    );
    const [profile] = requestRows(decodeExportRequest(rewriteV19Samples(bytes)), () => true);
    assert.equal(profile?.baseSpec.gadget, 'profile_cpu');
    assert.deepEqual(profile?.rows, [
      {
        'proc.comm': 'app',
        'k8s.owner.kind': 'Deployment',
        'proc.pid': 42,
        'inspektor_gadget.version': 'v0.53.0',
        kern_stack: '[0]do_idle; ',
        'user_stack_raw.symbols': '0x4011a0; main; ',
        samples: 4,
      },
    ]);
  });

  it('tells IG requests from other senders by service.name or scope', () => {
    assert.equal(notIgShaped(decodeExportRequest(igRequest([], { layout: 'v1.10' }))), undefined);
    assert.match(notIgShaped(completeRequest()) ?? '', /resource_profiles\[0\] has service\.name "checkout"/);
  });
});
