import { describe, expect, it } from '@jest/globals';
import { FailedPreconditionError, NamesTenantError, PermissionDeniedError } from '../common/errors.js';
import { authorize, isMutation, visibleError, visibleTenants } from './access.js';
import { hashSecret, matches, newToken, tokenId, type Principal } from './token.js';

const admin: Principal = { tokenId: 'a', role: 'admin', tenant: '' };
const viewer: Principal = { tokenId: 'v', role: 'viewer', tenant: '' };
const teamA: Principal = { tokenId: 't', role: 'tenant', tenant: 'team-a' };

describe('authorize', () => {
  it.each([
    [admin, 'createTenant', {}, true],
    [admin, 'someFutureRpc', {}, true],
    [viewer, 'listClusters', {}, true],
    [viewer, 'getStatus', {}, true],
    [viewer, 'createRepo', { repo: { tenant: 'team-a' } }, false],
    [viewer, 'createToken', {}, false],
    [teamA, 'createRepo', { repo: { tenant: 'team-a' } }, true],
    [teamA, 'createRepo', { repo: { tenant: 'team-b' } }, false],
    [teamA, 'createRepo', { repo: {} }, false],
    [teamA, 'getRepo', { tenant: 'team-b', name: 'x' }, false],
    [teamA, 'getTenant', { name: 'team-a' }, true],
    [teamA, 'getTenant', { name: 'team-b' }, false],
    [teamA, 'listClusters', {}, false],
    [teamA, 'createTenant', { tenant: { name: 'team-a' } }, false],
    [teamA, 'someFutureRpc', { tenant: 'team-a' }, false],
    [teamA, 'listRepos', { tenant: 'team-b' }, false],
    [teamA, 'reconcileAssignment', { tenant: 'team-a', name: 'x' }, true],
    [teamA, 'reconcileAssignment', { tenant: 'team-b', name: 'x' }, false],
    [teamA, 'diffAssignment', { tenant: 'team-b', name: 'x', cluster: 'c' }, false],
    [teamA, 'treeAssignment', { tenant: 'team-a', name: 'x', cluster: 'c' }, true],
    [viewer, 'reconcileAssignment', { tenant: 'team-a', name: 'x' }, false],
    [viewer, 'diffAssignment', { tenant: 'team-a', name: 'x', cluster: 'c' }, true],
    [viewer, 'treeAssignment', { tenant: 'team-a', name: 'x', cluster: 'c' }, true],
    [teamA, 'createReceiver', { receiver: { tenant: 'team-a', name: 'gh' } }, true],
    [teamA, 'createReceiver', { receiver: { tenant: 'team-b', name: 'gh' } }, false],
    [teamA, 'getReceiver', { tenant: 'team-b', name: 'gh' }, false],
    [teamA, 'deleteReceiver', { tenant: 'team-b', name: 'gh' }, false],
    [teamA, 'listReceivers', { tenant: 'team-b' }, false],
    [teamA, 'listReceivers', { tenant: '' }, true],
    [viewer, 'listReceivers', { tenant: '' }, true],
    [viewer, 'createReceiver', { receiver: { tenant: 'team-a', name: 'gh' } }, false],
    [teamA, 'createAlert', { alert: { tenant: 'team-a', name: 'x' } }, true],
    [teamA, 'createAlert', { alert: { tenant: 'team-b', name: 'x' } }, false],
    [teamA, 'createAlert', { alert: { tenant: '', name: 'x' } }, false],
    [teamA, 'getAlert', { tenant: '', name: 'x' }, false],
    [teamA, 'deleteAlert', { tenant: 'team-a', name: 'x' }, true],
    [teamA, 'testAlert', { tenant: '', name: 'x' }, false],
    [teamA, 'listAlerts', { tenant: 'team-b' }, false],
    [viewer, 'listAlerts', {}, true],
    [viewer, 'createAlert', { alert: { tenant: 'team-a', name: 'x' } }, false],
    [viewer, 'testAlert', { tenant: 'team-a', name: 'x' }, false],
  ])('%j %s %j → allowed %s', (p, method, request, allowed) => {
    const call = () => authorize(p, method, request as Record<string, unknown>);
    if (allowed) expect(call).not.toThrow();
    else expect(call).toThrow(PermissionDeniedError);
  });

  it('pins a tenant token to its tenant in list and status filters', () => {
    const req: Record<string, unknown> = { tenant: '', cluster: 'c1' };
    authorize(teamA, 'getStatus', req);
    expect(req).toEqual({ tenant: 'team-a', cluster: 'c1' });
    const list: Record<string, unknown> = {};
    authorize(teamA, 'listAssignments', list);
    expect(list.tenant).toBe('team-a');
  });

  it('shows a tenant token only its own tenant; others see all', () => {
    const all = [{ name: 'team-a' }, { name: 'team-b' }];
    expect(visibleTenants(teamA, all)).toEqual([{ name: 'team-a' }]);
    expect(visibleTenants(viewer, all)).toEqual(all);
  });

  it('audits the methods that change something', () => {
    expect(
      [
        'createRepo',
        'updateAssignment',
        'deleteTenant',
        'resolveRepo',
        'revokeToken',
        'reconcileAssignment',
      ].every(isMutation),
    ).toBe(true);
    expect(
      ['getRepo', 'listTenants', 'watchStatus', 'getStatus', 'diffAssignment', 'treeAssignment'].some(
        isMutation,
      ),
    ).toBe(false);
  });
});

describe('tokens', () => {
  it('are random, carry a public id, and match only their own hash', () => {
    const a = newToken();
    const b = newToken();
    expect(a.secret).not.toBe(b.secret);
    expect(tokenId(a.secret)).toBe(a.id);
    expect(a.hash).toBe(hashSecret(a.secret));
    expect(matches(a.secret, a.hash)).toBe(true);
    expect(matches(b.secret, a.hash)).toBe(false);
    expect(a.hash).not.toContain(a.secret.split('_')[2]);
  });

  it.each(['', 'gft_', 'Bearer x', `gft_${'g'.repeat(16)}_${'A'.repeat(43)}`, `gft_${'0'.repeat(16)}_short`])(
    'rejects the malformed token %j',
    (s) => expect(tokenId(s)).toBeUndefined(),
  );
});

describe('visibleError', () => {
  const owned = new NamesTenantError(
    'tenant.namespaces[0]: namespace "shop" is owned by tenant "team-b": choose another',
    'tenant.namespaces[0]: namespace "shop" is owned by another tenant: choose another',
  );

  it('names the owning tenant to admin and viewer tokens, who see every tenant', () => {
    expect(visibleError(admin, owned)).toBe(owned);
    expect(visibleError(viewer, owned)).toBe(owned);
  });

  it('never to a tenant token, nor to an unauthenticated caller: the same error without the name', () => {
    for (const p of [teamA, undefined]) {
      const shown = visibleError(p, owned) as Error;
      expect(shown).toBeInstanceOf(FailedPreconditionError);
      expect(shown).not.toBeInstanceOf(NamesTenantError);
      expect(shown.message).toBe(
        'tenant.namespaces[0]: namespace "shop" is owned by another tenant: choose another',
      );
      expect(shown.message).not.toContain('team-b');
    }
  });

  it('leaves every other error as it is', () => {
    const other = new PermissionDeniedError('createTenant: needs an admin token');
    expect(visibleError(teamA, other)).toBe(other);
  });
});
