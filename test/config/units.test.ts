import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, formatSize, parseDurationMs, parseSizeBytes } from '../../src/config/units.js';

describe('parseDurationMs', () => {
  it('reads Go-style durations', () => {
    assert.equal(parseDurationMs('500ms'), 500);
    assert.equal(parseDurationMs('5s'), 5_000);
    assert.equal(parseDurationMs('1m30s'), 90_000);
    assert.equal(parseDurationMs('1.5h'), 5_400_000);
    assert.equal(parseDurationMs('2h45m'), 9_900_000);
    assert.equal(parseDurationMs('1500us'), 2);
    assert.equal(parseDurationMs(' 10s '), 10_000);
  });

  it('reads plain numbers (and digit strings) as milliseconds', () => {
    assert.equal(parseDurationMs(250), 250);
    assert.equal(parseDurationMs('250'), 250);
    assert.equal(parseDurationMs('0'), 0);
    assert.equal(parseDurationMs(0), 0);
  });

  it('rejects what is not a non-negative duration', () => {
    for (const bad of ['five', '', '-1s', '5 s', '5sec', '1d', 's', '1m30']) {
      assert.equal(parseDurationMs(bad), undefined, bad);
    }
    assert.equal(parseDurationMs(-5), undefined);
    assert.equal(parseDurationMs(Number.NaN), undefined);
  });
});

describe('parseSizeBytes', () => {
  it('reads binary and decimal units', () => {
    assert.equal(parseSizeBytes('4MiB'), 4 * 1024 * 1024);
    assert.equal(parseSizeBytes('512KiB'), 512 * 1024);
    assert.equal(parseSizeBytes('64MB'), 64_000_000);
    assert.equal(parseSizeBytes('1GiB'), 1024 ** 3);
    assert.equal(parseSizeBytes('2Mi'), 2 * 1024 * 1024);
    assert.equal(parseSizeBytes('1.5KiB'), 1536);
    assert.equal(parseSizeBytes('10 kb'), 10_000);
  });

  it('reads plain numbers as bytes', () => {
    assert.equal(parseSizeBytes(1024), 1024);
    assert.equal(parseSizeBytes('4194304'), 4_194_304);
  });

  it('rejects what is not a size', () => {
    for (const bad of ['4XB', 'lots', '', '-1', 'MiB']) assert.equal(parseSizeBytes(bad), undefined, bad);
    assert.equal(parseSizeBytes(-1), undefined);
  });
});

describe('formatDuration / formatSize', () => {
  it('print values that parse back to the same number', () => {
    for (const ms of [0, 1, 500, 1_000, 90_000, 300_000, 5_400_000, 3_601_000]) {
      assert.equal(parseDurationMs(formatDuration(ms)), ms, formatDuration(ms));
    }
    for (const bytes of [0, 1, 1000, 1024, 4 * 1024 * 1024, 64 * 1024 * 1024, 1024 ** 3 + 1]) {
      assert.equal(parseSizeBytes(formatSize(bytes)), bytes, formatSize(bytes));
    }
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatSize(4 * 1024 * 1024), '4MiB');
  });
});
