import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Reason } from '../../../proto/index.js';
import { ReconcileError } from '../../errors.js';
import type { Scope } from '../../kube/objects.js';
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
