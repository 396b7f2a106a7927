import { describe, expect, it } from '@jest/globals';
import { highestOciTag, ociRefOf, ociRevisionFor } from './oci-ref.js';

const DIGEST = `sha256:${'d'.repeat(64)}`;

describe('OCI refs', () => {
  it('follows the digest, else the range, else the tag ("latest" when none)', () => {
    expect(ociRefOf({ tag: 'v1', semver: '', digest: DIGEST })).toEqual({ kind: 'digest', name: DIGEST });
    expect(ociRefOf({ tag: '', semver: '^1', digest: '' })).toEqual({ kind: 'semver', name: '^1' });
    expect(ociRefOf({ tag: '', semver: '', digest: '' })).toEqual({ kind: 'tag', name: 'latest' });
  });

  it('picks the highest tag in a range, skipping names that are not OCI tags', () => {
    const tags = ['v1.0.0', '1.2.0', 'v1.10.0', 'v2.0.0', 'latest', '1.11.0-rc.1', '-1.9.0'];
    expect(highestOciTag(tags, '>=1.0.0 <2.0.0', 'oci://r/app')).toBe('v1.10.0');
    expect(highestOciTag(tags, '^2', 'oci://r/app')).toBe('v2.0.0');
    expect(() => highestOciTag(tags, '^3', 'oci://r/app')).toThrow(
      'no tag matches semver "^3" at oci://r/app (newest tags: "v2.0.0", "1.11.0-rc.1", "v1.10.0", "1.2.0", "v1.0.0")',
    );
    expect(() => highestOciTag([], '^3', 'oci://r/app')).toThrow('no tag there is a SemVer version');
  });

  it('reads "_" in a tag as "+", as Helm stores chart versions with build metadata', () => {
    const tags = ['0.1.0_build.1', '0.1.1_build.2', '0.0.9', '0.2.0-rc.1_x', '0.1.2_a_b'];
    // "0.1.2+a+b" is not SemVer: skipped
    expect(highestOciTag(tags, '^0.1.0', 'oci://r/chart')).toBe('0.1.1_build.2');
    expect(highestOciTag(tags, '0.2.0-rc.1', 'oci://r/chart')).toBe('0.2.0-rc.1_x');
  });

  it("writes revisions in Flux's form", () => {
    expect(ociRevisionFor({ kind: 'tag', name: 'v1' }, DIGEST)).toBe(`v1@${DIGEST}`);
    expect(ociRevisionFor({ kind: 'digest', name: DIGEST }, DIGEST)).toBe(DIGEST);
    expect(() => ociRevisionFor({ kind: 'semver', name: '^1' }, DIGEST)).toThrow('give the chosen tag');
    expect(() => ociRevisionFor({ kind: 'tag', name: 'v1' }, 'sha256:abc')).toThrow('not a sha256 digest');
  });
});
