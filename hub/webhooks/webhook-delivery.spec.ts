import { describe, expect, it } from '@jest/globals';
import {
  deliveryEvent,
  hmacSignature,
  normalizeRepoUrl,
  pushedRepoUrls,
  verifySignature,
} from './webhook-delivery.js';

const secret = 'the-receiver-secret-0123456789';
const body = Buffer.from(
  JSON.stringify({ ref: 'refs/heads/main', repository: { clone_url: 'https://h/o/r.git' } }),
);

describe('verifySignature', () => {
  it('accepts a GitHub delivery signed over the raw body, refuses a tampered body or another secret', () => {
    const sig = hmacSignature(secret, body);
    expect(verifySignature('github', { 'x-hub-signature-256': sig }, body, secret)).toEqual({ ok: true });
    expect(
      verifySignature(
        'github',
        { 'x-hub-signature-256': sig.toUpperCase().replace('SHA256', 'sha256') },
        body,
        secret,
      ),
    ).toEqual({ ok: true });
    const tampered = Buffer.concat([body, Buffer.from(' ')]);
    expect(verifySignature('github', { 'x-hub-signature-256': sig }, tampered, secret)).toEqual({
      ok: false,
      reason: 'bad signature in x-hub-signature-256',
    });
    expect(
      verifySignature(
        'github',
        { 'x-hub-signature-256': hmacSignature('another-secret-000000', body) },
        body,
        secret,
      ).ok,
    ).toBe(false);
  });

  it('names the missing or malformed header without echoing its value', () => {
    expect(verifySignature('github', {}, body, secret)).toEqual({
      ok: false,
      reason: 'missing x-hub-signature-256 header',
    });
    const odd = verifySignature('github', { 'x-hub-signature-256': 'sha1=deadbeef-leak' }, body, secret);
    expect(odd).toEqual({ ok: false, reason: 'malformed x-hub-signature-256 (want sha256=<64 hex>)' });
    expect(JSON.stringify(odd)).not.toContain('leak');
    // a repeated header is refused, not guessed
    const sig = hmacSignature(secret, body);
    expect(verifySignature('github', { 'x-hub-signature-256': [sig, sig] }, body, secret).ok).toBe(false);
  });

  it('refuses a signature of the wrong type (GitHub header on a generic receiver, token on GitHub)', () => {
    const sig = hmacSignature(secret, body);
    expect(verifySignature('generic', { 'x-hub-signature-256': sig }, body, secret)).toEqual({
      ok: false,
      reason: 'missing x-signature header',
    });
    expect(verifySignature('generic', { 'x-signature': sig }, body, secret)).toEqual({ ok: true });
    expect(verifySignature('github', { 'x-gitlab-token': secret }, body, secret).ok).toBe(false);
    expect(verifySignature('gitlab', { 'x-hub-signature-256': sig }, body, secret).ok).toBe(false);
  });

  it('compares a GitLab token with the secret, whatever the body', () => {
    expect(verifySignature('gitlab', { 'x-gitlab-token': secret }, Buffer.from('x'), secret)).toEqual({
      ok: true,
    });
    expect(verifySignature('gitlab', { 'x-gitlab-token': `${secret}x` }, body, secret)).toEqual({
      ok: false,
      reason: 'bad x-gitlab-token',
    });
    expect(verifySignature('gitlab', { 'x-gitlab-token': '' }, body, secret).ok).toBe(false);
  });
});

describe('deliveryEvent', () => {
  it('triggers on pushes only, answers pings, keeps sane delivery ids', () => {
    expect(deliveryEvent('github', { 'x-github-event': 'push', 'x-github-delivery': 'a-1' })).toEqual({
      event: 'push',
      trigger: true,
      ping: false,
      deliveryId: 'a-1',
    });
    expect(deliveryEvent('github', { 'x-github-event': 'ping' })).toMatchObject({
      trigger: false,
      ping: true,
    });
    expect(deliveryEvent('github', { 'x-github-event': 'issues' })).toMatchObject({
      trigger: false,
      ping: false,
    });
    expect(deliveryEvent('gitlab', { 'x-gitlab-event': 'Tag Push Hook' }).trigger).toBe(true);
    expect(deliveryEvent('gitlab', { 'x-gitlab-event': 'Merge Request Hook' }).trigger).toBe(false);
    expect(deliveryEvent('generic', {}).trigger).toBe(true);
    expect(deliveryEvent('github', { 'x-github-delivery': 'x'.repeat(200) }).deliveryId).toBeUndefined();
    expect(deliveryEvent('github', { 'x-github-delivery': 'a b' }).deliveryId).toBeUndefined();
  });
});

describe('pushedRepoUrls', () => {
  it("reads GitHub's and GitLab's repository URLs, also from a form-encoded GitHub payload", () => {
    expect(pushedRepoUrls('github', body)).toEqual(['https://h/o/r.git']);
    const form = Buffer.from(`payload=${encodeURIComponent(body.toString())}`);
    expect(pushedRepoUrls('github', form, 'application/x-www-form-urlencoded')).toEqual([
      'https://h/o/r.git',
    ]);
    const gl = Buffer.from(
      JSON.stringify({ project: { git_http_url: 'http://gl/g/p.git', git_ssh_url: 'git@gl:g/p.git' } }),
    );
    expect(pushedRepoUrls('gitlab', gl)).toEqual(['http://gl/g/p.git', 'git@gl:g/p.git']);
    expect(pushedRepoUrls('github', Buffer.from('not json'))).toBeUndefined();
    expect(pushedRepoUrls('github', Buffer.from('{"repository": 3}'))).toEqual([]);
  });
});

describe('normalizeRepoUrl', () => {
  it('compares scheme and host case-insensitively, without .git, trailing slash, user or default port', () => {
    const n = 'https://github.com/Org/Repo';
    expect(normalizeRepoUrl('HTTPS://GitHub.com/Org/Repo.git')).toBe(n);
    expect(normalizeRepoUrl('https://user:pw@github.com:443/Org/Repo/')).toBe(n);
    expect(normalizeRepoUrl('git@github.com:Org/Repo.git')).toBe('ssh://github.com/Org/Repo');
    expect(normalizeRepoUrl('ssh://git@github.com:22/Org/Repo')).toBe('ssh://github.com/Org/Repo');
    expect(normalizeRepoUrl('http://127.0.0.1:8080/r.git')).toBe('http://127.0.0.1:8080/r');
    expect(normalizeRepoUrl('https://github.com/org/repo')).not.toBe(n);
    expect(normalizeRepoUrl('not a url')).toBeUndefined();
  });
});
