import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  IMPLICIT_SELECTION,
  parseExporterSelection,
  selectedExporterNames,
  selectExporters,
} from '../../src/config/exporter-selection.js';
import { problemsOf } from '../support/config-fixtures.js';

describe('parseExporterSelection (IG GetStringValuesPerDataSource syntax)', () => {
  it('NAME applies to every datasource', () => {
    const s = parseExporterSelection('otlp');
    assert.deepEqual(selectExporters(s, 'samples'), ['otlp']);
    assert.deepEqual(selectExporters(s, 'anything'), ['otlp']);
  });

  it('ds:NAME,ds2:NAME2 maps per datasource; others are not exported', () => {
    const s = parseExporterSelection('samples:otlp,gpu:files');
    assert.deepEqual(selectExporters(s, 'samples'), ['otlp']);
    assert.deepEqual(selectExporters(s, 'gpu'), ['files']);
    assert.deepEqual(selectExporters(s, 'other'), []);
  });

  it('fans out when a datasource is repeated', () => {
    const s = parseExporterSelection('samples:otlp,samples:files,gpu:otlp');
    assert.deepEqual(selectExporters(s, 'samples'), ['otlp', 'files']);
    assert.deepEqual(selectedExporterNames(s), ['otlp', 'files']);
  });

  it('fans out every datasource when several names are given without datasources', () => {
    const s = parseExporterSelection('otlp,files');
    assert.deepEqual(selectExporters(s, 'samples'), ['otlp', 'files']);
  });

  it('drops duplicates and empty items, trims spaces', () => {
    assert.deepEqual(selectExporters(parseExporterSelection(' samples:a , ,samples:a,'), 'samples'), ['a']);
    assert.deepEqual(selectExporters(parseExporterSelection('a,a'), 'x'), ['a']);
  });

  it('combined-<ds> (kubectl gadget combiner) also matches <ds>', () => {
    const s = parseExporterSelection('samples:otlp,combined-samples:files');
    assert.deepEqual(selectExporters(s, 'combined-samples'), ['files', 'otlp']);
    assert.deepEqual(selectExporters(s, 'samples'), ['otlp']);
    assert.deepEqual(selectExporters(parseExporterSelection('samples:otlp'), 'combined-samples'), ['otlp']);
  });

  it('rejects mixing NAME and ds:NAME, as IG does', () => {
    const problems = problemsOf(() => parseExporterSelection('otlp,samples:files'));
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /--otel-profiles-exporter "otlp,samples:files": mixes NAME and DATASOURCE:NAME entries; use one form/,
    );
  });

  it('rejects empty selections, names and datasources, collecting every problem', () => {
    assert.match(problemsOf(() => parseExporterSelection(''))[0] ?? '', /is empty: name an exporter/);
    assert.match(problemsOf(() => parseExporterSelection(' , '))[0] ?? '', /is empty/);
    const problems = problemsOf(() =>
      parseExporterSelection(':otlp,samples:', 'operator.otel-profiles.otel-profiles-exporter'),
    );
    assert.equal(problems.length, 2);
    assert.match(
      problems[0] ?? '',
      /^operator\.otel-profiles\.otel-profiles-exporter ".*": ":otlp" names no datasource/,
    );
    assert.match(problems[1] ?? '', /"samples:" names no exporter/);
  });

  it('the implicit selection is the exporter "default" for everything', () => {
    assert.deepEqual(selectExporters(IMPLICIT_SELECTION, 'samples'), ['default']);
  });
});
