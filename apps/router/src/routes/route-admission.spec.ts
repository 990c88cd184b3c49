import type { Route } from '@paas/contracts/routes';
import { aRoute } from '../testing/factories';
import { admissionChanges, admissionStatus, decideAdmission, type Admission } from './route-admission';

const host = 'shop.example.com';

/** A route of the Subdomain wildcard policy (serves `*.` + the parent domain of `host`). */
function aWildcard(overrides: Parameters<typeof aRoute>[0]): Route {
  const route = aRoute(overrides);
  return { ...route, spec: { ...route.spec, wildcardPolicy: 'Subdomain' } };
}

/** Each route's verdict, by name, whatever order they are given in. */
function verdicts(routes: Route[]): Record<string, boolean> {
  const shuffled = [...routes].reverse();
  const decisions = decideAdmission(shuffled);
  return Object.fromEntries(routes.map((route) => [route.metadata.name, decisions.get(route)?.admitted ?? false]));
}

const rejected = (admission: Admission | undefined) => {
  if (!admission || admission.admitted) throw new Error(`expected a rejection, got ${JSON.stringify(admission)}`);
  return admission;
};

describe('route admission', () => {
  it('admits the oldest route of a host and rejects a younger one of another namespace, naming the owner', () => {
    const owner = aRoute({ name: 'shop', namespace: 'team-a', host });
    const intruder = aRoute({ name: 'fake', namespace: 'team-b', host });
    const decisions = decideAdmission([intruder, owner]);
    expect(decisions.get(owner)).toEqual({ admitted: true });
    expect(rejected(decisions.get(intruder)).owner).toEqual({ namespace: 'team-a', name: 'shop' });

    const condition = admissionStatus(intruder, decisions.get(intruder) ?? { admitted: true }, 'now').ingress[0].conditions[0];
    expect(condition).toMatchObject({ type: 'Admitted', status: 'False', reason: 'HostAlreadyClaimed' });
    expect(condition.message).toBe('route shop in namespace team-a already exposes shop.example.com and is older');
  });

  it('rejects another namespace on ANY path of a claimed host', () => {
    const owner = aRoute({ name: 'shop', namespace: 'team-a', host, path: '/shop' });
    const api = aRoute({ name: 'api', namespace: 'team-b', host, path: '/api' });
    const root = aRoute({ name: 'root', namespace: 'team-b', host, path: '/' });
    expect(verdicts([owner, api, root])).toEqual({ shop: true, api: false, root: false });
  });

  it('admits routes of the same namespace sharing a host, on the same or different paths', () => {
    const first = aRoute({ name: 'one', namespace: 'team-a', host });
    const second = aRoute({ name: 'two', namespace: 'team-a', host });
    const api = aRoute({ name: 'api', namespace: 'team-a', host, path: '/api' });
    expect(verdicts([first, second, api])).toEqual({ one: true, two: true, api: true });
  });

  it('admits the waiting route once the owner is gone', () => {
    aRoute({ name: 'shop', namespace: 'team-a', host });
    const waiting = aRoute({ name: 'fake', namespace: 'team-b', host });
    expect(decideAdmission([waiting]).get(waiting)).toEqual({ admitted: true });
  });

  it('lets a rejected route claim nothing: a third namespace is judged against admitted routes only', () => {
    const owner = aRoute({ name: 'shop', namespace: 'team-a', host });
    const loser = aWildcard({ name: 'all', namespace: 'team-b', host: 'www.example.com' });
    const third = aRoute({ name: 'blog', namespace: 'team-c', host: 'blog.example.com' });
    expect(verdicts([owner, loser, third])).toEqual({ shop: true, all: false, blog: true });
  });

  it('breaks a creationTimestamp tie by namespace then name, so every replica agrees', () => {
    const b = aRoute({ name: 'x', namespace: 'team-b', host });
    const a = { ...aRoute({ name: 'y', namespace: 'team-a', host }), metadata: { ...b.metadata, namespace: 'team-a', name: 'y', uid: 'y' } };
    expect(verdicts([b, a])).toEqual({ x: false, y: true });
    expect(verdicts([a, b])).toEqual({ x: false, y: true });
  });

  describe('Subdomain wildcards', () => {
    it('claim the parent domain: a younger exact host of another namespace in it is rejected, naming the wildcard', () => {
      const wildcard = aWildcard({ name: 'all', namespace: 'team-a', host: 'www.example.com' });
      const exact = aRoute({ name: 'api', namespace: 'team-b', host: 'api.example.com' });
      const decisions = decideAdmission([exact, wildcard]);
      expect(decisions.get(wildcard)).toEqual({ admitted: true });
      expect(rejected(decisions.get(exact)).message).toBe('route all in namespace team-a already claims *.example.com (wildcardPolicy Subdomain) and is older');
    });

    it('claim one label deep only: hosts deeper in the domain or of the parent itself stay free', () => {
      const wildcard = aWildcard({ name: 'all', namespace: 'team-a', host: 'www.example.com' });
      const deeper = aRoute({ name: 'deep', namespace: 'team-b', host: 'a.b.example.com' });
      const parent = aRoute({ name: 'apex', namespace: 'team-b', host: 'example.com' });
      expect(verdicts([wildcard, deeper, parent])).toEqual({ all: true, deep: true, apex: true });
    });

    it('reject a younger wildcard of another namespace for the same domain, whatever its host', () => {
      const first = aWildcard({ name: 'first', namespace: 'team-a', host: 'www.example.com' });
      const second = aWildcard({ name: 'second', namespace: 'team-b', host: 'other.example.com' });
      const decisions = decideAdmission([second, first]);
      expect(decisions.get(first)).toEqual({ admitted: true });
      expect(rejected(decisions.get(second)).owner).toEqual({ namespace: 'team-a', name: 'first' });
    });

    it('are rejected while an older route of another namespace holds a host in the domain', () => {
      const exact = aRoute({ name: 'api', namespace: 'team-b', host: 'api.example.com' });
      const wildcard = aWildcard({ name: 'all', namespace: 'team-a', host: 'www.example.com' });
      const decisions = decideAdmission([wildcard, exact]);
      expect(decisions.get(exact)).toEqual({ admitted: true });
      expect(rejected(decisions.get(wildcard)).message).toBe(
        'route api in namespace team-b already exposes api.example.com and is older; a Subdomain wildcard claims all of *.example.com for one namespace',
      );
    });

    it('share the domain with older and younger routes of their own namespace', () => {
      const own = aRoute({ name: 'api', namespace: 'team-a', host: 'api.example.com' });
      const wildcard = aWildcard({ name: 'all', namespace: 'team-a', host: 'www.example.com' });
      const younger = aRoute({ name: 'blog', namespace: 'team-a', host: 'blog.example.com' });
      const sameWildcard = aWildcard({ name: 'all2', namespace: 'team-a', host: 'x.example.com' });
      expect(verdicts([own, wildcard, younger, sameWildcard])).toEqual({ api: true, all: true, blog: true, all2: true });
    });

    it('do not touch other domains', () => {
      const wildcard = aWildcard({ name: 'all', namespace: 'team-a', host: 'www.example.com' });
      const elsewhere = aRoute({ name: 'shop', namespace: 'team-b', host: 'shop.example.org' });
      expect(verdicts([wildcard, elsewhere])).toEqual({ all: true, shop: true });
    });
  });

  it('keeps the transition time while the verdict stays', () => {
    const route = aRoute({ host, admitted: false });
    const first = admissionStatus(route, { admitted: true }, 'then');
    const again = admissionStatus({ ...route, status: first }, { admitted: true }, 'now');
    expect(again.ingress[0].conditions[0].lastTransitionTime).toBe('then');
    const refused: Admission = { admitted: false, owner: { namespace: 'x', name: 'y' }, message: 'taken' };
    const rejectedStatus = admissionStatus({ ...route, status: again }, refused, 'later');
    expect(rejectedStatus.ingress[0].conditions[0].lastTransitionTime).toBe('later');
  });

  it('lists only the routes whose stored verdict is not the decided one', () => {
    const owner = aRoute({ name: 'shop', namespace: 'team-a', host });
    // Stored admitted under the old rule (another path was enough): now rejected.
    const legacy = aRoute({ name: 'api', namespace: 'team-b', host, path: '/api' });
    const fresh = aRoute({ name: 'new', namespace: 'team-c', host: 'new.example.com', admitted: false });
    const changes = admissionChanges([owner, legacy, fresh], 'now');
    expect([...changes.keys()].map((route) => route.metadata.name).sort()).toEqual(['api', 'new']);
    expect(changes.get(legacy)).toMatchObject({ admitted: false });
    expect(changes.get(fresh)).toEqual({ admitted: true });
  });
});
