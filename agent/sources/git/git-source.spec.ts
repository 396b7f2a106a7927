import { describe, expect, it } from '@jest/globals';
import { redactSecrets, scrubUrls } from '../../redact.js';
import { gitAuth, gitEnv } from './git-source.js';

describe('git credentials', () => {
  it('travel as a header scoped to the origin, never in the URL', () => {
    const auth = gitAuth('http://127.0.0.1:8080/team/app.git', { username: 'bot', password: 's3cret' });
    expect(auth.url).toBe('http://127.0.0.1:8080/team/app.git');
    const env = gitEnv(auth, {});
    const headerIdx = Object.entries(env)
      .find(([, v]) => v === 'http.http://127.0.0.1:8080/.extraHeader')![0]
      .slice(-1);
    expect(env[`GIT_CONFIG_VALUE_${headerIdx}`]).toBe(
      `Authorization: Basic ${Buffer.from('bot:s3cret').toString('base64')}`,
    );
    expect(env.GIT_TERMINAL_PROMPT).toBe('0');
    expect(env.GIT_CONFIG_COUNT).toBe(
      String(Object.keys(env).filter((k) => k.startsWith('GIT_CONFIG_KEY_')).length),
    );
    expect(auth.secrets).toContain('s3cret');
  });

  it('moves credentials embedded in the URL out of it', () => {
    const auth = gitAuth('https://bot:p%40ss@git.example.com/app.git');
    expect(auth.url).toBe('https://git.example.com/app.git');
    expect(auth.header).toBe(`Authorization: Basic ${Buffer.from('bot:p@ss').toString('base64')}`);
  });

  it('has no header without credentials and disables credential helpers', () => {
    const auth = gitAuth('https://git.example.com/app.git');
    expect(auth.header).toBeUndefined();
    const env = gitEnv(auth, {});
    expect(Object.values(env)).not.toContain('http.https://git.example.com/.extraHeader');
    expect(env.GIT_CONFIG_KEY_0).toBe('credential.helper');
    expect(env.GIT_CONFIG_VALUE_0).toBe('');
  });

  it('scrubs user info and secrets from messages', () => {
    expect(scrubUrls("fatal: unable to access 'https://bot:pw@host/x.git/': 403")).toBe(
      "fatal: unable to access 'https://host/x.git/': 403",
    );
    expect(redactSecrets('token abc123 here', ['abc123'])).toBe('token [redacted] here');
  });
});
