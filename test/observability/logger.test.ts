import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/observability/logger.js';

describe('logger: --log-format json', () => {
  it('writes one JSON object per line: time, level, logger, msg, then the fields', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', format: 'json', write: (l) => void lines.push(l) });
    log
      .child('prod')
      .warn('sending failed: "503"\nretrying', { queued: 3, id: 12n, skipped: undefined, msg: 'x' });
    log.debug('top level');
    assert.equal(lines.length, 2);
    assert.ok(lines.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1));
    const first = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    assert.deepEqual(Object.keys(first), ['time', 'level', 'logger', 'msg', 'queued', 'id', 'field.msg']);
    assert.match(first.time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(
      { ...first, time: undefined },
      {
        time: undefined,
        level: 'warn',
        logger: 'prod',
        msg: 'sending failed: "503"\nretrying',
        queued: 3,
        id: '12',
        'field.msg': 'x',
      },
    );
    assert.deepEqual(Object.keys(JSON.parse(lines[1] ?? '') as object), ['time', 'level', 'msg']);
  });

  it('text stays the default', () => {
    const lines: string[] = [];
    createLogger({ write: (l) => void lines.push(l) }).info('hello', { a: 1 });
    assert.match(lines[0] ?? '', /^\S+ INFO hello a=1\n$/);
  });
});
