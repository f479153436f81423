import { stringify } from 'yaml';
import {
  K8S_POD_METADATA_KEY,
  LOG_FORMAT_KEY,
  LOG_LEVEL_KEY,
  SELECTION_KEY,
  TELEMETRY_ADDRESS_KEY,
} from './config-file.js';
import { isPlainObject } from './config-file.js';
import type { ExporterConfig } from './exporter-config.js';
import { EXPORTER_ROWS, readField } from './exporter-schema.js';
import type { LoadedConfig } from './load-config.js';

export { REDACTED } from './exporter-schema.js';

/**
 * One exporter in the file's layout: every key its kind uses, from the schema rows (nested at the
 * dots, durations and sizes as text, header values redacted); unset optional keys are left out.
 */
function exporterToYaml(c: ExporterConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const row of EXPORTER_ROWS) {
    if (row.appliesTo && !row.appliesTo.includes(c.exporter)) continue;
    const value = readField(c, row.field);
    if (value === undefined || !row.type.is(value)) continue;
    const [key = '', child] = row.key.split('.');
    const printed = row.type.print(value);
    if (child === undefined) out[key] = printed;
    else out[key] = { ...(isPlainObject(out[key]) ? out[key] : {}), [child]: printed };
  }
  return out;
}

/**
 * The effective configuration as an IG-style YAML file (what `--print-config` shows): the
 * selected exporters with every default spelled out, header values redacted, and the sources as
 * comments. Without headers, the output loads back to the same configuration.
 */
export function renderConfig(config: LoadedConfig): string {
  const exporters = Object.fromEntries([...config.exporters].map(([name, c]) => [name, exporterToYaml(c)]));
  const section = {
    [LOG_LEVEL_KEY]: config.logLevel,
    ...(config.k8sPodMetadata ? { [K8S_POD_METADATA_KEY]: true } : {}),
    [LOG_FORMAT_KEY]: config.logFormat,
    ...(config.telemetryAddress ? { [TELEMETRY_ADDRESS_KEY]: config.telemetryAddress.text } : {}),
    ...(config.selection.text !== '' ? { [SELECTION_KEY]: config.selection.text } : {}),
    exporters,
  };
  const header = config.sources.map((s) => `# source: ${s}`).join('\n');
  return `${header}\n${stringify({ operator: { 'otel-profiles': section } }, { lineWidth: 0 })}`;
}
