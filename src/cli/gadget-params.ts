import type { GadgetInfo, Param } from '../gadget-bridge/grpc/gadget-messages.js';
import { UsageError } from './cli-options.js';

/**
 * Turns IG-style gadget flags (`--collect-ustack`, `--map-fetch-interval 5s`, `-A`) into the
 * fully qualified `paramValues` keys the daemon expects (`operator.oci.ebpf.collect-ustack`).
 * Like IG's own CLI, the daemon's GetGadgetInfo says which parameters exist (prefix, key, alias,
 * type); a fully qualified `--operator.x.y=v` always passes through as is.
 */

/** A gadget flag as typed: name without dashes, and its value if one was attached or followed. */
export interface GadgetFlag {
  readonly name: string;
  readonly value?: string;
}

/** Splits gadget tokens into flags; a value follows unless the next token is a flag (or `=` is used). */
export function tokenizeGadgetFlags(
  tokens: readonly string[],
  isBoolean: (name: string) => boolean,
): GadgetFlag[] {
  const flags: GadgetFlag[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    if (!token.startsWith('-'))
      throw new UsageError(`unexpected argument "${token}" (gadget flags look like --name value)`);
    const body = token.replace(/^--?/, '');
    const eq = body.indexOf('=');
    if (eq !== -1) {
      flags.push({ name: body.slice(0, eq), value: body.slice(eq + 1) });
      continue;
    }
    const next = tokens[i + 1];
    if (!isBoolean(body) && next !== undefined && !next.startsWith('-')) {
      flags.push({ name: body, value: next });
      i++;
    } else {
      flags.push({ name: body });
    }
  }
  return flags;
}

function isBooleanParam(p: Param): boolean {
  return p.typeHint === 'bool' || p.typeHint === 'boolean';
}

/** Parameters a flag name may refer to: key, alias (`-A`) or alternative key. */
function findParams(params: readonly Param[], name: string): Param[] {
  return params.filter(
    (p) =>
      p.key === name ||
      (p.alias !== '' && p.alias === name) ||
      (p.alternativeKey !== '' && p.alternativeKey === name),
  );
}

export function booleanFlagPredicate(info: GadgetInfo | undefined): (name: string) => boolean {
  return (name) => {
    if (name.startsWith('operator.')) return false;
    const found = info ? findParams(info.params, name) : [];
    return found.length > 0 ? found.every(isBooleanParam) : false;
  };
}

/** Resolves flags against the gadget's parameters; unknown flags are a usage error listing what exists. */
export function resolveGadgetParams(flags: readonly GadgetFlag[], info: GadgetInfo): Record<string, string> {
  const values: Record<string, string> = {};
  for (const flag of flags) {
    if (flag.name.startsWith('operator.')) {
      values[flag.name] = flag.value ?? 'true';
      continue;
    }
    const found = findParams(info.params, flag.name);
    if (found.length === 0) {
      const known = [...new Set(info.params.map((p) => p.key))].sort().join(', ');
      throw new UsageError(
        `unknown gadget flag --${flag.name} for ${info.imageName || info.name}. Its parameters: ${known}`,
      );
    }
    for (const p of found) {
      const value = flag.value ?? (isBooleanParam(p) ? 'true' : undefined);
      if (value === undefined)
        throw new UsageError(`gadget flag --${flag.name} needs a value (${p.description || p.typeHint})`);
      if (p.possibleValues.length > 0 && !p.possibleValues.includes(value)) {
        throw new UsageError(`--${flag.name} ${value}: expected one of ${p.possibleValues.join(', ')}`);
      }
      values[`${p.prefix}${p.key}`] = value;
    }
  }
  return values;
}
