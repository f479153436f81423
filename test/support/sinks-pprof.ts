import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import type { Sample } from 'pprof-format';

/** Reads a `.pb.gz` the way `go tool pprof` does: gunzip, then decode. */
export function readPprofFile(path: string): Profile {
  return Profile.decode(gunzipSync(readFileSync(path)));
}

const big = (n: number | bigint): bigint => BigInt(n);

/**
 * The checks of pprof's `Profile.CheckValid` (sample types present, one value per sample type,
 * nonzero unique ids, every referenced mapping/function/location present) plus the string-table
 * rules of profile.proto. Returns the problems found (empty = valid).
 */
export function pprofProblems(p: Profile): string[] {
  const problems: string[] = [];
  const strings = p.stringTable.strings;
  const inStrings = (i: number | bigint, what: string): void => {
    if (big(i) < 0n || big(i) >= BigInt(strings.length))
      problems.push(`${what}: string index ${i} out of range`);
  };
  if (strings[0] !== '') problems.push('string_table[0] is not ""');
  if (p.sample.length > 0 && p.sampleType.length === 0) problems.push('samples without sample_type');
  for (const vt of p.sampleType) {
    inStrings(vt.type, 'sample_type.type');
    inStrings(vt.unit, 'sample_type.unit');
  }
  const ids = (items: { id: number | bigint }[], what: string): Set<bigint> => {
    const seen = new Set<bigint>();
    for (const item of items) {
      const id = big(item.id);
      if (id === 0n) problems.push(`${what} with id 0`);
      if (seen.has(id)) problems.push(`${what} id ${id} repeated`);
      seen.add(id);
    }
    return seen;
  };
  const mappings = ids(p.mapping, 'mapping');
  const functions = ids(p.function, 'function');
  const locations = ids(p.location, 'location');
  for (const m of p.mapping) {
    inStrings(m.filename, `mapping ${m.id}.filename`);
    inStrings(m.buildId, `mapping ${m.id}.build_id`);
  }
  for (const f of p.function) {
    inStrings(f.name, `function ${f.id}.name`);
    inStrings(f.systemName, `function ${f.id}.system_name`);
    inStrings(f.filename, `function ${f.id}.filename`);
  }
  for (const l of p.location) {
    if (big(l.mappingId) !== 0n && !mappings.has(big(l.mappingId)))
      problems.push(`location ${l.id}: unknown mapping ${l.mappingId}`);
    for (const line of l.line) {
      if (!functions.has(big(line.functionId)))
        problems.push(`location ${l.id}: unknown function ${line.functionId}`);
    }
  }
  p.sample.forEach((s, i) => {
    if (s.value.length !== p.sampleType.length)
      problems.push(`sample ${i}: ${s.value.length} values for ${p.sampleType.length} types`);
    for (const id of s.locationId)
      if (!locations.has(big(id))) problems.push(`sample ${i}: unknown location ${id}`);
    const keys = new Set<string>();
    for (const label of s.label) {
      inStrings(label.key, `sample ${i} label key`);
      inStrings(label.str, `sample ${i} label str`);
      const key = strings[Number(label.key)] ?? '';
      if (key === '') problems.push(`sample ${i}: label with empty key`);
      if (keys.has(key)) problems.push(`sample ${i}: label ${key} repeated`);
      keys.add(key);
      if (big(label.str) !== 0n && big(label.num) !== 0n)
        problems.push(`sample ${i}: label ${key} has both str and num`);
    }
  });
  if (p.periodType) {
    inStrings(p.periodType.type, 'period_type.type');
    inStrings(p.periodType.unit, 'period_type.unit');
  }
  for (const c of p.comment) inStrings(c, 'comment');
  return problems;
}

export function str(p: Profile, index: number | bigint): string {
  return p.stringTable.strings[Number(index)] ?? `<bad string ${index}>`;
}

/** Function names of a sample, leaf first; `@0x…` for a location without lines. */
export function sampleStack(p: Profile, s: Sample): string[] {
  return s.locationId.map((id) => {
    const loc = p.location.find((l) => big(l.id) === big(id));
    if (!loc) return '<missing>';
    const line = loc.line[0];
    if (!line) return `@0x${big(loc.address).toString(16)}`;
    const fn = p.function.find((f) => big(f.id) === big(line.functionId));
    return fn ? str(p, fn.name) : '<missing fn>';
  });
}

export function sampleLabels(p: Profile, s: Sample): Record<string, string | bigint> {
  const out: Record<string, string | bigint> = {};
  for (const l of s.label) out[str(p, l.key)] = big(l.str) !== 0n ? str(p, l.str) : big(l.num);
  return out;
}

/** Total of value column `column` over all samples. */
export function columnTotal(p: Profile, column: number): bigint {
  return p.sample.reduce((sum, s) => sum + big(s.value[column] ?? 0), 0n);
}

/** Why `go tool pprof` cannot be used here, or undefined when it can. */
export function goToolSkipReason(): string | undefined {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    return `go is not on PATH (${r.error?.message ?? r.stderr.trim()}); install golang-go to run go tool pprof checks`;
  return undefined;
}

/** Runs `go tool pprof <args>` and returns stdout (symbolization warnings go to stderr). */
export function goPprof(args: readonly string[]): string {
  return execFileSync('go', ['tool', 'pprof', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PPROF_TMPDIR: process.env.TMPDIR ?? '/tmp' },
    timeout: 60_000,
  });
}
