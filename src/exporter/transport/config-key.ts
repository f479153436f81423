import { SECTION_KEY } from '../../config/config-file.js';

/** Full config key of one exporter setting, as users write it: `operator.otel-profiles.exporters.NAME.KEY`. */
export function exporterConfigKey(exporterName: string, key: string): string {
  return `${SECTION_KEY}.exporters.${exporterName}.${key}`;
}
