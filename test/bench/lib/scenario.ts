// The shape of a benchmark scenario and what the runner hands it, and the preamble every scenario
// shares: a Cleanup that stops what it started, also when it fails.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeOnExit } from '../../env/process.js';
import type { Progress } from './progress.js';
import type { ResultRow } from './report.js';

export interface ScenarioContext {
  quick: boolean;
  /** --size: overrides the scenario's size(s) (its unit: agents, objects, commits, assignments, seconds). */
  size?: number;
  /** --budget: minutes a size that may not finish here is allowed (fanout 100,000). */
  budgetMinutes?: number;
  progress: Progress;
}

export interface ScenarioOutcome {
  rows: ResultRow[];
  details: Record<string, unknown>;
  notes: string[];
}

export interface Scenario {
  name: string;
  title: string;
  /** One line: sizes at full and quick, for --help. */
  sizes: string;
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}

/** Things to stop, in reverse order of starting; every one is tried even when one fails. */
export class Cleanup {
  private readonly steps: Array<{ name: string; fn: () => Promise<unknown> | unknown }> = [];

  add(name: string, fn: () => Promise<unknown> | unknown): void {
    this.steps.push({ name, fn });
  }

  async run(progress?: Progress): Promise<void> {
    while (this.steps.length > 0) {
      const { name, fn } = this.steps.pop()!;
      try {
        await fn();
      } catch (err) {
        progress?.say(`cleanup: stopping ${name} failed: ${(err as Error).message}`);
      }
    }
  }
}

/** A fresh temp dir, removed by `cleanup` (or at exit, when the run is killed). */
export function tempDir(cleanup: Cleanup, prefix: string): string {
  const dir = removeOnExit(mkdtempSync(join(tmpdir(), prefix)));
  cleanup.add('temp dir', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `body` with a fresh Cleanup and stops everything it registered afterwards, also on failure. */
export async function withCleanup<T>(progress: Progress, body: (cleanup: Cleanup) => Promise<T>): Promise<T> {
  const cleanup = new Cleanup();
  try {
    return await body(cleanup);
  } finally {
    progress.say('stopping servers');
    await cleanup.run(progress);
  }
}
