import { isAllowed, type AccessRequest } from './policy';
import type { Principal } from './principal';

const ann: Principal = { kind: 'User', name: 'ann', clusterAdmin: false };
const root: Principal = { kind: 'User', name: 'admin', clusterAdmin: true };
const robot: Principal = { kind: 'ServiceAccount', name: 'system:serviceaccount:demo:ci', namespace: 'demo', serviceAccount: 'ci', clusterAdmin: false };
const inDemo = (verb: AccessRequest['verb'], resource: string): AccessRequest => ({ verb, resource, namespace: 'demo' });

describe('isAllowed', () => {
  it('lets a cluster-admin do anything anywhere', () => {
    expect(isAllowed(root, { verb: 'delete', resource: 'users' })).toBe(true);
    expect(isAllowed(root, inDemo('create', 'rolebindings'), { exists: true })).toBe(true);
  });

  it('lets a viewer read and nothing more', () => {
    const facts = { role: 'view' as const, exists: true };
    expect(isAllowed(ann, inDemo('list', 'pods'), facts)).toBe(true);
    expect(isAllowed(ann, inDemo('log', 'builds'), facts)).toBe(true);
    expect(isAllowed(ann, inDemo('create', 'routes'), facts)).toBe(false);
    expect(isAllowed(ann, inDemo('instantiate', 'buildconfigs'), facts)).toBe(false);
  });

  it('lets an editor change resources but not role bindings, service-account tokens or the namespace', () => {
    const facts = { role: 'edit' as const, exists: true };
    expect(isAllowed(ann, inDemo('create', 'apps'), facts)).toBe(true);
    expect(isAllowed(ann, inDemo('scale', 'deploymentconfigs'), facts)).toBe(true);
    expect(isAllowed(ann, inDemo('create', 'serviceaccounts'), facts)).toBe(true);
    expect(isAllowed(ann, inDemo('create', 'rolebindings'), facts)).toBe(false);
    expect(isAllowed(ann, inDemo('create', 'serviceaccounts/token'), facts)).toBe(false);
    expect(isAllowed(ann, inDemo('delete', 'namespaces'), facts)).toBe(false);
    expect(isAllowed(ann, inDemo('delete', 'namespaces'), { role: 'admin', exists: true })).toBe(true);
  });

  it('lets a user, and only a user, create in a namespace that does not exist yet', () => {
    expect(isAllowed(ann, inDemo('create', 'apps'), { exists: false })).toBe(true);
    expect(isAllowed(ann, inDemo('create', 'apps'), { exists: true })).toBe(false);
    expect(isAllowed(ann, inDemo('get', 'apps'), { exists: false })).toBe(false);
    expect(isAllowed(robot, inDemo('create', 'apps'), { exists: false })).toBe(false);
  });

  it('allows the self-service cluster calls and nothing else at the cluster scope', () => {
    expect(isAllowed(ann, { verb: 'create', resource: 'tokens' })).toBe(true);
    expect(isAllowed(ann, { verb: 'create', resource: 'namespaces' })).toBe(true);
    expect(isAllowed(robot, { verb: 'create', resource: 'namespaces' })).toBe(false);
    expect(isAllowed(robot, { verb: 'list', resource: 'namespaces' })).toBe(true);
    expect(isAllowed(ann, { verb: 'list', resource: 'users' })).toBe(false);
    expect(isAllowed(ann, { verb: 'list', resource: 'auditevents' })).toBe(false);
    expect(isAllowed(robot, { verb: 'get', resource: 'builders' })).toBe(true);
    expect(isAllowed(ann, { verb: 'list', resource: 'builders' })).toBe(true);
  });

  it('lets system:image-puller read nothing through the API (its grant is the registry pull alone)', () => {
    const facts = { role: 'system:image-puller' as const, exists: true };
    expect(isAllowed(robot, inDemo('get', 'imagestreams'), facts)).toBe(false);
    expect(isAllowed(robot, inDemo('list', 'pods'), facts)).toBe(false);
  });
});
