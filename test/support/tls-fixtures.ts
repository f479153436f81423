import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Throw-away PKI generated with `openssl` into a temp dir: a CA, a server certificate for loopback
 * (IP 127.0.0.1 and ::1, DNS localhost and `otlp.test`), a client certificate for mTLS, and a second,
 * unrelated CA for "wrong CA" tests. ECDSA P-256 keys, so generation takes milliseconds.
 */
export interface TlsFixtures {
  readonly dir: string;
  readonly caCertFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** A CA that signed nothing here: trusting only it must fail the handshake. */
  readonly otherCaCertFile: string;
  /** PEM contents, for test servers. */
  readonly pem: {
    readonly ca: Buffer;
    readonly serverCert: Buffer;
    readonly serverKey: Buffer;
    readonly clientCert: Buffer;
    readonly clientKey: Buffer;
  };
  /** Removes the temp dir. */
  cleanup(): void;
}

/** DNS name in the server certificate that does not resolve: for `tls.serverName` tests. */
export const TEST_SERVER_NAME = 'otlp.test';

/** Why TLS tests must be skipped (openssl missing), or undefined when they can run. */
export function tlsFixturesUnavailable(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'openssl is not on PATH: cannot generate test certificates';
  }
}

/** Generates the fixtures (a few openssl runs). Call `cleanup()` when done. */
export function createTlsFixtures(): TlsFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'igop-tls-'));
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const selfSignedCa = (name: string, cn: string): void =>
    openssl(
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.crt`),
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  const leaf = (name: string, cn: string, extensions: string): void => {
    writeFileSync(file(`${name}.ext`), extensions);
    openssl(
      'req',
      '-new',
      ...ecKey,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
      '-subj',
      `/CN=${cn}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '2',
      '-sha256',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.crt`),
    );
  };
  try {
    selfSignedCa('ca', 'igop test CA');
    selfSignedCa('other-ca', 'igop unrelated CA');
    leaf(
      'server',
      'localhost',
      `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:${TEST_SERVER_NAME}\n`,
    );
    leaf('client', 'igop test client', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl failed generating test certificates: ${stderr || String(err)}`);
  }
  return {
    dir,
    caCertFile: file('ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    otherCaCertFile: file('other-ca.crt'),
    pem: {
      ca: readFileSync(file('ca.crt')),
      serverCert: readFileSync(file('server.crt')),
      serverKey: readFileSync(file('server.key')),
      clientCert: readFileSync(file('client.crt')),
      clientKey: readFileSync(file('client.key')),
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
