import type { Pod } from '@paas/contracts/deployments';
import { Logger } from '@nestjs/common';
import { InMemoryStore, RecordingEnqueuer, RecordingEvents, replicationController, runningPod, testSettings, type ActionLog } from '../testing/fakes';
import { ReadinessProber } from './readiness-prober';

Logger.overrideLogger(false);

function setup(answers: boolean[]) {
  const log: ActionLog = [];
  const pods = new InMemoryStore<Pod>('Pod');
  const events = new RecordingEvents(log);
  const now = { value: 0 };
  const urls: string[] = [];
  const http = {
    probe: async (url: string) => {
      urls.push(url);
      return answers.shift() ?? false;
    },
  };
  const prober = new ReadinessProber(http, pods, events, new RecordingEnqueuer(log), testSettings(now));
  const pod = pods.seed(runningPod(replicationController(1, 1), 'web-1-a', 'c1', 40001, false));
  prober.watch(pod);
  const probe = async () => {
    await prober.probeDue();
    now.value += 1000;
  };
  const ready = async () => (await pods.get('demo', 'web-1-a')).status.conditions.find((c) => c.type === 'Ready')?.status;
  return { log, events, probe, ready, urls, pods, prober };
}

describe('ReadinessProber', () => {
  it('marks a pod ready after one success, publishes pod.changed and reconciles its RC and Services', async () => {
    const { log, events, probe, ready, urls } = setup([false, true]);
    await probe();
    expect(await ready()).toBe('False');
    expect(log).toEqual([]);
    await probe();
    expect(await ready()).toBe('True');
    expect(urls[0]).toBe('http://127.0.0.1:40001/');
    expect(log).toEqual(['publish pod.changed', 'enqueue rc web-1', 'enqueue endpoints of web-1']);
    expect(events.published[0].data).toEqual({ namespace: 'demo', name: 'web-1-a', phase: 'Running', ready: true });
  });

  it('marks a ready pod not ready only after failureThreshold failures in a row', async () => {
    const { probe, ready } = setup([true, false, false, true, false, false, false]);
    await probe();
    expect(await ready()).toBe('True');
    await probe();
    await probe();
    await probe(); // a success resets the count
    await probe();
    await probe();
    expect(await ready()).toBe('True');
    await probe();
    expect(await ready()).toBe('False');
  });

  it('does not probe on a period not yet due, and stops for a forgotten pod', async () => {
    const { probe, urls, prober } = setup([false, false, false]);
    await prober.probeDue();
    await prober.probeDue();
    expect(urls).toHaveLength(1);
    prober.forget('demo', 'web-1-a');
    await probe();
    expect(urls).toHaveLength(1);
  });
});
