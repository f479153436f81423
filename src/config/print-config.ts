import { stringify } from 'yaml';
import { isPlainObject } from '../util/plain-object.js';
import type { ExporterConfig } from './exporter-config.js';
import { EXPORTER_ROWS, readField } from './exporter-schema.js';
import type { LoadedConfig } from './load-config.js';
import { SECTION_ROWS } from './section-schema.js';

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
 * The effective configuration as an IG-style YAML file (what `--print-config` shows): the section's
 * keys from their schema rows (section-schema.ts; an unset optional key is left out), then the
 * selected exporters with every default spelled out, header values redacted, and the sources as
 * comments. Without headers, the output loads back to the same configuration.
 */
export function renderConfig(config: LoadedConfig): string {
  const section: Record<string, unknown> = {};
  for (const row of SECTION_ROWS) {
    const value: unknown = config[row.field];
    if (value !== undefined && row.type.is(value)) section[row.key] = row.type.print(value);
  }
  section.exporters = Object.fromEntries([...config.exporters].map(([name, c]) => [name, exporterToYaml(c)]));
  const header = config.sources.map((s) => `# source: ${s}`).join('\n');
  return `${header}\n${stringify({ operator: { 'otel-profiles': section } }, { lineWidth: 0 })}`;
}
