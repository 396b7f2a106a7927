import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../proto/index.js';
import { FailedPreconditionError } from '../common/errors.js';
import { checkDependencies, checkNoDependents } from './assignment-dependencies.js';

const a = (name: string, dependsOn: string[] = [], tenant = 'team-a') => ({ tenant, name, dependsOn });

describe('checkDependencies', () => {
  const stored = [
    a('db'),
    a('cache', ['db']),
    a('web', ['cache']),
    a('db', [], 'team-b'),
    a('other', [], 'team-b'),
  ];

  it('accepts dependencies that exist in the tenant', () => {
    expect(() => checkDependencies(a('api', ['db', 'cache']), stored)).not.toThrow();
  });

  it('refuses an unknown name, and a name only another tenant has', () => {
    expect(() => checkDependencies(a('api', ['db', 'queue']), stored)).toThrow(
      'assignment.depends_on[1]: assignment "team-a/queue" does not exist: create it first',
    );
    expect(() => checkDependencies(a('api', ['other']), stored)).toThrow(ValidationError);
  });

  it('refuses an update that closes a cycle, naming it', () => {
    expect(() => checkDependencies(a('db', ['web']), stored)).toThrow(
      'assignment.depends_on: dependency cycle db → web → cache → db: an assignment cannot wait for itself',
    );
  });

  it('refuses the assignment itself when it reaches this far', () => {
    expect(() => checkDependencies(a('db', ['db']), stored)).toThrow(/does not exist|cycle/);
  });
});

describe('checkNoDependents', () => {
  it('refuses deleting an assignment others depend on, naming them', () => {
    const stored = [a('db'), a('cache', ['db']), a('web', ['db', 'cache'])];
    expect(() => checkNoDependents('team-a', 'db', stored)).toThrow(FailedPreconditionError);
    expect(() => checkNoDependents('team-a', 'db', stored)).toThrow(
      'assignment "team-a/db" is a dependency of team-a/cache, team-a/web: remove it from their --depends-on',
    );
    expect(() => checkNoDependents('team-a', 'web', stored)).not.toThrow();
    expect(() => checkNoDependents('team-b', 'db', stored)).not.toThrow();
  });
});
