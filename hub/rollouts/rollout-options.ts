// An assignment's rollout options (pure): validation of what the API receives, and what
// --max-unavailable allows inside a stage of a given size.
import type { RolloutOptions } from '../../proto/index.js';
import { checkLabelSelector, isEmptySelector } from '../../proto/contract/label-selector.js';
import { ValidationError, quote } from '../../proto/contract/validation.js';

/** Most --rollout-stage selectors (the clusters no stage selects form one more, last stage). */
export const MAX_ROLLOUT_STAGES = 20;
/** Longest --soak: a week. */
export const MAX_SOAK_SECONDS = 7 * 24 * 3600;
/** Largest --max-failures. */
export const MAX_ROLLOUT_FAILURES = 100_000;
/** Largest absolute --max-unavailable. */
const MAX_UNAVAILABLE_COUNT = 1_000_000;

const COUNT = /^[0-9]{1,7}$/;
const PERCENT = /^([0-9]{1,3})%$/;

/**
 * Validates rollout options; undefined (no staged rollout: every cluster gets a new revision at
 * once, as without) when none are given. Throws a ValidationError naming the field.
 */
export function checkRolloutOptions(
  field: string,
  input: Partial<RolloutOptions> | undefined | null,
): RolloutOptions | undefined {
  if (!input) return undefined;
  const given = input.stages ?? [];
  if (given.length > MAX_ROLLOUT_STAGES) {
    throw new ValidationError(
      `${field}.stages`,
      `at most ${MAX_ROLLOUT_STAGES} stages (${given.length} given)`,
    );
  }
  const stages = given.map((s, i) => {
    const sel = checkLabelSelector(`${field}.stages[${i}]`, s);
    if (isEmptySelector(sel)) {
      throw new ValidationError(
        `${field}.stages[${i}]`,
        'an empty stage selects every cluster: give a selector (the clusters no stage selects form the last stage by themselves)',
      );
    }
    return sel;
  });
  const maxUnavailable = (input.maxUnavailable ?? '').trim();
  if (maxUnavailable !== '') maxUnavailableProblem(`${field}.max_unavailable`, maxUnavailable);
  const soakSeconds = Number(input.soakSeconds ?? 0);
  if (!Number.isSafeInteger(soakSeconds) || soakSeconds < 0 || soakSeconds > MAX_SOAK_SECONDS) {
    throw new ValidationError(
      `${field}.soak_seconds`,
      `${String(input.soakSeconds)} is not between 0 and ${MAX_SOAK_SECONDS} seconds (a week)`,
    );
  }
  const maxFailures = Number(input.maxFailures ?? 0);
  if (!Number.isSafeInteger(maxFailures) || maxFailures < 0 || maxFailures > MAX_ROLLOUT_FAILURES) {
    throw new ValidationError(
      `${field}.max_failures`,
      `${String(input.maxFailures)} is not a whole number between 0 and ${MAX_ROLLOUT_FAILURES}`,
    );
  }
  return { stages, maxUnavailable, soakSeconds, maxFailures };
}

function maxUnavailableProblem(field: string, value: string): void {
  const pct = PERCENT.exec(value);
  if (pct) {
    const p = Number(pct[1]);
    if (p >= 1 && p <= 100) return;
    throw new ValidationError(field, `${quote(value)}: a percentage between 1% and 100%`);
  }
  if (COUNT.test(value)) {
    const n = Number(value);
    if (n >= 1 && n <= MAX_UNAVAILABLE_COUNT) return;
    throw new ValidationError(
      field,
      `${quote(value)}: at least 1 (a stage whose clusters may never be unavailable cannot start)`,
    );
  }
  throw new ValidationError(
    field,
    `${quote(value)} is not a number of clusters (e.g. 2) or a percentage (e.g. 25%)`,
  );
}

/**
 * How many of a stage's `size` clusters may be updating or not Ready at once: "" = all of them,
 * "N" = N, "P%" = P% of the stage rounded down; at least 1.
 */
export function maxUnavailableOf(value: string, size: number): number {
  if (!value) return Math.max(1, size);
  const pct = PERCENT.exec(value);
  if (pct) return Math.max(1, Math.floor((Number(pct[1]) * size) / 100));
  return Math.max(1, Number(value) || 1);
}
