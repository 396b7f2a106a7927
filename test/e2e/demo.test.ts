// README command one stays true: `npm run demo` (the built demo) runs to the end and shows both
// revisions Ready.
import { describe, expect, it } from '@jest/globals';
import { execFile as execFileCb } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFile = promisify(execFileCb);
const demo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'test', 'demo', 'demo.js');

describe('npm run demo', () => {
  it('rolls out two revisions through hub, agent and CLI, then exits 0', async () => {
    if (!existsSync(demo)) throw new Error(`${demo} is missing: run \`npm run build\` first (npm test does)`);
    const { stdout } = await execFile(process.execPath, [demo], { timeout: 240_000, maxBuffer: 16 << 20 });
    const readyRows = stdout.split('\n').filter((l) => /demo-1\s+team-a\s+web\s+Ready/.test(l));
    expect(readyRows).toHaveLength(2);
    expect(stdout).toMatch(/Deployment web\s+replicas=3\s+field managers: gitfleet/);
    expect(stdout).toContain('ConfigMap feature-flags');
    expect(stdout).toContain('Done: both revisions rolled out');
  }, 300_000);
});
