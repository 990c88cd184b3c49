import { aRoute } from '../testing/factories';
import { admissionStatus, decideAdmission } from './route-admission';

const host = 'shop.apps.localhost';

describe('route admission', () => {
  it('admits the oldest route of a host+path and rejects a younger one of another namespace, naming the owner', () => {
    const owner = aRoute({ name: 'shop', namespace: 'team-a', host });
    const intruder = aRoute({ name: 'fake', namespace: 'team-b', host });
    const decisions = decideAdmission([intruder, owner]);
    expect(decisions.get(owner)).toEqual({ admitted: true });
    expect(decisions.get(intruder)).toEqual({ admitted: false, owner: { namespace: 'team-a', name: 'shop' } });

    const condition = admissionStatus(intruder, decisions.get(intruder) ?? { admitted: true }, 'now').ingress[0].conditions[0];
    expect(condition).toMatchObject({ type: 'Admitted', status: 'False', reason: 'HostAlreadyClaimed' });
    expect(condition.message).toContain('shop');
    expect(condition.message).toContain('team-a');
  });

  it('admits another namespace on a different path of the same host', () => {
    const owner = aRoute({ name: 'shop', namespace: 'team-a', host, path: '/' });
    const api = aRoute({ name: 'api', namespace: 'team-b', host, path: '/api' });
    expect(decideAdmission([owner, api]).get(api)).toEqual({ admitted: true });
  });

  it('admits routes of the same namespace sharing a host+path', () => {
    const first = aRoute({ name: 'one', namespace: 'team-a', host });
    const second = aRoute({ name: 'two', namespace: 'team-a', host });
    expect(decideAdmission([first, second]).get(second)).toEqual({ admitted: true });
  });

  it('admits the waiting route once the owner is gone', () => {
    aRoute({ name: 'shop', namespace: 'team-a', host });
    const waiting = aRoute({ name: 'fake', namespace: 'team-b', host });
    expect(decideAdmission([waiting]).get(waiting)).toEqual({ admitted: true });
  });

  it('keeps the transition time while the verdict stays', () => {
    const route = aRoute({ host, admitted: false });
    const first = admissionStatus(route, { admitted: true }, 'then');
    const again = admissionStatus({ ...route, status: first }, { admitted: true }, 'now');
    expect(again.ingress[0].conditions[0].lastTransitionTime).toBe('then');
    const rejected = admissionStatus({ ...route, status: again }, { admitted: false, owner: { namespace: 'x', name: 'y' } }, 'later');
    expect(rejected.ingress[0].conditions[0].lastTransitionTime).toBe('later');
  });
});
