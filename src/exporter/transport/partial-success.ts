import type { ExportProfilesServiceResponse } from '../../profiles/model/otlp-model.js';
import type { ExportResponse } from '../export-response.js';

/**
 * The `success` ExportResponse for a decoded response: `rejectedProfiles` is set whenever the server
 * populated partial_success meaningfully (0 + message = a warning), `message` when it is non-empty.
 */
export function successFromExportResponse(response: ExportProfilesServiceResponse): ExportResponse {
  const partial = response.partialSuccess;
  // An empty partial_success is, per the spec, the same as none.
  if (!partial || (partial.rejectedProfiles === 0n && partial.errorMessage === ''))
    return { status: 'success' };
  return {
    status: 'success',
    rejectedProfiles: Number(partial.rejectedProfiles),
    ...(partial.errorMessage !== '' ? { message: partial.errorMessage } : {}),
  };
}
