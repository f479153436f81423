import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKeyValueList, readOtlpEnv, readResourceEnv } from '../../src/config/env-config.js';
import { captureLogger } from '../support/config-fixtures.js';

const OPTIONS = [
  'ENDPOINT',
  'TIMEOUT',
  'PROTOCOL',
  'COMPRESSION',
  'INSECURE',
  'CERTIFICATE',
  'CLIENT_KEY',
  'CLIENT_CERTIFICATE',
];
const SAMPLE: Record<string, [string, string]> = {
  // option: [generic value, profiles value]
  ENDPOINT: ['http://generic:4318', 'http://profiles:4318/p'],
  TIMEOUT: ['1000', '2000'],
  PROTOCOL: ['grpc', 'http/json'],
  COMPRESSION: ['none', 'gzip'],
  INSECURE: ['false', 'true'],
  CERTIFICATE: ['/generic/ca.pem', '/profiles/ca.pem'],
  CLIENT_KEY: ['/generic/key.pem', '/profiles/key.pem'],
  CLIENT_CERTIFICATE: ['/generic/cert.pem', '/profiles/cert.pem'],
};

function pickValue(
  env: ReturnType<typeof readOtlpEnv>,
  option: string,
): { value: unknown; variable: string } | undefined {
  switch (option) {
    case 'ENDPOINT':
      return env.endpoint;
    case 'TIMEOUT':
      return env.timeoutMs;
    case 'PROTOCOL':
      return env.protocol;
    case 'COMPRESSION':
      return env.compression;
    case 'INSECURE':
      return env.insecure;
    case 'CERTIFICATE':
      return env.certificate;
    case 'CLIENT_KEY':
      return env.clientKey;
    case 'CLIENT_CERTIFICATE':
      return env.clientCertificate;
  }
  return undefined;
}

const parsed = (option: string, text: string): unknown =>
  option === 'TIMEOUT' ? Number(text) : option === 'INSECURE' ? text === 'true' : text;

describe('readOtlpEnv', () => {
  for (const option of OPTIONS) {
    const [generic, profiles] = SAMPLE[option] ?? ['', ''];
    it(`reads OTEL_EXPORTER_OTLP_${option}; the PROFILES_ variable wins; empty means unset`, () => {
      const { logger } = captureLogger();
      const g = `OTEL_EXPORTER_OTLP_${option}`;
      const p = `OTEL_EXPORTER_OTLP_PROFILES_${option}`;
      assert.equal(pickValue(readOtlpEnv({}, logger), option), undefined);
      assert.deepEqual(
        pickValue(readOtlpEnv({ [g]: generic }, logger), option)?.value,
        parsed(option, generic),
      );
      assert.equal(pickValue(readOtlpEnv({ [g]: generic }, logger), option)?.variable, g);
      const both = pickValue(readOtlpEnv({ [g]: generic, [p]: profiles }, logger), option);
      assert.deepEqual(both?.value, parsed(option, profiles));
      assert.equal(both?.variable, p);
      assert.deepEqual(
        pickValue(readOtlpEnv({ [g]: generic, [p]: '' }, logger), option)?.value,
        parsed(option, generic),
      );
      assert.equal(pickValue(readOtlpEnv({ [g]: '' }, logger), option), undefined);
    });
  }

  it('marks an endpoint from the PROFILES_ variable as per-signal', () => {
    const { logger } = captureLogger();
    assert.equal(
      readOtlpEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' }, logger).endpoint?.perSignal,
      false,
    );
    assert.equal(
      readOtlpEnv({ OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: 'http://a:4318' }, logger).endpoint?.perSignal,
      true,
    );
  });

  it('merges generic and PROFILES_ headers by name, percent-decoded, the per-signal value winning', () => {
    const { logger, lines } = captureLogger();
    const env = readOtlpEnv(
      {
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc, x-tenant = one ,keep=1',
        OTEL_EXPORTER_OTLP_PROFILES_HEADERS: 'x-tenant=two%2Cthree',
      },
      logger,
    );
    assert.deepEqual(env.headers?.value, { authorization: 'Bearer abc', 'x-tenant': 'two,three', keep: '1' });
    assert.deepEqual(lines, []);
  });

  it('ignores a malformed headers variable with a warning that never shows the values', () => {
    const { logger, lines } = captureLogger();
    const env = readOtlpEnv(
      { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=%ZZsecret', OTEL_EXPORTER_OTLP_PROFILES_HEADERS: 'a=1' },
      logger,
    );
    assert.deepEqual(env.headers?.value, { a: '1' });
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /WARN OTEL_EXPORTER_OTLP_HEADERS ignored: entry 1 \(authorization\)/);
    assert.doesNotMatch(lines.join(''), /secret/);
  });

  it('warns about a negative timeout and leaves the default in place', () => {
    const { logger, lines } = captureLogger();
    assert.equal(readOtlpEnv({ OTEL_EXPORTER_OTLP_TIMEOUT: '-5' }, logger).timeoutMs, undefined);
    assert.match(lines[0] ?? '', /WARN OTEL_EXPORTER_OTLP_TIMEOUT=-5 is negative: using the default timeout/);
    assert.equal(readOtlpEnv({ OTEL_EXPORTER_OTLP_TIMEOUT: '10s' }, logger).timeoutMs, undefined);
    assert.match(lines[1] ?? '', /not an integer number of milliseconds/);
    assert.equal(readOtlpEnv({ OTEL_EXPORTER_OTLP_TIMEOUT: '0' }, logger).timeoutMs?.value, 0);
  });

  it('takes only a case-insensitive "true" as true, warning about other words', () => {
    const { logger, lines } = captureLogger();
    const insecure = (v: string): boolean | undefined =>
      readOtlpEnv({ OTEL_EXPORTER_OTLP_INSECURE: v }, logger).insecure?.value;
    assert.equal(insecure('TRUE'), true);
    assert.equal(insecure('True'), true);
    assert.equal(insecure('false'), false);
    assert.equal(lines.length, 0);
    assert.equal(insecure('1'), false);
    assert.equal(insecure('yes'), false);
    assert.equal(lines.length, 2);
  });

  it('ignores unknown protocols and compressions with a warning', () => {
    const { logger, lines } = captureLogger();
    const env = readOtlpEnv(
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/thrift', OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' },
      logger,
    );
    assert.equal(env.protocol, undefined);
    assert.equal(env.compression, undefined);
    assert.equal(lines.length, 2);
    assert.equal(
      readOtlpEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'HTTP/Protobuf' }, logger).protocol?.value,
      'http/protobuf',
    );
  });
});

describe('readResourceEnv', () => {
  it('reads OTEL_SERVICE_NAME and percent-decodes OTEL_RESOURCE_ATTRIBUTES', () => {
    const { logger } = captureLogger();
    const env = readResourceEnv(
      {
        OTEL_SERVICE_NAME: 'profiler',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod, team=a%2Cb,k%3Dx=%3D,',
      },
      logger,
    );
    assert.equal(env.serviceName, 'profiler');
    assert.deepEqual(env.attributes, { 'deployment.environment': 'prod', team: 'a,b', 'k=x': '=' });
  });

  it('discards the whole OTEL_RESOURCE_ATTRIBUTES on a decoding error, with an error log', () => {
    const { logger, lines } = captureLogger();
    for (const bad of ['a=1,b=%G1', 'a=1,novalue', 'a=1,=x']) {
      const env = readResourceEnv({ OTEL_RESOURCE_ATTRIBUTES: bad }, logger);
      assert.deepEqual(env.attributes, {}, bad);
    }
    assert.equal(lines.length, 3);
    for (const line of lines) assert.match(line, /ERROR OTEL_RESOURCE_ATTRIBUTES discarded/);
  });

  it('treats empty values as unset', () => {
    const { logger } = captureLogger();
    assert.deepEqual(readResourceEnv({ OTEL_SERVICE_NAME: '', OTEL_RESOURCE_ATTRIBUTES: '' }, logger), {
      attributes: {},
    });
  });
});

describe('parseKeyValueList', () => {
  it('allows "=" inside values once encoded and trims spaces', () => {
    assert.deepEqual(parseKeyValueList(' a = 1 , b=x%3Dy '), { ok: true, entries: { a: '1', b: 'x=y' } });
  });
  it('keeps an unencoded "=" in a value (only the first one splits)', () => {
    assert.deepEqual(parseKeyValueList('a=b=c'), { ok: true, entries: { a: 'b=c' } });
  });
});
