import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { createGrpcTlsCredentials } from '../../util/grpc-tls-credentials.js';

/**
 * gadgetctl-style daemon addresses and TLS options, turned into a grpc-js target, credentials
 * and channel options.
 */

/** `ig daemon`'s default socket (IG `api.DefaultDaemonPath`). */
export const DEFAULT_IG_ADDRESS = 'unix:///var/run/ig/ig.socket';

/** Mirrors gadgetctl's `--tls-key-file`, `--tls-cert-file`, `--tls-server-ca-file`, `--tls-server-name`. */
export interface IgTlsOptions {
  /** Client key (mTLS), PEM. */
  readonly keyFile?: string;
  /** Client certificate (mTLS), PEM. */
  readonly certFile?: string;
  /** CA that signed the daemon's certificate, PEM; the system roots when unset. */
  readonly serverCaFile?: string;
  /** Name to verify the daemon's certificate against, when it differs from the address host. */
  readonly serverName?: string;
}

export interface IgChannelSetup {
  /** The address as the user wrote it (for messages). */
  readonly address: string;
  readonly target: string;
  readonly credentials: grpc.ChannelCredentials;
  readonly options: grpc.ChannelOptions;
}

/**
 * IG never caps message sizes, and one GadgetDataArray (up to 10240 rows × long stack strings)
 * can exceed grpc-js's 4 MiB default: -1 lifts the receive limit.
 */
export const IG_MAX_RECEIVE_MESSAGE_LENGTH = -1;

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${flag} ${path}: ${(err as Error).message}`);
  }
}

/** `unix:///path`, `unix:/path`, `/path` (unix socket) or `tcp://host:port` → grpc-js target. */
export function igTarget(address: string): string {
  const a = address.trim();
  if (a.startsWith('unix://')) {
    const path = a.slice('unix://'.length);
    if (!path.startsWith('/')) throw addressError(address);
    return `unix://${path}`;
  }
  if (a.startsWith('unix:')) return a;
  if (a.startsWith('/')) return `unix://${a}`;
  if (a.startsWith('tcp://')) {
    const hostPort = a.slice('tcp://'.length).replace(/\/$/, '');
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):\d+$/.test(hostPort)) throw addressError(address);
    return hostPort;
  }
  throw addressError(address);
}

function addressError(address: string): Error {
  return new Error(
    `--remote-address "${address}": expected unix:///path/to/ig.socket (default ${DEFAULT_IG_ADDRESS}) or ` +
      `tcp://HOST:PORT (e.g. tcp://127.0.0.1:8080 inside the gadget pod)`,
  );
}

/** Builds what grpc-js needs to dial IG's daemon. */
export function igChannelSetup(address: string = DEFAULT_IG_ADDRESS, tls?: IgTlsOptions): IgChannelSetup {
  const target = igTarget(address);
  const options: grpc.ChannelOptions = {
    'grpc.max_receive_message_length': IG_MAX_RECEIVE_MESSAGE_LENGTH,
    'grpc.max_send_message_length': IG_MAX_RECEIVE_MESSAGE_LENGTH,
  };
  const useTls = tls !== undefined && Object.values(tls).some((v) => v !== undefined && v !== '');
  if (!useTls) return { address, target, credentials: grpc.credentials.createInsecure(), options };
  if ((tls.keyFile === undefined) !== (tls.certFile === undefined)) {
    throw new Error('--tls-key-file and --tls-cert-file go together (client certificate for mTLS)');
  }
  const credentials = createGrpcTlsCredentials({
    ...(tls.serverCaFile ? { ca: readPem(tls.serverCaFile, '--tls-server-ca-file') } : {}),
    ...(tls.keyFile ? { key: readPem(tls.keyFile, '--tls-key-file') } : {}),
    ...(tls.certFile ? { cert: readPem(tls.certFile, '--tls-cert-file') } : {}),
    ...(tls.serverName ? { serverName: tls.serverName } : {}),
  });
  if (tls.serverName) options['grpc.default_authority'] = tls.serverName;
  return { address, target, credentials, options };
}
