import { expect, it } from '@jest/globals';
import { validateCluster } from './cluster.validation.js';

it('validates name and labels', () => {
  expect(validateCluster({ name: 'prod-eu-1', labels: { env: 'prod', region: 'eu' } })).toEqual({
    name: 'prod-eu-1',
    labels: { env: 'prod', region: 'eu' },
    vars: {},
    maintenanceWindows: [],
  });
  expect(
    validateCluster({ name: 'c', vars: { region: 'eu' }, maintenanceWindows: ['sat 02:00-04:00 UTC'] }),
  ).toMatchObject({ vars: { region: 'eu' }, maintenanceWindows: ['Sat 02:00-04:00 UTC'] });
  expect(() => validateCluster({ name: 'c', vars: { 'a-b': 'x' } })).toThrow(/^cluster\.vars\["a-b"\]: /);
  expect(() => validateCluster({ name: 'c', maintenanceWindows: ['Caturday 02:00-04:00 UTC'] })).toThrow(
    /^cluster\.maintenance_windows\[0\]/,
  );
  expect(() => validateCluster({ name: 'Prod' })).toThrow(/^cluster\.name: /);
  expect(() => validateCluster({ name: 'c', labels: { env: 'has space' } })).toThrow(
    /^cluster\.labels\["env"\]: /,
  );
  expect(() => validateCluster(null)).toThrow('cluster: required');
});
