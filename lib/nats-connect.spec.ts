import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { NATS_RECONNECT_OPTIONS, NatsConnector } from './nats-connect.js';

describe('NatsConnector', () => {
  it('retries a first connect to a server that is down, and stop() ends the wait', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    let connected = false;
    // port 1 on loopback refuses at once; the credentials must not reach the log
    const connector = new NatsConnector({
      servers: ['nats://bot:hunter2@127.0.0.1:1'],
      options: { name: 'spec', ...NATS_RECONNECT_OPTIONS },
      log,
      onConnect: () => void (connected = true),
    });
    connector.start();
    const deadline = Date.now() + 10_000;
    while (lines.filter((l) => l.includes('cannot reach NATS')).length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const started = Date.now();
    await connector.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(lines.filter((l) => l.includes('cannot reach NATS')).length).toBeGreaterThanOrEqual(2);
    expect(lines.join('\n')).not.toContain('hunter2');
    expect(connected).toBe(false);
    expect(connector.nc).toBeUndefined();
  });
});
