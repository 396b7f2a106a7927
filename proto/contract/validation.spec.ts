import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fuzzParams } from '../../test/fuzz/fuzz-params.js';
import { formatGitRevision, parseGitRevision } from './revision.js';
import {
  MAX_HELM_SET,
  MAX_HELM_VALUES_FILES,
  MAX_URL_LENGTH,
  ValidationError,
  checkCommit,
  checkDnsLabel,
  checkGitRevision,
  checkGitUrl,
  checkHelmOptions,
  checkRepoPath,
  quote,
  refNameProblem,
} from './validation.js';

/** The error `fn` throws (fails the test when it throws none). */
function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('checkGitUrl', () => {
  it.each([
    'https://github.com/org/repo.git',
    'http://127.0.0.1:8080/repo.git',
    'ssh://git@host:2222/org/repo.git',
    'git://host/repo.git',
    'git@github.com:org/repo.git',
    'https://[::1]:8443/org/repo.git',
  ])('accepts %j', (url) => {
    expect(checkGitUrl('repo.url', url)).toBe(url);
  });

  it.each([
    ['--upload-pack=touch /tmp/PWNED;', 'must not contain spaces'],
    ['--upload-pack=touch${IFS}/tmp/PWNED', 'must not start with "-"'],
    ['-oProxyCommand=x', 'must not start with "-"'],
    ['-u@x:y', 'must not start with "-"'],
    ['file:///etc', 'must be an http(s), ssh or git URL'],
    ['FILE:///etc', 'must be an http(s), ssh or git URL'],
    ['ext::sh -c touch% /tmp/pwned', 'must not contain spaces'],
    ['ext::sh', 'remote helpers'],
    ['fd::17', 'remote helpers'],
    ['fd::0,1/x', 'remote helpers'],
    ['ssh://-oProxyCommand=x/repo', 'host and user must not start with "-"'],
    ['ssh://-oProxyCommand=x@host/repo', 'host and user must not start with "-"'],
    ['ssh://%2doProxyCommand=x@host/repo', 'host and user must not start with "-"'],
    ['git@host:-x/repo', 'the path must not start with "-"'],
    ['/tmp/repo', 'must be an http(s), ssh or git URL'],
    ['./repo', 'must be an http(s), ssh or git URL'],
    ['http://', 'is not a valid URL'],
    ['https://host/a\u0000b', 'control characters'],
    ['https://host/a\nb', 'control characters'],
    ['https://bot:pw@host/x.git', 'must not contain credentials'],
  ])('rejects %j: %s', (url, why) => {
    const err = errorOf(() => checkGitUrl('repo.url', url));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/^repo\.url: /);
    expect(err.message).toContain(why);
  });

  it('refuses a 100 KB URL fast, with a short message that does not echo it', () => {
    const url = `https://host/${'a'.repeat(100_000)}`;
    const started = performance.now();
    const err = errorOf(() => checkGitUrl('repo.url', url));
    expect(performance.now() - started).toBeLessThan(1000); // a hang guard: linear is about 1 ms, backtracking takes minutes
    expect(err.message).toBe(`repo.url: is ${url.length} characters long (at most ${MAX_URL_LENGTH})`);
  });
});

describe('checkDnsLabel', () => {
  it.each(['a.b', 'team.*', '*', '>', 'a>', 'a b', 'A', '-a', 'a_b', ''])('rejects %j', (name) => {
    expect(() => checkDnsLabel('tenant.name', name)).toThrow(/^tenant\.name: /);
  });

  it('refuses a 1 MB name fast, echoing at most 64 characters of it', () => {
    const name = 'x'.repeat(1 << 20);
    const started = performance.now();
    const err = errorOf(() => checkDnsLabel('tenant.name', name));
    expect(performance.now() - started).toBeLessThan(1000); // a hang guard: linear is about 1 ms, backtracking takes minutes
    expect(err.message.length).toBeLessThan(300);
    expect(err.message).toContain(`${JSON.stringify('x'.repeat(64))}… (1048576 characters)`);
  });
});

describe('checkRepoPath', () => {
  it.each(['../../etc', 'a/../../b', '/etc', 'a\u0000b', 'a\\..\\b'])('rejects %j', (p) => {
    expect(() => checkRepoPath('assignment.path', p)).toThrow(/^assignment\.path: /);
  });

  it('rejects a path longer than 1,024 characters', () => {
    expect(() => checkRepoPath('assignment.path', 'x'.repeat(1025))).toThrow(
      'assignment.path: is 1025 characters long (at most 1024)',
    );
  });
});

describe('commits and revisions', () => {
  it('refNameProblem follows git check-ref-format for the usual cases', () => {
    for (const ok of ['main', 'release/1.x', 'v1.2.3', 'feature-x_y'])
      expect(refNameProblem(ok)).toBeUndefined();
    for (const bad of ['-x', 'a b', 'a~1', 'a^', 'a:b', 'a..b', 'a/', '.hidden', 'a.lock', 'a@{1}', 'x/.y']) {
      expect(refNameProblem(bad)).toBeDefined();
    }
  });

  it('wants 40 lowercase hex characters', () => {
    expect(checkCommit('c', 'a'.repeat(40))).toBe('a'.repeat(40));
    for (const bad of ['a'.repeat(39), 'A'.repeat(40), 'g'.repeat(40), `${'a'.repeat(40)}\n`]) {
      expect(() => checkCommit('c', bad)).toThrow(/^c: .* is not a full 40-character commit SHA$/);
    }
  });

  it('wants "<ref>@sha1:<commit>" with a valid ref', () => {
    const sha = 'b'.repeat(40);
    expect(checkGitRevision('r', `main@sha1:${sha}`)).toBe(`main@sha1:${sha}`);
    expect(checkGitRevision('r', `sha1:${sha}`)).toBe(`sha1:${sha}`);
    expect(() => checkGitRevision('r', `-x@sha1:${sha}`)).toThrow('r: ref "-x" must not start with "-"');
    expect(() => checkGitRevision('r', `main@sha1:${sha.slice(1)}`)).toThrow('is not a git revision');
    expect(() => checkGitRevision('r', `${'m'.repeat(10_000)}@sha1:${sha}`)).toThrow('is too long');
  });

  it('takes the tags a SemVer range resolves to, build metadata and prereleases included', () => {
    const sha = 'c'.repeat(40);
    for (const tag of ['v1.2.0', '1.2.0', 'v1.5.0-rc.1', 'v1.0.0+build.7', '2.0.0-alpha.1+sha.5114f85']) {
      expect(checkGitRevision('r', `${tag}@sha1:${sha}`)).toBe(`${tag}@sha1:${sha}`);
      expect(parseGitRevision(`${tag}@sha1:${sha}`)).toEqual({ ref: tag, commit: sha });
      expect(formatGitRevision(tag, sha)).toBe(`${tag}@sha1:${sha}`);
    }
  });
});

describe('helm options', () => {
  const none = { releaseName: '', valuesFiles: [] as string[], set: [] as string[] };
  const check = (helm: Partial<typeof none>) => checkHelmOptions('h', { ...none, ...helm });

  it('are none when nothing is set', () => {
    expect(checkHelmOptions('h', undefined)).toBeUndefined();
    expect(checkHelmOptions('h', none)).toBeUndefined();
  });

  it('keep valid values, values files normalized', () => {
    expect(
      check({
        releaseName: 'a'.repeat(53),
        valuesFiles: ['values.yaml', './env//prod.yaml'],
        set: [
          'image.tag=1.2.3',
          'ingress.hosts[0].host=x.example',
          'podAnnotations.prometheus\\.io/scrape=true',
        ],
      }),
    ).toEqual({
      releaseName: 'a'.repeat(53),
      valuesFiles: ['values.yaml', 'env/prod.yaml'],
      set: [
        'image.tag=1.2.3',
        'ingress.hosts[0].host=x.example',
        'podAnnotations.prometheus\\.io/scrape=true',
      ],
    });
    expect(check({ set: ['list={a,b,c}', 'empty=', 'comma=a\\,b', 'eq=a=b'] })?.set).toHaveLength(4);
  });

  it.each([
    [{ releaseName: 'a'.repeat(54) }, 'h.release_name: "aaaa'],
    [{ releaseName: 'Web' }, 'h.release_name: "Web" is not a valid helm release name'],
    [{ releaseName: 'web.prod' }, 'h.release_name:'],
    [{ releaseName: '-web' }, 'h.release_name:'],
    [{ valuesFiles: [''] }, 'h.values_files[0]: is empty'],
    [{ valuesFiles: ['.'] }, 'h.values_files[0]: "." is a directory'],
    [{ valuesFiles: ['/etc/passwd'] }, 'h.values_files[0]: must be relative'],
    [{ valuesFiles: ['a/../../b.yaml'] }, 'h.values_files[0]: must not contain ".."'],
    [{ valuesFiles: ['a\\b.yaml'] }, 'h.values_files[0]: use "/" as the separator'],
    [
      { valuesFiles: ['oci://registry/x'] },
      'h.values_files[0]: "oci://registry/x": must be a file inside the chart',
    ],
    [{ valuesFiles: ['-'] }, 'h.values_files[0]: "-" must not start with "-"'],
    [{ valuesFiles: ['a\u0000.yaml'] }, 'h.values_files[0]: must not contain control characters'],
    [{ valuesFiles: ['v'.repeat(5000)] }, 'h.values_files[0]: is 5000 characters long (at most 1024)'],
    [
      { valuesFiles: Array(MAX_HELM_VALUES_FILES + 1).fill('v.yaml') },
      'h.values_files: 33 files (at most 32)',
    ],
    [{ set: ['novalue'] }, 'h.set[0]: "novalue" is not "key=value"'],
    [{ set: ['=x'] }, 'h.set[0]: key "" is not a helm value path'],
    [{ set: ['a..b=x'] }, 'h.set[0]: key "a..b" is not a helm value path'],
    [{ set: ['a[99999999]=x'] }, 'h.set[0]: key "a[99999999]"'],
    [{ set: ['--set-file=x'] }, 'h.set[0]: key "--set-file" is not a helm value path'],
    [{ set: ['a b=x'] }, 'h.set[0]: key "a b"'],
    [{ set: ['a=b\rc'] }, 'h.set[0]: must not contain control characters'],
    [{ set: ['a=1,b=2'] }, `h.set[0]: "a=1,b=2": helm reads an unescaped ','`],
    [{ set: [`a=${'x'.repeat(5000)}`] }, 'h.set[0]: is 5002 characters long (at most 1024)'],
    [{ set: Array(MAX_HELM_SET + 1).fill('a=b') }, 'h.set: 65 entries (at most 64)'],
  ])('refuse %j', (helm, message) => {
    expect(() => check(helm)).toThrow(ValidationError);
    expect(() => check(helm)).toThrow(message);
  });

  it('check a huge key quickly and quote at most 64 characters of it', () => {
    const start = Date.now();
    const err = errorOf(() => check({ set: [`${'a.'.repeat(400)}!=x`] }));
    expect(Date.now() - start).toBeLessThan(2000);
    expect(err.message).toMatch(/^h\.set\[0\]: key ".{64}"… \(801 characters\)/);
  });
});

describe('fuzz (fast-check)', () => {
  const onlyValidationErrors = (check: (v: string) => unknown) => (value: string) => {
    try {
      check(value);
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as Error).message.length).toBeLessThan(400);
    }
  };
  const text = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.constantFrom('https://', 'ssh://', 'git@', 'ext::', 'fd::', 'file://', '-', '--', '..', '@sha1:'),
  );
  const urlish = fc
    .tuple(fc.constantFrom('', 'https://', 'ssh://', 'git://', 'x@', '-', 'ext::'), text, text)
    .map(([a, b, c]) => `${a}${b}${c}`);

  it('the validators throw nothing but a short ValidationError', () => {
    fc.assert(
      fc.property(fc.oneof(text, urlish), (v) => {
        onlyValidationErrors((x) => checkGitUrl('u', x))(v);
        onlyValidationErrors((x) => checkDnsLabel('n', x))(v);
        onlyValidationErrors((x) => checkRepoPath('p', x))(v);
        onlyValidationErrors((x) => checkCommit('c', x))(v);
        onlyValidationErrors((x) => checkGitRevision('r', x))(v);
        onlyValidationErrors((x) => checkHelmOptions('h', { releaseName: x, valuesFiles: [x], set: [x] }))(v);
        expect(typeof (refNameProblem(v) ?? '')).toBe('string');
      }),
      fuzzParams(300),
    );
  });

  it('accepted URLs never look like an option, a helper or a local transport', () => {
    fc.assert(
      fc.property(urlish, (v) => {
        let ok = true;
        try {
          checkGitUrl('u', v);
        } catch {
          ok = false;
        }
        if (ok) {
          expect(v.startsWith('-')).toBe(false);
          expect(v).not.toMatch(/^[A-Za-z][A-Za-z0-9+.-]*::/);
          expect(v).not.toMatch(/\s/);
          expect(v.toLowerCase().startsWith('file:')).toBe(false);
        }
      }),
      fuzzParams(300),
    );
  });

  it('accepted values round-trip: names and URLs as given, paths normalized once and for all', () => {
    fc.assert(
      fc.property(fc.oneof(text, urlish), (v) => {
        for (const check of [checkGitUrl, checkDnsLabel, checkCommit, checkGitRevision]) {
          try {
            expect(check('f', v)).toBe(v);
          } catch (err) {
            expect(err).toBeInstanceOf(ValidationError);
          }
        }
        try {
          const p = checkRepoPath('p', v);
          expect(checkRepoPath('p', p)).toBe(p);
          expect(p.split('/')).not.toContain('..');
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
        }
      }),
      fuzzParams(300),
    );
  });

  it('parseGitRevision reads what formatGitRevision writes, and throws a plain Error otherwise', () => {
    const ref = fc.string({ maxLength: 40 }).filter((r) => r === '' || refNameProblem(r) === undefined);
    const sha = fc.stringMatching(/^[0-9a-f]{40}$/);
    fc.assert(
      fc.property(ref, sha, (r, c) => {
        expect(parseGitRevision(formatGitRevision(r, c))).toEqual({ ref: r, commit: c });
      }),
      fuzzParams(200),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          const { commit } = parseGitRevision(s);
          expect(commit).toMatch(/^[0-9a-f]{40}$/);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
        }
      }),
      fuzzParams(200),
    );
  });

  it('quote echoes at most 64 characters of any value', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (s) => {
        expect(quote(s).length).toBeLessThanOrEqual(JSON.stringify(s.slice(0, 64)).length + 30);
      }),
      fuzzParams(200),
    );
  });
});
