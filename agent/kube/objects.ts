// Plain Kubernetes object shapes the agent passes around: manifests as parsed from YAML (no typed
// models, so nothing the typed client does not know is silently dropped) and object references.
import { createHash } from 'node:crypto';

/** A manifest or live object as plain JSON. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Whether a kind's objects live in a namespace or in the cluster (a CRD's `spec.scope`). */
export type Scope = 'Namespaced' | 'Cluster';

/** What identifies one object on a cluster. `namespace` is "" for cluster-scoped objects. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** The API group of an apiVersion ("" for the core group). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * Identity of an object independent of the API version it is served at: an object that moves
 * from apps/v1beta1 to apps/v1 is still the same object.
 */
export function refKey(ref: ObjectRef): string {
  return `${groupOf(ref.apiVersion)}/${ref.kind}/${ref.namespace}/${ref.name}`;
}

export function refOf(obj: ManifestObject): ObjectRef {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name,
  };
}

/** "ConfigMap team-b/cfg" or "Namespace team-b", for messages. */
export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A name as a label value: itself when valid, else a stable hash of it. */
export function labelValue(name: string): string {
  if (name.length <= 63 && LABEL_VALUE.test(name)) return name;
  return `h-${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
}
