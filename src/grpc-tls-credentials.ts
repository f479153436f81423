import { isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect, createSecureContext, type SecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';

/**
 * TLS channel credentials for grpc-js that never send an IP address as SNI. grpc-js sets the TLS
 * servername to the target host (or `grpc.ssl_target_name_override`) even when it is an IP
 * literal, which RFC 6066 forbids and Node answers with its DEP0123 warning on our stderr. Here the
 * name is sent only when it is a host name; the certificate is verified against the name (or the IP
 * address, by its IP SAN) either way. Shared by the OTLP/gRPC transport and the IG daemon client.
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

/** The host of a grpc-js target path: `host:port`, `[v6]:port` or a bare host. */
function targetHost(target: grpc.experimental.GrpcUri): string {
  return grpc.experimental.splitHostPort(target.path)?.host ?? target.path;
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
          ...(isIP(this._name) === 0 ? { servername: this._name } : {}),
          ALPNProtocols: ['h2'],
          checkServerIdentity: (_host, cert) => checkServerIdentity(this._name, cert),
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
    _options: grpc.ChannelOptions,
    callCredentials?: grpc.CallCredentials,
  ): grpc.experimental.SecureConnector {
    const host = targetHost(target);
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
