/**
 * Named monotonic counters with optional labels: every row read, sample exported and request
 * dropped is counted here, so the final report (and /metrics) can say exactly what happened.
 * Names are snake_case with a unit suffix where it helps: `rows_read`, `requests_dropped`.
 */
export type CounterLabels = Readonly<Record<string, string>>;

export interface CounterSample {
  readonly name: string;
  readonly labels: CounterLabels;
  readonly value: number;
}

function keyOf(name: string, labels: CounterLabels | undefined): string {
  if (!labels) return name;
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

export class Counters {
  private readonly _values = new Map<string, { name: string; labels: CounterLabels; value: number }>();

  add(name: string, amount = 1, labels?: CounterLabels): void {
    if (amount === 0) return;
    const key = keyOf(name, labels);
    const entry = this._values.get(key);
    if (entry) entry.value += amount;
    else this._values.set(key, { name, labels: labels ?? {}, value: amount });
  }

  /** Current value of one labelled series (0 when never touched). */
  get(name: string, labels?: CounterLabels): number {
    return this._values.get(keyOf(name, labels))?.value ?? 0;
  }

  /** Sum over all label sets of `name`. */
  total(name: string): number {
    let sum = 0;
    for (const e of this._values.values()) if (e.name === name) sum += e.value;
    return sum;
  }

  snapshot(): CounterSample[] {
    return [...this._values.values()]
      .map((e) => ({ name: e.name, labels: e.labels, value: e.value }))
      .sort((a, b) => keyOf(a.name, a.labels).localeCompare(keyOf(b.name, b.labels)));
  }
}
