// Defaults the API server fills in itself but server-side apply needs spelled out: on
// Kubernetes before 1.21 a port in a list keyed by (port, protocol) without `protocol` fails with
// "associative list with keys has an element that omits key field". Like Flux's ssa package,
// set protocol TCP where a manifest leaves it out (what the API server would default anyway).
import { groupOf, type ManifestObject } from '../kube/objects.js';

type Json = Record<string, unknown>;

const POD_TEMPLATE_PATHS: Record<string, string[][]> = {
  Pod: [['spec']],
  PodTemplate: [['template', 'spec']],
  Deployment: [['spec', 'template', 'spec']],
  StatefulSet: [['spec', 'template', 'spec']],
  DaemonSet: [['spec', 'template', 'spec']],
  ReplicaSet: [['spec', 'template', 'spec']],
  ReplicationController: [['spec', 'template', 'spec']],
  Job: [['spec', 'template', 'spec']],
  CronJob: [['spec', 'jobTemplate', 'spec', 'template', 'spec']],
};

function at(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Json)[key];
  }
  return cur;
}

function defaultProtocol(ports: unknown): void {
  if (!Array.isArray(ports)) return;
  for (const port of ports) {
    if (port && typeof port === 'object' && (port as Json).protocol === undefined)
      (port as Json).protocol = 'TCP';
  }
}

/** Fills in `protocol: TCP` on container and Service ports of built-in kinds, in place. */
export function setNativeDefaults(object: ManifestObject): void {
  const group = groupOf(object.apiVersion);
  if (object.kind === 'Service' && group === '') {
    defaultProtocol(at(object, ['spec', 'ports']));
    return;
  }
  if (group !== '' && group !== 'apps' && group !== 'batch') return;
  for (const path of POD_TEMPLATE_PATHS[object.kind] ?? []) {
    const podSpec = at(object, path);
    for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
      const containers = at(podSpec, [list]);
      if (Array.isArray(containers)) for (const c of containers) defaultProtocol(at(c, ['ports']));
    }
  }
}
