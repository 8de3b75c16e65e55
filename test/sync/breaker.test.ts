// The circuit breaker's states (issue 14): opens after `threshold` consecutive outages, probes,
// recovers what was remembered before closing, ignores calls that hung through an outage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { CircuitBreaker } from '../../src/sync/breaker.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';

function setup(probe: () => Promise<void>, recover: () => Promise<boolean>, threshold = 3) {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    }),
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const breaker = new CircuitBreaker({
    target: 'consul',
    threshold,
    probeIntervalMs: 5,
    probe,
    recover,
    logger,
    metrics,
  });
  const state = async (): Promise<Record<string, number>> => {
    const m = await metrics.breakerState.get();
    return Object.fromEntries(m.values.map((v) => [String(v.labels.state), v.value]));
  };
  return { breaker, lines, state };
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(check());
};

test('opens after the threshold of consecutive failures; a success in between resets the count', async () => {
  const { breaker, lines, state } = setup(
    () => new Promise(() => undefined),
    async () => true,
  );
  try {
    breaker.failure(new Error('1'));
    breaker.failure(new Error('2'));
    breaker.success();
    breaker.failure(new Error('1'));
    breaker.failure(new Error('2'));
    assert.equal(breaker.state, 'closed');
    breaker.failure(new Error('3'));
    assert.equal(breaker.state, 'open');
    assert.deepEqual(await state(), { closed: 0, open: 1, 'half-open': 0 });
    breaker.failure(new Error('more'));
    assert.equal(lines.filter((l) => l.includes('"breaker-open"')).length, 1, 'logged once');
  } finally {
    breaker.stop();
  }
});

test('probes until the target answers, recovers, then closes; a failed recovery opens again', async () => {
  let answers = false;
  let recoveries = 0;
  const { breaker, state } = setup(
    async () => {
      if (!answers) throw new Error('down');
    },
    async () => ++recoveries > 1,
  );
  try {
    for (let i = 0; i < 3; i++) breaker.failure(new Error('down'));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(breaker.state, 'open', 'no answer, no recovery');
    assert.equal(recoveries, 0);
    answers = true;
    await until(() => recoveries === 2 && breaker.state === 'closed');
    assert.deepEqual(await state(), { closed: 1, open: 0, 'half-open': 0 });
  } finally {
    breaker.stop();
  }
});

test('a failure of a call made before the breaker last closed does not count', async () => {
  const { breaker } = setup(
    async () => undefined,
    async () => true,
  );
  try {
    const before = breaker.epoch;
    for (let i = 0; i < 3; i++) breaker.failure(new Error('down'), before);
    await until(() => breaker.state === 'closed');
    for (let i = 0; i < 5; i++) breaker.failure(new Error('late timeout'), before);
    assert.equal(breaker.state, 'closed');
    for (let i = 0; i < 3; i++) breaker.failure(new Error('down again'), breaker.epoch);
    assert.equal(breaker.state, 'open');
  } finally {
    breaker.stop();
  }
});

test('threshold 0 never opens', () => {
  const { breaker } = setup(
    async () => undefined,
    async () => true,
    0,
  );
  for (let i = 0; i < 10; i++) breaker.failure(new Error('down'));
  assert.equal(breaker.state, 'closed');
  breaker.stop();
});
