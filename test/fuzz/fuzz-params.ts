// The one place the property specs (fast-check) take their run count from. CI runs them bounded
// (each spec's own default); `npm run fuzz` (test/fuzz/run.sh) sets GITFLEET_FUZZ_RUNS for long runs
// and GITFLEET_FUZZ_SEED (and GITFLEET_FUZZ_PATH) to replay a failure fast-check reported.
import type { Parameters } from 'fast-check';

/** Runs per property: GITFLEET_FUZZ_RUNS when set (a positive integer), else `defaultRuns`. */
export function fuzzRuns(defaultRuns: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.GITFLEET_FUZZ_RUNS?.trim();
  if (!raw) return defaultRuns;
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) {
    throw new Error(`GITFLEET_FUZZ_RUNS must be a positive integer (got '${raw.slice(0, 40)}')`);
  }
  return Number(raw);
}

/**
 * fast-check parameters for one property: the run count above, plus the seed and path of a
 * reported failure when GITFLEET_FUZZ_SEED / GITFLEET_FUZZ_PATH are set, so that failure replays.
 */
export function fuzzParams<T = unknown>(
  defaultRuns: number,
  env: NodeJS.ProcessEnv = process.env,
): Parameters<T> {
  const params: Parameters<T> = { numRuns: fuzzRuns(defaultRuns, env) };
  const seed = env.GITFLEET_FUZZ_SEED?.trim();
  if (seed) {
    if (!/^-?[0-9]{1,10}$/.test(seed)) {
      throw new Error(`GITFLEET_FUZZ_SEED must be an integer (got '${seed.slice(0, 40)}')`);
    }
    params.seed = Number(seed);
  }
  const path = env.GITFLEET_FUZZ_PATH?.trim();
  if (path) params.path = path;
  return params;
}
