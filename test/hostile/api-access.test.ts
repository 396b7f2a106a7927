// The hub's API under attack: calls without a valid token, tokens that try to reach past their
// role or tenant, and what the audit log and the responses give away.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { createHubClient, type HubClient } from '../../cli/client/hub-client.js';
import { startHub } from '../../hub/main.js';
import { ConfigError } from '../../hub/main.js';
import { eventually, freePort } from '../env/index.js';
import { grpcError, startTestHub, tempDir, type TestHub } from '../integration/hub/harness.js';

const PASSWORD = 'hunter2-never-shown';

describe('hub API access', () => {
  const tmp = tempDir('gitfleet-hostile-access-');
  let t: TestHub;
  let admin: HubClient;
  const clients: HubClient[] = [];
  const as = (token?: string): HubClient => {
    const c = createHubClient(t.hub.address, { deadlineMs: 10_000, token });
    clients.push(c);
    return c;
  };
  const tokenFor = async (role: string, tenant = '', ttlSeconds = 0): Promise<string> =>
    (await admin.tokens.createToken({ role, tenant, ttlSeconds })).secret;

  beforeAll(async () => {
    t = await startTestHub({ natsUrl: `nats://127.0.0.1:${await freePort()}`, db: join(tmp.dir, 'hub.db') });
    admin = t.client;
    await admin.tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
    await admin.tenants.createTenant({ tenant: { name: 'team-b', namespaces: ['team-b'] } });
    await admin.repos.createRepo({
      repo: {
        tenant: 'team-b',
        name: 'secret-apps',
        url: 'https://127.0.0.1:1/b.git',
        credentials: { username: 'bot', password: PASSWORD },
      },
    });
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await t?.stop();
    tmp.remove();
  });

  it.each([
    ['no token', undefined, 'no token'],
    ['a malformed token', 'letmein', 'malformed token'],
    ['an unknown token', `gft_${'0'.repeat(16)}_${'A'.repeat(43)}`, `token ${'0'.repeat(16)} is not valid`],
  ])('refuses %s with UNAUTHENTICATED and changes nothing', async (_what, token, message) => {
    const c = as(token);
    const err = await grpcError(c.tenants.createTenant({ tenant: { name: 'evil', namespaces: ['evil'] } }));
    expect(err.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(err.details).toContain(message);
    if (token) expect(err.details).not.toContain(token);
    expect((await admin.tenants.listTenants({})).tenants.map((x) => x.name)).toEqual(['team-a', 'team-b']);
  });

  it('refuses a known id with the wrong secret, and says no more than for an unknown one', async () => {
    const real = await tokenFor('viewer');
    const forged = real.slice(0, -4) + (real.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const err = await grpcError(as(forged).tenants.listTenants({}));
    expect(err.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(err.details).toMatch(/^token [0-9a-f]{16} is not valid$/);
  });

  it('cuts a revoked token off at once', async () => {
    const token = await tokenFor('viewer');
    const c = as(token);
    await c.tenants.listTenants({});
    const id = token.split('_')[1];
    await admin.tokens.revokeToken({ id });
    const err = await grpcError(c.tenants.listTenants({}));
    expect(err.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(err.details).toBe(`token ${id} was revoked`);
  });

  it('refuses an expired token', async () => {
    const c = as(await tokenFor('viewer', '', 1));
    await eventually(
      async () =>
        (await grpcError(c.tenants.listTenants({})).catch(() => undefined))?.details.includes('has expired'),
      { timeoutMs: 10_000 },
    );
  });

  it("keeps a tenant token inside its tenant: other tenants' objects and names stay hidden", async () => {
    const c = as(await tokenFor('tenant', 'team-a'));
    // its own tenant: allowed
    await c.repos.createRepo({ repo: { tenant: 'team-a', name: 'apps', url: 'https://127.0.0.1:1/a.git' } });
    expect((await c.repos.listRepos({})).repos.map((r) => `${r.tenant}/${r.name}`)).toEqual(['team-a/apps']);
    expect((await c.tenants.listTenants({})).tenants.map((x) => x.name)).toEqual(['team-a']);
    // another tenant's: refused, and nothing made
    for (const call of [
      c.repos.getRepo({ tenant: 'team-b', name: 'secret-apps' }),
      c.repos.listRepos({ tenant: 'team-b' }),
      c.repos.createRepo({ repo: { tenant: 'team-b', name: 'planted', url: 'https://127.0.0.1:1/x.git' } }),
      c.repos.deleteRepo({ tenant: 'team-b', name: 'secret-apps' }),
      c.tenants.getTenant({ name: 'team-b' }),
      c.status.getStatus({ tenant: 'team-b' }),
      c.assignments.createAssignment({
        assignment: { tenant: 'team-b', name: 'x', repo: 'secret-apps', path: '.', clusters: ['c1'] },
      }),
    ]) {
      const err = await grpcError(call);
      expect(err.code).toBe(GrpcStatus.PERMISSION_DENIED);
      expect(err.details).toContain('this token is for tenant "team-a" only');
    }
    expect((await admin.repos.listRepos({ tenant: 'team-b' })).repos.map((r) => r.name)).toEqual([
      'secret-apps',
    ]);
  });

  it('gives a tenant token no operator verbs and no way to mint a better token', async () => {
    const c = as(await tokenFor('tenant', 'team-a'));
    for (const call of [
      c.tenants.createTenant({ tenant: { name: 'evil', namespaces: ['kube-system'] } }),
      c.tenants.deleteTenant({ name: 'team-b' }),
      c.clusters.listClusters({}),
      c.clusters.createCluster({ cluster: { name: 'rogue' } }),
      c.tokens.createToken({ role: 'admin' }),
      c.tokens.listTokens({}),
      c.audit.listAudit({}),
    ]) {
      expect((await grpcError(call)).code).toBe(GrpcStatus.PERMISSION_DENIED);
    }
  });

  it('lets a viewer read and nothing more', async () => {
    const c = as(await tokenFor('viewer'));
    expect((await c.tenants.listTenants({})).tenants.length).toBe(2);
    const err = await grpcError(c.tenants.deleteTenant({ name: 'team-a' }));
    expect(err.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(err.details).toBe('deleteTenant: needs an admin token (this one is viewer)');
    expect((await grpcError(c.repos.deleteRepo({ tenant: 'team-b', name: 'secret-apps' }))).details).toBe(
      'deleteRepo: a viewer token is read-only',
    );
  });

  it('refuses bad token requests with a clear error', async () => {
    expect((await grpcError(admin.tokens.createToken({ role: 'root' }))).details).toContain(
      'use one of admin, tenant, viewer',
    );
    expect((await grpcError(admin.tokens.createToken({ role: 'tenant', tenant: 'Team A' }))).code).toBe(
      GrpcStatus.INVALID_ARGUMENT,
    );
    expect(
      (await grpcError(admin.tokens.createToken({ role: 'viewer', description: 'a\u0000b' }))).code,
    ).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect((await grpcError(admin.tokens.revokeToken({ id: 'nope' }))).code).toBe(
      GrpcStatus.INVALID_ARGUMENT,
    );
  });

  it('hands out no join tokens while the bus is not authenticated, and lets nobody join', async () => {
    await admin.clusters.createCluster({ cluster: { name: 'plain' } });
    const err = await grpcError(admin.clusters.createJoinToken({ cluster: 'plain' }));
    expect(err.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(err.details).toMatch(/not authenticated.*gitfleet bus init/);
    const forged = `gfj_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    const join = await grpcError(
      as().join.join({ cluster: 'plain', token: forged, publicKey: 'U'.repeat(56) }),
    );
    expect([GrpcStatus.UNAUTHENTICATED, GrpcStatus.INVALID_ARGUMENT]).toContain(join.code);
    expect(join.details).not.toContain(forged);
  });

  it('refuses an oversized request and keeps serving', async () => {
    const err = await grpcError(
      admin.tokens.createToken({ role: 'viewer', description: 'x'.repeat(5 * 1024 * 1024) }),
    );
    expect(err.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect((await admin.tenants.listTenants({})).tenants.length).toBe(2);
  });

  it('audits changes and refusals, and no secret reaches the audit log, the token list or the store', async () => {
    const entries = (await admin.audit.listAudit({ limit: 1000 })).entries;
    const refused = entries.find((e) => e.method === 'CreateTenant' && e.actor === 'anonymous');
    expect(refused).toMatchObject({ outcome: 'UNAUTHENTICATED', target: 'tenant evil' });
    expect(
      entries.find((e) => e.method === 'CreateRepo' && e.target === 'repo team-b/planted'),
    ).toMatchObject({
      outcome: 'PERMISSION_DENIED',
    });
    expect(
      entries.find((e) => e.method === 'CreateRepo' && e.target === 'repo team-b/secret-apps'),
    ).toMatchObject({
      outcome: 'OK',
      actor: expect.stringMatching(/^token [0-9a-f]{16} \(admin\)$/),
    });
    const tokens = (await admin.tokens.listTokens({})).tokens;
    const visible = JSON.stringify({ entries, tokens });
    expect(visible).not.toContain(PASSWORD);
    expect(visible).not.toMatch(/gft_[0-9a-f]{16}_/);
    expect(readFileSync(join(tmp.dir, 'hub.db')).toString('latin1')).not.toMatch(/gft_[0-9a-f]{16}_/);
  });

  it('writes a first admin token only its owner can read, and refuses one others can read', async () => {
    const dir = tempDir('gitfleet-hostile-admin-');
    try {
      const base = {
        listen: '127.0.0.1:0',
        natsUrl: `nats://127.0.0.1:${await freePort()}`,
        logLevel: 'silent',
      };
      const hub = await startHub({ ...base, db: join(dir.dir, 'hub.db') });
      await hub.close();
      const file = join(dir.dir, 'gitfleet-admin.token');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const again = await startHub({ ...base, db: join(dir.dir, 'hub.db') });
      const c = createHubClient(again.address, { token: readFileSync(file, 'utf8').trim() });
      try {
        expect((await c.tenants.listTenants({})).tenants).toEqual([]);
      } finally {
        c.close();
        await again.close();
      }
      writeFileSync(join(dir.dir, 'open.token'), 'x', { mode: 0o644 });
      await expect(
        startHub({ ...base, db: ':memory:', adminTokenFile: join(dir.dir, 'open.token') }),
      ).rejects.toThrow(ConfigError);
    } finally {
      dir.remove();
    }
  });
});
