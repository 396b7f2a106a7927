import { describe, expect, it } from '@jest/globals';
import { fuzzParams, fuzzRuns } from './fuzz-params.js';

describe('fuzz params', () => {
  it('takes the spec default unless GITFLEET_FUZZ_RUNS is set', () => {
    expect(fuzzRuns(200, {})).toBe(200);
    expect(fuzzRuns(200, { GITFLEET_FUZZ_RUNS: '20000' })).toBe(20000);
  });

  it('refuses a run count that is not a positive integer, naming the variable', () => {
    for (const bad of ['0', '-5', '1e4', 'many', '9999999999']) {
      expect(() => fuzzRuns(200, { GITFLEET_FUZZ_RUNS: bad })).toThrow(/GITFLEET_FUZZ_RUNS/);
    }
  });

  it('replays a reported failure from its seed and path', () => {
    expect(fuzzParams(200, { GITFLEET_FUZZ_SEED: '-1615784619', GITFLEET_FUZZ_PATH: '318:0' })).toEqual({
      numRuns: 200,
      seed: -1615784619,
      path: '318:0',
    });
    expect(fuzzParams(200, {})).toEqual({ numRuns: 200 });
    expect(() => fuzzParams(200, { GITFLEET_FUZZ_SEED: 'x' })).toThrow(/GITFLEET_FUZZ_SEED/);
  });
});
