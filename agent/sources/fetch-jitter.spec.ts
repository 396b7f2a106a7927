import { describe, expect, it } from '@jest/globals';
import { FetchJitter, FetchJitterStopped } from './fetch-jitter.js';

/** A clock and a sleep the test moves by hand. */
function fakeTime() {
  let nowMs = 0;
  const sleepers: Array<{ at: number; resolve: () => void }> = [];
  return {
    now: () => nowMs,
    sleep: (ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        sleepers.push({ at: nowMs + ms, resolve });
        signal.addEventListener('abort', () => resolve(), { once: true });
      }),
    advance(ms: number) {
      nowMs += ms;
      for (const s of sleepers.filter((x) => x.at <= nowMs)) s.resolve();
    },
    sleeping: () => sleepers.map((s) => s.at),
  };
}

describe('FetchJitter', () => {
  it('waits nothing with a spread of 0', async () => {
    const slept: number[] = [];
    const j = new FetchJitter({
      jitterMs: 0,
      sleep: (ms) => (slept.push(ms), Promise.resolve()),
    });
    await j.wait('git a@1');
    expect(slept).toEqual([]);
  });

  it('delays each new revision by random × spread, uniform over [0, spread)', async () => {
    const randoms = [0, 0.25, 0.999];
    const slept: number[] = [];
    const j = new FetchJitter({
      jitterMs: 2000,
      random: () => randoms.shift()!,
      sleep: (ms) => (slept.push(ms), Promise.resolve()),
    });
    await j.wait('git a@1');
    await j.wait('git a@2');
    await j.wait('git b@1');
    expect(slept).toEqual([0, 500, 1998]);
  });

  it('spreads many agents over the whole spread (not all in the same instant)', async () => {
    // 200 agents (one FetchJitter each) with a real random source: their fetch times cover
    // the spread instead of piling up at one moment
    const starts: number[] = [];
    for (let i = 0; i < 200; i++) {
      const j = new FetchJitter({ jitterMs: 10_000, sleep: (ms) => (starts.push(ms), Promise.resolve()) });
      await j.wait('git apps@c0ffee');
    }
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...starts)).toBeLessThan(10_000);
    const perSecond = new Array<number>(10).fill(0);
    for (const s of starts) perSecond[Math.floor(s / 1000)]++;
    // with 200 uniform draws, a second of the ten holding none or more than half is astronomically unlikely
    for (const n of perSecond) {
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(100);
    }
  });

  it('shares one delay among the passes that want the same revision, and tells how long is left', async () => {
    const t = fakeTime();
    const j = new FetchJitter({ jitterMs: 4000, random: () => 0.5, now: t.now, sleep: t.sleep });
    const told: number[] = [];
    let done = 0;
    const a = j.wait('git a@1', (ms) => told.push(ms)).then(() => done++);
    t.advance(1500);
    const b = j.wait('git a@1', (ms) => told.push(ms)).then(() => done++);
    expect(t.sleeping()).toEqual([2000]); // one sleep for both
    expect(told).toEqual([2000, 500]);
    await Promise.resolve();
    expect(done).toBe(0);
    t.advance(500);
    await Promise.all([a, b]);
    expect(done).toBe(2);
    // released: a later pass for it does not wait again
    const later: number[] = [];
    await j.wait('git a@1', (ms) => later.push(ms));
    expect(later).toEqual([]);
  });

  it('stop ends the waits: the fetch does not start', async () => {
    const t = fakeTime();
    const j = new FetchJitter({ jitterMs: 60_000, random: () => 0.9, now: t.now, sleep: t.sleep });
    const waiting = j.wait('oci r@sha256:1');
    j.stop();
    await expect(waiting).rejects.toThrow(FetchJitterStopped);
    await expect(j.wait('oci r@sha256:2')).rejects.toThrow('the agent is stopping');
  });
});
