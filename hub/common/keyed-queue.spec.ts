import { expect, it } from '@jest/globals';
import { deferred } from '../../lib/limit.js';
import { KeyedQueue } from './keyed-queue.js';

it('runs one job per key at a time and coalesces requests made meanwhile into one more run', async () => {
  const q = new KeyedQueue();
  const gate = deferred<void>();
  let runs = 0;
  let concurrent = 0;
  let maxConcurrent = 0;
  const job = async () => {
    runs++;
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    if (runs === 1) await gate.promise;
    concurrent--;
  };
  const first = q.run('k', job);
  expect(q.busy('k')).toBe(true);
  const later = [q.run('k', job), q.run('k', job), q.run('k', job)];
  const other = q.run('other', async () => undefined);
  await other;
  gate.resolve();
  await Promise.all([first, ...later]);
  expect(runs).toBe(2);
  expect(maxConcurrent).toBe(1);
  expect(q.busy('k')).toBe(false);
});

it('propagates a failure to the callers of that run only', async () => {
  const q = new KeyedQueue();
  await expect(q.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  await expect(q.run('k', async () => undefined)).resolves.toBeUndefined();
});
