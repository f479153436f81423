import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';

/**
 * tls.connect options that verify the server certificate against `name` (a host name, or an IP
 * address checked against the certificate's IP SANs) and send `name` as SNI only when it is a host
 * name: RFC 6066 forbids IP addresses there, and Node prints its DEP0123 warning for them. Shared by
 * the gRPC credentials (grpc-tls-credentials.ts) and the OTLP/HTTP transport.
 */
export function serverNameOptions(
  name: string,
): Pick<ConnectionOptions, 'servername' | 'checkServerIdentity'> {
  return {
    ...(isIP(name) === 0 ? { servername: name } : {}),
    checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
  };
}
