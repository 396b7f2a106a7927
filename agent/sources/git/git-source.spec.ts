import { describe, expect, it } from '@jest/globals';
import { gitAuth } from './git-source.js';

describe('git credentials', () => {
  it('travel as a header scoped to the origin, never in the URL', () => {
    const auth = gitAuth('http://127.0.0.1:8080/team/app.git', { username: 'bot', password: 's3cret' });
    expect(auth.url).toBe('http://127.0.0.1:8080/team/app.git');
    expect(auth.origin).toBe('http://127.0.0.1:8080/');
    expect(auth.header).toBe(`Authorization: Basic ${Buffer.from('bot:s3cret').toString('base64')}`);
    expect(auth.secrets).toContain('s3cret');
  });

  it('moves credentials embedded in the URL out of it', () => {
    const auth = gitAuth('https://bot:p%40ss@git.example.com/app.git');
    expect(auth.url).toBe('https://git.example.com/app.git');
    expect(auth.header).toBe(`Authorization: Basic ${Buffer.from('bot:p@ss').toString('base64')}`);
  });

  it('has no header without credentials', () => {
    const auth = gitAuth('https://git.example.com/app.git');
    expect(auth.header).toBeUndefined();
    expect(auth.secrets).toEqual([]);
  });
});
