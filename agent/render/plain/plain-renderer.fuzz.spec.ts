// Property-based fuzzing of the plain renderer's parse: whatever a repository holds, parsing
// either returns objects or throws the agent's own ReconcileError (a BuildFailed naming the file),
// never anything else, and never takes long. Bounded runs here; `npm run fuzz` runs long.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fuzzParams } from '../../../test/fuzz/fuzz-params.js';
import { stringify } from 'yaml';
import { Reason } from '../../../proto/index.js';
import { ReconcileError } from '../../errors.js';
import { parseManifests } from './plain-renderer.js';

const SMALL_LIMITS = { maxDocumentBytes: 4096, maxObjects: 20, maxYamlAliases: 20 };

/** Pieces of YAML syntax, so that random text reaches deep into the parser. */
const yamlToken = fc.constantFrom(
  'apiVersion: v1\n',
  'kind: ConfigMap\n',
  'metadata:\n',
  '  name: x\n',
  '---\n',
  '...\n',
  '- ',
  ': ',
  '  ',
  '\n',
  '&a ',
  '*a',
  '<<: *a\n',
  '[',
  ']',
  '{',
  '}',
  ',',
  '"',
  "'",
  '|\n',
  '>-\n',
  '# c\n',
  '!!binary ',
  '!!str ',
  '!custom ',
  '? ',
  '%YAML 1.1\n',
  '%TAG ! tag:x,2000:\n',
  '0644',
  'yes',
  '~',
  '\t',
  '\\u0000',
  'kind: List\nitems:\n',
);

function parsesOrFailsCleanly(text: string): void {
  const started = Date.now();
  try {
    parseManifests('fuzz.yaml', text, SMALL_LIMITS);
  } catch (err) {
    if (!(err instanceof ReconcileError)) throw err;
    expect(err.reason).toBe(Reason.BuildFailed);
    expect(err.message.startsWith('fuzz.yaml')).toBe(true);
  }
  expect(Date.now() - started).toBeLessThan(2000);
}

describe('plain renderer parse (fuzz)', () => {
  it('arbitrary text: objects or a BuildFailed, never another error', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), parsesOrFailsCleanly),
      fuzzParams(200),
    );
  });

  it('YAML-shaped text: objects or a BuildFailed, never another error', () => {
    fc.assert(
      fc.property(
        fc.array(yamlToken, { maxLength: 120 }).map((parts) => parts.join('')),
        parsesOrFailsCleanly,
      ),
      fuzzParams(200),
    );
  });

  it('any serializable value as YAML: objects or a BuildFailed', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 4 }), (docs) =>
        parsesOrFailsCleanly(docs.map((d) => stringify(d)).join('---\n')),
      ),
      fuzzParams(200),
    );
  });
});
