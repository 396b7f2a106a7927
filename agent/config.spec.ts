import { describe, expect, it } from '@jest/globals';
import { resolveAgentConfig } from './config.js';

describe('agent config', () => {
  it('fills in defaults', () => {
    const c = resolveAgentConfig({ cluster: 'edge-1', natsUrl: 'nats://127.0.0.1:4222' });
    expect(c).toMatchObject({
      cluster: 'edge-1',
      namespace: 'gitfleet-system',
      resyncSeconds: 60,
      heartbeatSeconds: 30,
      concurrency: 4,
      applyConcurrency: 16,
      tenantClusterRoles: ['admin', 'edit', 'view'],
    });
    expect(c.kubeconfigPath).toBeUndefined();
    expect(c.cacheDir).toContain('gitfleet-agent');
  });

  it('fails fast on bad values', () => {
    expect(() => resolveAgentConfig({ cluster: 'Edge_1', natsUrl: 'x' })).toThrow(/invalid cluster name/);
    expect(() => resolveAgentConfig({ cluster: 'e', natsUrl: '' })).toThrow(/natsUrl is required/);
    expect(() => resolveAgentConfig({ cluster: 'e', natsUrl: 'x', resyncSeconds: 0 })).toThrow(
      /resyncSeconds/,
    );
    expect(() => resolveAgentConfig({ cluster: 'e', natsUrl: 'x', namespace: 'Bad' })).toThrow(/namespace/);
    expect(() => resolveAgentConfig({ cluster: 'e', natsUrl: 'x', logLevel: 'loud' })).toThrow(/logLevel/);
    const roles = (tenantClusterRoles: string[]) => () =>
      resolveAgentConfig({ cluster: 'e', natsUrl: 'x', tenantClusterRoles });
    expect(roles([])).toThrow('tenantClusterRoles: at least one cluster role is required');
    expect(roles(['edit', 'cluster-admin'])).toThrow('tenantClusterRoles: "cluster-admin" is never granted');
    expect(roles(['system:controller:clusterrole-aggregation-controller'])).toThrow(
      'system:* roles are never',
    );
    expect(roles(['ed\u0000it'])).toThrow('contains a control character');
  });

  it('resolves the source limits, failing fast on bad ones', () => {
    const c = resolveAgentConfig({ cluster: 'e', natsUrl: 'x', limits: { maxObjects: 10 } });
    expect(c.limits).toMatchObject({ maxObjects: 10, maxFiles: 2000, maxYamlAliases: 100 });
    expect(() => resolveAgentConfig({ cluster: 'e', natsUrl: 'x', limits: { maxFiles: 0 } })).toThrow(
      /limits\.maxFiles \(--max-files\)/,
    );
  });
});
