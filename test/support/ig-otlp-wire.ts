/**
 * Writes requests shaped exactly like Inspektor Gadget's otel-profiles operator output
 * (inspektor-gadget.md §4.6), with its own tiny protobuf writer (independent of src/): one Export,
 * service.name=inspektor-gadget, one Profile with sample_type {samples, count} and period_type
 * {profile name, count} period 1, one Sample per row with values=[n] and attribute indices, each row
 * its own stack (IG's `"; "` split: a trailing empty frame per stack field), no timestamps. The Sample
 * layout is proto v1.9 (what IG's pdata v0.147 writes) or v1.10+.
 */

export interface IgRow {
  /** IG's stack field strings, in `profiles.stack-fields` order (`kern_stack`, `user_stack_raw.symbols`). */
  readonly stacks: readonly string[];
  readonly value: number;
  /** Sample attributes by IG field name. */
  readonly attributes: Readonly<Record<string, string | number>>;
}

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
const len = (field: number, body: readonly number[]): number[] => [
  ...key(field, 2),
  ...varint(body.length),
  ...body,
];
const num = (field: number, v: number | bigint): number[] => [...key(field, 0), ...varint(v)];
const str = (field: number, s: string): number[] => len(field, [...Buffer.from(s, 'utf8')]);
const packed = (field: number, vs: readonly (number | bigint)[]): number[] =>
  len(
    field,
    vs.flatMap((v) => varint(v)),
  );

export function igRequest(
  rows: readonly IgRow[],
  options: { layout: 'v1.9' | 'v1.10'; profileName?: string; version?: string },
): Uint8Array {
  const strings = [''];
  const s = (text: string): number => {
    let i = strings.indexOf(text);
    if (i === -1) i = strings.push(text) - 1;
    return i;
  };
  const locations: number[][] = [[]];
  const functions: number[][] = [[]];
  const attributes: number[][] = [[]];
  const stacks: number[][] = [[]];
  const samples: number[][] = [];
  for (const row of rows) {
    const locationIndices: number[] = [];
    for (const field of row.stacks) {
      for (const frame of field.split('; ')) {
        functions.push(num(1, s(frame)));
        locations.push(len(3, num(1, functions.length - 1)));
        locationIndices.push(locations.length - 1);
      }
    }
    stacks.push(packed(1, locationIndices));
    const attributeIndices = Object.entries(row.attributes).map(([k, v]) => {
      attributes.push([...num(1, s(k)), ...len(2, typeof v === 'string' ? str(1, v) : num(3, v))]);
      return attributes.length - 1;
    });
    const stackIndex = num(1, stacks.length - 1);
    samples.push(
      options.layout === 'v1.9'
        ? [
            ...stackIndex,
            ...packed(2, [row.value]),
            ...(attributeIndices.length ? packed(3, attributeIndices) : []),
          ]
        : [
            ...stackIndex,
            ...(attributeIndices.length ? packed(2, attributeIndices) : []),
            ...packed(4, [row.value]),
          ],
    );
  }
  const profileName = options.profileName ?? 'process_cpu';
  const profile = [
    ...len(1, [...num(1, s('samples')), ...num(2, s('count'))]),
    ...samples.flatMap((sample) => len(2, sample)),
    ...len(5, [...num(1, s(profileName)), ...num(2, s('count'))]),
    ...num(6, 1),
  ];
  const version = options.version ?? 'v0.50.0';
  const resource = [
    ...len(1, [...str(1, 'service.name'), ...len(2, str(1, 'inspektor-gadget'))]),
    ...len(1, [...str(1, 'service.version'), ...len(2, str(1, version))]),
  ];
  const scope = [...str(1, 'inspektor-gadget'), ...str(2, version)];
  const resourceProfiles = [
    ...len(1, resource),
    ...len(2, [...len(1, scope), ...len(2, profile)]),
    ...str(3, 'https://opentelemetry.io/schemas/1.26.0'),
  ];
  const dictionary = [
    ...len(1, []),
    ...locations.flatMap((l) => len(2, l)),
    ...functions.flatMap((f) => len(3, f)),
    ...len(4, []),
    ...strings.flatMap((t) => str(5, t)),
    ...attributes.flatMap((a) => len(6, a)),
    ...stacks.flatMap((st) => len(7, st)),
  ];
  return Uint8Array.from([...len(1, resourceProfiles), ...len(2, dictionary)]);
}
