import { HandledEvents } from './handled-events';

describe('HandledEvents', () => {
  it('handles a delivery once, leaves one in hand alone, and only acks one handled lately', () => {
    const events = new HandledEvents();
    expect(events.check('c/1')).toBe('handle');
    events.take('c/1');
    expect(events.check('c/1')).toBe('in-hand');
    events.settle('c/1', true);
    expect(events.check('c/1')).toBe('handled');
    expect(events.check('other/1')).toBe('handle');
  });

  it('forgets a delivery that failed, so that its redelivery is handled', () => {
    const events = new HandledEvents();
    events.take('c/2');
    events.settle('c/2', false);
    expect(events.check('c/2')).toBe('handle');
  });

  it('remembers only the latest deliveries it handled', () => {
    const events = new HandledEvents(2);
    for (const key of ['c/1', 'c/2', 'c/3']) {
      events.take(key);
      events.settle(key, true);
    }
    expect(['c/1', 'c/2', 'c/3'].map((key) => events.check(key))).toEqual(['handle', 'handled', 'handled']);
  });
});
