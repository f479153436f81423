import { decodeBody } from '../receiver/request-body.js';
import type { BodyResult } from '../receiver/request-body.js';
import type { BodyFormat } from '../receiver/receive-outcome.js';
import type { LayoutChoice } from './sample-layout.js';
import { detectSampleLayout, rewriteV19Samples, WireFormatError } from './sample-layout.js';

/**
 * The receivers' body decoder for relay: a protobuf body's Sample layout is read from the wire (or
 * forced), a v1.9 body is renumbered to v1.10, then the normal decoder runs. OTLP/JSON names fields,
 * so both layouts read the same there. Every refusal is reported to `onRefused` (counted as a loss).
 */
export function createLayoutDecoder(
  choice: LayoutChoice,
  onRefused: () => void,
): (bytes: Uint8Array, format: BodyFormat) => BodyResult {
  const decode = (bytes: Uint8Array, format: BodyFormat): BodyResult => {
    if (format !== 'protobuf') return decodeBody(bytes, format);
    try {
      let layout = choice;
      if (layout === 'auto') {
        const detected = detectSampleLayout(bytes);
        if (detected.kind === 'mixed') return { kind: 'invalid', message: detected.message };
        layout = detected.layout;
      }
      return decodeBody(layout === 'v1.9' ? rewriteV19Samples(bytes) : bytes, 'protobuf');
    } catch (err) {
      if (!(err instanceof WireFormatError)) throw err;
      return { kind: 'invalid', message: `malformed protobuf request: ${err.message}` };
    }
  };
  return (bytes, format) => {
    const result = decode(bytes, format);
    if (result.kind !== 'ok') onRefused();
    return result;
  };
}
