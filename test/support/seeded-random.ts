/** A small seeded generator for randomised tests: the same seed gives the same documents every run. */
export interface SeededRandom {
  /** An integer in [0, n). */
  int(n: number): number;
  /** A decimal integer of `count` digits without a leading zero. */
  digits(count: number): string;
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed;
  const int = (n: number): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff; // the classic C library LCG
    return state % n;
  };
  return {
    int,
    digits: (count) => String(1 + int(9)) + Array.from({ length: count - 1 }, () => String(int(10))).join(''),
  };
}
