import { describe, expect, it } from '@jest/globals';
import { AgentRequest } from '../../proto/index.js';
import { parseControlRequest } from './control-request.js';

const encode = (r: Partial<AgentRequest>) =>
  AgentRequest.encode(
    AgentRequest.fromPartial({ kind: 'tree', tenant: 'team-a', assignment: 'web', deadlineMs: 1000, ...r }),
  ).finish();

describe('parseControlRequest', () => {
  it('reads a valid request', () => {
    expect(parseControlRequest(encode({ kind: 'diff' }))).toEqual({
      kind: 'diff',
      tenant: 'team-a',
      assignment: 'web',
      deadlineMs: 1000,
    });
  });

  it.each([
    ['an unknown kind', encode({ kind: 'exec' }), /kind "exec" is not one of reconcile, diff, tree/],
    ['no kind', encode({ kind: '' }), /kind "" is not one of/],
    ['a tenant with a wildcard', encode({ tenant: 'team-*' }), /tenant: "team-\*" is not a valid name/],
    ['no assignment', encode({ assignment: '' }), /assignment: required/],
    ['no deadline', encode({ deadlineMs: 0 }), /deadline_ms must be a time/],
    ['garbage', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), /not an AgentRequest/],
    ['too many bytes', new Uint8Array(5000), /5000 bytes is more than 4096/],
  ])('refuses %s with one line', (_what, data, message) => {
    expect(() => parseControlRequest(data)).toThrow(message);
  });
});
