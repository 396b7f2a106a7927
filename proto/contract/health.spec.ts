import { describe, expect, it } from '@jest/globals';
import { checkHealthOptions, parseHealthCheck } from './health.js';

const expr = (fields: Record<string, string> = {}) => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  current: 'status.phase == "Ready"',
  inProgress: '',
  failed: '',
  ...fields,
});

describe('checkHealthOptions', () => {
  it('is undefined without wait or checks, and keeps what is given', () => {
    expect(checkHealthOptions('h', undefined)).toBeUndefined();
    expect(
      checkHealthOptions('h', { wait: false, checks: [], exprs: [], timeoutSeconds: 0 }),
    ).toBeUndefined();
    expect(
      checkHealthOptions('h', {
        wait: true,
        checks: ['Deployment/web/api'],
        timeoutSeconds: 60,
        exprs: [expr()],
      }),
    ).toEqual({
      wait: true,
      checks: ['Deployment/web/api'],
      timeoutSeconds: 60,
      exprs: [expr()],
    });
  });

  it.each([
    [{ timeoutSeconds: 30 }, 'h.wait: a timeout or health expressions are given but nothing is waited for'],
    [{ exprs: [expr()] }, 'h.wait: a timeout or health expressions are given but nothing is waited for'],
    [{ wait: true, timeoutSeconds: -1 }, 'h.timeout_seconds: -1 is not a timeout'],
    [{ wait: true, timeoutSeconds: 1.5 }, 'h.timeout_seconds: 1.5 is not a timeout'],
    [{ wait: true, timeoutSeconds: 10 ** 9 }, 'h.timeout_seconds: 1000000000 is not a timeout'],
    [{ checks: ['web/api'] }, 'h.checks[0]: "web/api": "web" is not a kind'],
    [{ checks: ['Deployment'] }, 'h.checks[0]: "Deployment": use Kind/namespace/name'],
    [{ checks: ['Deployment/a/b/c'] }, 'h.checks[0]: "Deployment/a/b/c": use Kind/namespace/name'],
    [{ checks: ['Deployment/Bad_NS/api'] }, 'h.checks[0] namespace: "Bad_NS" is not a valid name'],
    [
      { checks: ['Widget.Example_com/ns/w'] },
      'h.checks[0]: "Widget.Example_com/ns/w": "Example_com" is not an API group',
    ],
    [{ checks: ['Deployment/ns/../x'] }, 'h.checks[0]: "Deployment/ns/../x": use Kind/namespace/name'],
    [
      { checks: Array.from({ length: 65 }, (_, i) => `ConfigMap/ns/c${i}`) },
      'h.checks: 65 health checks; at most 64',
    ],
    [{ wait: true, exprs: [expr({ current: '' })] }, 'h.exprs[0].current: required'],
    [{ wait: true, exprs: [expr({ apiVersion: '' })] }, 'h.exprs[0].api_version: required'],
    [
      { wait: true, exprs: [expr({ apiVersion: 'example.com/v1/x' })] },
      'h.exprs[0].api_version: "example.com/v1/x" is not an apiVersion',
    ],
    [{ wait: true, exprs: [expr({ kind: 'widget' })] }, 'h.exprs[0].kind: "widget" is not a kind'],
    [
      { wait: true, exprs: [expr({ current: 'status.phase ==' })] },
      'h.exprs[0].current: "status.phase ==" is not a valid CEL expression: Unexpected token: EOF',
    ],
    [
      { wait: true, exprs: [expr({ failed: '1 + 2' })] },
      'h.exprs[0].failed: "1 + 2" gives a int, not a bool',
    ],
    [
      { wait: true, exprs: [expr({ in_progress: 'x', inProgress: 'nosuchfn(status)' })] },
      'h.exprs[0].in_progress: "nosuchfn(status)" is not a valid CEL expression: found no matching overload',
    ],
    [
      { wait: true, exprs: [expr({ current: `${'('.repeat(100)}true${')'.repeat(100)}` })] },
      'is not a valid CEL expression: Exceeded maxDepth',
    ],
    [{ wait: true, exprs: [expr({ current: 'a&&'.repeat(300) + 'a' })] }, 'is not a valid CEL expression'],
    [
      { wait: true, exprs: [expr({ current: 'true || '.repeat(400) + 'true' })] },
      'is longer than 2048 characters',
    ],
    [{ wait: true, exprs: [expr(), expr()] }, 'h.exprs[1]: example.com/v1/Widget has expressions twice'],
    [
      { wait: true, exprs: Array.from({ length: 33 }, (_, i) => expr({ kind: `W${i}` })) },
      'h.exprs: 33 health expressions; at most 32',
    ],
  ])('refuses %#', (input, message) => {
    expect(() => checkHealthOptions('h', input as never)).toThrow(message);
  });
});

describe('parseHealthCheck', () => {
  it('reads namespaced, cluster-scoped and grouped checks', () => {
    expect(parseHealthCheck('c', 'Deployment/web/api')).toEqual({
      kind: 'Deployment',
      group: '',
      namespace: 'web',
      name: 'api',
    });
    expect(
      parseHealthCheck('c', 'CustomResourceDefinition.apiextensions.k8s.io/widgets.example.com'),
    ).toEqual({
      kind: 'CustomResourceDefinition',
      group: 'apiextensions.k8s.io',
      namespace: '',
      name: 'widgets.example.com',
    });
    expect(parseHealthCheck('c', 'Widget.example.com/web/w1').group).toBe('example.com');
  });
});
