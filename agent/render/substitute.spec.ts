import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fuzzParams } from '../../test/fuzz/fuzz-params.js';
import { ReconcileError } from '../errors.js';
import type { ManifestObject } from '../kube/objects.js';
import { parseManifests } from './plain/plain-renderer.js';
import { substituteObjects, substituteString } from './substitute.js';

const on = (vars: Record<string, string>, strict = false) => ({ enabled: true, vars, strict });

function cm(data: Record<string, unknown>, annotations?: Record<string, string>): ManifestObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'demo', ...(annotations ? { annotations } : {}) },
    data,
  };
}

function run(object: ManifestObject, vars: Record<string, string>, strict = false): ManifestObject {
  substituteObjects([{ object, file: 'apps/cm.yaml', document: 1 }], on(vars, strict));
  return object;
}

const sub = (text: string, vars: Record<string, string> = {}, strict = false) =>
  substituteString(text, new Map(Object.entries(vars)), strict, 1_000_000);

describe('substituteString', () => {
  it.each([
    ['${a}', { a: 'x' }, 'x'],
    ['pre-${a}-post', { a: 'x' }, 'pre-x-post'],
    ['${a}${b}', { a: '1', b: '2' }, '12'],
    ['${missing}', {}, ''],
    ['${missing:=fallback}', {}, 'fallback'],
    ['${missing:-fallback}', {}, 'fallback'],
    ['${empty:=fallback}', { empty: '' }, 'fallback'],
    ['${empty}', { empty: '' }, ''],
    ['${a:=fallback}', { a: 'set' }, 'set'],
    ['${a:=}', {}, ''],
    ['${a:=x:y=z}', {}, 'x:y=z'],
    ['$${a}', { a: 'x' }, '${a}'],
    ['$$${a}', { a: 'x' }, '$${a}'],
    ['cost: $a and $$ and $', { a: 'x' }, 'cost: $a and $$ and $'],
    ['no reference', {}, 'no reference'],
    ['${a}', { a: '${b}' }, '${b}'],
  ])('%j with %j → %j', (text, vars, want) => {
    expect(sub(text, vars)).toBe(want);
  });

  it.each([
    ['${', 'without a closing "}"'],
    ['${}', 'is not a substitution'],
    ['${1a}', 'is not a substitution'],
    ['${a-b}', 'is not a substitution'],
    ['${a/b/c}', 'is not a substitution'],
    ['${a:1:2}', 'is not a substitution'],
    ['${a:=${b}}', 'is not a substitution'],
  ])('refuses %j', (text, message) => {
    expect(() => sub(text)).toThrow(message);
    expect(() => sub(text)).toThrow('write $${ for a literal ${');
  });

  it('strict mode fails on an unset variable without a default, not on a default or an empty value', () => {
    expect(() => sub('${nope}', {}, true)).toThrow('variable "nope" is not set (strict substitution)');
    expect(sub('${nope:=d}', {}, true)).toBe('d');
    expect(sub('${e}', { e: '' }, true)).toBe('');
  });

  it('stops at the limit while expanding', () => {
    const vars = new Map([['big', 'x'.repeat(1000)]]);
    expect(() => substituteString('${big}'.repeat(10_000), vars, false, 4096)).toThrow(
      'the value would have more than 4096 characters',
    );
  });

  it('never echoes a malformed reference of a Secret', () => {
    expect(() => substituteString('p4ss${w0rd!}', new Map(), false, 100, true)).toThrow(
      /^a reference is not a substitution/,
    );
  });
});

describe('substituteObjects', () => {
  it('substitutes string values at any depth, never keys, and leaves other types alone', () => {
    const o = run(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web-${env}', labels: { '${env}': '${env}' } },
        spec: {
          replicas: 3,
          paused: false,
          template: { spec: { containers: [{ image: 'web:${tag:=latest}', args: ['--x=${env}', null] }] } },
        },
      },
      { env: 'prod' },
    );
    expect(o.metadata).toEqual({ name: 'web-prod', labels: { '${env}': 'prod' } });
    expect(o.spec).toEqual({
      replicas: 3,
      paused: false,
      template: { spec: { containers: [{ image: 'web:latest', args: ['--x=prod', null] }] } },
    });
  });

  it('does nothing when substitution is off', () => {
    const object = cm({ a: '${x}' });
    substituteObjects([{ object, file: 'f', document: 1 }], undefined);
    substituteObjects([{ object, file: 'f', document: 1 }], {
      enabled: false,
      vars: { x: '1' },
      strict: true,
    });
    expect(object.data).toEqual({ a: '${x}' });
  });

  it.each(['gitfleet.io/substitute', 'kustomize.toolkit.fluxcd.io/substitute'])(
    'leaves an object annotated %s: disabled alone, even in strict mode',
    (key) => {
      const object = cm({ script: 'echo ${HOME} ${nope}' }, { [key]: 'disabled' });
      expect(run(object, { HOME: 'x' }, true).data).toEqual({ script: 'echo ${HOME} ${nope}' });
    },
  );

  it('strict mode names the file, the object, the field and the variable', () => {
    const object = cm({ 'app.conf': 'a', list: ['ok', { deep: 'x-${missing}' }] });
    expect(() => run(object, {}, true)).toThrow(
      'apps/cm.yaml (document 1) ConfigMap "demo": data.list[1].deep: variable "missing" is not set (strict substitution)',
    );
    try {
      run(cm({ 'a.b': '${m}' }), {}, true);
    } catch (err) {
      expect(err).toBeInstanceOf(ReconcileError);
      expect((err as ReconcileError).stalled).toBe(true);
      expect((err as Error).message).toContain('data["a.b"]: variable "m"');
    }
  });

  it('refuses an object whose name substitutes to nothing', () => {
    expect(() => run(cm({}, undefined), {})).not.toThrow();
    const o = cm({});
    o.metadata.name = '${unset}';
    expect(() => run(o, {})).toThrow('apps/cm.yaml (document 1): metadata.name empty after substitution');
  });

  it('bounds what substitution adds: per string, per object, per revision', () => {
    const limits = { maxDocumentBytes: 10_000, maxRenderedBytes: 25_000 };
    const big = { big: 'x'.repeat(4096) };
    const one = cm({ a: '${big}${big}${big}' });
    expect(() => substituteObjects([{ object: one, file: 'f.yaml', document: 2 }], on(big), limits)).toThrow(
      'f.yaml (document 2) ConfigMap "demo": data.a: substitution makes the value longer, more than the limit of 10000 bytes (maxDocumentBytes; raise it with gitfleet agent --max-document-bytes)',
    );
    const spread = cm({ a: '${big}${big}', b: '${big}' });
    expect(() =>
      substituteObjects([{ object: spread, file: 'f.yaml', document: 1 }], on(big), limits),
    ).toThrow(
      'data.b: substitution grows the object by more characters, more than the limit of 10000 bytes (maxDocumentBytes',
    );
    const many = Array.from({ length: 4 }, (_, i) => ({
      object: cm({ a: '${big}${big}' }),
      file: 'f',
      document: i,
    }));
    expect(() => substituteObjects(many, on(big), limits)).toThrow('maxRenderedBytes');
  });

  it('inserts a value that holds YAML as a plain string: no structure is injected', () => {
    const [parsed] = parseManifests(
      'cm.yaml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: "${v}"\n',
    );
    substituteObjects([parsed], on({ v: 'x\nkind: Secret\n---\napiVersion: v1' }));
    expect(parsed.object.kind).toBe('ConfigMap');
    expect(parsed.object.data).toEqual({ a: 'x\nkind: Secret\n---\napiVersion: v1' });
  });

  it('property: no reference is left when every variable is set', () => {
    const name = fc.stringMatching(/^[_a-zA-Z][_a-zA-Z0-9]{0,8}$/);
    const literal = fc.string({ maxLength: 8 }).map((s) => s.replace(/\$/g, ''));
    fc.assert(
      fc.property(
        fc.dictionary(name, fc.string({ maxLength: 12 }), { minKeys: 1, maxKeys: 6 }),
        fc.array(fc.tuple(literal, fc.nat()), { maxLength: 8 }),
        (vars, parts) => {
          const names = Object.keys(vars);
          const text = parts.map(([lit, n]) => `${lit}\${${names[n % names.length]}}`).join('');
          const object = cm({ text });
          run(object, vars, true);
          const want = parts.map(([lit, n]) => lit + vars[names[n % names.length]]).join('');
          expect((object.data as Record<string, string>).text).toBe(want);
        },
      ),
      fuzzParams(200),
    );
  });

  it('property: values holding ${...} are inserted as they are, never expanded again', () => {
    const name = fc.stringMatching(/^[_a-zA-Z][_a-zA-Z0-9]{0,8}$/);
    fc.assert(
      fc.property(name, name, fc.string({ maxLength: 10 }), (a, b, tail) => {
        fc.pre(a !== b); // one name cannot hold both values
        const value = `\${${b}}${tail}\${${b}:=zz}`;
        const object = cm({ text: `[\${${a}}]` });
        run(object, { [a]: value, [b]: 'EXPANDED' });
        expect((object.data as Record<string, string>).text).toBe(`[${value}]`);
      }),
      fuzzParams(200),
    );
  });

  it('property: an object annotated disabled is never changed, whatever it holds', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.dictionary(fc.string(), fc.string()), (data, vars) => {
        const object = cm(
          { data: data as unknown, s: '${x} ${y:=1} ${' },
          { 'gitfleet.io/substitute': 'disabled' },
        );
        const before = structuredClone(object);
        const safe = Object.fromEntries(Object.entries(vars).filter(([k]) => /^[_a-zA-Z]\w*$/.test(k)));
        run(object, safe, true);
        expect(object).toEqual(before);
      }),
      fuzzParams(200),
    );
  });
});
