import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Reason } from '../../../proto/index.js';
import { ReconcileError } from '../../errors.js';
import type { Scope } from '../../kube/objects.js';
import { DEFAULT_SOURCE_LIMITS } from '../../limits.js';
import { finalizeObjects, parseManifests, renderPlain } from './plain-renderer.js';

const cm = (name: string, extra = '') =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}`;

const scopes: Record<string, Scope> = {
  'v1/ConfigMap': 'Namespaced',
  'v1/Namespace': 'Cluster',
  'apps/v1/Deployment': 'Namespaced',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'Cluster',
};
const scopeOf = async (apiVersion: string, kind: string) => scopes[`${apiVersion}/${kind}`];
const opts = { targetNamespace: 'team-a', tenant: 'team-a', assignment: 'web', scopeOf };

function buildFailure(fn: () => unknown): ReconcileError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ReconcileError);
    expect((err as ReconcileError).reason).toBe(Reason.BuildFailed);
    return err as ReconcileError;
  }
  throw new Error('expected a BuildFailed error');
}

async function buildFailureAsync(p: Promise<unknown>): Promise<ReconcileError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ReconcileError);
    expect((err as ReconcileError).reason).toBe(Reason.BuildFailed);
    return err as ReconcileError;
  }
  throw new Error('expected a BuildFailed error');
}

describe('parseManifests', () => {
  it('reads multi-document files and skips empty documents', () => {
    const text = `${cm('a')}---\n---\n# only a comment\n---\n${cm('b')}`;
    const objs = parseManifests('apps/cm.yaml', text);
    expect(objs.map((o) => [o.object.metadata.name, o.document])).toEqual([
      ['a', 1],
      ['b', 4],
    ]);
  });

  it('expands kind: List', () => {
    const text = [
      'apiVersion: v1',
      'kind: List',
      'items:',
      '- apiVersion: v1',
      '  kind: ConfigMap',
      '  metadata: {name: x}',
      '- {apiVersion: v1, kind: ConfigMap, metadata: {name: second}}',
    ].join('\n');
    const objs = parseManifests('list.yaml', text);
    expect(objs.map((o) => o.object.metadata.name)).toEqual(['x', 'second']);
  });

  it('refuses a SOPS-encrypted List instead of applying its still-encrypted items', () => {
    const text = [
      'apiVersion: v1',
      'kind: List',
      'items:',
      '- {apiVersion: v1, kind: Secret, metadata: {name: s}, stringData: {k: "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]"}}',
      'sops:',
      '  mac: ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]',
      '  version: 3.9.0',
    ].join('\n');
    expect(() => parseManifests('secrets.yaml', text)).toThrow(
      'secrets.yaml (document 1, line 1): a SOPS-encrypted List cannot be decrypted: encrypt each object as its own document',
    );
  });

  it('reads YAML the way kubectl does (octal modes, no timestamps)', () => {
    const text = `${cm('a')}data:\n  date: 2024-01-01\n  time: "12:30"\nspec:\n  mode: 0644\n`;
    const [o] = parseManifests('a.yaml', text);
    expect(o.object.data).toEqual({ date: '2024-01-01', time: '12:30' });
    expect((o.object.spec as { mode: number }).mode).toBe(0o644);
  });

  it('names the file and line of a YAML syntax error', () => {
    const text = `${cm('a')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b: c\ndata: {}\n`;
    const err = buildFailure(() => parseManifests('apps/bad.yaml', text));
    expect(err.message).toBe(
      'apps/bad.yaml: YAML syntax error at line 9, column 9: Nested mappings are not allowed in compact mappings',
    );
    expect(err.stalled).toBe(true);
  });

  it('names the file and document of an object without apiVersion, kind or name', () => {
    const err = buildFailure(() =>
      parseManifests('x.yaml', `${cm('a')}---\nkind: ConfigMap\nmetadata: {}\n`),
    );
    expect(err.message).toBe('x.yaml (document 2, line 6): missing apiVersion, metadata.name');
  });

  it('refuses documents that are not mappings', () => {
    const err = buildFailure(() => parseManifests('x.yaml', '- a\n- b\n'));
    expect(err.message).toContain('x.yaml (document 1, line 1): not a Kubernetes object');
  });
});

describe('finalizeObjects', () => {
  it('sets the target namespace on namespaced objects only, and labels everything', async () => {
    const parsed = [
      ...parseManifests('a.yaml', cm('a')),
      ...parseManifests(
        'b.yaml',
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: other\n',
      ),
      ...parseManifests(
        'ns.yaml',
        'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n  namespace: nonsense\n',
      ),
    ];
    const out = await finalizeObjects(parsed, opts);
    expect(out.map((o) => o.object.metadata.namespace)).toEqual(['team-a', 'other', undefined]);
    expect(out[0].object.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'gitfleet',
      'gitfleet.dev/tenant': 'team-a',
      'gitfleet.dev/assignment': 'web',
    });
    // the parsed input is not modified
    expect(parsed[0].object.metadata.namespace).toBeUndefined();
  });

  it('takes the scope of custom resources from CRDs of the same revision', async () => {
    const crd = `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Cluster\n  names:\n    kind: Widget\n`;
    const parsed = [
      ...parseManifests('crd.yaml', crd),
      ...parseManifests('w.yaml', 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n'),
    ];
    const out = await finalizeObjects(parsed, opts);
    expect(out[1].object.metadata.namespace).toBeUndefined();
  });

  it('refuses duplicate objects naming both files', async () => {
    const parsed = [
      ...parseManifests('a.yaml', cm('same')),
      ...parseManifests('b/c.yaml', `${cm('other')}---\n${cm('same')}`),
    ];
    const err = await buildFailureAsync(finalizeObjects(parsed, opts));
    expect(err.message).toBe(
      'duplicate object ConfigMap team-a/same: in a.yaml (document 1) and in b/c.yaml (document 2)',
    );
  });

  it('treats different API versions of one group as the same object', async () => {
    const parsed = [
      ...parseManifests('a.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n'),
      ...parseManifests('b.yaml', 'apiVersion: apps/v1beta1\nkind: Deployment\nmetadata:\n  name: d\n'),
    ];
    await expect(finalizeObjects(parsed, opts)).rejects.toThrow(/duplicate object Deployment team-a\/d/);
  });
});

describe('renderPlain', () => {
  let root: string;
  const write = async (rel: string, text: string) => {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), text);
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'gitfleet-render-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads .yaml and .yml files recursively in a sorted order, skipping dot-dirs and other files', async () => {
    await write('apps/b.yaml', cm('b'));
    await write('apps/a.yml', cm('a'));
    await write('apps/sub/c.yaml', cm('c'));
    await write('apps/README.md', 'not yaml');
    await write('apps/.hidden/d.yaml', cm('d'));
    await write('apps/values.json', '{}');
    await write('other/e.yaml', cm('e'));
    const out = await renderPlain({ root, path: 'apps', ...opts });
    expect(out.map((o) => [o.file, o.object.metadata.name])).toEqual([
      ['apps/a.yml', 'a'],
      ['apps/b.yaml', 'b'],
      ['apps/sub/c.yaml', 'c'],
    ]);
  });

  it('renders the whole checkout for "" and "."', async () => {
    await write('x.yaml', cm('x'));
    expect(await renderPlain({ root, path: '', ...opts })).toHaveLength(1);
    expect(await renderPlain({ root, path: './', ...opts })).toHaveLength(1);
  });

  it('fails with BuildFailed naming a missing path', async () => {
    const err = await buildFailureAsync(renderPlain({ root, path: 'nope/here', ...opts }));
    expect(err.message).toBe('path "nope/here" not found in the revision');
  });

  it('refuses paths and links that leave the checkout', async () => {
    await buildFailureAsync(renderPlain({ root, path: '../etc', ...opts }));
    await mkdir(join(root, 'apps'));
    await symlink('/etc', join(root, 'apps', 'etc'));
    const err = await buildFailureAsync(renderPlain({ root, path: 'apps', ...opts }));
    expect(err.message).toContain('apps/etc: symbolic link points outside the repository');
  });
});

describe('limits and hostile input', () => {
  let root: string;
  const write = async (rel: string, text: string) => {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), text);
  };
  const limits = { ...DEFAULT_SOURCE_LIMITS };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'gitfleet-render-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('refuses a document over maxDocumentBytes before parsing it, naming file, line and flag', () => {
    const big = cm('big', `data:\n  blob: "${'x'.repeat(3000)}"\n`);
    const err = buildFailure(() =>
      parseManifests('apps/big.yaml', `${cm('small')}---\n${big}`, { ...limits, maxDocumentBytes: 1000 }),
    );
    expect(err.stalled).toBe(true);
    expect(err.message).toMatch(
      /^apps\/big\.yaml \(the YAML document at line 5\): the document has \d+ bytes, more than the limit of 1000 bytes \(maxDocumentBytes; raise it with gitfleet agent --max-document-bytes\)$/,
    );
    expect(err.message).not.toContain('xxx');
    // the same text within the limit parses
    expect(parseManifests('apps/big.yaml', `${cm('small')}---\n${big}`)).toHaveLength(2);
  });

  it('refuses an alias bomb ("billion laughs") naming the limit', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const p = String.fromCharCode(96 + i);
      const n = String.fromCharCode(97 + i);
      lines.push(`${n}: &${n} [${Array(9).fill(`*${p}`).join(',')}]`);
    }
    const bomb = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\nx:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
    const started = Date.now();
    const err = buildFailure(() => parseManifests('bomb.yaml', bomb));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err.message).toBe(
      'bomb.yaml (document 1): YAML aliases expand to more nodes, more than the limit of 100 (maxYamlAliases; raise it with gitfleet agent --max-yaml-aliases)',
    );
  });

  it('refuses duplicate keys naming file, key, line and column', () => {
    const err = buildFailure(() =>
      parseManifests('dup.yaml', `${cm('one')}---\n${cm('two', 'data:\n  a: "1"\n  b: "2"\n  a: "3"\n')}`),
    );
    expect(err.message).toBe('dup.yaml: duplicate key "a" at line 13, column 3');
    // a duplicate in a nested mapping, and a duplicate top-level key
    expect(buildFailure(() => parseManifests('d.yaml', `${cm('x')}metadata:\n  name: y\n`)).message).toBe(
      'd.yaml: duplicate key "metadata" at line 5, column 1',
    );
    // merge keys and equal values under different keys are fine; 1 and "1" are different keys
    expect(
      parseManifests('m.yaml', cm('m', 'base: &b {x: 1}\ndata:\n  <<: *b\n  1: a\n  "1": b\n')),
    ).toHaveLength(1);
  });

  it('checks duplicate keys in linear time', () => {
    const keys = Array.from({ length: 40_000 }, (_, i) => `  k${i}: v`).join('\n');
    const started = Date.now();
    expect(parseManifests('wide.yaml', cm('wide', `data:\n${keys}\n`))).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('refuses more objects than maxObjects, counting across files and List items', async () => {
    await write('apps/a.yaml', `${cm('a1')}---\n${cm('a2')}`);
    await write(
      'apps/b.yaml',
      `apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b1}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b2}}\n`,
    );
    expect(
      await renderPlain({ root, path: 'apps', ...opts, limits: { ...limits, maxObjects: 4 } }),
    ).toHaveLength(4);
    const err = await buildFailureAsync(
      renderPlain({ root, path: 'apps', ...opts, limits: { ...limits, maxObjects: 3 } }),
    );
    expect(err.message).toBe(
      'apps/b.yaml (document 1): the revision has more objects, more than the limit of 3 (maxObjects; raise it with gitfleet agent --max-objects)',
    );
  });

  it('refuses more files than maxFiles under the path', async () => {
    for (let i = 0; i < 5; i++) await write(`apps/f${i}.yaml`, cm(`f${i}`));
    await write('other/x.yaml', cm('x'));
    const err = await buildFailureAsync(
      renderPlain({ root, path: 'apps', ...opts, limits: { ...limits, maxFiles: 4 } }),
    );
    expect(err.message).toBe(
      'apps: the path holds more files and directories, more than the limit of 4 (maxFiles; raise it with gitfleet agent --max-files)',
    );
  });

  it('refuses a revision whose objects together exceed maxRenderedBytes', async () => {
    await write('apps/a.yaml', cm('a', `data:\n  v: "${'y'.repeat(600)}"\n`));
    await write('apps/b.yaml', cm('b', `data:\n  v: "${'y'.repeat(600)}"\n`));
    const err = await buildFailureAsync(
      renderPlain({ root, path: 'apps', ...opts, limits: { ...limits, maxRenderedBytes: 1000 } }),
    );
    expect(err.message).toMatch(
      /^apps\/b\.yaml \(document 1\): the revision renders to more bytes, .*--max-rendered-bytes\)$/,
    );
  });

  it('refuses absolute, "..", backslash and control-character paths without reading them', async () => {
    await write('apps/a.yaml', cm('a'));
    const cases: Array<[string, RegExp]> = [
      ['/etc', /^path "\/etc" is absolute; it must be relative to the repo root$/],
      [root, /is absolute/],
      ['../etc', /^path "\.\.\/etc" must not contain "\.\."$/],
      ['apps/../../etc', /must not contain "\.\."/],
      ['apps\\..\\..', /backslash or a control character/],
      ['apps\u0000', /backslash or a control character/],
    ];
    for (const [path, want] of cases) {
      const err = await buildFailureAsync(renderPlain({ root, path, ...opts }));
      expect(err.message).toMatch(want);
    }
  });

  it('refuses links to files outside the checkout (/etc/passwd, a token), naming the link not the target', async () => {
    const secretDir = await mkdtemp(join(tmpdir(), 'gitfleet-token-'));
    try {
      await writeFile(
        join(secretDir, 'token'),
        'apiVersion: v1\nkind: Secret\nmetadata:\n  name: TOKEN-VALUE\n',
      );
      await write('apps/a.yaml', cm('a'));
      await symlink(join(secretDir, 'token'), join(root, 'apps', 'token.yaml'));
      let err = await buildFailureAsync(renderPlain({ root, path: 'apps', ...opts }));
      expect(err.message).toBe(
        'apps/token.yaml: symbolic link points outside the repository (or nowhere); links must stay inside the checkout',
      );
      expect(err.message).not.toContain('TOKEN-VALUE');
      expect(err.message).not.toContain(secretDir);
      await rm(join(root, 'apps', 'token.yaml'));
      await symlink('/etc/passwd', join(root, 'apps', 'passwd.yaml'));
      err = await buildFailureAsync(renderPlain({ root, path: 'apps', ...opts }));
      expect(err.message).toMatch(/^apps\/passwd\.yaml: symbolic link points outside/);
      expect(err.message).not.toMatch(/root:/);
      // the assignment path itself a link out, and a link through ".."
      await symlink('/etc', join(root, 'etc'));
      err = await buildFailureAsync(renderPlain({ root, path: 'etc', ...opts }));
      expect(err.message).toBe('path "etc" is a symbolic link that points outside the repository');
      await symlink('../../../../../../etc/passwd', join(root, 'up.yaml'));
      err = await buildFailureAsync(renderPlain({ root, path: 'up.yaml', ...opts }));
      expect(err.message).toMatch(/points outside the repository/);
      // a link back to a directory it is in
      await symlink('..', join(root, 'apps', 'loop'));
      err = await buildFailureAsync(renderPlain({ root, path: 'apps', ...opts }));
      expect(err.message).toBe('apps/loop: symbolic link loops back to a directory it is in');
      await rm(join(root, 'apps', 'loop'));
      // links inside the checkout are followed
      await rm(join(root, 'apps', 'passwd.yaml'));
      await symlink('a.yaml', join(root, 'apps', 'b.yml'));
      expect(
        await renderPlain({ root, path: 'apps', ...opts, targetNamespace: 'x' }).catch(
          (e: Error) => e.message,
        ),
      ).toMatch(/duplicate object ConfigMap x\/a/);
    } finally {
      await rm(secretDir, { recursive: true, force: true });
    }
  });
});
