import { readFileSync } from 'node:fs';
import type { FieldRecord, FieldValue, GadgetRow } from '../../src/rows/gadget-row.js';
import { gadgetRows } from '../../src/rows/gadget-row.js';
import { IG_EXAMPLES_PATH } from './fixture-paths.js';

/**
 * A small bigint-safe JSON parser for tests: integer literals beyond ±(2^53-1) become bigint,
 * every other number a number (IG prints u64 values such as `kernel_ip` in full precision).
 */
export function parseJsonBigint(text: string): FieldValue {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`JSON: ${what} at offset ${i}`);
  };
  const value = (): FieldValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, FieldValue> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      while (true) {
        ws();
        const key = value();
        if (typeof key !== 'string') fail('expected a key');
        ws();
        if (text[i++] !== ':') fail('expected :');
        obj[key as string] = value();
        ws();
        const sep = text[i++];
        if (sep === '}') return obj;
        if (sep !== ',') fail('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const arr: FieldValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      while (true) {
        arr.push(value());
        ws();
        const sep = text[i++];
        if (sep === ']') return arr;
        if (sep !== ',') fail('expected , or ]');
      }
    }
    if (c === '"') {
      const start = i;
      i++;
      while (text[i] !== '"') {
        if (text[i] === '\\') i++;
        i++;
        if (i >= text.length) fail('unterminated string');
      }
      i++;
      return JSON.parse(text.slice(start, i)) as string;
    }
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (m) {
      i += m[0].length;
      if (m[1] === undefined && m[2] === undefined) {
        const n = Number(m[0]);
        return Number.isSafeInteger(n) ? n : BigInt(m[0]);
      }
      return Number(m[0]);
    }
    for (const [lit, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return v;
      }
    }
    return fail('unexpected character');
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}

export { IG_EXAMPLES_PATH };

/** The example file's lines, each one emitted array of rows (the `-o json` view). */
export function readIgExampleEmissions(path: string = IG_EXAMPLES_PATH): GadgetRow[][] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => gadgetRows(parseJsonBigint(l) as FieldRecord[]));
}

/** JSON text of a value with bigints printed as plain integers (IG's `-o json` style). */
export function stringifyJsonBigint(value: FieldValue): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(stringifyJsonBigint).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${stringifyJsonBigint(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
