import type { RouterTraffic } from '@paas/contracts/routes';
import { stillHolding } from './router-drain';

const address = { ip: '10.0.0.5', port: 40001 };
const answer = (replica: string, routed: boolean, inFlight: number, loaded = true): RouterTraffic => ({ replica, loaded, addresses: [{ ...address, routed, inFlight }] });

describe('stillHolding', () => {
  it('lets the pod go once every live router replica answered that it neither routes to it nor has a request in flight there', () => {
    expect(stillHolding(['r1', 'r2'], [answer('r1', false, 0), answer('r2', false, 0)], address)).toBeUndefined();
    expect(stillHolding([], [], address)).toBeUndefined();
  });

  it('names every replica that holds it: one still routing, one with requests in flight, one silent, one not loaded', () => {
    const reasons = stillHolding(['r1', 'r2', 'r3', 'r4'], [answer('r1', true, 0), answer('r2', false, 2), answer('r4', false, 0, false)], address);
    expect(reasons).toBe('router r1 still routes to it; router r2 has 2 request(s) in flight to it; router r3 did not answer; router r4 has not loaded its table yet');
  });

  it('reads, of answers about several addresses, the one asked about', () => {
    const other = { ip: '10.0.0.6', port: 40002 };
    const both: RouterTraffic = { replica: 'r1', loaded: true, addresses: [{ ...address, routed: false, inFlight: 0 }, { ...other, routed: true, inFlight: 0 }] };
    expect(stillHolding(['r1'], [both], address)).toBeUndefined();
    expect(stillHolding(['r1'], [both], other)).toBe('router r1 still routes to it');
  });

  it('counts a replica that answered before its presence was heard', () => {
    expect(stillHolding(['r1'], [answer('r1', false, 0), answer('r2', true, 0)], address)).toBe('router r2 still routes to it');
  });
});
