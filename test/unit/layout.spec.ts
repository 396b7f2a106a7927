// The layout rule of eslint.config.js, tried on imports that break it: hub/ and agent/ never
// import each other, proto/ and lib/ stay on the ground floor, cli/ reaches the hub and the agent
// only through their main.ts, and only the hub loads Nest's side of the API.
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const eslint = new ESLint({ cwd: root });

/** The no-restricted-imports messages ESLint gives `code` as if it were the file `path`. */
async function layoutErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layout lint rule', () => {
  it.each([
    ['hub/desired/x.ts', "import '../../agent/main.js';", 'must not import agent'],
    ['hub/x.ts', "import '../cli/main.js';", 'must not import cli'],
    ['agent/apply/x.ts', "import { startHub } from '../../hub/main.js';", 'must not import hub'],
    ['agent/x.ts', "import '../proto/nest.js';", 'must not import proto/nest'],
    ['proto/contract/x.ts', "import '../../hub/main.js';", 'must not import hub'],
    ['lib/x.ts', "import '../agent/agent.js';", 'must not import agent'],
    ['cli/commands/x.ts', "import '../../hub/desired/desired.service.js';", 'only through hub/main.js'],
    ['cli/x.ts', "import '../proto/nest.js';", 'must not import proto/nest'],
    ['hub/x.ts', "import '../test/fixtures/hub-records.js';", 'must not import test'],
  ])('%s: %s is refused', async (path, code, message) => {
    const errors = await layoutErrors(path, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(message);
  });

  it.each([
    ['cli/launchers.ts', "import '../hub/main.js';\nimport '../agent/main.js';"],
    ['hub/x.ts', "import '../proto/nest.js';\nimport '../lib/log.js';\nimport './common/names.js';"],
    ['agent/x.ts', "import '../proto/index.js';\nimport '../lib/log.js';"],
    ['hub/desired/x.spec.ts', "import '../../test/fixtures/hub-records.js';"],
  ])('%s may import what its floor allows', async (path, code) => {
    expect(await layoutErrors(path, code)).toEqual([]);
  });
});
