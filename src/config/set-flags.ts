import type { SectionSetting } from './config-file.js';
import { SECTION_KEY, SECTION_SETTING_KEYS, SECTION_SETTINGS } from './config-file.js';
import type { SettingMap } from './exporter-settings.js';
import { emptyLayer, exporterPrefix, parseExporterSetting } from './exporter-settings.js';

/**
 * The `--set KEY=VALUE` layer, the highest precedence: `operator.otel-profiles.exporters.NAME.KEY`
 * for any key of any exporter (exporter-settings.ts parses it) and the keys of our section.
 */

/** Per exporter name, its `--set` settings; per section setting (config-file.ts), its text. */
export type SetFlags = { readonly exporters: Map<string, SettingMap> } & {
  [S in SectionSetting]?: string;
};

/** Parses every `--set KEY=VALUE`; later items win over earlier ones. */
export function parseSetFlags(items: readonly string[], problems: string[]): SetFlags {
  const out: SetFlags = { exporters: new Map() };
  const exportersPrefix = `${SECTION_KEY}.exporters.`;
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = (eq === -1 ? item : item.slice(0, eq)).trim();
    const value = eq === -1 ? '' : item.slice(eq + 1);
    if (eq === -1) {
      problems.push(`--set ${key}: expected KEY=VALUE (e.g. --set ${exportersPrefix}prod.timeout=5s)`);
      continue;
    }
    const setting = SECTION_SETTINGS.find((name) => key === `${SECTION_KEY}.${SECTION_SETTING_KEYS[name]}`);
    if (setting !== undefined) {
      out[setting] = value;
      continue;
    }
    if (!key.startsWith(exportersPrefix)) {
      const sectionKeys = SECTION_SETTINGS.map((name) => `${SECTION_KEY}.${SECTION_SETTING_KEYS[name]}`).join(
        ', ',
      );
      problems.push(`--set ${key}: only ${exportersPrefix}NAME.KEY and ${sectionKeys} can be set here`);
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
