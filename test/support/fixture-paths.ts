/**
 * Data files the tests read. The IG example output is a copy of `../shared/data/` kept in the
 * repository so a clean clone tests on its own.
 */
export const IG_EXAMPLES_PATH = new URL('../fixtures/ig-profile_cpu-examples.jsonl', import.meta.url)
  .pathname;
