import { describe, expect, it } from '@jest/globals';
import { agentStartupLine, fetchJitterMs, hubStartupLine } from './launchers.js';

describe('start-up lines', () => {
  it('never show the password (or token) of the NATS URL or the store URL', () => {
    const line = hubStartupLine(
      '127.0.0.1:7400',
      'nats://hub:n4ts-pw@10.0.0.1:4222,nats://t0ken-only@10.0.0.2:4222',
      'postgres://gitfleet:pg-pw@db:5432/gitfleet',
    );
    expect(line).toBe(
      'gitfleet hub listening on 127.0.0.1:7400 (plaintext, nats nats://10.0.0.1:4222,nats://10.0.0.2:4222, db postgres://db:5432/gitfleet)\n',
    );
    const agent = agentStartupLine('edge-1', 'tls://agent:n4ts-pw@nats:4222');
    expect(agent).toBe('gitfleet agent for cluster edge-1 running (nats tls://nats:4222)\n');
    for (const secret of ['n4ts-pw', 't0ken-only', 'pg-pw']) expect(line + agent).not.toContain(secret);
  });

  it('reads --fetch-jitter as a duration, naming the flag when it is not one', () => {
    expect(fetchJitterMs('0')).toBe(0);
    expect(fetchJitterMs('2s')).toBe(2000);
    expect(fetchJitterMs('1m30s')).toBe(90_000);
    for (const bad of ['-1s', 'soon', '', '2 s;rm -rf /']) {
      expect(() => fetchJitterMs(bad)).toThrow(/^--fetch-jitter: invalid duration .*use e\.g\. 30s/);
    }
  });
});
