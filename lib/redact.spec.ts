import { describe, expect, it } from '@jest/globals';
import { REDACTED, scrubSecrets } from './redact.js';

describe('scrubSecrets', () => {
  it('removes user info from URLs', () => {
    expect(scrubSecrets("fatal: unable to access 'https://bot:pw@host/x.git/': 403")).toBe(
      "fatal: unable to access 'https://host/x.git/': 403",
    );
    expect(scrubSecrets('unsupported database URL scheme in "mysql://u:secret@x/db"')).toBe(
      'unsupported database URL scheme in "mysql://x/db"',
    );
    expect(scrubSecrets('nats://a:b@h1:4222,nats://tok@h2:4222 and https://ok/x')).toBe(
      'nats://h1:4222,nats://h2:4222 and https://ok/x',
    );
  });

  it('removes a password with an unencoded @ whole', () => {
    expect(scrubSecrets('https://bot:p@ss@host/x.git')).toBe('https://host/x.git');
  });

  it('leaves URLs without user info and addresses elsewhere alone', () => {
    const text = 'see https://host/a@b, mail ops@example.com, "https://host" "x@y"';
    expect(scrubSecrets(text)).toBe(text);
  });

  it('replaces the literal secrets, URL user info included', () => {
    expect(scrubSecrets("fatal: unable to access 'https://bot:hunter2@host/x.git/'", ['hunter2'])).toBe(
      "fatal: unable to access 'https://host/x.git/'",
    );
    expect(scrubSecrets('token aHVudGVyMg== rejected', ['aHVudGVyMg=='])).toBe(`token ${REDACTED} rejected`);
    expect(scrubSecrets('token abc123 here', ['abc123'])).toBe('token [redacted] here');
  });

  it('ignores empty and undefined secrets', () => {
    expect(scrubSecrets('nothing here', [undefined, ''])).toBe('nothing here');
  });

  it('replaces the longer of two overlapping secrets whole, and regex characters literally', () => {
    expect(scrubSecrets('pw=abc then abcdef', ['abc', 'abcdef'])).toBe('pw=[redacted] then [redacted]');
    expect(scrubSecrets('a.b a+b (x)', ['a+b', '(x)'])).toBe('a.b [redacted] [redacted]');
  });

  it('stays linear on long texts with many secrets and URLs', () => {
    const secrets = Array.from({ length: 500 }, (_, i) => `secret-${i}-${'x'.repeat(20)}`);
    const line = (i: number) => `https://u:${secrets[i % 500]}@host/${i} a://://${'a.'.repeat(20)}`;
    const text = Array.from({ length: 20_000 }, (_, i) => line(i)).join('\n');
    const started = Date.now();
    const out = scrubSecrets(text, secrets);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(out).not.toContain('secret-');
    expect(out.split('\n')[7]).toBe(`https://host/7 a://://${'a.'.repeat(20)}`);
  });

  it('removes private key blocks and Authorization credentials, but not prose', () => {
    const key =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----';
    expect(scrubSecrets(`bad key ${key} here`)).toBe(`bad key ${REDACTED} here`);
    expect(scrubSecrets('x -----BEGIN RSA PRIVATE KEY-----\nMIIEow truncated')).toBe(`x ${REDACTED}`);
    expect(scrubSecrets('Authorization: Bearer ghp_abc123DEF456xyz')).toBe(
      `Authorization: Bearer ${REDACTED}`,
    );
    expect(scrubSecrets('Authorization: Basic Ym90Omh1bnRlcjI=')).toBe(`Authorization: Basic ${REDACTED}`);
    expect(scrubSecrets('needs Basic authentication or a Bearer token')).toBe(
      'needs Basic authentication or a Bearer token',
    );
  });
});
