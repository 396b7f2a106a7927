// Which fields of an assignment a partial update (UpdateAssignmentRequest.fields) may name: every
// spec field of the Assignment message, so a field added to the proto can be updated by name at
// once, and the fields of its helm options, substitution, health and drift one by one ("helm.set").
import {
  Assignment,
  DriftOptions,
  HealthOptions,
  HelmOptions,
  RolloutOptions,
  Substitution,
} from '../../proto/index.js';
import type { MaskRules } from '../common/field-mask.js';

/** Set by the hub, never by an update. */
const OUTPUT_ONLY = new Set([
  'tenant',
  'name',
  'createdAtMs',
  'updatedAtMs',
  'matchedClusters',
  'pinnedRevision',
]);

export const ASSIGNMENT_DEFAULTS: Assignment = Assignment.fromPartial({});

/**
 * The paths with "selector" standing for the whole label selector: its match labels (selector)
 * and its expressions (match_expressions), which are one selector on the CLI (--selector).
 */
export function withSelectorPaths(paths: readonly string[]): string[] {
  return paths.includes('selector') && !paths.includes('match_expressions')
    ? [...paths, 'match_expressions']
    : [...paths];
}

export const ASSIGNMENT_FIELDS: MaskRules = {
  field: 'fields',
  fields: Object.keys(ASSIGNMENT_DEFAULTS).filter((k) => !OUTPUT_ONLY.has(k)),
  nested: {
    helm: HelmOptions.fromPartial({}) as unknown as Record<string, unknown>,
    substitute: Substitution.fromPartial({}) as unknown as Record<string, unknown>,
    health: HealthOptions.fromPartial({}) as unknown as Record<string, unknown>,
    drift: DriftOptions.fromPartial({}) as unknown as Record<string, unknown>,
    rollout: RolloutOptions.fromPartial({}) as unknown as Record<string, unknown>,
  },
};
