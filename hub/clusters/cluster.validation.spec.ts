import { expect, it } from '@jest/globals';
import { validateCluster } from './cluster.validation.js';

it('validates name and labels', () => {
  expect(validateCluster({ name: 'prod-eu-1', labels: { env: 'prod', region: 'eu' } })).toEqual({
    name: 'prod-eu-1',
    labels: { env: 'prod', region: 'eu' },
  });
  expect(() => validateCluster({ name: 'Prod' })).toThrow(/^cluster\.name: /);
  expect(() => validateCluster({ name: 'c', labels: { env: 'has space' } })).toThrow(
    /^cluster\.labels\["env"\]: /,
  );
  expect(() => validateCluster(null)).toThrow('cluster: required');
});
