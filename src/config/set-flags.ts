import { didYouMean } from './config-error.js';
import { SECTION_KEY } from './config-file.js';
import type { SettingMap } from './exporter-settings.js';
import { emptyLayer, exporterPrefix, parseExporterSetting } from './exporter-settings.js';
import { SECTION_KEYS, sectionRow } from './section-schema.js';

/**
 * The `--set KEY=VALUE` layer, the highest precedence: `operator.otel-profiles.exporters.NAME.KEY`
 * for any key of any exporter (exporter-settings.ts parses it) and the keys of our section
 * (section-schema.ts; section-settings.ts parses them).
 */

export interface SetFlags {
  /** Per exporter name, its `--set` settings. */
  readonly exporters: Map<string, SettingMap>;
  /** Per key of the section, the text of its last `--set`. */
  readonly section: Map<string, string>;
}

/** Parses every `--set KEY=VALUE`; later items win over earlier ones. */
export function parseSetFlags(items: readonly string[], problems: string[]): SetFlags {
  const out: SetFlags = { exporters: new Map(), section: new Map() };
  const sectionKeys = SECTION_KEYS.map((k) => `${SECTION_KEY}.${k}`);
  const exportersPrefix = `${SECTION_KEY}.exporters.`;
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = (eq === -1 ? item : item.slice(0, eq)).trim();
    const value = eq === -1 ? '' : item.slice(eq + 1);
    if (eq === -1) {
      problems.push(`--set ${key}: expected KEY=VALUE (e.g. --set ${exportersPrefix}prod.timeout=5s)`);
      continue;
    }
    const sectionTail = key.startsWith(`${SECTION_KEY}.`) ? key.slice(SECTION_KEY.length + 1) : undefined;
    const row = sectionTail !== undefined ? sectionRow(sectionTail) : undefined;
    if (row) {
      out.section.set(row.key, value);
      continue;
    }
    if (!key.startsWith(exportersPrefix)) {
      problems.push(
        `--set ${key}: only ${exportersPrefix}NAME.KEY and ${sectionKeys.join(', ')} can be set here` +
          (sectionTail !== undefined ? didYouMean(sectionTail, SECTION_KEYS) : ''),
      );
      continue;
    }
    const rest = key.slice(exportersPrefix.length);
    const dot = rest.indexOf('.');
    const name = dot === -1 ? rest : rest.slice(0, dot);
    if (dot === -1 || !/^[A-Za-z0-9_-]+$/.test(name)) {
      problems.push(
        `--set ${key}: expected ${exportersPrefix}NAME.KEY=VALUE (e.g. ${exportersPrefix}prod.endpoint=collector:4317)`,
      );
      continue;
    }
    const map = out.exporters.get(name) ?? emptyLayer();
    out.exporters.set(name, map);
    parseExporterSetting(map, rest.slice(dot + 1), value, {
      prefix: exporterPrefix(name),
      source: { layer: 'set', label: `--set ${key}` },
      problems,
    });
  }
  return out;
}
