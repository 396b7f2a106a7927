// SOPS end to end on a real apiserver: a Secret encrypted by the real sops tool (the flux
// fixtures) reaches the cluster decrypted with the age key of a Secret in the tenant's own
// namespace, read as the tenant; a missing configuration, a tampered file, a Secret of another
// tenant and a tenant whose role may not read Secrets all fail with one clear line, nothing is
// applied and the last good revision stays.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AssignmentState, Reason, formatGitRevision, type AssignmentStatus } from '../../../proto/index.js';
import { AgentHarness, tenants } from './agent-harness.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/sops/${name}`, import.meta.url), 'utf8');
const encrypted = fixture('age-secret.enc.yaml');

describe('agent: SOPS decryption with age', () => {
  let h: AgentHarness;

  const failed = (commit: string, after: number, assignment = 'web'): Promise<AssignmentStatus> =>
    h.hub.waitForStatus(
      (s) =>
        s.assignment === assignment &&
        s.state === AssignmentState.ASSIGNMENT_STATE_FAILED &&
        s.desiredRevision === formatGitRevision('main', commit),
      { after },
    );

  const secretValue = async (namespace: string, name: string) => {
    try {
      const s = await h.core.readNamespacedSecret({ namespace, name });
      return Buffer.from(s.data?.key ?? '', 'base64').toString('utf8');
    } catch {
      return undefined;
    }
  };

  beforeAll(async () => {
    h = await AgentHarness.start();
    await h.startWithHeadApplied();
    await h.core.createNamespacedSecret({
      namespace: 'team-a',
      body: {
        metadata: { name: 'sops-age' },
        stringData: { 'identity.agekey': fixture('age-secret.key.txt'), 'notes.txt': 'not a key' },
      },
    });
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  it('applies a sops-encrypted Secret decrypted with the age key of the named Secret', async () => {
    const commit = await h.repo.commit({ 'apps/secret.enc.yaml': encrypted });
    const before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(commit, { decryptionSecret: 'sops-age' })));
    const status = await h.ready(commit, before);
    expect(await secretValue('team-a', 'age')).toBe('value');
    const live = await h.core.readNamespacedSecret({ namespace: 'team-a', name: 'age' });
    expect(JSON.stringify(live)).not.toContain('ENC[');
    // the status never carries a value
    expect(JSON.stringify(status)).not.toContain('value"');
  });

  it('refuses an encrypted file when the assignment names no decryption Secret; the last good revision stays', async () => {
    const good = await h.repo.head();
    const commit = await h.repo.commit({
      'apps/secret.enc.yaml': encrypted.replace('name: age', 'name: age2'),
    });
    const before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(commit)));
    const status = await failed(commit, before);
    expect(status.reason).toBe(Reason.BuildFailed);
    expect(status.message).toBe(
      'apps/secret.enc.yaml (document 1) Secret "age2" is SOPS-encrypted, but the assignment names no decryption Secret: create a Secret with the age key in an entry "<name>.agekey" in namespace team-a and set it with gitfleet assignment update ... --decryption-secret NAME',
    );
    expect(status.appliedRevision).toBe(formatGitRevision('main', good));
    expect(await secretValue('team-a', 'age2')).toBeUndefined();
  });

  it('refuses a tampered file naming file and object, never the value', async () => {
    const commit = await h.repo.commit({
      'apps/secret.enc.yaml': encrypted
        .replace('name: age', 'name: age3')
        .replace('data:mHeXsmQ=', 'data:nHeXsmQ='),
    });
    const before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(commit, { decryptionSecret: 'sops-age' })));
    const status = await failed(commit, before);
    expect(status.message).toBe(
      'apps/secret.enc.yaml (document 1) Secret "age3": SOPS: cannot decrypt stringData.key: authentication failed: the value was changed, moved to another key, or encrypted with another data key',
    );
    expect(await secretValue('team-a', 'age3')).toBeUndefined();
  });

  it("refuses another tenant's key Secret: it is looked up in the tenant's own namespace only", async () => {
    const commit = await h.repo.commit({
      'apps/secret.enc.yaml': encrypted.replace('name: age', 'name: age4'),
    });
    const before = h.hub.statuses.length;
    const b = {
      ...h.web(commit, { decryptionSecret: 'sops-age' }),
      tenant: 'team-b',
      name: 'b',
      targetNamespace: 'team-b',
    };
    await h.hub.publish(h.desired(h.web(await h.repo.head(), { decryptionSecret: 'sops-age' }), b));
    const status = await failed(commit, before, 'b');
    expect(status.message).toBe(
      'SOPS: the decryption Secret team-b/sops-age does not exist: create it in the tenant\'s namespace with the age key in an entry "<name>.agekey"',
    );
    expect(await secretValue('team-b', 'age4')).toBeUndefined();
  });

  it('reads the key Secret as the tenant: a tenant whose role may not read Secrets is refused by RBAC', async () => {
    const commit = await h.repo.head();
    await h.core.createNamespace({ body: { metadata: { name: 'team-c' } } }).catch(() => undefined);
    await h.core.createNamespacedSecret({
      namespace: 'team-c',
      body: {
        metadata: { name: 'sops-age' },
        stringData: { 'identity.agekey': fixture('age-secret.key.txt') },
      },
    });
    const before = h.hub.statuses.length;
    const c = {
      ...h.web(commit, { decryptionSecret: 'sops-age' }),
      tenant: 'team-c',
      name: 'c',
      targetNamespace: 'team-c',
    };
    await h.hub.publish({
      tenants: [
        ...tenants,
        {
          name: 'team-c',
          namespaces: ['team-c'],
          serviceAccount: 'gitfleet-reconciler',
          clusterRole: 'view',
        },
      ],
      assignments: [h.web(commit, { decryptionSecret: 'sops-age' }), c],
    });
    const status = await failed(commit, before, 'c');
    expect(status.message).toMatch(
      /^SOPS: the tenant may not read the decryption Secret team-c\/sops-age: secrets "sops-age" is forbidden: User "system:serviceaccount:team-c:gitfleet-reconciler" cannot get resource "secrets" in API group "" in the namespace "team-c" \(the Secret must be in the tenant's own namespace team-c\)$/,
    );
  });
});
