// The tenant policy: what a tenant's rendered revision may hold, checked between render and
// apply, before any API call. The API server's RBAC (the tenant's ServiceAccount) is the second
// wall; this one makes the refusal clear (file, object, why) and all-or-nothing: a revision with
// one refused object applies nothing, and the last good revision stays.
import { clusterKindAllowed, Reason, type TenantIdentity } from '../../proto/index.js';
import { ReconcileError } from '../errors.js';
import { describeRef, groupOf, isPlainObject, refOf, type ManifestObject } from '../kube/objects.js';
import type { RenderedObject } from '../render/plain/plain-renderer.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const AGGREGATE_LABEL_PREFIX = `${RBAC_GROUP}/aggregate-to-`;
/** How many violations one message lists before "and N more". */
const SHOWN = 3;

export interface PolicyViolation {
  file: string;
  document: number;
  /** "Kind namespace/name" */
  object: string;
  why: string;
}

/** Why no tenant may hold a binding to `roleRef`, or undefined. */
function roleRefProblem(object: ManifestObject): string | undefined {
  const roleRef = isPlainObject(object.roleRef) ? object.roleRef : {};
  const name = typeof roleRef.name === 'string' ? roleRef.name : '';
  if (name === 'cluster-admin') return 'binds cluster-admin, which is never granted to a tenant';
  if (name.startsWith('system:'))
    return `binds ${JSON.stringify(name)}: system:* roles are never granted to a tenant`;
  return undefined;
}

/** Why `object` breaks the tenant's policy, or undefined. */
function violation(object: ManifestObject, tenant: TenantIdentity): string | undefined {
  const group = groupOf(object.apiVersion);
  const namespace = object.metadata.namespace ?? '';
  const rbac = group === RBAC_GROUP;
  if (rbac && (object.kind === 'RoleBinding' || object.kind === 'ClusterRoleBinding')) {
    const problem = roleRefProblem(object);
    if (problem) return problem;
  }
  if (namespace !== '') {
    if (tenant.namespaces.includes(namespace)) return undefined;
    return `namespace ${JSON.stringify(namespace)} is not one of tenant ${tenant.name}'s namespaces (${tenant.namespaces.join(', ')})`;
  }
  // cluster-scoped (the renderer leaves a namespace only on namespaced kinds)
  if (group === '' && object.kind === 'Namespace') {
    if (tenant.namespaces.includes(object.metadata.name)) return undefined;
    return `namespace ${JSON.stringify(object.metadata.name)} is not one of tenant ${tenant.name}'s namespaces (${tenant.namespaces.join(', ')})`;
  }
  if (!clusterKindAllowed(tenant.allowedClusterKinds, group, object.kind)) {
    const kind = group ? `${group}/${object.kind}` : object.kind;
    return `cluster-scoped ${kind} is not granted to tenant ${tenant.name} (an operator grants it with: gitfleet tenant update ${tenant.name} ... --allow-cluster-kind ${kind})`;
  }
  if (rbac && object.metadata.name.startsWith('system:')) {
    return `${JSON.stringify(object.metadata.name)}: system:* names belong to Kubernetes`;
  }
  if (rbac && object.kind === 'ClusterRole') {
    const aggregate = Object.keys(object.metadata.labels ?? {}).find((k) =>
      k.startsWith(AGGREGATE_LABEL_PREFIX),
    );
    if (aggregate)
      return `label ${aggregate} would add its rules to every binding of that role on the cluster`;
  }
  return undefined;
}

/** Every object of the rendered revision the tenant may not apply. */
export function policyViolations(
  objects: readonly RenderedObject[],
  tenant: TenantIdentity,
): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  for (const o of objects) {
    const why = violation(o.object, tenant);
    if (why) out.push({ file: o.file, document: o.document, object: describeRef(refOf(o.object)), why });
  }
  return out;
}

/** Throws PolicyViolation (stalled: the revision must change) naming file, object and why. */
export function checkTenantPolicy(objects: readonly RenderedObject[], tenant: TenantIdentity): void {
  const found = policyViolations(objects, tenant);
  if (found.length === 0) return;
  const shown = found
    .slice(0, SHOWN)
    .map((v) => `${v.file} (document ${v.document}): ${v.object}: ${v.why}`)
    .join('; ');
  const more = found.length > SHOWN ? `; and ${found.length - SHOWN} more` : '';
  throw new ReconcileError(
    Reason.PolicyViolation,
    `refused, nothing of this revision was applied: ${shown}${more}`,
    { stalled: true },
  );
}
