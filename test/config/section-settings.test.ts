import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { ConfigFlags } from '../../src/config/load-config.js';
import { renderConfig } from '../../src/config/print-config.js';
import type { SectionKeyName, SectionKeyRow } from '../../src/config/section-schema.js';
import { SECTION_KEYS, SECTION_ROWS } from '../../src/config/section-schema.js';
import { load, problemsOf } from '../support/config-fixtures.js';

/**
 * One value per source for every key, each different from the next source down (and the file's
 * from the default), so the value that wins names the source it came from.
 */
const SAMPLES: Record<
  SectionKeyName,
  { flag: string | boolean; set: string; env?: string; file: string | boolean; bad: string }
> = {
  'otel-profiles-exporter': { flag: 'f1', set: 's1', file: 'y1', bad: 'samples:' },
  'log-level': { flag: 'debug', set: 'warn', env: 'error', file: 'debug', bad: 'loud' },
  'k8s-pod-metadata': { flag: true, set: 'false', file: true, bad: 'yes' },
  'log-format': { flag: 'text', set: 'json', env: 'text', file: 'json', bad: 'yaml' },
  'telemetry-address': { flag: ':9001', set: ':9002', env: ':9003', file: ':9004', bad: '9464' },
};

/** The exporters the selection samples name, defined so that selecting them is valid. */
const DEFINE_EXPORTERS = ['f1', 's1', 'y1', 'default'].map(
  (name) => `operator.otel-profiles.exporters.${name}.exporter=debug`,
);

function sampleOf(row: SectionKeyRow): (typeof SAMPLES)[SectionKeyName] {
  const sample = SAMPLES[row.key];
  assert.ok(sample, `no sample values for ${row.key}: add them to SAMPLES`);
  return sample;
}

function yamlFor(key: string, value: string | boolean): string {
  return `operator:\n  otel-profiles:\n    ${key}: ${JSON.stringify(value)}\n`;
}

function flagFor(row: SectionKeyRow, value: string | boolean | undefined): ConfigFlags {
  return row.flag && value !== undefined ? { [row.flag.field]: value } : {};
}

/** The value `text` parses to with the key's type, printed (comparable across object types). */
function expected(row: SectionKeyRow, text: string | boolean): unknown {
  const parsed = row.type.parse(text);
  assert.ok(parsed.ok && parsed.value !== undefined, `${row.key}: sample ${String(text)}`);
  return row.type.print(parsed.value);
}

function resolved(row: SectionKeyRow, config: Record<string, unknown>): unknown {
  const value = config[row.field];
  return value === undefined ? undefined : row.type.print(value);
}

describe("the section's keys: flag > --set > environment > file > default, for every row", () => {
  for (const row of SECTION_ROWS) {
    it(row.key, () => {
      const sample = sampleOf(row);
      const loadWith = (sources: { flag?: boolean; set?: boolean; env?: boolean; file?: boolean }) =>
        load({
          ...(sources.file ? { yaml: yamlFor(row.key, sample.file) } : {}),
          env: sources.env && row.env && sample.env ? { [row.env.variable]: sample.env } : {},
          flags: {
            ...flagFor(row, sources.flag ? sample.flag : undefined),
            set: [
              ...DEFINE_EXPORTERS,
              ...(sources.set ? [`operator.otel-profiles.${row.key}=${sample.set}`] : []),
            ],
          },
        }) as unknown as Record<string, unknown>;
      const all = { flag: true, set: true, env: true, file: true };
      if (row.flag) assert.deepEqual(resolved(row, loadWith(all)), expected(row, sample.flag), 'flag');
      assert.deepEqual(resolved(row, loadWith({ ...all, flag: false })), expected(row, sample.set), '--set');
      if (row.env) {
        assert.ok(sample.env, `${row.key} has a variable: add an env sample`);
        assert.deepEqual(
          resolved(row, loadWith({ env: true, file: true })),
          expected(row, sample.env),
          row.env.variable,
        );
      }
      assert.deepEqual(resolved(row, loadWith({ file: true })), expected(row, sample.file), 'file');
      const defaults = loadWith({});
      assert.deepEqual(
        resolved(row, defaults),
        row.default === undefined ? undefined : row.type.print(row.default),
        'default',
      );
    });
  }
});

describe("the section's keys: checking", () => {
  it('a bad value in the file or in --set is an error naming its place, even under a flag', () => {
    for (const row of SECTION_ROWS) {
      const sample = sampleOf(row);
      const flags = { ...flagFor(row, sample.flag), set: DEFINE_EXPORTERS };
      const inFile = problemsOf(() => load({ yaml: yamlFor(row.key, sample.bad), flags }));
      assert.equal(inFile.length, 1, inFile.join('\n'));
      assert.match(
        inFile[0] ?? '',
        new RegExp(`^/\\S+/config\\.yaml:3:\\d+: operator\\.otel-profiles\\.${row.key}: "${sample.bad}"`),
      );
      const bySet = problemsOf(() =>
        load({
          flags: { ...flags, set: [...DEFINE_EXPORTERS, `operator.otel-profiles.${row.key}=${sample.bad}`] },
        }),
      );
      assert.deepEqual(
        bySet.map((p) => p.startsWith(`--set operator.otel-profiles.${row.key}: "${sample.bad}"`)),
        [true],
        bySet.join('\n'),
      );
    }
  });

  it('a bad variable is an error naming it, unless the flag or --set gives the key (it is not read then)', () => {
    const address = problemsOf(() => load({ env: { IG_OTEL_PROFILES_TELEMETRY_ADDRESS: 'nowhere' } }));
    assert.match(address.join('\n'), /^IG_OTEL_PROFILES_TELEMETRY_ADDRESS: "nowhere" is not an address/);
    const env = { IG_OTEL_PROFILES_LOG_FORMAT: 'yaml' };
    assert.equal(load({ env, flags: { logFormat: 'json' } }).logFormat, 'json');
    assert.equal(load({ env, flags: { set: ['operator.otel-profiles.log-format=json'] } }).logFormat, 'json');
  });

  it('OTEL_LOG_LEVEL takes the OTel spellings, and a value it does not know is ignored with a warning', () => {
    assert.equal(load({ env: { OTEL_LOG_LEVEL: ' None ' } }).logLevel, 'error');
    assert.equal(load({ env: { OTEL_LOG_LEVEL: 'ALL' } }).logLevel, 'debug');
    const ignored = load({ yaml: yamlFor('log-level', 'warn'), env: { OTEL_LOG_LEVEL: 'constructor' } });
    assert.equal(ignored.logLevel, 'warn', 'falls through to the file');
    assert.match(
      ignored.lines.join('\n'),
      /WARN OTEL_LOG_LEVEL="constructor" ignored: "constructor" is not valid/,
    );
  });

  it('log level and format are read in any case, as before the schema', () => {
    const config = load({
      yaml: 'operator:\n  otel-profiles:\n    log-level: DEBUG\n    log-format: Json\n',
    });
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.logFormat, 'json');
  });

  it('an unknown key of the section suggests the close one, in the file and in --set', () => {
    const file = load({ yaml: 'operator:\n  otel-profiles:\n    log-levle: debug\n' });
    assert.match(
      file.lines.join('\n'),
      /config\.yaml:3:5: operator\.otel-profiles\.log-levle is not ours: ignored \(did you mean "log-level"\?\)/,
    );
    const problems = problemsOf(() =>
      load({ flags: { set: ['operator.otel-profiles.telemetry-adress=:9464'] } }),
    );
    assert.match(
      problems[0] ?? '',
      /^--set operator\.otel-profiles\.telemetry-adress: only .* can be set here \(did you mean "telemetry-address"\?\)$/,
    );
  });
});

describe("--print-config: the section's keys", () => {
  it('prints every key from its row, with the defaults spelled out, and an unset address left out', () => {
    const printed = parse(renderConfig(load({}))) as {
      operator: { 'otel-profiles': Record<string, unknown> };
    };
    const section = printed.operator['otel-profiles'];
    assert.deepEqual(Object.keys(section), [
      ...SECTION_KEYS.filter((k) => k !== 'telemetry-address'),
      'exporters',
    ]);
    assert.equal(section['otel-profiles-exporter'], 'default');
    assert.equal(section['k8s-pod-metadata'], false);
    assert.equal(section['log-level'], 'info');
  });

  it('what it prints loads back to the same values of every key', () => {
    const flags = SECTION_ROWS.reduce<ConfigFlags>(
      (all, row) => ({ ...all, ...flagFor(row, sampleOf(row).flag) }),
      { set: DEFINE_EXPORTERS },
    );
    const first = load({ flags });
    const text = renderConfig(first);
    const section = (parse(text) as { operator: { 'otel-profiles': Record<string, unknown> } }).operator[
      'otel-profiles'
    ];
    assert.deepEqual(Object.keys(section), [...SECTION_KEYS, 'exporters']);
    const second = load({ yaml: text });
    for (const row of SECTION_ROWS) {
      assert.deepEqual(
        resolved(row, second as unknown as Record<string, unknown>),
        resolved(row, first as unknown as Record<string, unknown>),
        row.key,
      );
    }
  });
});
