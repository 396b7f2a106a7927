import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../common/errors.js';
import { DEFAULT_RATE_LIMIT_SECONDS, urlOrigin, validateAlert } from './alert.validation.js';

const ok = { name: 'ops', type: 'webhook', url: 'https://hooks.example.com/T000/B000/XXXX?token=abc' };

describe('validateAlert', () => {
  it('fills the defaults: every event, info and up, the default rate limit', () => {
    expect(validateAlert(ok)).toEqual({
      tenant: '',
      name: 'ops',
      type: 'webhook',
      url: ok.url,
      secret: '',
      events: [],
      assignments: [],
      severity: 'info',
      threshold: 0,
      windowSeconds: 0,
      rateLimitSeconds: DEFAULT_RATE_LIMIT_SECONDS,
    });
  });

  it('keeps filters sorted and de-duplicated, a threshold with its window and the secret', () => {
    const a = validateAlert(
      {
        ...ok,
        tenant: 'team-a',
        events: ['cluster.online', 'assignment.failed', 'assignment.failed'],
        assignments: ['web', 'api'],
        severity: 'error',
        threshold: 3,
        windowSeconds: 600,
        rateLimitSeconds: 60,
      },
      'key',
    );
    expect(a).toMatchObject({
      tenant: 'team-a',
      events: ['assignment.failed', 'cluster.online'],
      assignments: ['api', 'web'],
      severity: 'error',
      threshold: 3,
      windowSeconds: 600,
      rateLimitSeconds: 60,
      secret: 'key',
    });
    expect(validateAlert({ ...ok, type: 'slack', url: 'http://127.0.0.1:8080/x' }).type).toBe('slack');
  });

  it.each([
    [undefined, '', 'alert: required'],
    [{ ...ok, name: '' }, '', 'alert.name: required'],
    [{ ...ok, name: 'x'.repeat(64) }, '', 'alert.name: "xxxxxxxx'],
    [{ ...ok, name: 'x'.repeat(100_000) }, '', '(100000 characters)'],
    [{ ...ok, tenant: 'Team' }, '', 'alert.tenant: "Team" is not a valid name'],
    [{ ...ok, type: 'email' }, '', 'alert.type: "email": use one of webhook, slack'],
    [{ ...ok, url: '' }, '', "alert.url: required: the receiver's http(s) URL"],
    [{ ...ok, url: 'file:///etc/passwd' }, '', 'alert.url: must be an http or https URL (not "file":)'],
    [
      { ...ok, url: 'javascript:alert(1)' },
      '',
      'alert.url: must be an http or https URL (not "javascript":)',
    ],
    [{ ...ok, url: 'gopher://h/x' }, '', 'must be an http or https URL'],
    [{ ...ok, url: 'hooks.example.com/x' }, '', 'alert.url: must be an http or https URL'],
    [{ ...ok, url: 'https:///path' }, '', 'alert.url: has no host'],
    [{ ...ok, url: 'https:/hooks.example.com' }, '', 'alert.url: has no host'],
    [{ ...ok, url: 'https://u:p@hooks.example.com/x' }, '', 'alert.url: must not contain user info'],
    [{ ...ok, url: 'https://h/x y' }, '', 'alert.url: must not contain spaces or control characters'],
    [{ ...ok, url: 'https://h/\u0000' }, '', 'must not contain spaces or control characters'],
    [
      { ...ok, url: `https://h/${'x'.repeat(3000)}` },
      '',
      'alert.url: is 3010 characters long (at most 2048)',
    ],
    [
      { ...ok, events: ['assignment.exploded'] },
      '',
      'alert.events[0]: "assignment.exploded" is not an event kind',
    ],
    [{ ...ok, events: Array(7).fill('cluster.online') }, '', 'alert.events: 7 entries (at most 6)'],
    [{ ...ok, assignments: ['ok', 'Not_OK'] }, '', 'alert.assignments[1]: "Not_OK" is not a valid name'],
    [{ ...ok, assignments: Array(101).fill('a') }, '', 'alert.assignments: 101 entries (at most 100)'],
    [{ ...ok, severity: 'warning' }, '', 'alert.severity: "warning": use one of info, error'],
    [{ ...ok, threshold: -1 }, '', 'alert.threshold: must be a whole number from 0 to 1000, got -1'],
    [{ ...ok, threshold: 1e9, windowSeconds: 60 }, '', 'alert.threshold: must be a whole number'],
    [{ ...ok, threshold: 3 }, '', 'alert.window_seconds: required with a threshold'],
    [{ ...ok, windowSeconds: 60 }, '', 'alert.window_seconds: only with a threshold of 2 or more'],
    [
      { ...ok, rateLimitSeconds: 10e6 },
      '',
      'alert.rate_limit_seconds: must be a whole number from 0 to 86400',
    ],
    [ok, 'x'.repeat(4097), 'secret: has 4097 bytes (at most 4096)'],
    [{ ...ok, type: 'slack' }, 'key', 'secret: only a webhook alert signs its body'],
  ])('rejects %j (secret %j) with %j', (input, secret, message) => {
    expect(() => validateAlert(input, secret)).toThrow(ValidationError);
    expect(() => validateAlert(input, secret)).toThrow(message);
  });

  it('never echoes the URL (it may hold a token) or the secret in an error', () => {
    for (const [input, secret] of [
      [{ ...ok, url: 'ftp://hooks.example.com/T000/SECRETPATH' }, ''],
      [{ ...ok, url: 'https://u:SECRETPATH@hooks.example.com/x' }, ''],
      [{ ...ok, url: 'https://hooks.example.com/SECRETPATH x' }, ''],
      [{ ...ok, type: 'slack', url: 'https://hooks.example.com/SECRETPATH' }, 'SECRETPATH'],
    ] as const) {
      try {
        validateAlert(input, secret);
        throw new Error('expected a ValidationError');
      } catch (err) {
        expect((err as Error).message).not.toContain('SECRETPATH');
      }
    }
  });
});

describe('urlOrigin', () => {
  it('shows scheme://host[:port] only', () => {
    expect(urlOrigin('https://hooks.slack.com/services/T0/B0/XXXX')).toBe('https://hooks.slack.com');
    expect(urlOrigin('http://127.0.0.1:8080/a?token=x#y')).toBe('http://127.0.0.1:8080');
    expect(urlOrigin('not a url')).toBe('(invalid URL)');
  });
});
