import type { Socket } from 'node:net';
import { connect, createSecureContext, type SecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { serverNameOptions } from './tls-server-name.js';

/**
 * TLS channel credentials for grpc-js that never send an IP address as SNI. grpc-js sets the TLS
 * servername to the target host (or `grpc.ssl_target_name_override`) even when it is an IP
 * literal, which RFC 6066 forbids and Node answers with its DEP0123 warning on our stderr. These
 * credentials follow serverNameOptions instead. Shared by the OTLP/gRPC transport and the IG daemon
 * client.
 */

export interface GrpcTlsOptions {
  /** CA certificates (PEM); Node's root store when unset (grpc-js's GRPC_DEFAULT_SSL_ROOTS_FILE_PATH is not read). */
  readonly ca?: Buffer;
  /** mTLS client key and certificate chain (PEM), both or neither. */
  readonly key?: Buffer;
  readonly cert?: Buffer;
  /** Name to verify the server certificate against (and send as SNI) instead of the target host. */
  readonly serverName?: string;
}

/** `scheme:` or `scheme://authority/` before a target's path (grpc-js's URI syntax). */
const TARGET_PREFIX = /^[a-z][a-z0-9+.-]*:(?:\/\/[^/]*\/)?/i;

/**
 * The name the channel's server answers for, as grpc-js derives it (its default authority): the
 * host of the target (the first address of an ipv4:/ipv6: list), `localhost` for unix sockets, and
 * the real target's host behind an HTTP CONNECT proxy.
 */
function targetHost(target: grpc.experimental.GrpcUri, options: grpc.ChannelOptions): string {
  const proxied: unknown = options['grpc.http_connect_target'];
  if (typeof proxied !== 'string' && (target.scheme === 'unix' || target.scheme === 'unix-abstract'))
    return 'localhost';
  const path =
    (typeof proxied === 'string' ? proxied.replace(TARGET_PREFIX, '') : target.path).split(',')[0] ?? '';
  return grpc.experimental.splitHostPort(path)?.host ?? path;
}

class TlsConnector implements grpc.experimental.SecureConnector {
  constructor(
    private readonly _context: SecureContext,
    private readonly _host: string,
    private readonly _name: string,
    private readonly _callCredentials: grpc.CallCredentials,
  ) {}

  connect(socket: Socket): Promise<grpc.experimental.SecureConnectResult> {
    return new Promise((resolve, reject) => {
      const tlsSocket = connect(
        {
          socket,
          secureContext: this._context,
          host: this._host,
          ...serverNameOptions(this._name),
          ALPNProtocols: ['h2'],
        },
        () => {
          if (!tlsSocket.authorized) reject(tlsSocket.authorizationError);
          else resolve({ socket: tlsSocket, secure: true });
        },
      );
      tlsSocket.on('error', reject);
    });
  }

  waitForReady(): Promise<void> {
    return Promise.resolve();
  }

  getCallCredentials(): grpc.CallCredentials {
    return this._callCredentials;
  }

  destroy(): void {}
}

class TlsChannelCredentials extends grpc.ChannelCredentials {
  constructor(
    private readonly _context: SecureContext,
    private readonly _serverName: string | undefined,
  ) {
    super();
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: grpc.ChannelCredentials): boolean {
    return (
      other instanceof TlsChannelCredentials &&
      other._context === this._context &&
      other._serverName === this._serverName
    );
  }

  _createSecureConnector(
    target: grpc.experimental.GrpcUri,
    options: grpc.ChannelOptions,
    callCredentials?: grpc.CallCredentials,
  ): grpc.experimental.SecureConnector {
    const host = targetHost(target, options);
    return new TlsConnector(
      this._context,
      host,
      this._serverName ?? host,
      callCredentials ?? grpc.credentials.createEmpty(),
    );
  }
}

/** TLS credentials for a grpc-js channel (see the file comment). */
export function createGrpcTlsCredentials(options: GrpcTlsOptions): grpc.ChannelCredentials {
  const context = createSecureContext({
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.key ? { key: options.key } : {}),
    ...(options.cert ? { cert: options.cert } : {}),
  });
  return new TlsChannelCredentials(context, options.serverName);
}
