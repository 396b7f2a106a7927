import { describe, expect, it } from '@jest/globals';
import { setNativeDefaults } from './defaults.js';
import type { ManifestObject } from '../kube/objects.js';

const obj = (o: Record<string, unknown>) => o as unknown as ManifestObject;

describe('setNativeDefaults', () => {
  it('sets protocol TCP on Service ports that name none, keeping explicit ones', () => {
    const svc = obj({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] },
    });
    setNativeDefaults(svc);
    expect((svc as unknown as { spec: { ports: unknown[] } }).spec.ports).toEqual([
      { port: 80, protocol: 'TCP' },
      { port: 53, protocol: 'UDP' },
    ]);
  });

  it.each([
    ['apps/v1', 'Deployment', ['spec', 'template', 'spec']],
    ['batch/v1beta1', 'CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
    ['v1', 'Pod', ['spec']],
  ])('sets it on container and init container ports of %s %s', (apiVersion, kind, path) => {
    const podSpec = {
      containers: [{ name: 'a', ports: [{ containerPort: 8080 }] }],
      initContainers: [{ name: 'i', ports: [{ containerPort: 1 }] }],
    };
    const o: Record<string, unknown> = { apiVersion, kind, metadata: { name: 'x' } };
    let cur = o;
    for (const k of path.slice(0, -1)) cur = (cur[k] = {}) as Record<string, unknown>;
    cur[path[path.length - 1]] = podSpec;
    setNativeDefaults(obj(o));
    expect(podSpec.containers[0].ports[0]).toEqual({ containerPort: 8080, protocol: 'TCP' });
    expect(podSpec.initContainers[0].ports[0]).toEqual({ containerPort: 1, protocol: 'TCP' });
  });

  it('leaves custom resources alone, even when their kind matches a built-in one', () => {
    const ksvc = obj({
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Service',
      metadata: { name: 'k' },
      spec: { ports: [{ port: 80 }] },
    });
    setNativeDefaults(ksvc);
    expect((ksvc as unknown as { spec: { ports: unknown[] } }).spec.ports).toEqual([{ port: 80 }]);
  });
});
