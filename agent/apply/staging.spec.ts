import { describe, expect, it } from '@jest/globals';
import type { ManifestObject } from '../kube/objects.js';
import { deleteOrder, isStageOne, stageObjects } from './staging.js';

const obj = (
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string,
): { object: ManifestObject } => ({
  object: { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } },
});
const names = (stage: Array<{ object: ManifestObject }>) =>
  stage.map((i) => `${i.object.kind}/${i.object.metadata.name}`);

describe('stageObjects', () => {
  it('applies Namespaces, CRDs and ClusterRoles first, then the rest in kind order', () => {
    const stages = stageObjects([
      obj('apps/v1', 'Deployment', 'web', 'a'),
      obj('example.com/v1', 'Widget', 'w', 'a'),
      obj('v1', 'ConfigMap', 'cfg', 'a'),
      obj('rbac.authorization.k8s.io/v1', 'ClusterRole', 'reader'),
      obj('v1', 'Service', 'web', 'a'),
      obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'widgets.example.com'),
      obj('v1', 'ServiceAccount', 'sa', 'a'),
      obj('v1', 'Namespace', 'a'),
    ]);
    expect(stages.map(names)).toEqual([
      ['Namespace/a', 'CustomResourceDefinition/widgets.example.com', 'ClusterRole/reader'],
      ['ServiceAccount/sa', 'ConfigMap/cfg', 'Service/web', 'Deployment/web', 'Widget/w'],
    ]);
  });

  it('is deterministic: sorted by namespace and name inside a kind; empty stages are left out', () => {
    const stages = stageObjects([
      obj('v1', 'ConfigMap', 'b', 'x'),
      obj('v1', 'ConfigMap', 'a', 'y'),
      obj('v1', 'ConfigMap', 'c', 'x'),
    ]);
    expect(stages).toHaveLength(1);
    expect(stages[0].map((i) => `${i.object.metadata.namespace}/${i.object.metadata.name}`)).toEqual([
      'x/b',
      'x/c',
      'y/a',
    ]);
  });

  it('matches kinds by group, not by name alone', () => {
    expect(isStageOne({ apiVersion: 'v1', kind: 'Namespace' })).toBe(true);
    expect(isStageOne({ apiVersion: 'example.com/v1', kind: 'Namespace' })).toBe(false);
  });
});

describe('deleteOrder', () => {
  it('deletes workloads and custom resources before what they depend on', () => {
    const refs = [
      { kind: 'ConfigMap', namespace: 'a', name: 'c' },
      { kind: 'Deployment', namespace: 'a', name: 'd' },
      { kind: 'Widget', namespace: 'a', name: 'w' },
      { kind: 'ServiceAccount', namespace: 'a', name: 's' },
    ];
    expect(deleteOrder(refs).map((r) => r.kind)).toEqual([
      'Widget',
      'Deployment',
      'ConfigMap',
      'ServiceAccount',
    ]);
  });
});
