/**
 * grpc-js status details as one readable line: OpenSSL errors span several lines, and grpc-js
 * appends a "Resolution note:" that is usually empty. The result has no final period: callers
 * punctuate. Shared by the OTLP/gRPC transport and the IG gRPC client, which both put these
 * details into user-facing errors.
 */
export function tidyGrpcDetails(details: string): string {
  return details
    .replace(/\s+/g, ' ')
    .replace(/\s*Resolution note:\s*$/, '')
    .trim()
    .replace(/\.$/, '');
}
