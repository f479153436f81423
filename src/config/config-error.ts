/**
 * Every configuration problem found while loading, collected so the user fixes them in one go
 * instead of one per run. Each problem names its place (key, file:line, env var or flag) and the fix.
 * The CLI maps this error to exit status 2 (usage/configuration error) by its `name`.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** One line per problem, in the order found. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      problems.length === 1
        ? `configuration error: ${problems[0]}`
        : `${problems.length} configuration errors:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.problems = [...problems];
  }
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * ` (did you mean "x"?)` for the closest candidate within a third of the word's length (at least
 * 2 edits), or `` when nothing is close. `-` and `_` are compared alike so `max-size` finds `max_size`.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const norm = (s: string): string => s.toLowerCase().replace(/-/g, '_');
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(norm(word), norm(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= limit ? ` (did you mean "${best}"?)` : '';
}
