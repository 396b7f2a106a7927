// Apply order. Stage 1 holds what other objects depend on existing (Flux's "cluster
// definitions"): Namespaces, CRDs, ClusterRoles; the agent waits for CRDs to be established
// before stage 2. Inside a stage objects are sorted by a kind order (as Helm and Flux do), then
// by namespace and name, so that a revision always applies the same way.
import { groupOf, type ManifestObject } from '../kube/objects.js';

const STAGE_ONE: ReadonlySet<string> = new Set([
  'apiextensions.k8s.io/CustomResourceDefinition',
  '/Namespace',
  'rbac.authorization.k8s.io/ClusterRole',
]);

/** Kinds in install order; unknown kinds (custom resources) go last. */
const KIND_ORDER = [
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ResourceQuota',
  'LimitRange',
  'PriorityClass',
  'StorageClass',
  'ServiceAccount',
  'PodSecurityPolicy',
  'Secret',
  'ConfigMap',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
];
const KIND_RANK = new Map(KIND_ORDER.map((k, i) => [k, i]));

export function isStageOne(obj: Pick<ManifestObject, 'apiVersion' | 'kind'>): boolean {
  return STAGE_ONE.has(`${groupOf(obj.apiVersion)}/${obj.kind}`);
}

export function isCrd(obj: Pick<ManifestObject, 'apiVersion' | 'kind'>): boolean {
  return obj.kind === 'CustomResourceDefinition' && groupOf(obj.apiVersion) === 'apiextensions.k8s.io';
}

function compare<T extends { object: ManifestObject }>(a: T, b: T): number {
  const ra = KIND_RANK.get(a.object.kind) ?? KIND_ORDER.length;
  const rb = KIND_RANK.get(b.object.kind) ?? KIND_ORDER.length;
  if (ra !== rb) return ra - rb;
  const ka = `${a.object.kind}\0${a.object.metadata.namespace ?? ''}\0${a.object.metadata.name}`;
  const kb = `${b.object.kind}\0${b.object.metadata.namespace ?? ''}\0${b.object.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Splits objects into the apply stages, each sorted. Empty stages are left out. */
export function stageObjects<T extends { object: ManifestObject }>(items: readonly T[]): T[][] {
  const first = items.filter((i) => isStageOne(i.object)).sort(compare);
  const rest = items.filter((i) => !isStageOne(i.object)).sort(compare);
  return [first, rest].filter((s) => s.length > 0);
}

/** Reverse install order, for deleting: workloads before the namespaces and CRDs they live in. */
export function deleteOrder<T extends { kind: string; namespace: string; name: string }>(
  refs: readonly T[],
): T[] {
  const rank = (k: string) => KIND_RANK.get(k) ?? KIND_ORDER.length;
  return [...refs].sort(
    (a, b) => rank(b.kind) - rank(a.kind) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}
