// Validation and defaults of an assignment (pure). The tenant is looked up first: the target
// namespace defaults to, and must be one of, the tenant's namespaces.
import type { Assignment, Substitution, Tenant } from '../../proto/index.js';
import {
  MAX_HELM_RELEASE_LENGTH,
  ValidationError,
  checkDnsLabel,
  checkDriftOptions,
  checkHelmOptions,
  checkRepoPath,
  checkSecretName,
  checkVars,
  checkDependsOn,
  checkRetryInterval,
  quote,
} from '../../proto/contract/validation.js';
import { checkHealthOptions } from '../../proto/contract/health.js';
import { checkRolloutOptions } from '../rollouts/rollout-options.js';
import { checkGroupNames, checkGroupVars, checkSplitSelector } from '../common/targeting.js';

// the path rule is the contract's: the agent checks every desired set with it too
export { checkRepoPath };

/** auto: kustomization.yaml/.yml/Kustomization → kustomize, Chart.yaml → helm, else plain. */
export const RENDERERS = ['auto', 'plain', 'kustomize', 'helm'] as const;

export type AssignmentSpec = Omit<
  Assignment,
  'createdAtMs' | 'updatedAtMs' | 'matchedClusters' | 'pinnedRevision'
>;

export function validateAssignment(input: Partial<Assignment>, tenant: Tenant): AssignmentSpec {
  const name = checkDnsLabel('assignment.name', input.name ?? '');
  const repo = checkDnsLabel('assignment.repo', input.repo ?? '');
  const path = checkRepoPath('assignment.path', input.path ?? '');

  const clusters: string[] = [];
  (input.clusters ?? []).forEach((c, i) => {
    checkDnsLabel(`assignment.clusters[${i}]`, c);
    if (!clusters.includes(c)) clusters.push(c);
  });
  // kubectl's selector, sent as match labels (selector) plus expressions (match_expressions)
  const { matchLabels: selector, matchExpressions } = checkSplitSelector(
    'assignment.selector',
    'assignment.match_expressions',
    input.selector,
    input.matchExpressions,
  );
  // that the groups exist the service checks
  const groups = checkGroupNames('assignment.groups', input.groups);
  const groupVars = checkGroupVars('assignment.group_vars', input.groupVars);

  const targetNamespace = input.targetNamespace || tenant.namespaces[0];
  if (!tenant.namespaces.includes(targetNamespace)) {
    throw new ValidationError(
      'assignment.target_namespace',
      `${quote(targetNamespace)} is not one of tenant ${JSON.stringify(tenant.name)}'s namespaces (${tenant.namespaces.join(', ')})`,
    );
  }

  const renderer = input.renderer || 'auto';
  if (!(RENDERERS as readonly string[]).includes(renderer)) {
    throw new ValidationError(
      'assignment.renderer',
      `${quote(renderer)} is not a renderer (use ${RENDERERS.map((r) => `"${r}"`).join(', ')})`,
    );
  }

  const helm = checkHelmOptions('assignment.helm', input.helm);
  if (helm && renderer !== 'helm' && renderer !== 'auto') {
    throw new ValidationError(
      'assignment.helm',
      `helm options are for the helm renderer, not ${quote(renderer)}: use renderer "helm" (or "auto" for a chart)`,
    );
  }
  // the release name defaults to the assignment's name, which may be longer than helm allows
  if (renderer === 'helm' && !helm?.releaseName && name.length > MAX_HELM_RELEASE_LENGTH) {
    throw new ValidationError(
      'assignment.helm.release_name',
      `required: the assignment's name (${name.length} characters) is longer than a helm release name may be (${MAX_HELM_RELEASE_LENGTH})`,
    );
  }

  return {
    tenant: tenant.name,
    name,
    repo,
    path,
    clusters,
    selector,
    matchExpressions,
    groups,
    groupVars,
    targetNamespace,
    prune: Boolean(input.prune),
    suspend: Boolean(input.suspend),
    renderer,
    helm,
    substitute: validateSubstitution(input.substitute),
    // SOPS: a Secret in the tenant's first namespace with the age identities ('*.agekey')
    decryptionSecret: checkSecretName('assignment.decryption_secret', input.decryptionSecret ?? ''),
    // wait, health checks, timeout and CEL expressions: parsed and type-checked here
    health: checkHealthOptions('assignment.health', input.health),
    // names of the same tenant's assignments; that they exist and close no cycle the service checks
    dependsOn: checkDependsOn('assignment.depends_on', input.dependsOn, name),
    retryIntervalSeconds: checkRetryInterval('assignment.retry_interval_seconds', input.retryIntervalSeconds),
    // drift: correct (default) or report, and fields another controller owns (KIND:/pointer)
    drift: checkDriftOptions('assignment.drift', input.drift),
    force: Boolean(input.force),
    // staged rollout of new revisions: stages (selectors), max-unavailable, soak, max-failures
    rollout: checkRolloutOptions('assignment.rollout', input.rollout),
  };
}

/**
 * Post-render substitution: undefined when off (desired sets stay as they were); variables or
 * strict mode without `enabled` are refused rather than silently ignored.
 */
export function validateSubstitution(input: Partial<Substitution> | undefined): Substitution | undefined {
  const vars = checkVars('assignment.substitute.vars', input?.vars);
  if (!input?.enabled) {
    if (Object.keys(vars).length > 0 || input?.strict) {
      throw new ValidationError(
        'assignment.substitute.enabled',
        'variables or strict mode are given but substitution is off: set enabled (gitfleet assignment ... --substitute)',
      );
    }
    return undefined;
  }
  return { enabled: true, vars, strict: Boolean(input.strict) };
}
