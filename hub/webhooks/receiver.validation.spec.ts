import { describe, expect, it } from '@jest/globals';
import { checkReceiverSecret, validateReceiver } from './receiver.validation.js';

describe('validateReceiver', () => {
  const ok = { tenant: 'team-a', name: 'gh', type: 'github', repos: ['apps'] };

  it('accepts a receiver and keeps only its spec', () => {
    expect(validateReceiver({ ...ok, path: '/hook/forged', lastDelivery: 'x' })).toEqual(ok);
    expect(validateReceiver({ ...ok, repos: undefined })).toEqual({ ...ok, repos: [] });
  });

  it.each([
    [undefined, 'receiver: required'],
    [{ ...ok, tenant: '' }, 'receiver.tenant'],
    [{ ...ok, name: 'Bad_Name' }, 'receiver.name'],
    [{ ...ok, type: '' }, 'receiver.type: required: use one of github, gitlab, generic'],
    [
      { ...ok, type: 'bitbucket' },
      'receiver.type: "bitbucket" is not a receiver type: use one of github, gitlab, generic',
    ],
    [
      { ...ok, repos: ['team-b/apps'] },
      'receiver.repos[0]: "team-b/apps": name a repo of the receiver\'s tenant',
    ],
    [{ ...ok, repos: ['apps', 'apps'] }, 'receiver.repos[1]: "apps" is listed twice'],
    [{ ...ok, repos: ['ok', 'x\u0000'] }, 'receiver.repos[1]'],
    [
      { ...ok, repos: Array.from({ length: 65 }, (_, i) => `r${i}`) },
      'receiver.repos: 65 repos (at most 64)',
    ],
  ])('refuses %j naming the field', (input, message) => {
    expect(() => validateReceiver(input)).toThrow(message);
  });
});

describe('checkReceiverSecret', () => {
  it('bounds the length and refuses what cannot travel in a header, without echoing the secret', () => {
    expect(checkReceiverSecret('s'.repeat(16))).toBe('s'.repeat(16));
    expect(() => checkReceiverSecret('short-secret')).toThrow('secret: must be 16 to 256 characters, got 12');
    expect(() => checkReceiverSecret('s'.repeat(257))).toThrow('got 257');
    let message = '';
    try {
      checkReceiverSecret('with a space inside-it');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('printable ASCII without spaces');
    expect(message).not.toContain('space inside');
  });
});
