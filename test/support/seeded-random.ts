/** A small seeded generator for randomised tests: the same seed gives the same documents every run. */
export interface SeededRandom {
  /** An integer in [0, n). */
  int(n: number): number;
  /** A decimal integer of `count` digits without a leading zero. */
  digits(count: number): string;
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed;
  return fromInt((n) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff; // the classic C library LCG
    return state % n;
  });
}

/**
 * Like seededRandom, but every output bit is mixed (mulberry32): for generators drawing many small
 * ranges in a row, where the LCG's low bits (bit k repeats every 2^(k+1) draws) would tie the draws
 * together (e.g. a `% 4` draw cycling through the same four values).
 */
export function mixedSeededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  return fromInt((n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000) * n);
  });
}

function fromInt(int: (n: number) => number): SeededRandom {
  return {
    int,
    digits: (count) => String(1 + int(9)) + Array.from({ length: count - 1 }, () => String(int(10))).join(''),
  };
}
