import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { GadgetRow } from '../../../src/rows/gadget-row.js';
import type { GadgetStream, GadgetStreamEvent } from '../../../src/gadget-bridge/grpc/ig-grpc-client.js';
import { createIgGrpcClient, IgStreamError } from '../../../src/gadget-bridge/grpc/ig-grpc-client.js';
import { igTarget } from '../../../src/gadget-bridge/grpc/ig-address.js';
import { igDaemonDoublesForFile } from '../../support/ig-daemon-doubles.js';
import { readIgExampleEmissions } from '../../support/ig-json.js';
import { createTlsFixtures, TEST_SERVER_NAME, tlsFixturesUnavailable } from '../../support/tls-fixtures.js';
import { gadgetRow } from '../../../src/rows/gadget-row.js';

const emissions = readIgExampleEmissions();
const double = igDaemonDoublesForFile();

async function collect(
  stream: GadgetStream,
  onEvent?: (ev: GadgetStreamEvent) => void,
): Promise<GadgetStreamEvent[]> {
  const out: GadgetStreamEvent[] = [];
  for await (const ev of stream) {
    out.push(ev);
    onEvent?.(ev);
  }
  return out;
}

const dataRows = (events: GadgetStreamEvent[], ds = 'samples'): GadgetRow[][] =>
  events.flatMap((e) => (e.kind === 'data' && e.datasource.name === ds ? [[...e.rows]] : []));

describe('IG gRPC client against the daemon double', () => {
  for (const [name, layout, tcp] of [
    ['unix socket, IG layout', {}, false],
    ['TCP, reordered slots, big-endian', { reorderSlots: true, bigEndian: true }, true],
  ] as const) {
    it(`runs profile_cpu and decodes the example emissions (${name})`, async () => {
      const d = await double({
        layout,
        tcp,
        endAfterScript: true,
        script: () => emissions.map((rows) => ({ rows })),
      });
      const client = createIgGrpcClient({ address: tcp ? d.tcpAddress! : d.unixAddress });
      try {
        const events = await collect(
          client.runGadget({
            imageName: 'profile_cpu',
            paramValues: { 'operator.oci.ebpf.map-fetch-interval': '1s' },
            timeoutNs: 5_000_000_000n,
            logLevel: 4,
          }),
        );
        assert.equal(events[0]?.kind, 'info');
        assert.deepStrictEqual(dataRows(events), emissions);
        assert.deepEqual(
          events.flatMap((e) => (e.kind === 'data' ? [e.seq] : [])),
          emissions.map((_, i) => i + 1),
        );
        const req = d.runs[0]!.request;
        assert.equal(req.imageName, 'profile_cpu');
        assert.equal(req.version, 1);
        assert.equal(req.logLevel, 4);
        assert.equal(req.timeout, 5_000_000_000n);
        assert.deepEqual(req.paramValues, { 'operator.oci.ebpf.map-fetch-interval': '1s' });
      } finally {
        client.close();
      }
    });
  }

  it('decodes single datasources (one GadgetData per event) and skips undecoded datasources', async () => {
    const rows = emissions[2]!;
    const d = await double({
      layout: { single: true },
      endAfterScript: true,
      script: () => [{ rows }, { rows: [gadgetRow({ count: 3, name: 'x' })], datasource: 'stats' }],
    });
    const client = createIgGrpcClient({ address: d.unixAddress });
    try {
      const events = await collect(
        client.runGadget({ imageName: 'profile_cpu', decode: (ds) => ds.name === 'samples' }),
      );
      assert.deepStrictEqual(
        dataRows(events),
        rows.map((r) => [r]),
      );
      const stats = events.find((e) => e.kind === 'data' && e.datasource.name === 'stats');
      assert.ok(stats && stats.kind === 'data' && !stats.decoded && stats.rows.length === 0);
    } finally {
      client.close();
    }
  });

  it('stop() sends GadgetStopRequest and still receives the final flush', async () => {
    const flush = emissions[0]!;
    const d = await double({ script: () => [{ rows: emissions[1]! }], finalFlush: () => flush });
    const client = createIgGrpcClient({ address: d.unixAddress });
    try {
      const stream = client.runGadget({ imageName: 'profile_cpu' });
      const events = await collect(stream, (ev) => {
        if (ev.kind === 'data' && ev.seq === 1) void stream.stop();
      });
      assert.equal(d.runs[0]!.stopRequested, true);
      assert.deepStrictEqual(dataRows(events), [emissions[1], flush]);
    } finally {
      client.close();
    }
  });

  it('turns log events (level << 16) into log entries with our levels', async () => {
    const d = await double({
      endAfterScript: true,
      script: () => [
        { log: { level: 2, message: 'boom' } },
        { log: { level: 3, message: 'stack with ID 42 is lost' } },
        { log: { level: 4, message: 'fetching' } },
        { log: { level: 5, message: 'details' } },
      ],
    });
    const client = createIgGrpcClient({ address: d.unixAddress });
    try {
      const logs = (await collect(client.runGadget({ imageName: 'profile_cpu' }))).filter(
        (e) => e.kind === 'log',
      );
      assert.deepEqual(
        logs.map((l) => (l.kind === 'log' ? [l.level, l.igLevel, l.message] : [])),
        [
          ['error', 2, 'boom'],
          ['warn', 3, 'stack with ID 42 is lost'],
          ['info', 4, 'fetching'],
          ['debug', 5, 'details'],
        ],
      );
    } finally {
      client.close();
    }
  });

  it('attaches by Helm instance name (sha256 id) and gets the replay from seq 1, then live data', async () => {
    const d = await double({});
    const id = d.createInstance('profile-cpu');
    assert.equal(id, '2bd79ba47b38bc7ebe83ecc4356cf194');
    d.instanceEmit(id, emissions[0]!);
    d.instanceEmit(id, emissions[2]!);
    const client = createIgGrpcClient({ address: d.unixAddress });
    try {
      const stream = client.attach('profile-cpu');
      const events = await collect(stream, (ev) => {
        if (ev.kind === 'data' && ev.seq === 2) d.instanceEmit(id, emissions[3]!);
        if (ev.kind === 'data' && ev.seq === 3) void stream.stop();
      });
      assert.deepEqual(d.attaches, [id]);
      assert.deepStrictEqual(dataRows(events), [emissions[0], emissions[2], emissions[3]]);
      assert.deepEqual(
        events.flatMap((e) => (e.kind === 'data' ? [e.seq] : [])),
        [1, 2, 3],
      );
    } finally {
      client.close();
    }
  });

  it('GetGadgetInfo returns the datasources with their layout and annotations', async () => {
    const d = await double({});
    const client = createIgGrpcClient({ address: d.unixAddress });
    try {
      const info = await client.getGadgetInfo('profile_cpu', { 'operator.oci.ebpf.collect-ustack': 'true' });
      assert.deepStrictEqual(info.dataSources, d.info.dataSources);
      assert.equal(new TextDecoder().decode(info.metadata), new TextDecoder().decode(d.info.metadata));
      assert.deepEqual(d.infoRequests[0]!.paramValues, { 'operator.oci.ebpf.collect-ustack': 'true' });
      await assert.rejects(
        client.getGadgetInfo('ffffffffffffffffffffffffffffffff', {}, { instanceId: true }),
        /NOT_FOUND/,
      );
    } finally {
      client.close();
    }
  });

  it('names the address and what to check when the daemon is unreachable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'igop-'));
    const address = `unix://${join(dir, 'missing.socket')}`;
    const client = createIgGrpcClient({ address });
    try {
      await assert.rejects(client.getGadgetInfo('profile_cpu'), (err: Error) => {
        assert.ok(err instanceof IgStreamError);
        assert.match(err.message, new RegExp(`cannot reach Inspektor Gadget's daemon at ${address}`));
        assert.match(err.message, /ig daemon.*running.*--remote-address/);
        // grpc-js's empty "Resolution note:" and its final period are tidied away.
        assert.doesNotMatch(err.message, /Resolution note|\.\./);
        return true;
      });
      await assert.rejects(
        collect(client.runGadget({ imageName: 'profile_cpu' })),
        /cannot reach .*missing\.socket/,
      );
    } finally {
      client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'speaks mTLS with --tls-server-ca-file, --tls-cert-file/--tls-key-file and --tls-server-name',
    { skip: tlsFixturesUnavailable() },
    async () => {
      const pki = createTlsFixtures();
      try {
        const d = await double({
          tcp: true,
          tcpCredentials: grpc.ServerCredentials.createSsl(
            pki.pem.ca,
            [{ private_key: pki.pem.serverKey, cert_chain: pki.pem.serverCert }],
            true,
          ),
        });
        const good = createIgGrpcClient({
          address: d.tcpAddress!,
          tls: {
            serverCaFile: pki.caCertFile,
            certFile: pki.clientCertFile,
            keyFile: pki.clientKeyFile,
            serverName: TEST_SERVER_NAME,
          },
        });
        const wrongCa = createIgGrpcClient({
          address: d.tcpAddress!,
          tls: {
            serverCaFile: pki.otherCaCertFile,
            certFile: pki.clientCertFile,
            keyFile: pki.clientKeyFile,
          },
        });
        try {
          assert.equal((await good.getGadgetInfo('profile_cpu')).name, 'profile_cpu');
          await assert.rejects(wrongCa.getGadgetInfo('profile_cpu'), /UNAVAILABLE|cannot reach/);
        } finally {
          good.close();
          wrongCa.close();
        }
        assert.throws(
          () => createIgGrpcClient({ address: d.tcpAddress!, tls: { certFile: pki.clientCertFile } }),
          /--tls-key-file and --tls-cert-file/,
        );
      } finally {
        pki.cleanup();
      }
    },
  );

  it('parses gadgetctl-style addresses', () => {
    assert.equal(igTarget('unix:///var/run/ig/ig.socket'), 'unix:///var/run/ig/ig.socket');
    assert.equal(igTarget('/run/ig.sock'), 'unix:///run/ig.sock');
    assert.equal(igTarget('tcp://127.0.0.1:8080'), '127.0.0.1:8080');
    assert.equal(igTarget('tcp://[::1]:8080'), '[::1]:8080');
    assert.throws(
      () => igTarget('http://x:1'),
      /--remote-address "http:\/\/x:1".*unix:\/\/\/.*tcp:\/\/HOST:PORT/,
    );
    assert.throws(() => igTarget('tcp://nohost'), /--remote-address/);
  });
});
