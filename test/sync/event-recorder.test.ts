import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { EventRecorder, type EventSink } from '../../src/sync/event-recorder.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import type { ServiceEvent } from '../../src/plan/events.js';

const event = (name: string, note: string): ServiceEvent => ({
  regarding: { namespace: 'default', name },
  reason: 'Synced',
  action: 'Register',
  type: 'Normal',
  note,
});

test('folded repeats are written late by at most the slack, never early, and due times close together share one timer', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'setImmediate', 'Date'], now: 0 });
  try {
    const patched: [string, number][] = [];
    const sink: EventSink = {
      create: () => Promise.resolve('created'),
      patchSeries: (_namespace, name, series) => {
        patched.push([name.split('.')[0]!, series.lastObservedTime]);
        return Promise.resolve('patched');
      },
    };
    const recorder = new EventRecorder(
      sink,
      createLogger({ level: 'silent' }),
      createMetrics({ defaultMetrics: false }),
      { intervalMs: 10_000 },
    );
    // Two series whose repeats fold, due at 10,000 and 10,100 ms.
    recorder.record([event('a', 'first')]);
    mock.timers.tick(1);
    recorder.record([event('a', 'first')]);
    mock.timers.tick(99);
    recorder.record([event('b', 'first')]);
    mock.timers.tick(1);
    recorder.record([event('b', 'first')]);
    // Nothing is written before its interval ends.
    mock.timers.tick(9_898);
    assert.deepEqual(patched, []);
    mock.timers.tick(1);
    await flush();
    assert.deepEqual(patched, [['a', 1]]);
    // b was due 100 ms later: it waits for the next timer, a second (the slack) after a's.
    mock.timers.tick(900);
    await flush();
    assert.deepEqual(patched, [['a', 1]]);
    mock.timers.tick(100);
    await flush();
    assert.deepEqual(patched, [
      ['a', 1],
      ['b', 101],
    ]);
    recorder.close();
  } finally {
    mock.timers.reset();
  }
});

/** Lets the recorder's queued writes run (setImmediate is mocked: tick it). */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    mock.timers.tick(0);
    await Promise.resolve();
  }
}
