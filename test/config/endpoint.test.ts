import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseGrpcEndpoint, normaliseHttpEndpoint } from '../../src/config/endpoint.js';

const explicit = (value: boolean) => ({ value, explicit: true });
const fromEnv = (value: boolean) => ({ value, explicit: false });

describe('normaliseGrpcEndpoint', () => {
  it('keeps host:port and takes TLS from insecure (IG convention: insecure: true in the file)', () => {
    assert.deepEqual(normaliseGrpcEndpoint('127.0.0.1:4317', explicit(true)), {
      ok: true,
      endpoint: '127.0.0.1:4317',
      insecure: true,
      warnings: [],
    });
    assert.deepEqual(normaliseGrpcEndpoint('collector:4317', undefined), {
      ok: true,
      endpoint: 'collector:4317',
      insecure: false,
      warnings: [],
    });
    assert.deepEqual(normaliseGrpcEndpoint('[::1]:4317', fromEnv(true)), {
      ok: true,
      endpoint: '[::1]:4317',
      insecure: true,
      warnings: [],
    });
  });

  it('http:// means plaintext and https:// TLS, whatever insecure says when it comes from the env', () => {
    assert.deepEqual(normaliseGrpcEndpoint('http://collector:4317', undefined), {
      ok: true,
      endpoint: 'collector:4317',
      insecure: true,
      warnings: [],
    });
    assert.deepEqual(normaliseGrpcEndpoint('https://collector:4317', fromEnv(true)), {
      ok: true,
      endpoint: 'collector:4317',
      insecure: false,
      warnings: [],
    });
    assert.deepEqual(normaliseGrpcEndpoint('http://[::1]:4317', undefined), {
      ok: true,
      endpoint: '[::1]:4317',
      insecure: true,
      warnings: [],
    });
  });

  it('fills the scheme default port and ignores a path with a warning', () => {
    const r = normaliseGrpcEndpoint('https://otlp.example.com/v1/profiles', undefined);
    assert.ok(r.ok);
    assert.equal(r.endpoint, 'otlp.example.com:443');
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0] ?? '', /path .* is ignored/);
    const plain = normaliseGrpcEndpoint('http://collector', undefined);
    assert.ok(plain.ok);
    assert.equal(plain.endpoint, 'collector:80');
  });

  it('passes unix sockets through, plaintext unless TLS is asked for', () => {
    assert.deepEqual(normaliseGrpcEndpoint('unix:/run/otel.sock', undefined), {
      ok: true,
      endpoint: 'unix:/run/otel.sock',
      insecure: true,
      warnings: [],
    });
    const tls = normaliseGrpcEndpoint('unix:///run/otel.sock', explicit(false));
    assert.ok(tls.ok);
    assert.equal(tls.insecure, false);
  });

  it('rejects explicit insecure with https://, missing ports and other schemes, saying how to fix it', () => {
    const conflict = normaliseGrpcEndpoint('https://collector:4317', explicit(true));
    assert.ok(!conflict.ok);
    assert.match(
      conflict.problem,
      /insecure is true but the endpoint "https:\/\/collector:4317" is https:\/\/ \(use http:\/\/collector:4317/,
    );
    const noPort = normaliseGrpcEndpoint('collector', undefined);
    assert.ok(!noPort.ok);
    assert.match(noPort.problem, /is not host:port \(e\.g\. collector:4317/);
    const ftp = normaliseGrpcEndpoint('ftp://x:1', undefined);
    assert.ok(!ftp.ok);
    assert.match(ftp.problem, /scheme ftp:\/\/ is not supported/);
    assert.ok(!normaliseGrpcEndpoint('collector:99999', undefined).ok);
    assert.ok(!normaliseGrpcEndpoint('unix:', undefined).ok);
  });
});

describe('normaliseHttpEndpoint (OTLP exporter spec URL construction)', () => {
  it('uses the per-signal variable as-is, "/" when it has no path', () => {
    const r = (raw: string) => normaliseHttpEndpoint(raw, 'signal-env', undefined);
    assert.deepEqual(r('http://collector:4318/custom/path'), {
      ok: true,
      endpoint: 'http://collector:4318/custom/path',
      insecure: true,
      warnings: [],
    });
    assert.deepEqual(r('https://collector:4318'), {
      ok: true,
      endpoint: 'https://collector:4318/',
      insecure: false,
      warnings: [],
    });
    assert.deepEqual(r('http://collector:4318/v1/profiles'), {
      ok: true,
      endpoint: 'http://collector:4318/v1/profiles',
      insecure: true,
      warnings: [],
    });
  });

  it('appends v1development/profiles to the generic base URL after ensuring a trailing slash', () => {
    const r = (raw: string) =>
      (normaliseHttpEndpoint(raw, 'generic-env', undefined) as { endpoint: string }).endpoint;
    assert.equal(
      r('http://collector:4318/mycollector/'),
      'http://collector:4318/mycollector/v1development/profiles',
    );
    assert.equal(
      r('http://collector:4318/mycollector'),
      'http://collector:4318/mycollector/v1development/profiles',
    );
    assert.equal(r('http://collector:4318'), 'http://collector:4318/v1development/profiles');
    assert.equal(r('https://otlp.example.com'), 'https://otlp.example.com/v1development/profiles');
  });

  it('adds the profiles path to a config endpoint without a path and keeps one that has a path', () => {
    const r = (raw: string, insecure?: boolean) =>
      (
        normaliseHttpEndpoint(raw, 'config', insecure === undefined ? undefined : explicit(insecure)) as {
          endpoint: string;
        }
      ).endpoint;
    assert.equal(r('http://pyroscope:4040'), 'http://pyroscope:4040/v1development/profiles');
    assert.equal(r('http://pyroscope:4040/'), 'http://pyroscope:4040/v1development/profiles');
    assert.equal(
      r('http://gw:8080/otlp/v1development/profiles'),
      'http://gw:8080/otlp/v1development/profiles',
    );
    assert.equal(r('collector:4318', true), 'http://collector:4318/v1development/profiles');
    assert.equal(r('collector:4318'), 'https://collector:4318/v1development/profiles');
  });

  it('derives insecure from the scheme, and rejects explicit insecure with https://', () => {
    const ok = normaliseHttpEndpoint('https://c:4318', 'config', fromEnv(true));
    assert.ok(ok.ok);
    assert.equal(ok.insecure, false);
    const bad = normaliseHttpEndpoint('https://c:4318', 'config', explicit(true));
    assert.ok(!bad.ok);
    assert.match(
      bad.problem,
      /insecure is true but the endpoint "https:\/\/c:4318" is https:\/\/ \(use http:\/\/c:4318 for plaintext/,
    );
    const ftp = normaliseHttpEndpoint('ftp://c', 'config', undefined);
    assert.ok(!ftp.ok);
  });
});
