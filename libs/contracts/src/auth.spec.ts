import {
  accessAllows,
  ANY_REPOSITORY,
  formatScope,
  grantedActions,
  namespaceOfRepository,
  namespaceRepositories,
  parseScope,
  parseScopes,
  platformRepositoryOf,
  REGISTRY_ACTIONS_OF_ROLE,
  roleBindingInput,
  roleIncludes,
  roleNeeded,
  strongestRole,
  userInput,
} from './auth';
import { validate } from './validation';

describe('registry scopes', () => {
  it('parses a repository scope and formats it back', () => {
    const entry = parseScope('repository:demo/hello:pull,push');
    expect(entry).toEqual({ type: 'repository', name: 'demo/hello', actions: ['pull', 'push'] });
    expect(formatScope(entry as NonNullable<typeof entry>)).toBe('repository:demo/hello:pull,push');
  });

  it('parses the catalog scope and drops a resource class', () => {
    expect(parseScope('registry:catalog:*')).toEqual({ type: 'registry', name: 'catalog', actions: ['*'] });
    expect(parseScope('repository(plugin):demo/p:pull')).toEqual({ type: 'repository', name: 'demo/p', actions: ['pull'] });
  });

  it.each(['', 'repository', 'repository:demo/hello', 'repository:demo/hello:', 'widget:x:pull', 'repository:Demo/Hello:pull', 'repository:demo//x:pull'])(
    'refuses the scope %p',
    (scope) => expect(parseScope(scope)).toBeUndefined(),
  );

  it('takes several scopes, space-separated ones included, and drops the unparseable', () => {
    expect(parseScopes(['repository:a/b:pull repository:a/c:push', 'nonsense'])).toEqual([
      { type: 'repository', name: 'a/b', actions: ['pull'] },
      { type: 'repository', name: 'a/c', actions: ['push'] },
    ]);
  });

  it('deduplicates the actions of a scope', () => {
    expect(parseScope('repository:a/b:pull,pull,push')?.actions).toEqual(['pull', 'push']);
  });

  it('finds the namespace of a repository in its first path component', () => {
    expect(namespaceOfRepository('demo/hello')).toBe('demo');
    expect(namespaceOfRepository('demo/team/hello')).toBe('demo');
    expect(namespaceOfRepository('hello')).toBeUndefined();
    expect(namespaceOfRepository('de_mo/hello')).toBeUndefined();
  });

  it('knows the platform repository of an image reference, and no other registry', () => {
    expect(platformRepositoryOf('127.0.0.1:5000/demo/hello:latest', '127.0.0.1:5000')).toBe('demo/hello');
    expect(platformRepositoryOf(`127.0.0.1:5000/demo/hello@sha256:${'a'.repeat(64)}`, '127.0.0.1:5000')).toBe('demo/hello');
    expect(platformRepositoryOf('127.0.0.1:5000/demo/hello:v1@sha256:abc', '127.0.0.1:5000')).toBe('demo/hello');
    expect(platformRepositoryOf('paas-test/web:v1', '127.0.0.1:5000')).toBeUndefined();
    expect(platformRepositoryOf('127.0.0.1:50000/demo/hello', '127.0.0.1:5000')).toBeUndefined();
  });
});

describe('granting', () => {
  it('grants the intersection of asked and allowed actions, everything for *', () => {
    expect(grantedActions(['pull', 'push'], REGISTRY_ACTIONS_OF_ROLE.view)).toEqual(['pull']);
    expect(grantedActions(['pull', 'push', 'delete'], REGISTRY_ACTIONS_OF_ROLE.edit)).toEqual(['pull', 'push']);
    expect(grantedActions(['delete', 'bogus', '*'], REGISTRY_ACTIONS_OF_ROLE.admin)).toEqual(['delete', '*']);
    expect(grantedActions(['pull', 'bogus'], ['*'])).toEqual(['pull']);
    expect(grantedActions(['push'], [])).toEqual([]);
  });

  it('reads an access claim, * covering every action', () => {
    const access = [
      { type: 'repository' as const, name: 'demo/a', actions: ['pull'] },
      { type: 'repository' as const, name: 'demo/b', actions: ['*'] },
    ];
    expect(accessAllows(access, 'repository', 'demo/a', 'pull')).toBe(true);
    expect(accessAllows(access, 'repository', 'demo/a', 'push')).toBe(false);
    expect(accessAllows(access, 'repository', 'demo/b', 'delete')).toBe(true);
    expect(accessAllows(access, 'registry', 'demo/b', 'pull')).toBe(false);
    expect(accessAllows(access, 'repository', 'demo/c', 'pull')).toBe(false);
  });

  it('reads a repository entry named * as every repository, and nothing else', () => {
    const access = [{ type: 'repository' as const, name: ANY_REPOSITORY, actions: ['pull'] }];
    expect(accessAllows(access, 'repository', 'demo/a', 'pull')).toBe(true);
    expect(accessAllows(access, 'repository', 'other/b', 'pull')).toBe(true);
    expect(accessAllows(access, 'repository', 'demo/a', 'push')).toBe(false);
    expect(accessAllows(access, 'registry', 'catalog', 'pull')).toBe(false);
  });

  it('reads a repository entry named <namespace>/* as every repository of that namespace, and of no other', () => {
    const access = [{ type: 'repository' as const, name: namespaceRepositories('demo'), actions: ['pull'] }];
    expect(accessAllows(access, 'repository', 'demo/a', 'pull')).toBe(true);
    expect(accessAllows(access, 'repository', 'demo/a/b', 'pull')).toBe(true);
    expect(accessAllows(access, 'repository', 'demo-other/a', 'pull')).toBe(false);
    expect(accessAllows(access, 'repository', 'demo', 'pull')).toBe(false);
    expect(accessAllows(access, 'repository', 'demo/a', 'push')).toBe(false);
    expect(accessAllows(access, 'registry', 'demo/a', 'pull')).toBe(false);
  });

  it('never parses a user scope naming every repository, or every one of a namespace', () => {
    expect(parseScope('repository:*:pull')).toBeUndefined();
    expect(parseScope('repository:demo/*:pull')).toBeUndefined();
  });
});

describe('roles', () => {
  it('orders view < edit < admin', () => {
    expect(strongestRole(['view', 'admin', 'edit'])).toBe('admin');
    expect(strongestRole([])).toBeUndefined();
    expect(roleIncludes('edit', 'view')).toBe(true);
    expect(roleIncludes('view', 'edit')).toBe(false);
    expect(roleIncludes(undefined, 'view')).toBe(false);
  });

  it.each([
    ['get', 'routes', 'view'],
    ['list', 'pods', 'view'],
    ['log', 'builds', 'view'],
    ['create', 'apps', 'edit'],
    ['update', 'routes', 'edit'],
    ['delete', 'serviceaccounts', 'edit'],
    ['instantiate', 'buildconfigs', 'edit'],
    ['scale', 'deploymentconfigs', 'edit'],
    ['get', 'rolebindings', 'view'],
    ['create', 'rolebindings', 'admin'],
    ['delete', 'rolebindings', 'admin'],
    ['create', 'serviceaccounts/token', 'admin'],
    ['list', 'serviceaccounts/token', 'admin'],
    ['delete', 'namespaces', 'admin'],
    ['get', 'configmaps', 'view'],
    ['get', 'secrets', 'edit'],
    ['list', 'secrets', 'edit'],
    ['create', 'secrets', 'edit'],
  ] as const)('%s %s needs %s', (verb, resource, role) => expect(roleNeeded(verb, resource)).toBe(role));
});

describe('identity schemas', () => {
  it('takes a user with a password, not clusterAdmin unless asked', () => {
    const result = validate(userInput, { metadata: { name: 'ann' }, password: 'long enough' }, 'User');
    expect(result).toEqual({ ok: true, value: { metadata: { name: 'ann' }, password: 'long enough', spec: { clusterAdmin: false } } });
  });

  it('names a short password and an unknown field', () => {
    const result = validate(userInput, { metadata: { name: 'ann' }, password: 'short', passwd: 'x' }, 'User');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.status.details?.causes?.map((c) => c.field)).toEqual(['password', '(body)']);
  });

  it('refuses a role binding to an unknown role or with no subjects', () => {
    const result = validate(roleBindingInput, { metadata: { name: 'b' }, roleRef: { name: 'owner' }, subjects: [] }, 'RoleBinding');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.status.details?.causes?.map((c) => c.field)).toEqual(['roleRef.name', 'subjects']);
  });
});
