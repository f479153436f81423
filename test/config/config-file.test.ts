import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigFile, readConfigFile } from '../../src/config/config-file.js';
import { IG_CONFIG, problemsOf, tempDir } from '../support/config-fixtures.js';

describe('parseConfigFile', () => {
  it('extracts operator.otel-profiles from an IG config and ignores everything else', () => {
    const file = parseConfigFile(IG_CONFIG, 'ig.yaml', {});
    assert.deepEqual([...file.exporters.keys()], ['my-profiles-exporter']);
    assert.deepEqual(file.exporters.get('my-profiles-exporter'), {
      exporter: 'otlp-grpc',
      endpoint: '127.0.0.1:4040',
      insecure: true,
      compression: 'gzip',
    });
    assert.deepEqual(file.problems, []);
    assert.deepEqual(file.ignoredKeys, []);
  });

  it('locates keys as file:line:col', () => {
    const file = parseConfigFile(IG_CONFIG, 'ig.yaml', {});
    assert.equal(file.locate(['exporters', 'my-profiles-exporter', 'endpoint']), 'ig.yaml:32:19');
    assert.equal(file.locate(['exporters', 'nope']), undefined);
  });

  it('accepts files without our section, empty files and null sections', () => {
    assert.equal(parseConfigFile('operator:\n  oci: {}\n', 'a.yaml', {}).exporters.size, 0);
    assert.equal(parseConfigFile('', 'a.yaml', {}).exporters.size, 0);
    assert.equal(parseConfigFile('operator:\n  otel-profiles:\n', 'a.yaml', {}).exporters.size, 0);
    assert.equal(
      parseConfigFile('operator:\n  otel-profiles:\n    exporters:\n', 'a.yaml', {}).exporters.size,
      0,
    );
  });

  it('reads the selection key IG uses for the param and our log level', () => {
    const file = parseConfigFile(
      'operator:\n  otel-profiles:\n    otel-profiles-exporter: samples:a\n    log-level: debug\n    extra: 1\n',
      'a.yaml',
      {},
    );
    assert.equal(file.selection, 'samples:a');
    assert.equal(file.logLevel, 'debug');
    assert.deepEqual(file.ignoredKeys, ['operator.otel-profiles.extra']);
  });

  it('substitutes ${VAR} in string values of our section only, reporting unset variables with their place', () => {
    const text = [
      'operator:',
      '  otel-logs:',
      '    exporters: { x: { endpoint: "${UNSET_BUT_NOT_OURS}" } }',
      '  otel-profiles:',
      '    exporters:',
      '      prod:',
      '        endpoint: "${HOST}:4317"',
      '        headers: { authorization: "Bearer ${TOKEN}" }',
      '        resource: { service_name: ["label:${LABEL:-app}"] }',
    ].join('\n');
    const ok = parseConfigFile(text, 'c.yaml', { HOST: 'collector', TOKEN: 't' });
    assert.deepEqual(ok.problems, []);
    assert.deepEqual(ok.exporters.get('prod'), {
      endpoint: 'collector:4317',
      headers: { authorization: 'Bearer t' },
      resource: { service_name: ['label:app'] },
    });
    const bad = parseConfigFile(text, 'c.yaml', {});
    assert.deepEqual(bad.problems, [
      'c.yaml:7:19: operator.otel-profiles.exporters.prod.endpoint: environment variable HOST is not set (set it, or write ${HOST:-default})',
      'c.yaml:8:35: operator.otel-profiles.exporters.prod.headers.authorization: environment variable TOKEN is not set (set it, or write ${TOKEN:-default})',
    ]);
  });

  it('rejects exporter names that would be ambiguous in selections and --set keys', () => {
    const file = parseConfigFile(
      'operator:\n  otel-profiles:\n    exporters:\n      "a.b": {}\n      ok: {}\n',
      'a.yaml',
      {},
    );
    assert.deepEqual([...file.exporters.keys()], ['ok']);
    assert.match(
      file.problems[0] ?? '',
      /^a\.yaml:4:7: operator\.otel-profiles\.exporters\.a\.b: exporter name "a\.b" may only contain/,
    );
  });

  it('throws a ConfigError with file:line:col for invalid YAML', () => {
    const problems = problemsOf(() =>
      parseConfigFile('operator:\n  otel-profiles:\n    exporters: [\n', 'bad.yaml', {}),
    );
    assert.match(problems[0] ?? '', /^bad\.yaml:\d+:\d+: invalid YAML: /);
    const dup = problemsOf(() => parseConfigFile('a: 1\na: 2\n', 'dup.yaml', {}));
    assert.match(dup[0] ?? '', /^dup\.yaml:2:1: invalid YAML: Map keys must be unique/);
  });

  it('throws for a section with the wrong shape', () => {
    assert.match(
      problemsOf(() => parseConfigFile('- a\n', 'l.yaml', {}))[0] ?? '',
      /expected a YAML mapping at the top/,
    );
    assert.match(
      problemsOf(() => parseConfigFile('operator:\n  otel-profiles: 3\n', 'l.yaml', {}))[0] ?? '',
      /operator\.otel-profiles: expected a mapping/,
    );
  });
});

describe('readConfigFile', () => {
  it('reads a real file and names a missing one', () => {
    const tmp = tempDir();
    try {
      const path = tmp.write('ig.yaml', IG_CONFIG);
      assert.equal(readConfigFile(path, {}).exporters.size, 1);
      const problems = problemsOf(() => readConfigFile(`${tmp.dir}/missing.yaml`, {}));
      assert.match(problems[0] ?? '', /--config .*missing\.yaml: no such file/);
      assert.match(problemsOf(() => readConfigFile(tmp.dir, {}))[0] ?? '', /is a directory/);
    } finally {
      tmp.cleanup();
    }
  });
});
