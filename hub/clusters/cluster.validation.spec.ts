import { expect, it } from '@jest/globals';
import type { Cluster } from '../../proto/index.js';
import { withSelectorPaths } from '../assignments/assignment-fields.js';
import { mergeFields } from '../common/field-mask.js';
import { CLUSTER_DEFAULTS, CLUSTER_FIELDS, validateCluster } from './cluster.validation.js';

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

it('merges a cluster update by its mask: only the named fields change, an empty input field clears it', () => {
  const current: Partial<Cluster> = {
    name: 'c',
    labels: { env: 'prod' },
    vars: { a: '1' },
    maintenanceWindows: ['Sat 02:00-04:00 UTC'],
  };
  expect(
    mergeFields(current, { name: 'c', vars: { b: '2' } }, ['vars'], CLUSTER_FIELDS, CLUSTER_DEFAULTS),
  ).toEqual({
    ...current,
    vars: { b: '2' },
  });
  expect(
    mergeFields(current, { name: 'c' }, ['maintenance_windows'], CLUSTER_FIELDS, CLUSTER_DEFAULTS)
      .maintenanceWindows,
  ).toEqual([]);
  expect(() => mergeFields(current, {}, ['agent_version'], CLUSTER_FIELDS, CLUSTER_DEFAULTS)).toThrow(
    /fields\[0\]: "agent_version" is not a field that can be changed \(use labels, vars, maintenance_windows\)/,
  );
});

it('takes the expressions with "selector" in an assignment mask', () => {
  expect(withSelectorPaths(['selector', 'suspend'])).toEqual(['selector', 'suspend', 'match_expressions']);
  expect(withSelectorPaths(['suspend'])).toEqual(['suspend']);
});
