// Which fields of a repo a partial update (UpdateRepoRequest.fields) may name: every spec field
// of the Repo message ("credentials" replaces the stored ones; without it they are kept).
import { Repo } from '../../proto/index.js';
import type { MaskRules } from '../common/field-mask.js';

/** Set by the hub, never by an update. */
const OUTPUT_ONLY = new Set([
  'tenant',
  'name',
  'revision',
  'resolvedAtMs',
  'resolveError',
  'createdAtMs',
  'hasCredentials',
]);

export const REPO_DEFAULTS: Repo = Repo.fromPartial({});

export const REPO_FIELDS: MaskRules = {
  field: 'fields',
  fields: Object.keys(REPO_DEFAULTS).filter((k) => !OUTPUT_ONLY.has(k)),
};
