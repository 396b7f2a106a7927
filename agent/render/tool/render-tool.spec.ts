// The render tools' process runner with real processes: output, failures, the timeout and the
// output cap stop the whole process group, and the environment holds nothing of the agent's.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RenderToolError, renderToolEnv, resolveCommand, runRenderTool, toolMessage } from './render-tool.js';

const sh = (
  script: string,
  over: { timeoutMs?: number; maxOutputBytes?: number; env?: Record<string, string> } = {},
) =>
  runRenderTool({
    command: '/bin/sh',
    args: ['-c', script],
    cwd: tmpdir(),
    env: over.env ?? { PATH: '/usr/bin:/bin' },
    timeoutMs: over.timeoutMs ?? 10_000,
    maxOutputBytes: over.maxOutputBytes ?? 1024 * 1024,
  });

async function failure(p: Promise<unknown>): Promise<RenderToolError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RenderToolError);
  return err as RenderToolError;
}

/** Whether a process runs (a killed one may stay a zombie until its new parent reaps it). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('runRenderTool', () => {
  it('resolves with stdout when the tool exits 0', async () => {
    await expect(sh('printf "a: 1\\n"; echo noise >&2')).resolves.toBe('a: 1\n');
  });

  it('fails with the exit status and the end of stderr', async () => {
    const err = await failure(sh('echo "Error: it broke" >&2; exit 3'));
    expect(err.failure).toBe('exit');
    expect(err.message).toBe('exited with status 3');
    expect(err.stderr).toBe('Error: it broke\n');
  });

  it("finds a bare name on the agent's PATH although the tool's environment has none", async () => {
    const out = runRenderTool({
      command: 'sh',
      args: ['-c', 'echo found'],
      cwd: tmpdir(),
      env: { PATH: '' },
      timeoutMs: 5000,
      maxOutputBytes: 100,
    });
    await expect(out).resolves.toBe('found\n');
    expect(resolveCommand('sh', '/nonexistent:/bin')).toBe('/bin/sh');
    expect(resolveCommand('./bin/helm', '/bin')).toBe('./bin/helm');
    expect(resolveCommand('no-such-tool', '/bin')).toBe('no-such-tool');
  });

  it('names a binary that is not there', async () => {
    const err = await failure(
      runRenderTool({
        command: '/nonexistent/helm',
        args: [],
        cwd: tmpdir(),
        timeoutMs: 1000,
        maxOutputBytes: 10,
      }),
    );
    expect(err.failure).toBe('spawn');
    expect(err.message).toBe('cannot run /nonexistent/helm: not found');
  });

  it('stops the whole process group at the timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'render-tool-'));
    try {
      const started = Date.now();
      const err = await failure(sh(`sleep 30 & echo $! > ${dir}/pid; wait`, { timeoutMs: 500 }));
      expect(err.failure).toBe('timeout');
      expect(err.message).toBe('did not finish within 500 ms');
      expect(Date.now() - started).toBeLessThan(5000);
      const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      await new Promise((r) => setTimeout(r, 100));
      expect(alive(pid)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops a tool that writes more than the output cap', async () => {
    const err = await failure(sh('while :; do echo "0123456789abcdef"; done', { maxOutputBytes: 64 * 1024 }));
    expect(err.failure).toBe('output');
    expect(err.message).toBe(`wrote more than ${64 * 1024} bytes`);
  });

  it('runs with nothing of the agent environment: no PATH, proxies to nowhere, HOME in the scratch dir', async () => {
    process.env.GITFLEET_TEST_SECRET = 'do-not-leak';
    try {
      const env = renderToolEnv('/tmp/scratch') as Record<string, string>;
      const out = await runRenderTool({
        command: '/usr/bin/env',
        args: [],
        cwd: tmpdir(),
        env,
        timeoutMs: 5000,
        maxOutputBytes: 1024 * 1024,
      });
      expect(out).not.toContain('do-not-leak');
      expect(out).toContain('HOME=/tmp/scratch\n');
      expect(out).toContain('PATH=\n');
      expect(out).toContain('HTTPS_PROXY=http://127.0.0.1:9\n');
    } finally {
      delete process.env.GITFLEET_TEST_SECRET;
    }
  });
});

describe('toolMessage', () => {
  it('makes one line without the checkout path or Error: prefixes, capped', () => {
    const root = '/var/cache/gitfleet/apps/abc';
    expect(toolMessage(`Error: accumulating resources: '${root}/base' is bad\n\nError: more\n`, root)).toBe(
      "accumulating resources: 'base' is bad; more",
    );
    expect(toolMessage('x'.repeat(1000), root, 10)).toBe('xxxxxxxxxx…');
  });
});
