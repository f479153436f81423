import { DEFAULT_RETRY_POLICY } from '../../src/util/backoff.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, it } from 'node:test';
import type { ExporterConfig } from '../../src/config/exporter-config.js';
import { selectExporters } from '../../src/config/exporter-selection.js';
import {
  DEFAULT_BATCH,
  DEFAULT_QUEUE,
  DEFAULT_RESOURCE,
  DEFAULT_TIMEOUT_MS,
  K8S_POD_METADATA_SERVICE_NAME,
  loadConfig,
} from '../../src/config/load-config.js';
import { renderConfig } from '../../src/config/print-config.js';
import { captureLogger, IG_CONFIG, load, problemsOf, tempDir } from '../support/config-fixtures.js';

function exporter(config: { exporters: ReadonlyMap<string, ExporterConfig> }, name: string): ExporterConfig {
  const e = config.exporters.get(name);
  assert.ok(e, `exporter ${name} resolved (have: ${[...config.exporters.keys()].join(', ')})`);
  return e;
}

const PROD_GRPC = `
operator:
  otel-profiles:
    exporters:
      prod:
        exporter: otlp-grpc
        endpoint: "collector:4317"
        insecure: true
`;

/** A file defining `default` (otlp-grpc) so file < env < flags < --set can all be seen on one exporter. */
const DEFAULT_IN_FILE = (extra: string) => `
operator:
  otel-profiles:
    exporters:
      default:
        exporter: otlp-grpc
        endpoint: "file-host:4317"
        insecure: true
${extra}`;

describe('loadConfig: IG compatibility', () => {
  it("loads IG's own config file unchanged, with our defaults for everything IG does not have", () => {
    const config = load({ yaml: IG_CONFIG, flags: { exporterSelection: 'my-profiles-exporter' } });
    assert.deepEqual([...config.exporters.keys()], ['my-profiles-exporter']);
    const e = exporter(config, 'my-profiles-exporter');
    assert.equal(e.exporter, 'otlp-grpc');
    assert.equal(e.endpoint, '127.0.0.1:4040');
    assert.equal(e.insecure, true);
    assert.equal(e.compression, 'gzip');
    assert.equal(e.timeoutMs, DEFAULT_TIMEOUT_MS);
    assert.deepEqual(e.retry, DEFAULT_RETRY_POLICY);
    assert.deepEqual(e.batch, DEFAULT_BATCH);
    assert.deepEqual(e.queue, DEFAULT_QUEUE);
    assert.deepEqual(e.resource, DEFAULT_RESOURCE);
    assert.deepEqual(e.samples, { merge: 'flush' });
    assert.deepEqual(e.headers, {});
    assert.deepEqual(e.tls, {});
    assert.deepEqual(
      config.lines.filter((l) => / (WARN|ERROR) /.test(l)),
      [],
    );
  });

  it('treats compression "" like unset (gzip) and "none" as none', () => {
    const yaml = (c: string) => PROD_GRPC + `        compression: ${c}\n`;
    assert.equal(
      exporter(load({ yaml: yaml('""'), flags: { exporterSelection: 'prod' } }), 'prod').compression,
      'gzip',
    );
    assert.equal(
      exporter(load({ yaml: yaml('none'), flags: { exporterSelection: 'prod' } }), 'prod').compression,
      'none',
    );
  });

  it('uses IG param key operator.otel-profiles.otel-profiles-exporter as the default selection; the flag wins', () => {
    const yaml = `
operator:
  otel-profiles:
    otel-profiles-exporter: samples:a
    exporters:
      a: { exporter: debug }
      b: { exporter: debug }
`;
    assert.deepEqual([...load({ yaml }).exporters.keys()], ['a']);
    assert.deepEqual(selectExporters(load({ yaml }).selection, 'samples'), ['a']);
    assert.deepEqual([...load({ yaml, flags: { exporterSelection: 'b' } }).exporters.keys()], ['b']);
  });
});

describe('loadConfig: the full file layout', () => {
  it('maps every key of the file onto ExporterConfig', () => {
    const tmp = tempDir();
    try {
      const ca = tmp.write('ca.pem', 'x');
      const cert = tmp.write('cert.pem', 'x');
      const key = tmp.write('key.pem', 'x');
      const yaml = `
operator:
  otel-profiles:
    exporters:
      pyro:
        exporter: otlp-http
        endpoint: "https://pyroscope.example.com"
        compression: none
        headers: { authorization: "Bearer t", x-scope-orgid: "tenant-1" }
        timeout: 2500
        protocol: json
        json_bytes: base64
        tls: { ca_file: ${ca}, cert_file: ${cert}, key_file: ${key}, server_name: pyro.internal }
        retry: { enabled: false, initial_interval: 1s, multiplier: 2, max_interval: 1m, max_elapsed_time: 0, jitter: 0.5 }
        batch: { interval: 10s, jitter: 0, max_request_size: 512KiB, max_samples_per_profile: 1000, max_pending_samples: 5000 }
        queue: { directory: /var/lib/q, max_bytes: 128MiB, max_requests: 10, concurrency: 4 }
        resource: { group_by: container, service_name: [owner, "field:proc.comm"], attributes: { team: a } }
        samples: { merge: identity }
      files: { exporter: file, path: out.pb, format: proto }
      pprof: { exporter: pprof, directory: ./pprof }
      dbg: { exporter: debug }
`;
      const config = load({ yaml, flags: { exporterSelection: 'pyro,files,pprof,dbg' } });
      assert.deepEqual(exporter(config, 'pyro'), {
        name: 'pyro',
        exporter: 'otlp-http',
        endpoint: 'https://pyroscope.example.com/v1development/profiles',
        insecure: false,
        compression: 'none',
        headers: { authorization: 'Bearer t', 'x-scope-orgid': 'tenant-1' },
        timeoutMs: 2500,
        tls: { caFile: ca, certFile: cert, keyFile: key, serverName: 'pyro.internal' },
        protocol: 'json',
        jsonBytes: 'base64',
        format: 'json',
        retry: {
          enabled: false,
          initialIntervalMs: 1000,
          multiplier: 2,
          maxIntervalMs: 60_000,
          maxElapsedMs: 0,
          jitter: 0.5,
        },
        batch: {
          intervalMs: 10_000,
          jitter: 0,
          maxRequestBytes: 512 * 1024,
          maxSamplesPerProfile: 1000,
          maxPendingSamples: 5000,
        },
        queue: { directory: '/var/lib/q', maxBytes: 128 * 1024 * 1024, maxRequests: 10, concurrency: 4 },
        resource: {
          groupBy: 'container',
          serviceName: ['owner', 'field:proc.comm'],
          attributes: { team: 'a' },
        },
        samples: { merge: 'identity' },
      });
      const files = exporter(config, 'files');
      assert.equal(files.path, 'out.pb');
      assert.equal(files.format, 'proto');
      assert.equal(files.compression, 'none');
      assert.equal(files.endpoint, undefined);
      assert.equal(exporter(config, 'pprof').directory, './pprof');
      assert.equal(exporter(config, 'dbg').exporter, 'debug');
    } finally {
      tmp.cleanup();
    }
  });

  it('resolves only the selected exporters but validates every configured one (as IG initialises all)', () => {
    const yaml = `
operator:
  otel-profiles:
    exporters:
      a: { exporter: debug }
      broken: { exporter: otlp-grpc }
`;
    const problems = problemsOf(() => load({ yaml, flags: { exporterSelection: 'a' } }));
    assert.deepEqual(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /endpoint required for otlp-grpc exporter \(operator\.otel-profiles\.exporters\.broken\.endpoint/,
    );
    const ok = load({
      yaml: yaml.replace('{ exporter: otlp-grpc }', '{ exporter: otlp-grpc, endpoint: "x:1" }'),
      flags: { exporterSelection: 'a' },
    });
    assert.deepEqual([...ok.exporters.keys()], ['a']);
    assert.deepEqual(ok.configured, ['a', 'broken', 'default']);
  });
});

describe('loadConfig: precedence flags > env > file > defaults', () => {
  const timeoutOf = (options: Parameters<typeof load>[0]) => exporter(load(options), 'default').timeoutMs;

  it('timeout: default < file < env < --timeout < --set', () => {
    assert.equal(timeoutOf({ yaml: DEFAULT_IN_FILE('') }), 10_000);
    const file = DEFAULT_IN_FILE('        timeout: 20s');
    assert.equal(timeoutOf({ yaml: file }), 20_000);
    const env = { OTEL_EXPORTER_OTLP_TIMEOUT: '30000' };
    assert.equal(timeoutOf({ yaml: file, env }), 30_000);
    assert.equal(timeoutOf({ yaml: file, env, flags: { timeout: '40s' } }), 40_000);
    assert.equal(
      timeoutOf({
        yaml: file,
        env,
        flags: { timeout: '40s', set: ['operator.otel-profiles.exporters.default.timeout=50s'] },
      }),
      50_000,
    );
  });

  it('endpoint: file < generic env < per-signal env < --endpoint < --set', () => {
    const file = DEFAULT_IN_FILE('');
    const endpointOf = (options: Parameters<typeof load>[0]) =>
      exporter(load({ yaml: file, ...options }), 'default').endpoint;
    assert.equal(endpointOf({}), 'file-host:4317');
    assert.equal(endpointOf({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4317' } }), 'generic:4317');
    assert.equal(
      endpointOf({
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4317',
          OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: 'http://signal:4317',
        },
      }),
      'signal:4317',
    );
    assert.equal(
      endpointOf({
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4317' },
        flags: { endpoint: 'flag:4317' },
      }),
      'flag:4317',
    );
    assert.equal(
      endpointOf({
        flags: { endpoint: 'flag:4317', set: ['operator.otel-profiles.exporters.default.endpoint=set:4317'] },
      }),
      'set:4317',
    );
  });

  it('compression: otlp default gzip < file < env < flag; non-OTLP exporters default to none', () => {
    const comp = (options: Parameters<typeof load>[0]) => exporter(load(options), 'default').compression;
    assert.equal(comp({ yaml: DEFAULT_IN_FILE('') }), 'gzip');
    assert.equal(comp({ yaml: DEFAULT_IN_FILE('        compression: none') }), 'none');
    assert.equal(
      comp({
        yaml: DEFAULT_IN_FILE('        compression: none'),
        env: { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' },
      }),
      'gzip',
    );
    assert.equal(
      comp({
        yaml: DEFAULT_IN_FILE(''),
        env: { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' },
        flags: { compression: 'none' },
      }),
      'none',
    );
    assert.equal(
      comp({ flags: { set: ['operator.otel-profiles.exporters.default.exporter=debug'] } }),
      'none',
    );
  });

  it('headers merge by name: file < env < --header < --set', () => {
    const config = load({
      yaml: DEFAULT_IN_FILE('        headers: { a: file, b: file }'),
      env: { OTEL_EXPORTER_OTLP_HEADERS: 'b=env,c=env' },
      flags: {
        headers: ['c=flag', 'd=flag'],
        set: ['operator.otel-profiles.exporters.default.headers.d=set'],
      },
    });
    assert.deepEqual(exporter(config, 'default').headers, { a: 'file', b: 'env', c: 'flag', d: 'set' });
  });

  it('env applies to every OTLP exporter of the file and overrides its value (logged), never to other kinds', () => {
    const yaml = `
operator:
  otel-profiles:
    exporters:
      g: { exporter: otlp-grpc, endpoint: "file:4317", insecure: true, timeout: 1s }
      h: { exporter: otlp-http, endpoint: "http://file:4318", protocol: protobuf }
      f: { exporter: file, path: out.jsonl, timeout: 1s }
`;
    const config = load({
      yaml,
      env: {
        OTEL_EXPORTER_OTLP_TIMEOUT: '7000',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'k=v',
      },
      flags: { exporterSelection: 'g,h,f' },
    });
    assert.equal(exporter(config, 'g').timeoutMs, 7000);
    assert.equal(exporter(config, 'g').exporter, 'otlp-grpc');
    assert.deepEqual(exporter(config, 'g').headers, { k: 'v' });
    assert.equal(exporter(config, 'h').timeoutMs, 7000);
    assert.equal(exporter(config, 'h').protocol, 'json');
    assert.equal(exporter(config, 'f').timeoutMs, 1000);
    assert.deepEqual(exporter(config, 'f').headers, {});
    assert.ok(
      config.lines.some((l) =>
        /INFO OTEL_EXPORTER_OTLP_TIMEOUT overrides .*config\.yaml:\d+:\d+: operator\.otel-profiles\.exporters\.g\.timeout/.test(
          l,
        ),
      ),
    );
  });

  it('a generic env endpoint gets the profiles path for otlp-http exporters of the file; a per-signal one is used as-is', () => {
    const yaml = `
operator:
  otel-profiles:
    exporters:
      h: { exporter: otlp-http, endpoint: "http://file:4318" }
`;
    const url = (env: Record<string, string>) =>
      exporter(load({ yaml, env, flags: { exporterSelection: 'h' } }), 'h').endpoint;
    assert.equal(url({}), 'http://file:4318/v1development/profiles');
    assert.equal(
      url({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/mycollector/' }),
      'http://collector:4318/mycollector/v1development/profiles',
    );
    assert.equal(
      url({ OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: 'http://collector:4318/custom' }),
      'http://collector:4318/custom',
    );
    assert.equal(
      url({ OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: 'http://collector:4318' }),
      'http://collector:4318/',
    );
  });

  it('OTEL_RESOURCE_ATTRIBUTES: env > file per key, file-only keys kept, and exposed as resourceAttributesFromEnv', () => {
    const config = load({
      yaml: DEFAULT_IN_FILE('        resource: { attributes: { deployment.environment: prod, team: core } }'),
      env: {
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=staging,host.name=n1',
        OTEL_SERVICE_NAME: 'svc',
      },
    });
    assert.deepEqual(exporter(config, 'default').resource.attributes, {
      'deployment.environment': 'staging',
      team: 'core',
      'host.name': 'n1',
    });
    assert.deepEqual(config.resourceAttributesFromEnv, {
      'deployment.environment': 'staging',
      'host.name': 'n1',
    });
    assert.equal(config.serviceNameFromEnv, 'svc');
  });

  it('--set beats the file for any exporter and may define a new one', () => {
    const config = load({
      yaml: PROD_GRPC,
      flags: {
        exporterSelection: 'prod,extra',
        set: [
          'operator.otel-profiles.exporters.prod.retry.max_elapsed_time=1m',
          'operator.otel-profiles.exporters.prod.resource.service_name=owner,process.executable.name',
          'operator.otel-profiles.exporters.prod.queue.max_bytes=1MiB',
          'operator.otel-profiles.exporters.prod.insecure=false',
          'operator.otel-profiles.exporters.extra.exporter=file',
          'operator.otel-profiles.exporters.extra.path=-',
        ],
      },
    });
    const prod = exporter(config, 'prod');
    assert.equal(prod.retry.maxElapsedMs, 60_000);
    assert.deepEqual(prod.resource.serviceName, ['owner', 'process.executable.name']);
    assert.equal(prod.queue.maxBytes, 1024 * 1024);
    assert.equal(prod.insecure, false);
    assert.equal(exporter(config, 'extra').path, '-');
  });

  it('log level: --log-level > --set > OTEL_LOG_LEVEL > file > info', () => {
    const yaml = 'operator:\n  otel-profiles:\n    log-level: warn\n';
    assert.equal(load({}).logLevel, 'info');
    assert.equal(load({ yaml }).logLevel, 'warn');
    assert.equal(load({ yaml, env: { OTEL_LOG_LEVEL: 'verbose' } }).logLevel, 'debug');
    assert.equal(
      load({
        yaml,
        env: { OTEL_LOG_LEVEL: 'debug' },
        flags: { set: ['operator.otel-profiles.log-level=error'] },
      }).logLevel,
      'error',
    );
    assert.equal(
      load({
        yaml,
        env: { OTEL_LOG_LEVEL: 'debug' },
        flags: { logLevel: 'info', set: ['operator.otel-profiles.log-level=error'] },
      }).logLevel,
      'info',
    );
  });
});

describe('loadConfig: k8s-pod-metadata', () => {
  it('flag > --set > file > off, and it makes the k8s chain the default service.name chain', () => {
    const yaml = 'operator:\n  otel-profiles:\n    k8s-pod-metadata: true\n';
    const off = load({});
    assert.equal(off.k8sPodMetadata, false);
    assert.deepEqual(exporter(off, 'default').resource.serviceName, DEFAULT_RESOURCE.serviceName);
    const on = load({ yaml });
    assert.equal(on.k8sPodMetadata, true);
    assert.deepEqual(exporter(on, 'default').resource.serviceName, K8S_POD_METADATA_SERVICE_NAME);
    assert.deepEqual(K8S_POD_METADATA_SERVICE_NAME.slice(0, 2), ['k8s.env', 'k8s.semconv']);
    assert.equal(
      load({ yaml, flags: { set: ['operator.otel-profiles.k8s-pod-metadata=false'] } }).k8sPodMetadata,
      false,
    );
    assert.equal(
      load({ yaml, flags: { k8sPodMetadata: true, set: ['operator.otel-profiles.k8s-pod-metadata=false'] } })
        .k8sPodMetadata,
      true,
    );
    assert.match(renderConfig(on), /k8s-pod-metadata: true/);
  });

  it('a configured chain is kept as written; bad values are errors naming the key', () => {
    const chain = load({
      flags: {
        k8sPodMetadata: true,
        set: ['operator.otel-profiles.exporters.default.resource.service_name=k8s.semconv.labels,owner'],
      },
    });
    assert.deepEqual(exporter(chain, 'default').resource.serviceName, ['k8s.semconv.labels', 'owner']);
    assert.match(
      problemsOf(() => load({ flags: { set: ['operator.otel-profiles.k8s-pod-metadata=yes'] } })).join('\n'),
      /^--set operator\.otel-profiles\.k8s-pod-metadata: "yes" is not a boolean \(use true or false\)$/m,
    );
    assert.match(
      problemsOf(() => load({ yaml: 'operator:\n  otel-profiles:\n    k8s-pod-metadata: 3\n' })).join('\n'),
      /config\.yaml:3:\d+: operator\.otel-profiles\.k8s-pod-metadata: 3 is not a boolean \(use true or false\)/,
    );
    assert.match(
      problemsOf(() =>
        load({
          flags: { set: ['operator.otel-profiles.exporters.default.resource.service_name=k8s.semconf'] },
        }),
      ).join('\n'),
      /did you mean "k8s.semconv"/,
    );
  });
});

describe('loadConfig: process settings (telemetry address, log format)', () => {
  const yaml = 'operator:\n  otel-profiles:\n    telemetry-address: 127.0.0.1:9464\n    log-format: json\n';

  it('off and text by default; flag > --set > environment > file', () => {
    const none = load({});
    assert.equal(none.telemetryAddress, undefined);
    assert.equal(none.logFormat, 'text');
    const fromFile = load({ yaml });
    assert.deepEqual(fromFile.telemetryAddress, { host: '127.0.0.1', port: 9464, text: '127.0.0.1:9464' });
    assert.equal(fromFile.logFormat, 'json');
    const env = { IG_OTEL_PROFILES_TELEMETRY_ADDRESS: ':9465', IG_OTEL_PROFILES_LOG_FORMAT: 'text' };
    const fromEnv = load({ yaml, env });
    assert.deepEqual(fromEnv.telemetryAddress, { port: 9465, text: ':9465' });
    assert.equal(fromEnv.logFormat, 'text');
    const set = ['operator.otel-profiles.telemetry-address=[::1]:9466'];
    assert.equal(load({ yaml, env, flags: { set } }).telemetryAddress?.host, '::1');
    assert.equal(
      load({ yaml, env, flags: { set, telemetryAddress: 'localhost:9467' } }).telemetryAddress?.port,
      9467,
    );
    assert.match(renderConfig(fromFile), /telemetry-address: 127\.0\.0\.1:9464\n[\s\S]*|log-format: json/);
  });

  it('a bad address or format names where it came from and what is expected', () => {
    const problems = problemsOf(() =>
      load({
        yaml: 'operator:\n  otel-profiles:\n    telemetry-address: "9464"\n',
        env: { IG_OTEL_PROFILES_LOG_FORMAT: 'yaml' },
      }),
    );
    assert.ok(
      problems.some((p) =>
        /config\.yaml:3:\d+: operator\.otel-profiles\.telemetry-address: "9464" is not an address: expected HOST:PORT/.test(
          p,
        ),
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) =>
        /^IG_OTEL_PROFILES_LOG_FORMAT: "yaml" is not valid \(one of: text, json\)/.test(p),
      ),
    );
    assert.match(
      problemsOf(() => load({ flags: { telemetryAddress: '127.0.0.1:70000' } })).join('\n'),
      /--telemetry-address: "127\.0\.0\.1:70000": port 70000 is out of range/,
    );
  });
});

describe('loadConfig: the env-built default exporter', () => {
  it('with no selection and no env is OTLP/HTTP protobuf to http://localhost:4318', () => {
    const config = load({});
    assert.deepEqual([...config.exporters.keys()], ['default']);
    const e = exporter(config, 'default');
    assert.equal(e.exporter, 'otlp-http');
    assert.equal(e.endpoint, 'http://localhost:4318/v1development/profiles');
    assert.equal(e.insecure, true);
    assert.equal(e.protocol, 'protobuf');
    assert.equal(e.compression, 'gzip');
    assert.deepEqual(selectExporters(config.selection, 'samples'), ['default']);
  });

  it('OTEL_EXPORTER_OTLP_PROTOCOL picks the kind: grpc → otlp-grpc localhost:4317, http/json → JSON body', () => {
    const grpc = exporter(load({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } }), 'default');
    assert.equal(grpc.exporter, 'otlp-grpc');
    assert.equal(grpc.endpoint, 'localhost:4317');
    assert.equal(grpc.insecure, true);
    const json = exporter(load({ env: { OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL: 'http/json' } }), 'default');
    assert.equal(json.exporter, 'otlp-http');
    assert.equal(json.protocol, 'json');
  });

  it('--protocol beats the env protocol', () => {
    const e = exporter(
      load({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, flags: { protocol: 'grpc' } }),
      'default',
    );
    assert.equal(e.exporter, 'otlp-grpc');
    const h = exporter(
      load({ env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, flags: { protocol: 'http/json' } }),
      'default',
    );
    assert.equal(h.exporter, 'otlp-http');
    assert.equal(h.protocol, 'json');
  });

  it('builds the endpoint from the env as the spec says, and takes --insecure for scheme-less gRPC endpoints', () => {
    const e = (env: Record<string, string>, flags = {}) => exporter(load({ env, flags }), 'default');
    assert.equal(
      e({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com' }).endpoint,
      'https://otlp.example.com/v1development/profiles',
    );
    assert.equal(
      e({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com:4317' })
        .insecure,
      false,
    );
    assert.equal(
      e({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4317' }).insecure,
      false,
    );
    assert.equal(
      e({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4317',
        OTEL_EXPORTER_OTLP_INSECURE: 'true',
      }).insecure,
      true,
    );
    assert.equal(
      e({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, { endpoint: 'c:4317', insecure: true }).insecure,
      true,
    );
    // --endpoint is like a file endpoint: the profiles path is added only when there is none.
    assert.equal(
      e({}, { endpoint: 'http://pyroscope:4040' }).endpoint,
      'http://pyroscope:4040/v1development/profiles',
    );
  });

  it('takes TLS files from OTEL_EXPORTER_OTLP_CERTIFICATE / CLIENT_KEY / CLIENT_CERTIFICATE', () => {
    const tmp = tempDir();
    try {
      const ca = tmp.write('ca.pem', 'x');
      const key = tmp.write('k.pem', 'x');
      const cert = tmp.write('c.pem', 'x');
      const e = exporter(
        load({
          env: {
            OTEL_EXPORTER_OTLP_CERTIFICATE: ca,
            OTEL_EXPORTER_OTLP_PROFILES_CLIENT_KEY: key,
            OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: cert,
          },
        }),
        'default',
      );
      assert.deepEqual(e.tls, { caFile: ca, certFile: cert, keyFile: key });
    } finally {
      tmp.cleanup();
    }
  });

  it('a file `default` is used when no selection is given, with env and flags on top', () => {
    const config = load({ yaml: DEFAULT_IN_FILE(''), flags: { timeout: '3s' } });
    const e = exporter(config, 'default');
    assert.equal(e.endpoint, 'file-host:4317');
    assert.equal(e.timeoutMs, 3000);
  });

  it('--set tunes the env-built default without changing its kind', () => {
    const e = exporter(
      load({
        env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
        flags: { set: ['operator.otel-profiles.exporters.default.batch.interval=1s'] },
      }),
      'default',
    );
    assert.equal(e.exporter, 'otlp-grpc');
    assert.equal(e.batch.intervalMs, 1000);
  });
});

describe('loadConfig: validation', () => {
  it('collects every problem into one ConfigError, each naming the key and the fix', () => {
    const yaml = `
operator:
  otel-profiles:
    exporters:
      prod:
        exporter: otlp-grpc
        endpont: "collector:4317"
        retry: { max_elapsed_time: five, max-interval: 1s }
        batch: { max_request_size: 100MiB, interval: 0 }
        tls: { ca_file: /nonexistent/ca.pem }
      wrong: { exporter: otlp-grcp }
      nokind: { endpoint: "x:1" }
      files: { exporter: file }
      pp: { exporter: pprof }
      web: { exporter: otlp-http, endpoint: "https://x", insecure: true }
`;
    const problems = problemsOf(() => load({ yaml, flags: { exporterSelection: 'prod' } }));
    const expect = [
      /config\.yaml:7:9: operator\.otel-profiles\.exporters\.prod\.endpont: unknown key \(did you mean "endpoint"\?\)/,
      /config\.yaml:8:36: operator\.otel-profiles\.exporters\.prod\.retry\.max_elapsed_time: "five" is not a duration \(examples: 30s, 5m, 0 = retry forever\)/,
      /operator\.otel-profiles\.exporters\.prod\.retry\.max-interval: unknown key \(did you mean "max_interval"\?\)/,
      /operator\.otel-profiles\.exporters\.prod\.batch\.max_request_size: "100MiB" exceeds 64MiB/,
      /operator\.otel-profiles\.exporters\.prod\.batch\.interval: 0 must be greater than 0/,
      /endpoint required for otlp-grpc exporter \(operator\.otel-profiles\.exporters\.prod\.endpoint: set it/,
      /config\.yaml:10:25: operator\.otel-profiles\.exporters\.prod\.tls\.ca_file: file "\/nonexistent\/ca\.pem" does not exist/,
      /operator\.otel-profiles\.exporters\.wrong\.exporter: "otlp-grcp" is not valid \(one of: otlp-grpc, otlp-http, file, pprof, debug\) \(did you mean "otlp-grpc"\?\)/,
      /config\.yaml:12:7: operator\.otel-profiles\.exporters\.nokind\.exporter: required \(one of: otlp-grpc, otlp-http, file, pprof, debug\)/,
      /operator\.otel-profiles\.exporters\.files\.path: required for the file exporter/,
      /operator\.otel-profiles\.exporters\.pp\.directory: required for the pprof exporter/,
      /operator\.otel-profiles\.exporters\.web\.endpoint: insecure is true but the endpoint "https:\/\/x" is https:\/\//,
    ];
    for (const re of expect)
      assert.ok(
        problems.some((p) => re.test(p)),
        `missing ${re}\nin:\n${problems.join('\n')}`,
      );
    assert.equal(problems.length, expect.length, problems.join('\n'));
  });

  it('the ConfigError message lists all problems', () => {
    try {
      load({
        yaml: 'operator:\n  otel-profiles:\n    exporters:\n      a: { exporter: file }\n      b: { exporter: pprof }\n',
        flags: { exporterSelection: 'a' },
      });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'ConfigError');
      assert.match(err.message, /^2 configuration errors:\n {2}- .*a\.path.*\n {2}- .*b\.directory/);
    }
  });

  it('names an unconfigured exporter with the file and the configured ones', () => {
    const problems = problemsOf(() => load({ yaml: PROD_GRPC, flags: { exporterSelection: 'samples:prd' } }));
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /^exporter "prd" is not configured: define operator\.otel-profiles\.exporters\.prd in .*config\.yaml \(configured: prod, default\) \(did you mean "prod"\?\)$/,
    );
    const noFile = problemsOf(() => load({ flags: { exporterSelection: 'x' } }));
    assert.match(
      noFile[0] ?? '',
      /define operator\.otel-profiles\.exporters\.x in a config file passed with --config, or with --set operator\.otel-profiles\.exporters\.x\.exporter=KIND \(otlp-grpc \| otlp-http \| file \| pprof \| debug\) \(configured: default\)/,
    );
  });

  it('rejects direct flags when the selection does not use the default exporter', () => {
    const problems = problemsOf(() =>
      load({ yaml: PROD_GRPC, flags: { exporterSelection: 'prod', endpoint: 'x:1', timeout: '1s' } }),
    );
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /^--endpoint, --timeout configure the exporter "default" .* --set operator\.otel-profiles\.exporters\.prod\.KEY=VALUE$/,
    );
  });

  it('rejects --protocol that contradicts the kind of a file-defined default', () => {
    const problems = problemsOf(() => load({ yaml: DEFAULT_IN_FILE(''), flags: { protocol: 'http/json' } }));
    assert.match(
      problems[0] ?? '',
      /--protocol http\/json contradicts .*config\.yaml:\d+:\d+: operator\.otel-profiles\.exporters\.default\.exporter: otlp-grpc/,
    );
  });

  it('validates the direct flags and --set items', () => {
    const problems = problemsOf(() =>
      load({
        flags: {
          protocol: 'http/protobf',
          compression: 'zstd',
          timeout: 'soon',
          headers: ['novalue-secret'],
          set: [
            'operator.otel-profiles.exporters.default.retry.max_elapsed=1m',
            'operator.otel-profiles.exporters.default.timeout',
            'operator.oci.verify-image=false',
            'operator.otel-profiles.exporters.default.queue.concurrency=0',
            'operator.otel-profiles.log-level=loud',
          ],
        },
      }),
    );
    const expect = [
      /^--set operator\.otel-profiles\.exporters\.default\.retry\.max_elapsed: unknown key \(did you mean "retry\.max_elapsed_time"\?\)/,
      /^--set operator\.otel-profiles\.exporters\.default\.timeout: expected KEY=VALUE/,
      /^--set operator\.oci\.verify-image: only operator\.otel-profiles\.exporters\.NAME\.KEY/,
      /^--set operator\.otel-profiles\.exporters\.default\.queue\.concurrency: "0" must be at least 1$/,
      /^--protocol "http\/protobf": expected one of grpc, http\/protobuf, http\/json \(did you mean "http\/protobuf"\?\)$/,
      /^--header #1: expected NAME=VALUE/,
      /^--compression: "zstd" is not valid \(one of: none, gzip\)$/,
      /^--timeout: "soon" is not a duration/,
      /^--set operator\.otel-profiles\.log-level: "loud" is not valid \(one of: error, warn, info, debug\)$/,
    ];
    for (const re of expect)
      assert.ok(
        problems.some((p) => re.test(p)),
        `missing ${re}\nin:\n${problems.join('\n')}`,
      );
    assert.equal(problems.length, expect.length, problems.join('\n'));
    assert.doesNotMatch(problems.join('\n'), /secret/);
  });

  it('names the env variable of a missing TLS file', () => {
    const problems = problemsOf(() =>
      load({ env: { OTEL_EXPORTER_OTLP_PROFILES_CERTIFICATE: '/nope/ca.pem' } }),
    );
    assert.deepEqual(problems.length, 1);
    assert.match(
      problems[0] ?? '',
      /^OTEL_EXPORTER_OTLP_PROFILES_CERTIFICATE \(exporter "default"\): file "\/nope\/ca\.pem" does not exist/,
    );
  });

  it('requires both halves of an mTLS key pair and a sane retry interval range', () => {
    const tmp = tempDir();
    try {
      const cert = tmp.write('c.pem', 'x');
      const problems = problemsOf(() =>
        load({
          yaml: DEFAULT_IN_FILE(
            `        tls: { cert_file: ${cert} }\n        retry: { initial_interval: 1m }`,
          ),
        }),
      );
      assert.equal(problems.length, 2, problems.join('\n'));
      assert.match(
        problems[0] ?? '',
        /tls\.cert_file: mTLS needs both tls\.cert_file and tls\.key_file: set operator\.otel-profiles\.exporters\.default\.tls\.key_file too/,
      );
      assert.match(
        problems[1] ?? '',
        /retry\.initial_interval: retry\.max_interval \(30000 ms\) is below retry\.initial_interval \(60000 ms\)/,
      );
    } finally {
      tmp.cleanup();
    }
  });

  it('rejects both spellings of the queue size at once, bad service.name sources and bad shapes', () => {
    const yaml = `
operator:
  otel-profiles:
    exporters:
      d:
        exporter: debug
        queue: { max_size: 1MiB, max_bytes: 2MiB }
        resource: { service_name: [owner, podname] }
        headers: { authorization: [not, a, string] }
        batch: 3
`;
    const problems = problemsOf(() => load({ yaml, flags: { exporterSelection: 'd' } }));
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems[0] ?? '', /queue\.max_bytes: set either max_bytes or max_size, not both/);
    assert.match(problems[1] ?? '', /resource\.service_name: "podname" is not a service\.name source/);
    assert.match(problems[2] ?? '', /headers: entry "authorization" must be a string/);
    assert.match(problems[3] ?? '', /batch: expected a mapping/);
  });

  it('warns about keys that the exporter kind does not use', () => {
    const config = load({
      yaml: 'operator:\n  otel-profiles:\n    exporters:\n      f: { exporter: file, path: a.jsonl, endpoint: "x:1" }\n',
      flags: { exporterSelection: 'f' },
    });
    assert.ok(
      config.lines.some((l) =>
        /WARN .*exporters\.f\.endpoint is ignored: file exporters do not use it/.test(l),
      ),
    );
  });
});

describe('loadConfig: secrets and sources', () => {
  it('never puts header values into sources, logs or errors', () => {
    const config = load({
      yaml: DEFAULT_IN_FILE('        headers: { authorization: "Bearer FILESECRET" }'),
      env: { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20ENVSECRET' },
      flags: {
        headers: ['x-token=FLAGSECRET'],
        set: ['operator.otel-profiles.exporters.default.headers.y=SETSECRET'],
      },
    });
    const everything = [...config.sources, ...config.lines, renderConfig(config)].join('\n');
    assert.doesNotMatch(everything, /SECRET/);
    assert.ok(config.sources.includes('env OTEL_EXPORTER_OTLP_HEADERS'));
    assert.ok(config.sources.includes('--header'));
    assert.ok(config.sources.includes('--set operator.otel-profiles.exporters.default.headers.y'));
    assert.ok(config.sources.some((s) => /^file .*config\.yaml$/.test(s)));
  });

  it('renderConfig prints a file that loads back to the same exporters', () => {
    const first = load({
      yaml:
        PROD_GRPC + '        retry: { max_elapsed_time: 90s }\n        batch: { max_request_size: 1MiB }\n',
      env: { OTEL_RESOURCE_ATTRIBUTES: 'a=b' },
      flags: { exporterSelection: 'samples:prod' },
    });
    const text = renderConfig(first);
    const { logger } = captureLogger();
    const tmp = tempDir();
    try {
      const again = loadConfig({ configFile: tmp.write('printed.yaml', text), env: {}, flags: {}, logger });
      assert.deepEqual(again.exporters, first.exporters);
      assert.deepEqual(selectExporters(again.selection, 'samples'), ['prod']);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('loadConfig: hints and documentation', () => {
  it('says which exporter is used when the file defines exporters but none is selected', () => {
    const config = load({ yaml: PROD_GRPC });
    assert.deepEqual([...config.exporters.keys()], ['default']);
    assert.ok(
      config.lines.some((l) =>
        /INFO .*config\.yaml defines prod but no exporter is selected: using "default" .* --otel-profiles-exporter prod/.test(
          l,
        ),
      ),
      config.lines.join(''),
    );
  });

  it('every config example in docs/configuration.md loads', () => {
    const docs = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const blocks = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => m[1] ?? '')
      .filter((b) => b.startsWith('operator:'));
    assert.ok(blocks.length >= 6, `found ${blocks.length} examples`);
    for (const yaml of blocks) {
      const doc = parse(yaml) as { operator: { 'otel-profiles': { exporters: Record<string, unknown> } } };
      const names = Object.keys(doc.operator['otel-profiles'].exporters);
      assert.ok(names.length > 0, yaml);
      const config = load({
        yaml,
        env: { COLLECTOR_TOKEN: 't', OTLP_TOKEN: 't' },
        flags: { exporterSelection: names.join(',') },
      });
      assert.deepEqual([...config.exporters.keys()], names);
    }
  });
});

describe('loadConfig: endpoints and headers no transport can use are configuration errors', () => {
  it('refuses credentials in an endpoint URL (otlp-http and otlp-grpc), never showing the password', () => {
    for (const protocol of ['http/protobuf', 'grpc']) {
      const problems = problemsOf(() =>
        load({ flags: { protocol, endpoint: 'http://scott:tiger-secret@collector:4318' } }),
      );
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0] ?? '', /^--endpoint .*credentials.*header.*authorization/i);
      assert.doesNotMatch(problems.join('\n'), /tiger-secret/);
    }
  });

  it('refuses header names and values HTTP does not allow, naming the header and never its value', () => {
    const problems = problemsOf(() =>
      load({ flags: { headers: ['bad name=v', 'x-token=SECRET\u0001VALUE', 'ok:colon=v'] } }),
    );
    const expect = [
      /^--header .*header name "bad name" is not a valid HTTP header name: .*letters, digits/,
      /^--header .*header "x-token": its value holds a control character/,
      /^--header .*header name "ok:colon" is not a valid HTTP header name/,
    ];
    for (const re of expect)
      assert.ok(
        problems.some((p) => re.test(p)),
        `missing ${re}\nin:\n${problems.join('\n')}`,
      );
    assert.equal(problems.length, expect.length, problems.join('\n'));
    assert.doesNotMatch(problems.join('\n'), /SECRET|VALUE/);
  });

  it('refuses gRPC metadata that gRPC does not allow: names, non-ASCII values, reserved grpc- names, -bin values that are not base64', () => {
    const problems = problemsOf(() =>
      load({
        flags: {
          protocol: 'grpc',
          headers: ['x/y=v', 'x-token=sécret-VALUE', 'grpc-timeout=1S', 'trace-bin=not base64!'],
        },
      }),
    );
    const expect = [
      /^--header .*header name "x\/y" is not valid gRPC metadata: .*lower-case letters, digits/,
      /^--header .*header "x-token": its value is not valid gRPC metadata: .*printable ASCII/,
      /^--header .*header name "grpc-timeout" is reserved by gRPC/,
      /^--header .*header "trace-bin": .*base64/,
    ];
    for (const re of expect)
      assert.ok(
        problems.some((p) => re.test(p)),
        `missing ${re}\nin:\n${problems.join('\n')}`,
      );
    assert.equal(problems.length, expect.length, problems.join('\n'));
    assert.doesNotMatch(problems.join('\n'), /VALUE/);
    // Upper case is fine: names are lower-cased on the wire.
    const ok = load({ flags: { protocol: 'grpc', headers: ['X-Scope-OrgID=tenant', 'id-bin=AAEC'] } });
    assert.deepEqual(Object.keys(exporter(ok, 'default').headers), ['X-Scope-OrgID', 'id-bin']);
  });

  it('refuses an empty --endpoint or --set endpoint instead of silently using the default', () => {
    const fromFlag = problemsOf(() => load({ flags: { endpoint: '' } }));
    assert.equal(fromFlag.length, 1, fromFlag.join('\n'));
    assert.match(fromFlag[0] ?? '', /^--endpoint .*is empty.*e\.g\. http:\/\/collector:4318/);
    const fromSet = problemsOf(() =>
      load({ flags: { protocol: 'grpc', set: ['operator.otel-profiles.exporters.default.endpoint= '] } }),
    );
    assert.match(
      fromSet[0] ?? '',
      /^--set operator\.otel-profiles\.exporters\.default\.endpoint: .*is empty/,
    );
    // An empty variable is unset, as the OTel spec says.
    assert.equal(
      exporter(load({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: '' } }), 'default').endpoint,
      'http://localhost:4318/v1development/profiles',
    );
  });

  it('refuses port 0 in every endpoint form', () => {
    for (const [protocol, endpoint] of [
      ['http/protobuf', 'http://127.0.0.1:0'],
      ['grpc', '127.0.0.1:0'],
      ['grpc', 'https://collector:0'],
    ] as const) {
      const problems = problemsOf(() => load({ flags: { protocol, endpoint } }));
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0] ?? '', /port 0 is not a port/, `${protocol} ${endpoint}`);
    }
  });
});
