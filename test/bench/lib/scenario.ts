// The shape of a benchmark scenario and what the runner hands it.
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
