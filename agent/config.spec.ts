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
      fetchJitterMs: 2000,
    });
    expect(c.kubeconfigPath).toBeUndefined();
    expect(c.cacheDir).toContain('gitfleet-agent');
    expect([c.kubectl, c.helm]).toEqual(['kubectl', 'helm']);
  });

  it('takes a fetch jitter from 0 (off) to 10 minutes, refusing anything else', () => {
    const jitter = (fetchJitterMs: unknown) =>
      resolveAgentConfig({ cluster: 'e', natsUrl: 'x', fetchJitterMs: fetchJitterMs as number })
        .fetchJitterMs;
    expect(jitter(0)).toBe(0);
    expect(jitter(600_000)).toBe(600_000);
    for (const bad of [-1, 600_001, 1.5, NaN, Infinity, '2s', null]) {
      expect(() => jitter(bad)).toThrow(
        'invalid agent config: fetchJitterMs (--fetch-jitter) must be between 0 (off) and 10m, got',
      );
    }
  });

  it('takes the render tools by path, refusing an empty one or control characters', () => {
    const c = resolveAgentConfig({
      cluster: 'e',
      natsUrl: 'x',
      kubectl: '/opt/k/kubectl',
      helm: '/opt/h/helm',
    });
    expect([c.kubectl, c.helm]).toEqual(['/opt/k/kubectl', '/opt/h/helm']);
    expect(() => resolveAgentConfig({ cluster: 'e', natsUrl: 'x', helm: '' })).toThrow(
      'invalid agent config: helm (--helm) must be the path of the helm binary, got ""',
    );
    expect(() => resolveAgentConfig({ cluster: 'e', natsUrl: 'x', kubectl: 'kube\nctl' })).toThrow(
      'kubectl (--kubectl) must be the path of the kubectl binary',
    );
  });

  it('fails fast on bad values', () => {
    expect(() => resolveAgentConfig({ cluster: 'Edge_1', natsUrl: 'x' })).toThrow(/invalid cluster name/);
    expect(() => resolveAgentConfig({ cluster: 'e', natsUrl: '' })).toThrow(/natsUrl must be a NATS URL/);
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

  it('takes a join target, refusing what is not a join token or a hub address, never echoing the token', () => {
    const token = `gfj_0123456789abcdef_${'a'.repeat(43)}`;
    const c = resolveAgentConfig({
      cluster: 'e',
      join: { token, hub: 'hub.example:7400', caFile: 'ca.pem' },
    });
    expect(c.join).toEqual({ token, hub: 'hub.example:7400', caFile: 'ca.pem', tls: undefined });
    expect(c.natsServers).toBeUndefined();
    for (const bad of ['', 'gft_0123456789abcdef_' + 'a'.repeat(43), token + 'x', 'gfj_0123_secret']) {
      let message = '';
      try {
        resolveAgentConfig({ cluster: 'e', join: { token: bad, hub: 'h:1' } });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/not a join token/);
      if (bad) expect(message).not.toContain(bad);
    }
    for (const hub of ['', 'hub', 'nats://hub:4222', 'user@hub:1', 'a b:1']) {
      expect(() => resolveAgentConfig({ cluster: 'e', join: { token, hub } })).toThrow(/host:port \(--hub\)/);
    }
  });

  it('resolves the source limits, failing fast on bad ones', () => {
    const c = resolveAgentConfig({ cluster: 'e', natsUrl: 'x', limits: { maxObjects: 10 } });
    expect(c.limits).toMatchObject({ maxObjects: 10, maxFiles: 2000, maxYamlAliases: 100 });
    expect(() => resolveAgentConfig({ cluster: 'e', natsUrl: 'x', limits: { maxFiles: 0 } })).toThrow(
      /limits\.maxFiles \(--max-files\)/,
    );
  });
});
