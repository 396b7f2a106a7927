import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { Reason } from '../proto/index.js';
import { bytesInFlight, DEFAULT_SOURCE_LIMITS, LIMIT_FLAGS, limitError, resolveLimits } from './limits.js';

describe('source limits', () => {
  it('fill in defaults and take given values', () => {
    expect(resolveLimits(undefined)).toEqual(DEFAULT_SOURCE_LIMITS);
    expect(resolveLimits({ maxObjects: 5, maxFiles: undefined })).toEqual({
      ...DEFAULT_SOURCE_LIMITS,
      maxObjects: 5,
    });
  });

  it.each([0, -1, 1.5, NaN, Infinity, '10', null])('refuse %p naming the limit and its flag', (v) => {
    expect(() => resolveLimits({ maxDocumentBytes: v as number })).toThrow(
      /limits\.maxDocumentBytes \(--max-document-bytes\) must be a positive integer/,
    );
  });

  it('refuse unknown limits', () => {
    expect(() => resolveLimits({ maxWhatever: 1 } as never)).toThrow(/unknown limit "maxWhatever"/);
  });

  it('bound the bytes in flight by maxBytesInFlight, by default maxRenderedBytes', () => {
    expect(bytesInFlight(resolveLimits(undefined))).toBe(DEFAULT_SOURCE_LIMITS.maxRenderedBytes);
    expect(bytesInFlight(resolveLimits({ maxRenderedBytes: 1000 }))).toBe(1000);
    expect(bytesInFlight(resolveLimits({ maxBytesInFlight: 5000 }))).toBe(5000);
    expect(() => resolveLimits({ maxBytesInFlight: -1 })).toThrow(
      'invalid agent config: limits.maxBytesInFlight must be a positive integer, got -1',
    );
  });

  it('make a stalled error naming where, the limit and the flag that raises it', () => {
    const err = limitError(
      Reason.BuildFailed,
      'apps/a.yaml',
      'the revision has more objects',
      'maxObjects',
      3,
    );
    expect(err.reason).toBe(Reason.BuildFailed);
    expect(err.stalled).toBe(true);
    expect(err.message).toBe(
      'apps/a.yaml: the revision has more objects, more than the limit of 3 (maxObjects; raise it with gitfleet agent --max-objects)',
    );
  });

  it('are what `gitfleet agent --help` says they are', () => {
    const launchers = readFileSync(new URL('../cli/launchers.ts', import.meta.url), 'utf8');
    const size = (n: number) => (n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)}Mi` : String(n));
    for (const [name, flag] of Object.entries(LIMIT_FLAGS)) {
      const value = DEFAULT_SOURCE_LIMITS[name as keyof typeof LIMIT_FLAGS];
      const shown = name.endsWith('Bytes') ? size(value) : String(value);
      expect(launchers).toMatch(new RegExp(`'${flag} <\\w+>',\\s*'[^']*\\(default ${shown}\\)'`));
    }
  });
});
